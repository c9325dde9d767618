"""Small numpy helpers shared by the forecasting modules."""
from __future__ import annotations

import numpy as np


def cumsum0(X) -> np.ndarray:
    """(T+1, ...) running sums over rows with a zero first row: sum of rows [a, b) is C[b] − C[a].

    Row by row on purpose: np.cumsum(axis=0) on a C-ordered (T, n) array walks a strided inner loop
    and is ~20x slower for the (730, 30000) matrices the engine handles.
    """
    X = np.asarray(X)
    out = np.zeros((X.shape[0] + 1,) + X.shape[1:], dtype=np.result_type(X.dtype, np.float64))
    for t in range(X.shape[0]):
        np.add(out[t], X[t], out=out[t + 1])
    return out


def between(Cs, a, b) -> np.ndarray:
    """(n,) sums of rows [a, b) of each column from its running sums Cs (cumsum0); a, b: (n,) rows."""
    cols = np.arange(Cs.shape[1])
    return Cs[b, cols] - Cs[a, cols]


def cumsum0_squares(Y, lag: int = 0, out=None) -> np.ndarray:
    """cumsum0 of Y² (lag 0) or of the squared changes (Y[t + lag] − Y[t])² (lag ≥ 1, T − lag rows), a
    row at a time: no (T, n) temporary of the squares (at 730 × 30,000 each one is 175 MB of fresh
    memory). out: a buffer of at least that many rows + 1 to reuse."""
    Y = np.asarray(Y, float)
    rows = Y.shape[0] - lag
    out = np.empty((rows + 1,) + Y.shape[1:]) if out is None else out[:rows + 1]
    out[0] = 0.0
    row = np.empty(Y.shape[1:])
    for t in range(rows):
        if lag:
            np.subtract(Y[t + lag], Y[t], out=row)
            row *= row
        else:
            np.multiply(Y[t], Y[t], out=row)
        np.add(out[t], row, out=out[t + 1])
    return out

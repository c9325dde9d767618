"""Stock-out days are censored demand: what a SKU sold on a day it was out of stock is not what it would
have sold, so those days are neither fitted as zero demand nor scored.

    Yfit = impute(Y, lo, censored)          # each censored day: the SKU's local mean of observed days
    mask_backtests(bts, censored)           # their backtest errors leave the sums (and the day counts)

The imputed value is the mean of the SKU's observed (uncensored) days within ±LOCAL_DAYS of it (its own
mean over [lo, T) when there are none): neither a zero that drags the level down nor a value that could
move any smoothed state far from where the surrounding days put it.
"""
from __future__ import annotations

import numpy as np

from ._util import cumsum0

LOCAL_DAYS = 14


def observed_mask(censored, lo, T: int) -> np.ndarray | None:
    """(T, n) bool censored days inside each SKU's history, or None when there are none."""
    if censored is None:
        return None
    c = np.asarray(censored, bool) & (np.arange(T)[:, None] >= np.asarray(lo)[None, :])
    return c if c.any() else None


def impute(Y, lo, censored, half: int = LOCAL_DAYS) -> np.ndarray:
    """Y (T, n) with every censored day replaced by the mean of the SKU's observed days within ±half."""
    Y = np.asarray(Y, float)
    T, n = Y.shape
    obs = (~censored) & (np.arange(T)[:, None] >= np.asarray(lo)[None, :])
    C1, C0 = cumsum0(Y * obs), cumsum0(obs.astype(float))
    t = np.arange(T)
    a, b = np.clip(t - half, 0, T), np.clip(t + half + 1, 0, T)
    s, k = C1[b] - C1[a], C0[b] - C0[a]
    overall = C1[T] / np.maximum(C0[T], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        local = np.where(k > 0, s / np.maximum(k, 1), overall[None, :])
    return np.where(censored, local, Y)


def mask_backtests(bts, censored) -> None:
    """Drop the censored days from every backtest in place: errors, sums and day counts (a candidate
    without a backtest for a SKU, n = 0, keeps its infinite SSE)."""
    for bt in bts:
        if bt.E is None or bt.E.shape[0] == 0:
            continue
        keep = ~censored[bt.start:]
        had = bt.n > 0
        in_bt = bt.E.shape[0]
        rows = np.arange(bt.start, bt.start + in_bt)[:, None]
        ev = bt.start + in_bt - bt.n  # each SKU's backtest rows are the last n (contiguous to T)
        cens_in = (censored[bt.start:] & (rows >= ev[None, :])).sum(0)
        bt.E *= keep
        bt.sse = np.where(had, (bt.E * bt.E).sum(0), bt.sse)
        bt.se = np.where(had, bt.E.sum(0), bt.se)
        bt.n = np.where(had, bt.n - cens_in, bt.n)
        if bt.e_last is not None:
            bt.e_last = bt.e_last * keep[-1]

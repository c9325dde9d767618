"""Forecasting methods as batched recursions over many SKUs at once.

Layout: demand is a (T, n) float array, one column per SKU, rows are days (so Y[t] is contiguous and
each time step is one vectorised update over every SKU). Each SKU has its own first observed day
`lo` and backtest start `ev` (ev = T means no backtest). Before `lo` the state is frozen at its
initial value, so SKUs with different history lengths share one loop.

Parameters may have shape (n,) (one value per SKU) or (k, 1) (a grid: every SKU tried with k values
at once, state shape (k, n)). Every kernel returns:
  sse*   in-sample one-step squared errors over [lo, ev) — used to choose parameters
  final  the forecast for any day after T (these methods give flat forecasts)
  prev   the one-step forecast made for day T-1 before seeing it (burst detection)
  bt     rolling-origin backtest sums over [ev, T): a forecast is frozen at each origin
         ev, ev+7, ... and scored on the following days until the next origin
  path   (optional) the one-step forecast for every day, for tests and inspection

Methods: SES (level), TSB (probability × size, Teunter–Syntetos–Babai 2011), Croston and SBA
(size / interval, SBA with the 1 − α/2 bias correction of Syntetos & Boylan 2005), and a moving average.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._util import cumsum0

ORIGIN_STEP = 7  # days between backtest origins, and so the horizon each origin is scored on

SES_ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
SIZE_ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
PROB_BETAS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3)
INTERVAL_ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
# Damped-trend Holt grid (α, αβ-style trend share β, damping φ): 4 × 3 × 3 = 36 pairs per SKU.
HOLT_ALPHAS = (0.05, 0.1, 0.2, 0.4)
HOLT_BETAS = (0.02, 0.1, 0.3)
HOLT_PHIS = (0.8, 0.9, 0.98)


@dataclass
class Backtest:
    """Sums of rolling-origin errors (forecast − actual) per SKU."""
    sse: np.ndarray
    se: np.ndarray
    n: np.ndarray
    e_last: np.ndarray | None = None  # error on the last day (T − 1) alone: the backtest without it is
    #                                   sse − e_last², n − 1 (burst detection tests that day out of sample)

    @property
    def mse(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n > 0, self.sse / np.maximum(self.n, 1), np.nan)

    @property
    def bias(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n > 0, self.se / np.maximum(self.n, 1), np.nan)


@dataclass
class KernelResult:
    final: np.ndarray
    prev: np.ndarray
    sse: dict[str, np.ndarray] = field(default_factory=dict)
    bt: Backtest | None = None
    path: np.ndarray | None = None


class _BacktestAcc:
    def __init__(self, shape, ev, T):
        self.ev = ev
        self.frozen = np.zeros(shape)
        self.sse = np.zeros(shape)
        self.se = np.zeros(shape)
        self.n = np.zeros(ev.shape)
        self.e_last = np.zeros(shape)
        self.last = T - 1
        self.start = int(ev.min()) if ev.size else T

    def step(self, t: int, fc: np.ndarray, y: np.ndarray, mult) -> None:
        b = t >= self.ev
        origin = b & ((t - self.ev) % ORIGIN_STEP == 0)
        np.copyto(self.frozen, fc, where=np.broadcast_to(origin, self.frozen.shape))
        e = self.frozen * mult - y
        bf = b.astype(float)
        e *= bf
        self.se += e
        self.sse += e * e
        self.n += bf
        if t == self.last:
            self.e_last[...] = e

    def result(self) -> Backtest:
        return Backtest(self.sse, self.se, self.n, self.e_last)


def _prep(Y, lo, ev):
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    T, n = Y.shape
    lo = np.zeros(n, int) if lo is None else np.broadcast_to(np.asarray(lo, int), (n,))
    ev = np.full(n, T, int) if ev is None else np.broadcast_to(np.asarray(ev, int), (n,))
    return Y, T, n, lo, ev


def _mult_row(P, dow, t):
    return 1.0 if P is None else P[dow[t]]


def ses_kernel(Y, alpha, level0, lo=None, ev=None, P=None, dow=None, train_only=False, keep_path=False,
               fit_sse=True):
    """Simple exponential smoothing, optionally on demand divided by a multiplicative weekday profile.

    P: (7, n) weekday factors (mean 1) and dow: (T,) weekday index of each row; forecast = level × P.
    In-sample errors (for choosing alpha) are measured on the de-seasonalised scale.
    """
    Y, T, n, lo, ev = _prep(Y, lo, ev)
    alpha = np.asarray(alpha, dtype=float)
    shape = np.broadcast_shapes(alpha.shape, (n,))
    L = np.broadcast_to(np.asarray(level0, float), shape).copy()
    sse = np.zeros(shape)
    t_end = int(ev.max()) if train_only else T
    acc = None if train_only else _BacktestAcc(shape, ev, T)
    path = np.zeros((T,) + shape) if keep_path else None
    prev = L.copy()
    e = np.empty(shape)
    for t in range(int(lo.min()) if n else 0, t_end):
        y = Y[t]
        mult = _mult_row(P, dow, t)
        x = y / mult if P is not None else y
        a = (t >= lo).astype(float)
        np.subtract(x, L, out=e)
        if fit_sse:
            sse += (a * (t < ev)) * e * e
        if acc is not None and t >= acc.start:
            acc.step(t, L, y, mult)
        if keep_path:
            path[t] = L * mult
        if t == T - 1:
            prev = L * mult
        e *= alpha
        e *= a
        L += e
    return KernelResult(final=L, prev=prev, sse={"level": sse}, bt=None if acc is None else acc.result(),
                        path=path)


def damped_factor(phi, h):
    """φ + φ² + … + φ^h: how much of the trend an h-step damped forecast adds (h = 1 for one step)."""
    phi = np.asarray(phi, float)
    return phi * (1 - phi ** h) / (1 - phi)


def holt_kernel(Y, alpha, beta, phi, level0, trend0, lo=None, ev=None, P=None, dow=None, train_only=False,
                keep_path=False, fit_sse=True):
    """Damped-trend Holt (additive damped trend, Gardner & McKenzie 1985) on demand divided by the
    seasonal profile P, in error-correction form: one-step forecast f = ℓ + φb, e = x − f,
    ℓ ← f + αe, b ← φb + αβe. The h-step forecast is (ℓ + (φ + … + φ^h)·b) × profile, so the trend
    fades out instead of running away. φ < 1 (the grid has no undamped trend).

    Returns final = ℓ, and the final trend b as KernelResult.sse["final_trend"]; the backtest freezes ℓ and b at each weekly origin and scores the damped path over the next 7 days.
    """
    Y, T, n, lo, ev = _prep(Y, lo, ev)
    alpha, beta, phi = (np.asarray(v, float) for v in (alpha, beta, phi))
    shape = np.broadcast_shapes(alpha.shape, beta.shape, phi.shape, (n,))
    L = np.broadcast_to(np.asarray(level0, float), shape).copy()
    B = np.broadcast_to(np.asarray(trend0, float), shape).copy()
    ab = alpha * beta
    sse = np.zeros(shape)
    t_end = int(ev.max()) if train_only else T
    bt = not train_only
    if bt:
        fL, fB = np.zeros(shape), np.zeros(shape)
        bsse, bse, bn, e_last = np.zeros(shape), np.zeros(shape), np.zeros(n), np.zeros(shape)
        start = int(ev.min()) if n else T
    path = np.zeros((T,) + shape) if keep_path else None
    prev = L + phi * B
    for t in range(int(lo.min()) if n else 0, t_end):
        y = Y[t]
        mult = _mult_row(P, dow, t)
        x = y / mult if P is not None else y
        a = (t >= lo).astype(float)
        f = L + phi * B
        e = x - f
        if fit_sse:
            sse += (a * (t < ev)) * e * e
        if bt and t >= start:
            b = t >= ev
            j = (t - ev) % ORIGIN_STEP
            origin = np.broadcast_to(b & (j == 0), shape)
            np.copyto(fL, L, where=origin)
            np.copyto(fB, B, where=origin)
            c = damped_factor(phi, j + 1)
            eb = (fL + c * fB) * mult - y
            eb *= b
            bse += eb
            bsse += eb * eb
            bn += b
            if t == T - 1:
                e_last[...] = eb
        if keep_path:
            path[t] = f * mult
        if t == T - 1:
            prev = f * mult
        e *= a
        L += a * phi * B + alpha * e
        B += a * (phi - 1) * B + ab * e
    return KernelResult(final=L, prev=prev, sse={"level": sse, "final_trend": B},
                        bt=Backtest(bsse, bse, bn, e_last) if bt else None, path=path)


def tsb_kernel(Y, alpha, beta, size0, prob0, lo=None, ev=None, train_only=False, keep_path=False,
               fit_sse=True):
    """TSB: size z smoothed (alpha) on sale days only, probability p smoothed (beta) every day.

    Forecast p·z. alpha and beta are optimised separately on their own one-step errors (size on sale
    days, occurrence every day), which is what lets a grid of k (alpha, beta) pairs cost k, not k².
    """
    Y, T, n, lo, ev = _prep(Y, lo, ev)
    alpha = np.asarray(alpha, float)
    beta = np.asarray(beta, float)
    shape = np.broadcast_shapes(alpha.shape, beta.shape, (n,))
    z = np.broadcast_to(np.asarray(size0, float), shape).copy()
    p = np.broadcast_to(np.asarray(prob0, float), shape).copy()
    sse_z = np.zeros(shape)
    sse_p = np.zeros(shape)
    t_end = int(ev.max()) if train_only else T
    acc = None if train_only else _BacktestAcc(shape, ev, T)
    path = np.zeros((T,) + shape) if keep_path else None
    prev = p * z
    for t in range(int(lo.min()) if n else 0, t_end):
        y = Y[t]
        o = (y > 0).astype(float)
        a = (t >= lo).astype(float)
        ez = y - z
        ep = o - p
        if fit_sse:
            m = a * (t < ev)
            sse_z += (m * o) * ez * ez
            sse_p += m * ep * ep
        if acc is not None and t >= acc.start:
            acc.step(t, p * z, y, 1.0)
        if keep_path:
            path[t] = p * z
        if t == T - 1:
            prev = p * z
        z += alpha * (a * o) * ez
        p += beta * a * ep
    return KernelResult(final=p * z, prev=prev, sse={"size": sse_z, "prob": sse_p},
                        bt=None if acc is None else acc.result(), path=path)


def croston_kernel(Y, alpha, alpha_q, size0, interval0, lo=None, ev=None, sba=True, train_only=False,
                   keep_path=False, fit_sse=True, track_size=True):
    """Croston / SBA: size z and inter-demand interval q, both updated on sale days only.

    Forecast z/q, times (1 − alpha_q/2) for SBA. The interval counts days since the previous sale
    (the first one since the start of history). alpha and alpha_q are optimised separately.
    track_size=False skips the size recursion (its grid is the same as TSB's, already fitted there).
    """
    Y, T, n, lo, ev = _prep(Y, lo, ev)
    alpha = np.asarray(alpha, float)
    alpha_q = np.asarray(alpha_q, float)
    shape = np.broadcast_shapes(alpha.shape, alpha_q.shape, (n,))
    c = (1 - alpha_q / 2) if sba else np.ones_like(alpha_q)
    z = np.broadcast_to(np.asarray(size0, float), shape).copy()
    q = np.broadcast_to(np.maximum(np.asarray(interval0, float), 1.0), shape).copy()
    k = np.zeros(n)
    sse_z = np.zeros(shape)
    sse_q = np.zeros(shape)
    t_end = int(ev.max()) if train_only else T
    acc = None if train_only else _BacktestAcc(shape, ev, T)
    path = np.zeros((T,) + shape) if keep_path else None
    prev = c * z / q
    for t in range(int(lo.min()) if n else 0, t_end):
        y = Y[t]
        o = y > 0
        a = (t >= lo).astype(float)
        k += a
        of = o.astype(float)
        ez = y - z
        eq = k - q
        if fit_sse:
            m = a * (t < ev) * of
            if track_size:
                sse_z += m * ez * ez
            sse_q += m * eq * eq
        if acc is not None and t >= acc.start:
            acc.step(t, c * z / q, y, 1.0)
        if keep_path:
            path[t] = c * z / q
        if t == T - 1:
            prev = c * z / q
        w = a * of
        if track_size:
            z += alpha * w * ez
        q += alpha_q * w * eq
        k[o] = 0.0
    return KernelResult(final=c * z / q, prev=prev, sse={"size": sse_z, "interval": sse_q},
                        bt=None if acc is None else acc.result(), path=path)


def ma_kernel(Y, window, lo=None, ev=None, keep_path=False):
    """Mean of the last `window` observed days (fewer at the start of a history; 0 with none)."""
    Y, T, n, lo, ev = _prep(Y, lo, ev)
    window = int(window)
    r0 = 0 if keep_path else max(0, min(int(ev.min()) if n else T, T - 1) - window)
    C = cumsum0(Y[r0:])
    cols = np.arange(n)

    def fc(t):
        start = np.maximum(np.maximum(lo, t - window), r0)
        cnt = t - start
        s = C[t - r0] - C[start - r0, cols]
        return np.where(cnt > 0, s / np.maximum(cnt, 1), 0.0)

    acc = _BacktestAcc((n,), ev, T)
    path = np.zeros((T, n)) if keep_path else None
    for t in range(r0 if keep_path else min(acc.start, T), T):
        f = fc(t)
        if t >= acc.start:
            acc.step(t, f, Y[t], 1.0)
        if keep_path:
            path[t] = f
    return KernelResult(final=fc(T), prev=fc(T - 1) if T else np.zeros(n), bt=acc.result(), path=path)


# Single-series conveniences (same kernels, n = 1): fitted one-step forecasts and the next-day forecast.

def ses(y, alpha: float, level0: float | None = None):
    y = np.asarray(y, float)
    r = ses_kernel(y, alpha, y[0] if level0 is None else level0, keep_path=True)
    return r.path[:, 0], float(r.final[0])


def tsb(y, alpha: float, beta: float, size0: float, prob0: float):
    r = tsb_kernel(np.asarray(y, float), alpha, beta, size0, prob0, keep_path=True)
    return r.path[:, 0], float(r.final[0])


def croston(y, alpha: float, size0: float, interval0: float, alpha_q: float | None = None, sba: bool = False):
    r = croston_kernel(np.asarray(y, float), alpha, alpha if alpha_q is None else alpha_q, size0, interval0,
                       sba=sba, keep_path=True)
    return r.path[:, 0], float(r.final[0])


def sba(y, alpha: float, size0: float, interval0: float, alpha_q: float | None = None):
    return croston(y, alpha, size0, interval0, alpha_q, sba=True)


def moving_average(y, window: int):
    r = ma_kernel(np.asarray(y, float), window, keep_path=True)
    return r.path[:, 0], float(r.final[0])


def pick(grid, sse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-SKU best grid value and its index from a (k, n) SSE array (ties: first, i.e. smallest)."""
    idx = np.argmin(sse, axis=0)
    return np.asarray(grid, float)[idx], idx

"""Forecasting methods as batched recursions over many SKUs at once.

Layout: demand is a (T, n) float array, one column per SKU, rows are days (so Y[t] is contiguous and
each time step is one vectorised update over every SKU). Each SKU has its own first observed day
`lo` and backtest start `ev` (ev = T means no backtest). Before `lo` the state is frozen at its
initial value, so SKUs with different history lengths share one loop.

Parameters may have shape (n,) (one value per SKU) or (k, 1) (a grid: every SKU tried with k values
at once, state shape (k, n)). Every kernel returns:
  sse*   in-sample one-step squared errors over [lo, ev) — used to choose parameters
  final  the forecast for any day after T (flat for all but Holt–Winters: see hw_path)
  prev   the one-step forecast made for day T-1 before seeing it (burst detection)
  bt     rolling-origin backtest sums over [ev, T): a forecast is frozen at each origin
         ev, ev+origin_step, ... (default 7) and scored on the following days until the next origin
  path   (optional) the one-step forecast for every day, for tests and inspection

Methods: SES (level), TSB (probability × size, Teunter–Syntetos–Babai 2011), Croston and SBA
(size / interval, SBA with the 1 − α/2 bias correction of Syntetos & Boylan 2005), a moving average,
and Holt–Winters with an optional damped trend (additive or multiplicative season, `hw_kernel`).
Backtests also keep every day's error (Backtest.E) so combinations of methods can be scored exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._util import cumsum0

ORIGIN_STEP = 7  # default days between backtest origins, and so the horizon each origin is scored on
#                  (kernels take origin_step: backtest.fit passes the season length, one cycle per origin)

SES_ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
SIZE_ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
PROB_BETAS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3)
INTERVAL_ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)


@dataclass
class Backtest:
    """Sums of rolling-origin errors (forecast − actual) per SKU."""
    sse: np.ndarray
    se: np.ndarray
    n: np.ndarray
    e_last: np.ndarray | None = None  # error on the last day (T − 1) alone: the backtest without it is
    #                                   sse − e_last², n − 1 (burst detection tests that day out of sample)
    E: np.ndarray | None = None       # (T − start, n) error of every backtest day (0 outside a SKU's
    #                                   backtest), rows from `start` = min(ev): lets the caller score
    #                                   any weighted combination of methods exactly (errors are linear)
    start: int = 0

    @classmethod
    def empty(cls, n: int, rows: int, start: int) -> "Backtest":
        """No SKU backtested yet (MSE inf): filled column by column with `put`."""
        return cls(np.full(n, np.inf), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros((rows, n)), start)

    def put(self, cols, part: "Backtest") -> None:
        """Take `part`'s sums and daily errors (a backtest of some SKUs) into columns `cols`."""
        self.sse[cols], self.se[cols], self.n[cols], self.e_last[cols] = part.sse, part.se, part.n, part.e_last
        self.E[part.start - self.start:, cols] = part.E

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
    def __init__(self, shape, ev, T, keep_errors=False, step=ORIGIN_STEP):
        self.ev = ev
        self.origin_step = int(step)
        self.frozen = np.zeros(shape)
        self.sse = np.zeros(shape)
        self.se = np.zeros(shape)
        self.n = np.zeros(ev.shape)
        self.e_last = np.zeros(shape)
        self.last = T - 1
        self.start = int(ev.min()) if ev.size else T
        self.E = np.zeros((T - self.start,) + tuple(shape)) if keep_errors else None

    def step(self, t: int, fc: np.ndarray, y: np.ndarray, mult) -> None:
        b = t >= self.ev
        origin = b & ((t - self.ev) % self.origin_step == 0)
        np.copyto(self.frozen, fc, where=np.broadcast_to(origin, self.frozen.shape))
        e = self.frozen * mult - y
        bf = b.astype(float)
        e *= bf
        self.se += e
        self.sse += e * e
        self.n += bf
        if t == self.last:
            self.e_last[...] = e
        if self.E is not None:
            self.E[t - self.start] = e

    def result(self) -> Backtest:
        return Backtest(self.sse, self.se, self.n, self.e_last, self.E, self.start)


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
               fit_sse=True, origin_step=ORIGIN_STEP):
    """Simple exponential smoothing, optionally on demand divided by a multiplicative weekday profile.

    P: (7, n) weekday factors (mean 1) and dow: (T,) weekday index of each row; forecast = level × P.
    In-sample errors (for choosing alpha) are those of the forecasts made, level × P − y, on the raw
    scale (on the de-seasonalised scale an off-season day's error would count 1/P² times too much).
    """
    Y, T, n, lo, ev = _prep(Y, lo, ev)
    alpha = np.asarray(alpha, dtype=float)
    shape = np.broadcast_shapes(alpha.shape, (n,))
    L = np.broadcast_to(np.asarray(level0, float), shape).copy()
    sse = np.zeros(shape)
    t_end = int(ev.max()) if train_only else T
    acc = None if train_only else _BacktestAcc(shape, ev, T, keep_errors=True, step=origin_step)
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
            w = a * (t < ev)
            if P is not None:
                w = w * mult * mult  # the raw error is mult · e
            sse += w * e * e
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
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(phi == 1.0, h * np.ones_like(phi),
                        phi * (1 - phi ** h) / np.where(phi == 1.0, 0.5, 1 - phi))


SEASON_FLOOR = 0.02  # multiplicative seasonal factors never fall below this (division by ~0 otherwise).
#                     Not higher: a season whose true factor is below the floor has every error divided
#                     by too large a factor, which pulls the level down (monthly series with an off-season
#                     at 1–5 % of the mean lost a sizeable share of their level at 0.05).


def hw_kernel(Y, alpha, beta, phi, gamma, level0, trend0, season0, dow, multiplicative=True, lo=None, ev=None,
              train_only=False, keep_path=False, fit_sse=True, origin_step=ORIGIN_STEP):
    """Holt–Winters with an optional damped trend: ETS(A, Ad, M) or ETS(A, Ad, A) in error-correction
    form (Hyndman et al. 2008, table 2.1). For the season j of day t, s = S[j], base = ℓ + φb:

      multiplicative: f = base·s, e = y − f, ℓ ← base + αe/s, b ← φb + βe/s, S[j] ← s + γe/base
      additive:       f = base + s, e = y − f,  ℓ ← base + αe,    b ← φb + βe,    S[j] ← s + γe

    β = 0 with b = 0 is no trend; γ = 0 keeps the initial season (then multiplicative is SES / Holt on
    the profile-adjusted series). Multiplicative factors are floored at SEASON_FLOOR.
    The h-step forecast from the final state is (ℓ + (φ + … + φ^h)·b) ∘ S[season] (see `hw_path`).
    season0: (m, n) initial seasonal states; dow: (T,) season index of each row.

    Returns final = ℓ, sse["final_trend"] = b, sse["final_season"] = S (m, …); in-sample one-step
    squared errors (sse["level"]) on the raw scale; the backtest freezes ℓ, b and S at each origin.
    """
    Y, T, n, lo, ev = _prep(Y, lo, ev)
    alpha, beta, phi, gamma = (np.asarray(v, float) for v in (alpha, beta, phi, gamma))
    shape = np.broadcast_shapes(alpha.shape, beta.shape, phi.shape, gamma.shape, (n,))
    L = np.broadcast_to(np.asarray(level0, float), shape).copy()
    B = np.broadcast_to(np.asarray(trend0, float), shape).copy()
    season0 = np.asarray(season0, float)
    m = season0.shape[0]
    S = np.broadcast_to(season0.reshape((m,) + (1,) * (len(shape) - season0.ndim + 1) + season0.shape[1:]),
                        (m,) + shape).copy()
    dow = np.asarray(dow, int)
    sse = np.zeros(shape)
    t_end = int(ev.max()) if train_only else T
    bt = not train_only
    if bt:
        fL, fB, fS = np.zeros(shape), np.zeros(shape), np.zeros((m,) + shape)
        start = int(ev.min()) if n else T
        bsse, bse, bn, e_last = np.zeros(shape), np.zeros(shape), np.zeros(n), np.zeros(shape)
        E = np.zeros((T - start,) + shape)
    path = np.zeros((T,) + shape) if keep_path else None
    prev = np.zeros(shape)
    for t in range(int(lo.min()) if n else 0, t_end):
        y = Y[t]
        j = dow[t]
        s = S[j]
        a = (t >= lo).astype(float)
        base = L + phi * B
        f = base * s if multiplicative else base + s
        e = y - f
        if fit_sse:
            sse += (a * (t < ev)) * e * e
        if bt and t >= start:
            b = t >= ev
            k = (t - ev) % origin_step
            origin = np.broadcast_to(b & (k == 0), shape)
            np.copyto(fL, L, where=origin)
            np.copyto(fB, B, where=origin)
            np.copyto(fS, S, where=np.broadcast_to(origin, fS.shape))
            fb = fL + damped_factor(phi, k + 1) * fB
            eb = (fb * fS[j] if multiplicative else fb + fS[j]) - y
            eb *= b
            bse += eb
            bsse += eb * eb
            bn += b
            E[t - start] = eb
            if t == T - 1:
                e_last[...] = eb
        if keep_path:
            path[t] = f
        if t == T - 1:
            prev = f
        e *= a
        if multiplicative:
            with np.errstate(divide="ignore", invalid="ignore"):
                es = e / s
                S[j] = np.maximum(s + gamma * np.where(base > 0, e / np.where(base > 0, base, 1.0), 0.0),
                                  SEASON_FLOOR)
        else:
            es = e
            S[j] = s + gamma * e
        L[...] = base + alpha * es - (1 - a) * phi * B
        B += a * (phi - 1) * B + beta * es
    return KernelResult(final=L, prev=prev, sse={"level": sse, "final_trend": B, "final_season": S},
                        bt=Backtest(bsse, bse, bn, e_last, E, start) if bt else None, path=path)


def hw_path(level, trend, phi, season, season_idx, multiplicative) -> np.ndarray:
    """(H, n) Holt–Winters forecast from a final state; season (m, n); season_idx (H,)."""
    h = np.arange(1, len(season_idx) + 1, dtype=float)[:, None]
    base = level[None, :] + damped_factor(np.asarray(phi, float)[None, :], h) * trend[None, :]
    s = season[np.asarray(season_idx, int)]
    return np.where(multiplicative, base * s, base + s)


def tsb_kernel(Y, alpha, beta, size0, prob0, lo=None, ev=None, train_only=False, keep_path=False,
               fit_sse=True, origin_step=ORIGIN_STEP):
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
    acc = None if train_only else _BacktestAcc(shape, ev, T, keep_errors=True, step=origin_step)
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
                   keep_path=False, fit_sse=True, track_size=True, origin_step=ORIGIN_STEP):
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
    acc = None if train_only else _BacktestAcc(shape, ev, T, keep_errors=True, step=origin_step)
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


def ma_kernel(Y, window, lo=None, ev=None, keep_path=False, origin_step=ORIGIN_STEP, P=None, dow=None):
    """Mean of the last `window` observed days (fewer at the start of a history; 0 with none).

    With a multiplicative profile P (m, n) and dow (T,): the level Σ demand / Σ profile over the window,
    forecast level × P[season]; `final` is the level. A window of a few days then no longer says
    more about the weekdays it happens to cover than about the level.
    """
    Y, T, n, lo, ev = _prep(Y, lo, ev)
    window = int(window)
    r0 = 0 if keep_path else max(0, min(int(ev.min()) if n else T, T - 1) - window)
    C = cumsum0(Y[r0:])
    CP = None if P is None else cumsum0(P[np.asarray(dow, int)[r0:]])
    cols = np.arange(n)

    def fc(t):
        start = np.maximum(np.maximum(lo, t - window), r0)
        cnt = t - start
        s = C[t - r0] - C[start - r0, cols]
        if CP is not None:  # the level: sales over the profile's expected share of them
            cnt = CP[t - r0] - CP[start - r0, cols]
        return np.where(cnt > 0, s / np.where(cnt > 0, cnt, 1), 0.0)

    acc = _BacktestAcc((n,), ev, T, keep_errors=True, step=origin_step)
    path = np.zeros((T, n)) if keep_path else None
    for t in range(r0 if keep_path else min(acc.start, T), T):
        f = fc(t)
        mult = _mult_row(P, dow, t)
        if t >= acc.start:
            acc.step(t, f, Y[t], mult)
        if keep_path:
            path[t] = f * mult
    prev = fc(T - 1) * _mult_row(P, dow, T - 1) if T else np.zeros(n)
    return KernelResult(final=fc(T), prev=prev, bt=acc.result(), path=path)


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

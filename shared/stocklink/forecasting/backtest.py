"""Per-SKU model choice by rolling-origin backtest; RMSSE and bias of the chosen model.

For each SKU the last W days (W = 7·⌊len/14⌋ clipped to 14..84, i.e. up to 12 weekly origins) are
held out. Parameters are chosen by grid on one-step errors over (up to a year of) the days before the hold-out, then
kept fixed while the state keeps updating with actuals through the hold-out ("rolling origin
without re-estimation"): at each weekly origin the forecast is frozen and scored on the next 7 days.
So the backtest error is exactly the error of the configuration used for the final forecast.

Candidates: moving average (always), SES (with a weekday profile once history ≥ 56 days), TSB, SBA.
The route from DESIGN §8 (SES for smooth/erratic, TSB for intermittent/lumpy, moving average for
short histories) is the default; another candidate replaces it only when its backtest MSE is lower
by more than `switch_margin` (2 %): twelve weeks of hold-out are noisy and the route is a sound prior.
Histories shorter than 28 days get the moving average without a backtest.

RMSSE = sqrt(backtest MSE / mean squared day-to-day change over the training days) — scale-free
and, unlike MASE, it does not reward an all-zero forecast on intermittent data. Bias = mean of
(forecast − actual) per day; bias_pct divides its sum by actual sales.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import classify as C
from ._util import cumsum0
from .methods import (HOLT_ALPHAS, HOLT_BETAS, HOLT_PHIS, INTERVAL_ALPHAS, PROB_BETAS, SES_ALPHAS, SIZE_ALPHAS,
                      Backtest, KernelResult, croston_kernel, damped_factor, holt_kernel, ma_kernel, pick,
                      ses_kernel, tsb_kernel)

MA, SES, TSB, SBA, HOLT = "moving_average", "ses", "tsb", "sba", "holt_damped"
METHODS = (MA, SES, TSB, SBA, HOLT)
MIN_BACKTEST_DAYS = 28
PROFILE_MIN_DAYS = 56
MA_WINDOW = 28
FIT_WINDOW = 365  # training days whose one-step errors choose the parameters
PROFILE_WINDOW = 364
PROFILE_PRIOR_DAYS = 4.0  # pseudo-days per weekday pulling a noisy profile towards flat
PROFILE_FLOOR = 0.2


@dataclass
class FitResult:
    method: np.ndarray          # (n,) object: chosen method name
    level: np.ndarray           # (n,) flat daily forecast of the chosen method (before weekday profile)
    profile: np.ndarray         # (7, n) weekday factors applied to the chosen forecast (ones if none)
    prev: np.ndarray            # (n,) one-step forecast the model made for the last history day
    rmse: np.ndarray            # (n,) backtest RMSE (units/day); NaN without a backtest
    bias: np.ndarray            # (n,) mean (forecast − actual) per day
    bias_pct: np.ndarray        # (n,) sum(forecast − actual) / sum(actual)
    rmsse: np.ndarray           # (n,)
    backtest_days: np.ndarray   # (n,) int
    demand_class: np.ndarray    # (n,) object
    adi: np.ndarray
    cv2: np.ndarray
    params: dict                # name -> (n,) chosen parameter values
    sigma_in_sample: np.ndarray  # (n,) sample std of daily demand (fallback without a backtest)
    # The model as it stood before the last day, for burst detection: chosen, and its spread measured,
    # on history up to T − 2 only (a spike on day T − 1 must not widen the yardstick it is measured with).
    burst_mu: np.ndarray | None = None     # (n,) that model's one-step forecast for day T − 1
    burst_sigma: np.ndarray | None = None  # (n,) its backtest RMSE over [ev, T − 1) (or in-sample std)
    trend: np.ndarray | None = None        # (n,) damped-trend Holt's trend per day (0 for other methods)
    phi: np.ndarray | None = None          # (n,) its damping (0 for other methods)

    def path(self, season_idx) -> np.ndarray:
        """(H, n) forecast for the H periods after the history; season_idx: (H,) season of each."""
        season_idx = np.asarray(season_idx, int)
        base = np.broadcast_to(self.level, (len(season_idx), self.level.shape[0]))
        if self.trend is not None and self.trend.any():
            h = np.arange(1, len(season_idx) + 1, dtype=float)[:, None]
            base = self.level[None, :] + damped_factor(self.phi[None, :], h) * self.trend[None, :]
        return np.maximum(base * self.profile[season_idx], 0.0)


def eval_start(lengths: np.ndarray, T: int) -> np.ndarray:
    W = np.clip(7 * (lengths // 14), 14, 84)
    return np.where(lengths >= MIN_BACKTEST_DAYS, T - W, T)


_cumsum0 = cumsum0


def _between(Cs, a, b) -> np.ndarray:
    cols = np.arange(Cs.shape[1])
    return Cs[b, cols] - Cs[a, cols]


def weekday_profile(Y, lo, hi, dow, min_len_mask, n_season: int = 7, window: int = PROFILE_WINDOW):
    """(7, n) multiplicative weekday factors from days [max(lo, hi−364), hi); flat where masked out.

    Per weekday, (sales + λ·μ) / (days·μ + λ·μ) with λ = 4 pseudo-days shrinks noisy factors to 1;
    factors are floored at 0.2 (dividing by a near-zero factor would blow up a rare sale) and
    normalised to mean 1.
    """
    T, n = Y.shape
    a = np.maximum(lo, hi - window)
    S = np.zeros((n_season, n))
    N = np.zeros((n_season, n))
    for d in range(n_season):
        rows = np.flatnonzero(dow == d)
        sa, sb = np.searchsorted(rows, a), np.searchsorted(rows, hi)
        S[d] = _between(_cumsum0(Y[rows]), sa, sb)
        N[d] = sb - sa
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = S.sum(0) / np.maximum(N.sum(0), 1)
        lam = PROFILE_PRIOR_DAYS
        r = (S + lam * mu) / (N * mu + lam * mu)
    r = np.where(np.isfinite(r), r, 1.0)
    r = np.maximum(r / r.mean(0), PROFILE_FLOOR)
    r = r / r.mean(0)
    return np.where(min_len_mask & (mu > 0), r, 1.0)


def fit(Y, lo, dow, switch_margin: float = 0.02, n_season: int = 7) -> FitResult:
    """Classify, choose and fit a model per SKU. Y: (T, n) daily demand; lo: (n,) first observed row.

    dow: (T,) season index of each row — the weekday for daily data. n_season other than 7 (e.g. 12
    with month-of-year for monthly data, as the accuracy benchmark does on PBS) turns the weekday
    profile into that seasonal profile: needs 8 cycles of history, estimated on up to 52 cycles.
    """
    Y = np.asarray(Y, dtype=float)
    T, n = Y.shape
    lo = np.asarray(lo, int)
    lengths = T - lo
    ev = eval_start(lengths, T)
    has_bt = ev < T

    # Every windowed statistic below is a difference of running sums (one pass over the matrix).
    C1 = _cumsum0(Y)
    C0 = _cumsum0(Y > 0)
    C2 = _cumsum0(Y * Y)

    # Class on the last year of history; sums over non-zero days equal sums over all days.
    ca = np.maximum(lo, T - 365)
    adi, cv2 = C.adi_cv2_from_sums(T - ca, _between(C0, ca, T), _between(C1, ca, T), _between(C2, ca, T))
    dclass = C.classify(adi, cv2)

    # Training statistics initialise every state (no hold-out data leaks into them).
    ntr = (ev - lo).astype(float)
    k = _between(C0, lo, ev)
    s = _between(C1, lo, ev)
    mean_tr = s / np.maximum(ntr, 1)
    size0 = np.where(k > 0, s / np.maximum(k, 1), 0.0)
    prob0 = k / np.maximum(ntr, 1)
    interval0 = np.where(k > 0, ntr / np.maximum(k, 1), np.maximum(ntr, 1))
    # RMSSE scale: mean squared day-to-day change over training days (pairs inside [lo, ev)).
    D = np.diff(Y, axis=0)
    CD = _cumsum0(D * D)
    del D
    npairs = np.maximum(ev - lo - 1, 0)
    scale = np.where(npairs > 0, _between(CD, np.minimum(lo, ev - 1), np.maximum(ev - 1, lo)) /
                     np.maximum(npairs, 1), 0.0)
    del CD
    s_all, s2_all = _between(C1, lo, T), _between(C2, lo, T)
    mean_all = s_all / np.maximum(lengths, 1)
    sigma_in = np.sqrt(np.maximum(s2_all - lengths * mean_all ** 2, 0.0) / np.maximum(lengths - 1, 1))
    actual = _between(C1, ev, T)
    # The same class and spread on history before the last day (burst detection tests that day).
    cb = np.clip(np.maximum(lo, T - 366), 0, T - 1)
    dclass_b = C.classify(*C.adi_cv2_from_sums(T - 1 - cb, _between(C0, cb, T - 1), _between(C1, cb, T - 1),
                                                _between(C2, cb, T - 1)))
    lb = np.minimum(lo, T - 1)
    nb_days = T - 1 - lb
    mean_b = _between(C1, lb, T - 1) / np.maximum(nb_days, 1)
    sigma_in_b = np.sqrt(np.maximum(_between(C2, lb, T - 1) - nb_days * mean_b ** 2, 0.0) /
                         np.maximum(nb_days - 1, 1))
    del C0, C2

    P = weekday_profile(Y, lo, ev, dow, lengths >= 8 * n_season, n_season, 52 * n_season)
    bt_lo = np.where(has_bt, lo, T)  # SKUs without a backtest are left out of the recursions entirely
    level0 = mean_tr

    # Pass A: parameter grids on one-step errors over the last FIT_WINDOW training days (states start
    # from the training statistics there; older days add little to the choice and cost a full pass).
    g = lambda v: np.asarray(v, float)[:, None]  # noqa: E731
    if has_bt.any():
        lo_a = np.where(has_bt, np.maximum(lo, ev - FIT_WINDOW), T)
        rA = ses_kernel(Y, g(SES_ALPHAS), level0, lo_a, ev, P, dow, train_only=True)
        a_ses, _ = pick(SES_ALPHAS, rA.sse["level"])
        rA = tsb_kernel(Y, g(SIZE_ALPHAS), g(PROB_BETAS), size0, prob0, lo_a, ev, train_only=True)
        a_size, _ = pick(SIZE_ALPHAS, rA.sse["size"])
        b_prob, _ = pick(PROB_BETAS, rA.sse["prob"])
        rA = croston_kernel(Y, 0.0, g(INTERVAL_ALPHAS), size0, interval0, lo_a, ev, train_only=True,
                            track_size=False)
        a_int, _ = pick(INTERVAL_ALPHAS, rA.sse["interval"])
        del rA
    else:
        a_ses = a_size = b_prob = a_int = np.full(n, 0.1)
        lo_a = np.full(n, T)

    # Damped-trend Holt: a candidate for SKUs on the SES route only (smooth / erratic, long enough); it
    # replaces the route only when its backtest wins by the switch margin, like any other candidate.
    hc = np.flatnonzero(has_bt & (lengths >= PROFILE_MIN_DAYS) & ~np.isin(dclass, [C.INTERMITTENT, C.LUMPY]))
    r_holt, holt_prm = _holt(Y, P, dow, hc, lo_a, ev, T)

    # Pass B: chosen parameters, rolling-origin backtest and final state.
    r_ses = ses_kernel(Y, a_ses, level0, bt_lo, ev, P, dow, fit_sse=False)
    r_tsb = tsb_kernel(Y, a_size, b_prob, size0, prob0, bt_lo, ev, fit_sse=False)
    r_sba = croston_kernel(Y, a_size, a_int, size0, interval0, bt_lo, ev, sba=True, fit_sse=False)
    r_ma = ma_kernel(Y, MA_WINDOW, lo, ev)
    results = {MA: r_ma, SES: r_ses, TSB: r_tsb, SBA: r_sba, HOLT: r_holt}

    mse = np.stack([results[m].bt.mse for m in METHODS])  # (4, n)
    mse = np.where(np.isfinite(mse), mse, np.inf)
    route = np.where(lengths < PROFILE_MIN_DAYS, 0,
                     np.where(np.isin(dclass, [C.INTERMITTENT, C.LUMPY]), 2, 1))
    route = np.where(has_bt, route, 0)
    best = np.argmin(mse, axis=0)
    cols = np.arange(n)
    keep_route = mse[route, cols] <= mse[best, cols] * (1 + switch_margin)
    choice = np.where(keep_route | ~has_bt, route, best)

    burst_mu, burst_sigma = _before_last_day(results, lengths, has_bt, dclass_b, sigma_in_b, switch_margin)

    final = np.stack([results[m].final for m in METHODS])[choice, cols]
    prev = np.stack([results[m].prev for m in METHODS])[choice, cols]
    sse = np.stack([results[m].bt.sse for m in METHODS])[choice, cols]
    se = np.stack([results[m].bt.se for m in METHODS])[choice, cols]
    nbt = r_ma.bt.n
    is_ses = (choice == 1) | (choice == 4)
    is_holt = choice == 4
    profile = np.where(is_ses[None, :], P, 1.0)
    # SES's `final` and `prev` are on the de-seasonalised scale for final, seasonal for prev.
    with np.errstate(invalid="ignore", divide="ignore"):
        rmse = np.where(has_bt, np.sqrt(sse / np.maximum(nbt, 1)), np.nan)
        bias = np.where(has_bt, se / np.maximum(nbt, 1), np.nan)
        bias_pct = np.where(has_bt & (actual > 0), se / np.where(actual > 0, actual, 1), np.nan)
        rmsse = np.where(has_bt & (scale > 0), rmse / np.sqrt(np.where(scale > 0, scale, 1)), np.nan)
    # Without a backtest the error is the day-to-day spread of the short history itself.
    return FitResult(
        method=np.asarray(METHODS, dtype=object)[choice], level=np.maximum(final, 0.0), profile=profile,
        prev=np.maximum(prev, 0.0), rmse=rmse, bias=bias, bias_pct=bias_pct, rmsse=rmsse,
        backtest_days=np.where(has_bt, T - ev, 0), demand_class=dclass, adi=adi, cv2=cv2,
        params={"ses_alpha": a_ses, "size_alpha": a_size, "prob_beta": b_prob, "interval_alpha": a_int,
                "holt_alpha": holt_prm["holt_alpha"], "holt_beta": holt_prm["holt_beta"],
                "holt_phi": holt_prm["holt_phi"]},
        sigma_in_sample=sigma_in, burst_mu=burst_mu, burst_sigma=burst_sigma,
        trend=np.where(is_holt, holt_prm["final_trend"], 0.0), phi=np.where(is_holt, holt_prm["holt_phi"], 0.0))


def _holt(Y, P, dow, hc, lo_a, ev, T):
    """Damped-trend Holt on columns hc: grid on one-step errors over [lo_a, ev), then the chosen
    parameters from lo_a through the backtest. States start on the least-squares line of the
    de-seasonalised training window. Returns a full-width KernelResult (MSE inf outside hc) and params."""
    n = Y.shape[1]
    prm = {k: np.zeros(n) for k in ("holt_alpha", "holt_beta", "holt_phi", "final_trend")}
    full = KernelResult(final=np.zeros(n), prev=np.zeros(n),
                        bt=Backtest(np.full(n, np.inf), np.zeros(n), np.zeros(n), np.zeros(n)))
    if hc.size == 0:
        return full, prm
    Yh, Ph, la, eh = Y[:, hc], P[:, hc], lo_a[hc], ev[hc]
    X = Yh / Ph[np.asarray(dow)]
    t = np.arange(T, dtype=float)[:, None]
    cols = np.arange(hc.size)
    C1, Ct = cumsum0(X), cumsum0(X * t)
    m = (eh - la).astype(float)
    sx = C1[eh, cols] - C1[la, cols]
    stx = Ct[eh, cols] - Ct[la, cols]
    st = (la + eh - 1) * m / 2                       # Σ t over [la, eh)
    stt = ((eh - 1) * eh * (2 * eh - 1) - (la - 1) * la * (2 * la - 1)) / 6.0
    den = m * stt - st * st
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(den > 0, (m * stx - st * sx) / np.where(den > 0, den, 1), 0.0)
    intercept = (sx - slope * st) / np.maximum(m, 1)
    level0 = intercept + slope * (la - 1)
    g = lambda v: np.asarray(v, float)[:, None]  # noqa: E731
    grid = [(a, b, f) for a in HOLT_ALPHAS for b in HOLT_BETAS for f in HOLT_PHIS]
    ga, gb, gf = (g([p[i] for p in grid]) for i in range(3))
    rA = holt_kernel(Yh, ga, gb, gf, level0, slope, la, eh, Ph, dow, train_only=True)
    _, idx = pick(np.arange(len(grid)), rA.sse["level"])
    a, b, f = (np.asarray([p[i] for p in grid])[idx] for i in range(3))
    r = holt_kernel(Yh, a, b, f, level0, slope, la, eh, Ph, dow, fit_sse=False)
    full.final[hc], full.prev[hc] = r.final, r.prev
    full.bt.sse[hc], full.bt.se[hc], full.bt.n[hc], full.bt.e_last[hc] = r.bt.sse, r.bt.se, r.bt.n, r.bt.e_last
    prm["holt_alpha"][hc], prm["holt_beta"][hc], prm["holt_phi"][hc] = a, b, f
    prm["final_trend"][hc] = r.sse["final_trend"]
    return full, prm


def _before_last_day(results, lengths, has_bt, dclass, sigma_in, switch_margin):
    """(μ, σ) of the model chosen on history before the last day, for that day's burst test.

    Parameters, weekday profile and initial states come from the training part [lo, ev) already; here
    the route choice is redone on the backtest without its last day (class and in-sample spread on
    [.., T − 1) are passed in), and μ is that model's one-step forecast for day T − 1 made before
    seeing it. No extra pass over the history.
    """
    n = lengths.shape[0]
    cols = np.arange(n)
    sse = np.stack([results[m].bt.sse - results[m].bt.e_last ** 2 for m in METHODS])
    nb = np.maximum(results[MA].bt.n - 1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mse = np.where(nb > 0, np.maximum(sse, 0.0) / np.maximum(nb, 1), np.inf)
    mse = np.where(np.isfinite(mse), mse, np.inf)
    has = has_bt & (nb > 0)
    route = np.where(lengths - 1 < PROFILE_MIN_DAYS, 0,
                     np.where(np.isin(dclass, [C.INTERMITTENT, C.LUMPY]), 2, 1))
    route = np.where(has, route, 0)
    best = np.argmin(mse, axis=0)
    keep = mse[route, cols] <= mse[best, cols] * (1 + switch_margin)
    choice = np.where(keep | ~has, route, best)
    mu = np.maximum(np.stack([results[m].prev for m in METHODS])[choice, cols], 0.0)
    sigma = np.where(has, np.sqrt(np.where(has, mse[choice, cols], 0.0)), sigma_in)
    return mu, sigma

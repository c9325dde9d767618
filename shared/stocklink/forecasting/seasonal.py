"""Seasonality for the backtest (backtest.py): seasonal profiles, and the two seasonal candidates.

Profiles: per season (weekday of daily data, month of monthly data), sales and periods over up to a
year of history (season_sums) give multiplicative factors shrunk towards flat (profile_from_sums),
estimated once a SKU has PROFILE_MIN_DAYS periods and PROFILE_MIN_CYCLES cycles (profile_min).

Candidates: Holt–Winters (ETS(A,Ad,M) or ETS(A,Ad,A), fit_holt_winters) and the Theta method (SES with
drift, fit_theta), both on methods.hw_kernel: parameters by grid on one-step errors over the fit window,
then the chosen parameters run through the rolling-origin backtest. Each returns full-width arrays
(final states, the one-step forecast for the last day, backtest errors and the parameters chosen),
which backtest.fit stacks with the other candidates.
"""
from __future__ import annotations

import numpy as np

from ._util import between, cumsum0
from .methods import ORIGIN_STEP, Backtest, hw_kernel, pick

# Holt–Winters grid per SKU: season type, then γ × α (relative to SES's choice) × (trend share β/α, φ)
HW_GAMMAS = (0.0, 0.05, 0.2)
HW_ALPHA_MULTS = (0.5, 1.0, 2.0)
HW_TRENDS = ((0.0, 1.0), (0.05, 0.98), (0.2, 0.9))
HW_ALPHA_MAX = 1.0  # α spans ETS's whole range (0, 1]: a level that moves a lot needs α near 1
HW_PROFILE_PRIOR = 0.0
THETA_ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # SES α grid of the Theta method
PROFILE_MIN_DAYS = 56
PROFILE_MIN_CYCLES = 3
PROFILE_WINDOW = 364
PROFILE_PRIOR_DAYS = 4.0  # pseudo-days per weekday pulling a noisy profile towards flat
PROFILE_FLOOR = 0.2
PROFILE_PRIOR_UNITS = 20.0  # pseudo-units of sales per season towards a group's profile (see profile_from_sums)
# Dispersion index cap: orders of up to ~20 units count as one; beyond that the index of a high-volume
# series mostly measures its level moving between cycles (monthly PBS: year-on-year changes; its index
# runs into the hundreds), which says nothing about how noisy its seasonal factors are. Set with PBS (b)
# in view; the daily sets (a) and (c) give the same figures with any cap from 5 to 50.
DISPERSION_MAX = 20.0


def profile_min(n_season: int) -> int:
    """History length (periods) from which a seasonal profile is estimated: PROFILE_MIN_DAYS (8 weeks of
    daily data, DESIGN §8) and at least PROFILE_MIN_CYCLES full cycles (3 years of monthly data)."""
    return max(PROFILE_MIN_DAYS, PROFILE_MIN_CYCLES * int(n_season))


def season_sums(Y, lo, hi, dow, n_season: int = 7, window: int = PROFILE_WINDOW, noise: bool = False):
    """(S, N): (m, n) sales and periods per season over [max(lo, hi − window), hi). noise: also V (n,),
    an estimate of the variance of demand around its local seasonal level from consecutive periods of
    the same season inside that window (this Monday against the Mondays either side of it): the mean
    of the squared second differences / 6 (a level moving linearly cancels), or, for a SKU with fewer
    than three periods of every season, of the squared first differences / 2; NaN with fewer than two."""
    T, n = Y.shape
    a = np.maximum(lo, hi - window)
    S = np.zeros((n_season, n))
    N = np.zeros((n_season, n))
    Q2, K2 = np.zeros(n), np.zeros(n)
    spans = []
    for d in range(n_season):
        rows = np.flatnonzero(dow == d)
        sa, sb = np.searchsorted(rows, a), np.searchsorted(rows, hi)
        S[d] = between(cumsum0(Y[rows]), sa, sb)
        N[d] = sb - sa
        if noise:
            spans.append((rows, sa, sb))
            Q2 += _window_sq_diffs(Y, rows, sa, sb, 2)
            K2 += np.maximum(sb - sa - 2, 0)
    if not noise:
        return S, N
    with np.errstate(invalid="ignore", divide="ignore"):
        V = np.where(K2 > 0, Q2 / np.maximum(K2, 1) / 6.0, np.nan)
    few = np.flatnonzero(K2 == 0)   # under three periods of every season: first differences
    if few.size:
        Q1, K1 = np.zeros(few.size), np.zeros(few.size)
        for rows, sa, sb in spans:
            Q1 += _window_sq_diffs(Y[:, few], rows, sa[few], sb[few], 1)
            K1 += np.maximum(sb[few] - sa[few] - 1, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            V[few] = np.where(K1 > 0, Q1 / np.maximum(K1, 1) / 2.0, np.nan)
    return S, N, V


def _window_sq_diffs(Y, rows, sa, sb, order: int) -> np.ndarray:
    """(n,) sum of squared `order`-th differences of Y's `rows` (one season's periods), over the
    differences whose periods all lie in each column's [sa, sb) (indices into rows)."""
    r0, r1 = int(sa.min()), int(sb.max())
    if r1 - r0 <= order:
        return np.zeros(Y.shape[1])
    X = Y[rows[r0:r1]]
    D = np.diff(X, n=order, axis=0)
    k = np.arange(r0, r1 - order)[:, None]
    D *= D
    D *= (k >= sa) & (k < sb - order)
    return D.sum(0)


def dispersion_index(S, N, V, scale=None) -> np.ndarray:
    """(n,) variance over mean of demand around its local seasonal level, from 1 to DISPERSION_MAX (1
    without an estimate): V from season_sums(noise=True), capped by half the mean squared
    period-to-period change `scale` when given (the smaller of two overestimates: one counts the level's
    drift, the other the seasonal pattern). 1 for Poisson counts; about the order size for a SKU whose
    sales come in a few big orders, whose season sums then say that much less about its seasonal
    factors (profile_from_sums and pooled.group_profile count its sales in Poisson units: divided by it)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = S.sum(0) / np.maximum(N.sum(0), 1)
        v = V if scale is None else np.fmin(V, np.asarray(scale, float) / 2.0)
        d = v / mu
    return np.where(np.isfinite(d), np.clip(d, 1.0, DISPERSION_MAX), 1.0)


def profile_from_sums(S, N, min_len_mask, prior: float = PROFILE_PRIOR_DAYS, floor: float = PROFILE_FLOOR,
                      target=None, dispersion=None):
    """(m, n) multiplicative seasonal factors (mean 1) from season sums; `target` where masked out.

    Per season, (sales + (λ·μ + u)·g) / (periods·μ + λ·μ + u) with λ = `prior` pseudo-periods shrinks
    noisy factors to the target g (flat by default); towards a group's profile (pooled.group_profile)
    u = PROFILE_PRIOR_UNITS pseudo-units more, so a slow mover's few sales do not make its week; factors are
    floored at `floor` (dividing by a near-zero factor would blow up a rare sale) and normalised to mean 1.
    u is counted in Poisson units: times the SKU's `dispersion` (dispersion_index) when given, so three
    weeks with one order of 30 units weigh like three weeks of a few single units (a season's sum is
    that much noisier), not like 30 sales that all chose a Thursday.
    """
    g = 1.0 if target is None else target
    units = 0.0 if target is None else PROFILE_PRIOR_UNITS * (1.0 if dispersion is None else dispersion)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = S.sum(0) / np.maximum(N.sum(0), 1)
        r = (S + (prior * mu + units) * g) / (N * mu + prior * mu + units)
    r = np.where(np.isfinite(r), r, 1.0)
    r = np.maximum(r / r.mean(0), floor)
    r = r / r.mean(0)
    flat = np.ones_like(r) if target is None else np.broadcast_to(target, r.shape)
    return np.where(min_len_mask & (mu > 0), r, flat)


def weekday_profile(Y, lo, hi, dow, min_len_mask, n_season: int = 7, window: int = PROFILE_WINDOW):
    """(7, n) multiplicative weekday factors from days [max(lo, hi−364), hi) (see profile_from_sums)."""
    return profile_from_sums(*season_sums(Y, lo, hi, dow, n_season, window), min_len_mask)


def trend_line(X, la, eh):
    """Least-squares line of each column of X (T, n) over rows [la, eh): (level at la − 1, slope, mean)."""
    T = X.shape[0]
    t = np.arange(T, dtype=float)[:, None]
    cols = np.arange(X.shape[1])
    C1, Ct = cumsum0(X), cumsum0(X * t)
    w = (eh - la).astype(float)
    sx = C1[eh, cols] - C1[la, cols]
    stx = Ct[eh, cols] - Ct[la, cols]
    st = (la + eh - 1) * w / 2                       # Σ t over [la, eh)
    stt = ((eh - 1) * eh * (2 * eh - 1) - (la - 1) * la * (2 * la - 1)) / 6.0
    den = w * stt - st * st
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(den > 0, (w * stx - st * sx) / np.where(den > 0, den, 1), 0.0)
    intercept = (sx - slope * st) / np.maximum(w, 1)
    return intercept + slope * (la - 1), slope, sx / np.maximum(w, 1)


def fit_theta(Y, P, dow, hc, lo_a, ev, T, start, step=ORIGIN_STEP):
    """The Theta method (Assimakopoulos & Nikolopoulos 2000) in its SES-with-drift form (Hyndman &
    Billah 2003) on columns hc: on demand divided by the multiplicative profile P, the level is smoothed
    with drift b = half the least-squares slope of the adjusted fit window [lo_a, ev):

      f = (ℓ + b)·s,  ℓ ← ℓ + b + α(y − f)/s,  h-step forecast (ℓ + h·b)·s

    (methods.hw_kernel with β = 0, φ = 1, γ = 0 and a fixed trend b). α by grid (THETA_ALPHAS) on
    one-step errors over the fit window; the level starts on the line at lo_a − 1. Then α runs from
    lo_a through the backtest. Returns full-width arrays (backtest MSE inf outside hc), errors aligned
    to row `start`."""
    n = Y.shape[1]
    m = P.shape[0]
    out = {"level": np.zeros(n), "trend": np.zeros(n), "season": np.ones((m, n)), "prev": np.zeros(n)}
    prm = {"theta_alpha": np.zeros(n), "theta_drift": np.zeros(n)}
    bt = Backtest.empty(n, T - start, start)
    out["bt"], out["params"] = bt, prm
    if hc.size == 0:
        return out
    Yh, Ph, la, eh = Y[:, hc], P[:, hc], lo_a[hc], ev[hc]
    level0, slope, _ = trend_line(Yh / Ph[dow], la, eh)
    drift = slope / 2.0
    r = hw_kernel(Yh, np.asarray(THETA_ALPHAS, float)[:, None], 0.0, 1.0, 0.0, level0, drift, Ph, dow, True,
                  la, eh, train_only=True)
    alpha, _ = pick(THETA_ALPHAS, r.sse["level"])
    rb = hw_kernel(Yh, alpha, 0.0, 1.0, 0.0, level0, drift, Ph, dow, True, la, eh, fit_sse=False,
                   origin_step=step)
    out["level"][hc], out["trend"][hc], out["season"][:, hc], out["prev"][hc] = rb.final, drift, Ph, rb.prev
    bt.put(hc, rb.bt)
    prm["theta_alpha"][hc], prm["theta_drift"][hc] = alpha, drift
    return out


def fit_holt_winters(Y, P, dow, hc, lo_a, ev, T, a_ses, start, step=ORIGIN_STEP):
    """Holt–Winters (methods.hw_kernel) on columns hc, parameters by grid on one-step errors over the
    fit window [lo_a, ev): the season type (multiplicative / additive) first, then γ × α (× 0.5, 1, 2
    of SES's) × damped trend (β/α, φ) jointly for it. Initial states: the least-squares line of the
    profile-adjusted fit window for level and trend, the training profile P as season (additive
    offsets P − 1 times the window mean). Then the chosen parameters run from lo_a through the
    backtest, with origins `step` periods apart. Returns full-width arrays (backtest MSE inf outside
    hc) with the backtest errors aligned to row `start`."""
    n = Y.shape[1]
    m = P.shape[0]
    out = {"level": np.zeros(n), "trend": np.zeros(n), "phi": np.ones(n), "season": np.ones((m, n)),
           "mult": np.ones(n, bool), "prev": np.zeros(n)}
    prm = {k: np.zeros(n) for k in ("hw_alpha", "hw_beta", "hw_phi", "hw_gamma")}
    prm["hw_multiplicative"] = np.ones(n)
    bt = Backtest.empty(n, T - start, start)
    out["bt"], out["params"] = bt, prm
    if hc.size == 0:
        return out
    Yh, Ph, la, eh = Y[:, hc], P[:, hc], lo_a[hc], ev[hc]
    level0, slope, mean_x = trend_line(Yh / Ph[dow], la, eh)
    s0 = {True: Ph, False: (Ph - 1.0) * mean_x}
    a0 = np.asarray(a_ses, float)[hc]
    g = lambda v: np.asarray(v, float)[:, None]  # noqa: E731

    # Season type first (by one-step SSE over the fit window with the γ grid, α from SES and no trend),
    # then γ × α (× 0.5, 1, 2 of SES's) × damped trend (β/α, φ) jointly for that type. (Fixing γ in the
    # first step too — without a trend — often fixed it badly on trending series; the type choice is
    # robust to that, and deciding it first halves the grid.)
    grid = [(gm, am, b, f) for gm in HW_GAMMAS for am in HW_ALPHA_MULTS for b, f in HW_TRENDS]
    ga = np.minimum(np.asarray([p[1] for p in grid])[:, None] * a0, HW_ALPHA_MAX)
    gb = g([p[2] for p in grid]) * ga
    gf = g([p[3] for p in grid])
    gg = g([p[0] for p in grid])
    tr0 = np.where(gb > 0, slope, 0.0)
    lv0 = np.where(gb > 0, level0, mean_x)          # untrended: level starts at the window mean
    sse1 = np.concatenate([hw_kernel(Yh, a0, 0.0, 1.0, g(HW_GAMMAS), mean_x, 0.0, s0[mult], dow, mult, la, eh,
                                     train_only=True).sse["level"] for mult in (True, False)])
    mult_h = np.argmin(sse1, axis=0) < len(HW_GAMMAS)
    q = np.zeros(hc.size, int)
    for mult in (True, False):
        sub = np.flatnonzero(mult_h == mult)
        if sub.size:
            q[sub] = np.argmin(hw_kernel(Yh[:, sub], ga[:, sub], gb[:, sub], gf, gg, lv0[:, sub], tr0[:, sub],
                                         s0[mult][:, sub], dow, mult, la[sub], eh[sub],
                                         train_only=True).sse["level"], axis=0)
    cs = np.arange(hc.size)
    gamma_h = gg[q, 0]
    alpha_h, beta_h, phi_h = ga[q, cs], gb[q, cs], gf[q, 0]
    for mult in (True, False):
        sub = np.flatnonzero(mult_h == mult)
        if sub.size == 0:
            continue
        # pass B: the chosen parameters from the fit window through the backtest
        trended = beta_h[sub] > 0
        rb = hw_kernel(Yh[:, sub], alpha_h[sub], beta_h[sub], phi_h[sub], gamma_h[sub],
                       np.where(trended, level0[sub], mean_x[sub]), np.where(trended, slope[sub], 0.0),
                       s0[mult][:, sub], dow, mult, la[sub], eh[sub], fit_sse=False, origin_step=step)
        j = hc[sub]
        out["level"][j], out["trend"][j] = rb.final, rb.sse["final_trend"]
        out["season"][:, j] = rb.sse["final_season"]
        out["prev"][j], out["mult"][j] = rb.prev, mult
        bt.put(j, rb.bt)
    out["phi"][hc] = phi_h
    prm["hw_alpha"][hc], prm["hw_beta"][hc], prm["hw_phi"][hc] = alpha_h, beta_h, phi_h
    prm["hw_gamma"][hc] = gamma_h
    prm["hw_multiplicative"][hc] = mult_h
    return out

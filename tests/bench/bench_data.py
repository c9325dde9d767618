"""Synthetic daily demand shared by the forecasting benchmarks (seeded, numpy only).

A catalogue mix like a marketplace seller's: 25 % smooth (Poisson around a drifting level with a
weekday pattern), 15 % erratic (gamma-Poisson, over-dispersed), 35 % intermittent (sale on 5–40 %
of days, small sizes), 25 % lumpy (rare sales of variable size). A third of the SKUs get one level
shift (×0.5..×2) at a random day, so a method that never adapts is punished.
"""
from __future__ import annotations

import numpy as np

WEEKDAY = np.array([0.9, 0.9, 0.95, 1.0, 1.1, 1.15, 1.0])


def synthetic_demand(n: int, T: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(Y (T, n) float, kind (n,) str). Row 0 is a Monday."""
    Y, kind, _ = synthetic_demand_with_rate(n, T, seed)
    return Y, kind


def synthetic_demand_with_rate(n: int, T: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Y, kind, rate): synthetic_demand's sales and kinds (the same draws) and the expected demand
    rate (T, n) they were drawn from — the forecast no method can beat on average (the accuracy
    benchmark prints it as an oracle: its error and bias are the hold-out's own noise)."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(np.array(["smooth", "erratic", "intermittent", "lumpy"]), n, p=[0.25, 0.15, 0.35, 0.25])
    t = np.arange(T)[:, None]
    base = rng.lognormal(1.0, 1.0, n)
    # slow random-walk drift on the log level, plus one level shift for a third of the SKUs
    drift = np.exp(np.cumsum(rng.normal(0, 0.01, (T, n)), axis=0))
    shift_at = rng.integers(T // 4, T, n)
    shift = np.where(rng.random(n) < 1 / 3, rng.uniform(0.5, 2.0, n), 1.0)
    level = base * drift * np.where(t >= shift_at, shift, 1.0) * WEEKDAY[t % 7]
    Y = np.zeros((T, n))
    rate = level.copy()                        # smooth: Poisson(level); erratic: gamma mean 1
    sm = kind == "smooth"
    Y[:, sm] = rng.poisson(level[:, sm])
    er = kind == "erratic"
    Y[:, er] = rng.poisson(level[:, er] * rng.gamma(1.5, 1 / 1.5, (T, er.sum())))
    it = kind == "intermittent"
    p = rng.uniform(0.05, 0.4, it.sum())
    rate[:, it] = p * drift[:, it].clip(0.2, 3).clip(max=1 / p) * (1 + np.minimum(base[it], 3))
    Y[:, it] = (rng.random((T, it.sum())) < p * drift[:, it].clip(0.2, 3).clip(max=1 / p)) * \
        (1 + rng.poisson(np.minimum(base[it], 3), (T, it.sum())))
    lu = kind == "lumpy"
    p = rng.uniform(0.02, 0.2, lu.sum())
    rate[:, lu] = p * 3 * base[lu]             # negative binomial(1, 1/(1 + 3·base)): mean 3·base
    Y[:, lu] = (rng.random((T, lu.sum())) < p) * rng.negative_binomial(1, 1 / (1 + 3 * base[lu]), (T, lu.sum()))
    return Y, kind, rate


# --- a retail chain: stores × categories × items, launches and stock-outs ---------------------------------

RETAIL_WEEKDAY = np.array([0.80, 0.78, 0.85, 0.92, 1.10, 1.45, 1.10])  # Mon..Sun, a high-street week


def synthetic_retail(seed: int = 20, stores: int = 8, categories: int = 10, items: int = 12, T: int = 400) -> dict:
    """A seeded daily retail set (numpy only): stores × categories × items series, row 0 a Monday.

    - Weekday seasonality: one chain-wide week (RETAIL_WEEKDAY), tilted per store (a city-centre store
      sells more on Saturday, a suburban one less) and per category (some sell at weekends, others on
      weekdays), with a little item noise: related series share their week, no series has its own.
    - Yearly seasonality per category (amplitude 0..0.4, its own peak day), so long histories see it.
    - Levels: lognormal per item × store size × category popularity; a mix of fast movers (tens a day)
      and slow ones (a sale every few days): Poisson-gamma (over-dispersed) daily demand.
    - A slow random-walk drift on each item's level.
    - Launches: a quarter of the items are launched during the last 150 days (launch row drawn there),
      half with a novelty bump that fades over their first weeks (×1.6 → ×1), half with a ramp-up
      (×0.5 → ×1); before launch they are not stocked (no demand, no sales).
    - Stock-outs: episodes start on about 1 day in 150 (up to 1 in 30 for fast movers: the shelf
      empties), last 1–10 days (about 5 % of stocked days are out); on the first day the shelf empties part-way through (sales = a binomial share of
      demand), then sales are 0. Those days are censored: `demand` keeps the true demand.

    Returns {"sales": (T, n) what was sold, "demand": (T, n) true demand, "rate": (T, n) its expectation
    (what it was drawn around: no forecast beats it on average), "available": (T, n) bool
    (stocked and not out of stock all day), "launch": (n,) first stocked row (0: stocked from the
    start), "store": (n,) int, "category": (n,) int}.
    """
    rng = np.random.default_rng(seed)
    n = stores * categories * items
    store = np.repeat(np.arange(stores), categories * items)
    category = np.tile(np.repeat(np.arange(categories), items), stores)
    t = np.arange(T)[:, None]
    dow = (np.arange(T) % 7)[:, None]

    weekend = np.array([0, 0, 0, 0, 0.3, 1.0, 0.5])
    tilt_store = rng.normal(0, 0.15, stores)[store]
    tilt_cat = rng.normal(0, 0.2, categories)[category]
    week = RETAIL_WEEKDAY[:, None] * (1 + np.outer(weekend, tilt_store + tilt_cat))
    week *= np.exp(rng.normal(0, 0.04, (7, n)))
    week = np.maximum(week, 0.2)
    week /= week.mean(0)

    amp = rng.uniform(0, 0.4, categories)[category]
    peak = rng.integers(0, 365, categories)[category]
    yearly = 1 + amp * np.cos(2 * np.pi * (t - peak) / 365.0)

    level = (rng.lognormal(0.0, 1.2, n) * rng.lognormal(0, 0.3, stores)[store] *
             rng.lognormal(0, 0.5, categories)[category])
    drift = np.exp(np.cumsum(rng.normal(0, 0.01, (T, n)), axis=0))

    launched = rng.random(n) < 0.25
    launch = np.where(launched, rng.integers(T - 150, T - 7, n), 0)
    age = t - launch
    fade = np.exp(-np.maximum(age, 0) / 14.0)
    bump = rng.random(n) < 0.5                   # novelty bump that fades, or a slow ramp-up
    ramp = np.where(launched, np.where(bump, 1 + 0.6 * fade, 1 - 0.5 * fade), 1.0)
    stocked = age >= 0

    rate = level * drift * week[dow[:, 0]] * yearly * ramp * stocked
    demand = rng.poisson(rate * rng.gamma(4.0, 1 / 4.0, (T, n))).astype(float)

    out_days = np.zeros((T, n), bool)
    p_start = np.clip(0.004 + 0.005 * np.log1p(level), 0.003, 0.03)
    start = (rng.random((T, n)) < p_start) & stocked
    length = rng.integers(1, 11, (T, n))
    for s_t, s_i in zip(*np.nonzero(start)):
        out_days[s_t:s_t + length[s_t, s_i], s_i] = True
    first_out = out_days & ~np.vstack([np.zeros((1, n), bool), out_days[:-1]])
    sales = np.where(out_days, 0.0, demand)
    sales = np.where(first_out, rng.binomial(demand.astype(int), 0.5), sales)
    available = stocked & ~out_days
    return {"sales": sales, "demand": demand, "rate": rate, "available": available, "launch": launch, "store": store,
            "category": category}

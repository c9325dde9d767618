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
    sm = kind == "smooth"
    Y[:, sm] = rng.poisson(level[:, sm])
    er = kind == "erratic"
    Y[:, er] = rng.poisson(level[:, er] * rng.gamma(1.5, 1 / 1.5, (T, er.sum())))
    it = kind == "intermittent"
    p = rng.uniform(0.05, 0.4, it.sum())
    Y[:, it] = (rng.random((T, it.sum())) < p * drift[:, it].clip(0.2, 3).clip(max=1 / p)) * \
        (1 + rng.poisson(np.minimum(base[it], 3), (T, it.sum())))
    lu = kind == "lumpy"
    p = rng.uniform(0.02, 0.2, lu.sum())
    Y[:, lu] = (rng.random((T, lu.sum())) < p) * rng.negative_binomial(1, 1 / (1 + 3 * base[lu]), (T, lu.sum()))
    return Y, kind

"""Slow / fast mover flags and burst detection.

Slow mover: sold on under `slow_prob` (10 %) of the last 90 observed days, or nothing for
`slow_days` (60) days, or never. Fast mover: sold on at least `fast_prob` (80 %) of the last 90 days
and sold within the last `fast_days` (2) days.

Burst: the last 24 h count x is improbably high under the fitted demand for that day — the model's
one-step forecast μ made before it, with the backtest spread as variance (negative binomial when
σ² > μ, else Poisson): P(X ≥ x) < `tail_prob` and x ≥ `min_count`, so a single order on a slow item
is never a burst however small μ is.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .distributions import count_tail

MU_FLOOR = 1e-3  # a SKU that never sold still gets a finite (tiny) expected rate


@dataclass(frozen=True)
class SignalConfig:
    window: int = 90
    slow_prob: float = 0.10
    slow_days: int = 60
    fast_prob: float = 0.80
    fast_days: int = 2
    tail_prob: float = 1e-3
    min_count: int = 5


def demand_stats(Y: np.ndarray, lo: np.ndarray, window: int = 90):
    """(demand probability over the last `window` observed days, days since last sale or -1)."""
    T, n = Y.shape
    t = np.arange(T)[:, None]
    start = np.maximum(lo, T - window)
    m = t >= start
    sold = (Y > 0) & (t >= lo)
    days = np.maximum(T - start, 1)
    prob = (sold & m).sum(0) / days
    since = np.where(sold.any(0), np.argmax(sold[::-1], axis=0), -1)  # rows back from the last day
    return prob, since


def mover_flags(prob, since, cfg: SignalConfig = SignalConfig()):
    prob = np.asarray(prob, float)
    since = np.asarray(since, int)
    never = since < 0
    slow = never | (prob < cfg.slow_prob) | (since >= cfg.slow_days)
    fast = (~never) & (prob >= cfg.fast_prob) & (since < cfg.fast_days)
    return slow, fast


def bursts(last_24h, mu, sigma, cfg: SignalConfig = SignalConfig()):
    """(is_burst bool (n,), P(X ≥ x) (n,)).

    The tail is computed only where x ≥ min_count and x > μ + 2.5σ; elsewhere it is reported as 1.0 (no burst).
    """
    x = np.round(np.asarray(last_24h, float))
    mu = np.maximum(np.asarray(mu, float), MU_FLOOR)
    var = np.maximum(np.nan_to_num(np.asarray(sigma, float), nan=0.0) ** 2, mu)
    tail = np.ones(x.shape)
    # Exact tails only beyond μ + 2.5σ: below that a Poisson / NB tail is well above any sensible
    # threshold (right-skewed, so heavier than the normal's 0.6 %), and the exact sum is a Python loop.
    k = 2.5 if cfg.tail_prob <= 0.005 else 0.0
    cand = (x >= cfg.min_count) & (x > mu + k * np.sqrt(var))
    if cand.any():
        tail[cand] = count_tail(x[cand], mu[cand], var[cand])
    return cand & (tail < cfg.tail_prob), tail

import math

import numpy as np
import pytest

from stocklink.forecasting.signals import SignalConfig, bursts, demand_stats, mover_flags


def test_demand_stats_and_flags():
    Y = np.zeros((100, 3))
    Y[::2, 0] = 1          # every other day, last sale on day 98 → 1 day ago
    Y[10, 1] = 4           # one sale 89 days ago (first day of the 90-day window)
    Y[-1, 2] = 0           # never
    prob, since = demand_stats(Y, np.zeros(3, int), 90)
    assert prob.tolist() == pytest.approx([45 / 90, 1 / 90, 0])
    assert since.tolist() == [1, 89, -1]
    slow, fast = mover_flags(prob, since)
    assert slow.tolist() == [False, True, True]
    assert fast.tolist() == [False, False, False]
    fast2 = mover_flags([0.9], [0])[1]
    assert fast2.tolist() == [True]


def test_burst_poisson_tail():
    # P(X ≥ 9 | Poisson 1) = 1 − Σ_{k≤8} e^-1/k! ≈ 1.1e-6
    expect = 1 - sum(math.exp(-1) / math.factorial(k) for k in range(9))
    is_b, tail = bursts([9], [1.0], [1.0])
    assert is_b.tolist() == [True]
    assert tail[0] == pytest.approx(expect, rel=1e-6)


def test_ordinary_day_is_not_a_burst():
    is_b, tail = bursts([5], [2.0], [np.sqrt(2.0)])  # P(X ≥ 5) = .053
    assert is_b.tolist() == [False]


def test_minimum_count():
    # 4 units on an item that almost never sells: improbable, but below the minimum count
    is_b, _ = bursts([4], [0.01], [0.1])
    assert is_b.tolist() == [False]
    is_b, _ = bursts([4], [0.01], [0.1], SignalConfig(min_count=3))
    assert is_b.tolist() == [True]


def test_overdispersion_lowers_the_alarm():
    # 6 when the NB(mean 2, var 4) tail is .0625: not a burst; Poisson(2) tail for 9 is ~2.4e-4
    assert bursts([6], [2.0], [2.0])[0].tolist() == [False]
    assert bursts([9], [2.0], [np.sqrt(2.0)])[0].tolist() == [True]

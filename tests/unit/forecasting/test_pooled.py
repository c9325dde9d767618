"""Pooled structure for short histories (issue 20): group profiles, pooled choices, shrunk levels."""
import numpy as np
import pytest

from stocklink.forecasting import backtest as B
from stocklink.forecasting import pooled
from stocklink.forecasting.seasonal import dispersion_index, profile_from_sums, season_sums

WEEK_A = np.array([0.7, 0.7, 0.8, 0.9, 1.1, 1.8, 1.0])
WEEK_B = WEEK_A[::-1].copy()


def _store_data(rng, n_per_store=30, T=364, level=20.0):
    dow = np.arange(T) % 7
    Y = np.concatenate([rng.poisson(level * WEEK_A[dow][:, None], (T, n_per_store)),
                        rng.poisson(level * WEEK_B[dow][:, None], (T, n_per_store))], axis=1).astype(float)
    store = np.repeat(["A", "B"], n_per_store)
    return Y, dow, store


def test_a_new_sku_takes_its_stores_week_not_the_batchs():
    rng = np.random.default_rng(1)
    Y, dow, store = _store_data(rng)
    Y[:-7, 0] = 0.0                                   # SKU 0 of store A: one week of history
    lo = np.zeros(Y.shape[1], int)
    lo[0] = Y.shape[0] - 7
    fit = B.fit(Y, lo, dow, groups={"store": store})
    P = fit.comp_season[B.METHODS.index(B.MA)][:, 0]
    assert np.corrcoef(P, WEEK_A)[0, 1] > 0.95      # store A's week, from its 29 neighbours
    assert P[5] > 1.4 * P[0]


def test_without_groups_a_sku_alone_keeps_a_near_flat_profile():
    S = np.array([[0.0], [0.0], [3.0], [0.0], [0.0], [0.0], [0.0]])  # 3 units, all on one weekday
    N = np.full((7, 1), 2.0)
    target = pooled.group_profile(S, N, [])
    P = profile_from_sums(S, N, np.array([True]), target=target)
    assert P.max() < 1.6                              # 3 sales do not make a week


def test_group_profile_leaves_the_sku_itself_out():
    S = np.array([[10.0, 1.0], [10.0, 9.0]])          # 2 seasons, 2 SKUs in one group
    N = np.ones((2, 2))
    g = pooled.group_profile(S, N, [np.array([0, 0])])
    # SKU 0's target comes from SKU 1 (1 : 9, shrunk towards flat), not from SKU 0's flat sales
    assert g[1, 0] > g[0, 0]
    assert g[0, 1] == pytest.approx(g[1, 1], rel=0.2)  # SKU 1's target: SKU 0's flat week


def test_pooled_pick_gives_the_group_one_value():
    grid = (0.1, 1.0)
    sse = np.array([[4.0, 1.0, 1.0, 9.0],              # α 0.1: group 0 sums 6
                    [1.0, 3.0, 3.0, 1.0]])             # α 1.0: group 0 sums 7; SKU 0 alone prefers it
    codes = np.array([0, 0, 0, 1])
    use = np.array([True, True, True, False])
    values, _ = pooled.pooled_pick(grid, sse, np.ones(4), codes, use)
    assert values.tolist() == [0.1, 0.1, 0.1, 1.0]     # the group's α; SKU 3 (not pooled) picks its own
    # errors are scale-free: SKU 0 at 10× the scale no longer outweighs the others' preference
    values, _ = pooled.pooled_pick(grid, sse * [[1, 10, 10, 1]], np.array([1.0, 10, 10, 1]), codes, use)
    assert values.tolist() == [0.1, 0.1, 0.1, 1.0]


def test_pooled_choice_keeps_the_route_within_the_margin_and_scales_errors():
    mse = np.array([[1.00, 100.0, 1.0],                # option 0 (the route)
                    [0.99, 99.0, 0.5]])                # option 1: 1 % better pooled
    codes = np.array([0, 0, 1])
    use = np.array([True, True, True])
    route = np.zeros(3, int)
    scale = np.array([1.0, 100.0, 1.0])
    out = pooled.pooled_choice(mse, scale, codes, use, route, 0.02)
    assert out.tolist() == [0, 0, 1]                   # group 0 keeps the route; group 1 switches
    assert pooled.pooled_choice(mse, scale, codes, use, route, 0.02, options=1).tolist() == [0, 0, 0]


def test_shrink_level_pulls_a_three_day_sku_towards_its_groups_median():
    level = np.array([9.0, 2.0, 2.0, 2.0, 50.0])
    days = np.array([3, 100, 100, 100, 100])
    codes = np.array([0, 0, 0, 0, 1])
    out = pooled.shrink_level(level, days, codes, np.ones(5, bool))
    assert out[0] == pytest.approx((3 * 9 + pooled.LEVEL_PRIOR_DAYS * 2) / (3 + pooled.LEVEL_PRIOR_DAYS))
    assert out[1:].tolist() == level[1:].tolist()


def test_short_histories_do_not_chase_the_last_day():
    # 60 SKUs, 21 days of one weekday pattern; the window ends on Saturday (the peak): no SKU's forecast
    # for next week carries Saturday's level flat (the SES failure of issue 20), and a SKU's week sums to
    # about its mean.
    rng = np.random.default_rng(3)
    T, n = 21, 60
    dow = (np.arange(T) + 6) % 7                     # last row (T − 1) is a Saturday (5)
    Y = rng.poisson(10 * WEEK_A[dow][:, None], (T, n)).astype(float)
    fit = B.fit(Y, np.zeros(n, int), dow)
    F = fit.path((np.arange(7) + T + 6) % 7)
    assert len(set(fit.method.tolist())) <= 2       # chosen per group (and class), not per SKU
    week = F.sum(0)
    assert np.median(np.abs(week / (7 * Y.mean(0)) - 1)) < 0.1
    assert (F[(np.arange(7) + T + 6) % 7 == 0] < F[(np.arange(7) + T + 6) % 7 == 5]).mean() > 0.9


def _noise_dispersion(Y, n_season=7):
    T = Y.shape[0]
    dow = np.arange(T) % n_season
    S, N, V = season_sums(Y, np.zeros(Y.shape[1], int), np.full(Y.shape[1], T), dow, n_season, noise=True)
    return dispersion_index(S, N, V)


def test_dispersion_index_is_one_for_poisson_and_the_order_size_for_big_orders():
    rng = np.random.default_rng(3)
    T = 364
    poisson = rng.poisson(5.0, T)
    orders = 12.0 * (rng.random(T) < 0.2)                     # one order of 12 units on a fifth of days
    D = _noise_dispersion(np.stack([poisson, orders], axis=1).astype(float))
    assert D[0] == pytest.approx(1.0, abs=0.25)
    assert 8.0 < D[1] < 16.0                                  # var/mean of 12·Bernoulli(0.2) = 12·0.8


def test_dispersion_index_does_not_count_a_moving_level_or_the_week_as_noise():
    rng = np.random.default_rng(4)
    T = 364
    dow = np.arange(T) % 7
    level = np.linspace(5, 60, T) * WEEK_A[dow]               # a strong trend and a strong week
    D = _noise_dispersion(rng.poisson(level)[:, None].astype(float))
    assert D[0] < 1.5


def test_a_single_big_order_does_not_make_a_skus_week_or_its_groups():
    T = 21
    dow = np.arange(T) % 7
    Y = np.zeros((T, 3))
    Y[:, 0] = 1.0 * (np.arange(T) % 2 == 0)                    # SKU 0: a unit every other day
    Y[:, 1] = 1.0 * (np.arange(T) % 3 == 0)                    # SKU 1: a unit every third day
    Y[[3, 10], 2] = 30.0                                      # SKU 2: two orders of 30, both on a Thursday
    lo, hi = np.zeros(3, int), np.full(3, T)
    S, N, V = season_sums(Y, lo, hi, dow, noise=True)
    D = dispersion_index(S, N, V)
    assert D[2] > 5 * D[0]
    # SKU 2's own profile: its Thursday is raised far less when its orders count in Poisson units
    target = pooled.group_profile(S, N, [np.zeros(3, int)])
    P_units = profile_from_sums(S, N, np.ones(3, bool), target=target)
    P_orders = profile_from_sums(S, N, np.ones(3, bool), target=target, dispersion=D)
    assert P_units[3, 2] > 2.0 and P_orders[3, 2] < 1.5
    # SKU 0's target from its group: SKU 2's 60 units make the group's Thursday unless counted as orders
    assert pooled.group_profile(S, N, [np.zeros(3, int)])[3, 0] > 2.0
    assert pooled.group_profile(S, N, [np.zeros(3, int)], D)[3, 0] < 1.5


def test_intermittent_skus_with_ten_weeks_choose_with_their_group_smooth_ones_alone():
    rng = np.random.default_rng(7)
    T = 70                                                    # a 5-week backtest: 5 origins
    intermittent = (rng.random((T, 40)) < 0.15) * rng.integers(1, 6, (T, 40))
    smooth = rng.poisson(20, (T, 40))
    Y = np.concatenate([intermittent, smooth], axis=1).astype(float)
    fit = B.fit(Y, np.zeros(80, int), np.arange(T) % 7)
    assert set(fit.demand_class[:40]) == {"intermittent"} and set(fit.demand_class[40:]) == {"smooth"}
    assert len(set(fit.method[:40])) == 1                    # one choice for the class, from pooled errors
    assert len(set(fit.method[40:])) > 1                     # 10 weeks of a smooth SKU choose on their own

import math

import numpy as np
import pytest

from stocklink.forecasting import policy as P

Z95 = 1.6448536269514722


def test_safety_stock_formula():
    # z·sqrt(L·σd² + d²·σL²) = z·sqrt(9·4 + 100·1)
    assert P.safety_stock_normal(0.95, 9, 1, 10, 2) == pytest.approx(Z95 * math.sqrt(136))
    assert P.safety_stock_normal(0.95, 9, 0, 10, 2) == pytest.approx(Z95 * 6)


def test_levels_fast_mover_normal():
    F = np.full((60, 1), 10.0)
    lv = P.forecast_levels(F, 9, 1, 2, 0.95, 7, [False])
    ss = Z95 * math.sqrt(136)
    assert not lv.discrete[0]
    assert lv.safety_stock[0] == pytest.approx(ss)
    assert lv.reorder_point[0] == pytest.approx(90 + ss)
    assert lv.order_up_to[0] == pytest.approx(160 + ss)  # 16 days of demand + SS


def test_levels_fractional_lead_time():
    F = np.array([[1.0], [2.0], [3.0], [4.0]])
    assert P.demand_over(F, [2.5])[0] == pytest.approx(1 + 2 + 0.5 * 3)


def test_slow_mover_poisson_quantile():
    # mean over 10 days = 2; var = 10·0.2 = 2 = mean → Poisson(2): 95 % quantile 5 → SS 3
    F = np.full((30, 1), 0.2)
    lv = P.forecast_levels(F, 10, 0, math.sqrt(0.2), 0.95, 7, [True])
    assert lv.discrete[0]
    assert lv.reorder_point[0] == pytest.approx(5)
    assert lv.safety_stock[0] == pytest.approx(3)


def test_slow_mover_negative_binomial_quantile():
    # var = 10·0.4 = 4 > mean 2 → NB(r=2, p=.5): 95 % quantile 6 → SS 4
    F = np.full((30, 1), 0.2)
    lv = P.forecast_levels(F, 10, 0, math.sqrt(0.4), 0.95, 7, [True])
    assert lv.reorder_point[0] == pytest.approx(6)
    assert lv.safety_stock[0] == pytest.approx(4)


def test_slow_mover_lead_time_spread_adds_variance():
    # var = 10·0.2 + 0.2²·σL²(=50) = 2 + 2 = 4 → same NB as above
    F = np.full((30, 1), 0.2)
    lv = P.forecast_levels(F, 10, math.sqrt(50), math.sqrt(0.2), 0.95, 7, [True])
    assert lv.reorder_point[0] == pytest.approx(6)


def test_order_quantity_s_S():
    assert P.order_quantity([10, 13], [12, 12], [30, 30]).tolist() == [20, 0]


@pytest.mark.parametrize("qty,moq,pack,expect", [(7, 10, 6, 12), (25, 10, 6, 30), (0, 10, 6, 0),
                                                  (12, 1, 6, 12), (12.2, 1, 1, 13), (3, 10, 1, 10)])
def test_moq_and_case_pack(qty, moq, pack, expect):
    assert P.round_order(qty, moq, pack).qty == expect


BREAKS = ((1, 10.0), (100, 9.0))


def test_price_break_taken_when_saving_beats_holding():
    # need 80; at 100 save 100·(10−9) = 100; holding 20·9·.25/365·(8 + 1) days = 1.11
    r = P.round_order(75, 10, 10, BREAKS, daily_demand=10, holding_rate=0.25)
    assert (r.qty, r.unit_price) == (100, 9.0)


def test_price_break_refused_when_holding_costs_more():
    # holding 20·9·5/365·(80 + 10) days = 221.9 > 100 saved
    r = P.round_order(75, 10, 10, BREAKS, daily_demand=1, holding_rate=5.0)
    assert (r.qty, r.unit_price) == (80, 10.0)


def test_price_break_refused_beyond_max_cover():
    r = P.round_order(75, 10, 10, BREAKS, daily_demand=0.5, holding_rate=0.0)  # 100 units = 200 days
    assert r.qty == 80


def test_seed_policies():
    Y = np.zeros((30, 1))
    Y[-7:] = 2.0  # 14 in the last 7 days; 30-day mean 14/30
    assert P.seed_levels(P.SEED_7D, Y, 5)[0] == pytest.approx(21)
    assert P.seed_levels(P.SEED_7D, Y, 5, promo_soon=[True])[0] == pytest.approx(42)
    assert P.seed_levels(P.SEED_7D, Y, 5, slow_season=True)[0] == pytest.approx(25.2)
    assert P.seed_levels(P.SEED_AVG_LT, Y, 5)[0] == pytest.approx(14 / 30 * 12 * 1.5)
    with pytest.raises(KeyError):
        P.seed_levels("nope", Y, 5)

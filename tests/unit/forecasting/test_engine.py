import datetime as dt
import json

import numpy as np
import pytest

from stocklink.forecasting import backtest as B
from stocklink.forecasting import engine as E
from stocklink.forecasting.calendar import standard_event

FIRST = dt.date(2024, 1, 1)


def _hist(cols, lo=None):
    Y = np.stack(cols, axis=1).astype(float)
    return E.History([f"S{i}" for i in range(Y.shape[1])], FIRST, Y, np.zeros(Y.shape[1], int) if lo is None else np.array(lo))


def test_constant_demand_end_to_end():
    # 5/day for 200 days: every method forecasts 5 exactly, backtest error 0 → SS 0.
    h = _hist([np.full(200, 5.0)])
    p = E.SkuParams("S0", available=20, lead_time_days=10, review_period_days=7, moq=10, case_pack=12,
                    in_transit=((3, 6),), unit_price=2)
    [r] = E.run(h, {"S0": p})
    assert r.forecast == [5.0] * 90
    assert r.demand_class == "smooth" and r.rmse == 0 and r.bias == 0
    assert r.rmsse is None  # 0/0: a series that never changes has no RMSSE scale
    assert r.safety_stock == 0 and r.reorder_point == 50 and r.order_up_to == 85
    assert r.inventory_position == 26
    assert r.suggested_order_qty == 60  # 85 − 26 = 59 → 5 case packs of 12
    # supply 20, 20, 26, ... vs cumulative 5, 10, 15, 20, 25, 30: 30 > 26 on day 6
    assert r.stockout_date == (h.as_of + dt.timedelta(days=6)).isoformat()
    assert r.abc_class == "A" and r.fast_mover and not r.slow_mover and not r.burst
    json.dumps(r.to_dict())


def test_burst_on_last_day():
    y = np.full(200, 5.0)
    y[-1] = 40
    [r] = E.run(_hist([y]), {})
    assert r.burst and r.burst_tail_prob < 1e-3


def test_burst_is_tested_against_the_model_fitted_before_the_last_day():
    # 2/day for 149 days then 300. Every model fitted on the 149 flat days forecasts exactly 2 with zero
    # backtest error, so the yardstick is Poisson(2): P(X ≥ 300) is ~1e-500 → burst. Measured against a
    # fit that includes the spike (backtest RMSE ≈ 35.6, NB(2, 35.6²) tail ≈ 0.0019 > 1e-3) it was not.
    y = np.full(150, 2.0)
    y[-1] = 300
    fit = B.fit(y[:, None], np.zeros(1, int), np.arange(150) % 7)
    assert fit.burst_mu.tolist() == [2.0] and fit.burst_sigma.tolist() == [0.0]
    assert fit.rmse[0] > 35                       # the full backtest does include the spike
    [r] = E.run(_hist([y]), {})
    assert r.burst and r.burst_tail_prob < 1e-12


def test_alternating_demand_spread_is_measured_without_the_last_day():
    # 1, 3, 1, 3, …: the 28-day moving average is exactly 2 and misses by exactly 1 every day; the
    # route's SES is within 2 % of it, so μ ≈ 2 and σ ≈ 1 before the last day. Last day 9: Poisson(2)
    # tail P(X ≥ 9) = 2.4e-4 < 1e-3 → burst; last day 6 (tail 0.017) or a normal 3 → no burst.
    base = np.where(np.arange(150) % 2 == 0, 1.0, 3.0)
    for last, expected in ((9, True), (6, False), (3, False)):
        y = base.copy()
        y[-1] = last
        [r] = E.run(_hist([y]), {})
        assert r.burst is expected, last
    y = base.copy()
    y[-1] = 9
    fit = B.fit(y[:, None], np.zeros(1, int), np.arange(150) % 7)
    assert abs(fit.burst_mu[0] - 2) < 0.05 and abs(fit.burst_sigma[0] - 1) < 0.05


def test_spike_the_day_before_is_history_not_a_burst_today():
    y = np.full(150, 2.0)
    y[-2] = 300
    [r] = E.run(_hist([y]), {})
    assert not r.burst and r.burst_tail_prob == 1.0


def test_promotion_uplift_in_forecast_and_cleaned_history():
    # History has a ×2 day on 2024-06-18 that the cleaning removes; the forecast doubles on 11.11.
    y = np.full(300, 4.0)  # through 2024-10-26
    y[(dt.date(2024, 6, 18) - FIRST).days] = 8
    h = _hist([y])
    ev = (standard_event("6.18"), standard_event("11.11", lead_days=30))
    [r] = E.run(h, {"S0": E.SkuParams("S0", lead_time_days=8, review_period_days=7)}, E.EngineConfig(events=ev))
    assert r.rmse == 0
    k = (dt.date(2024, 11, 11) - dt.date.fromisoformat(r.forecast_start)).days
    assert r.forecast[k] == 8 and r.forecast[k - 1] == 4
    # 11.11 starts within its 30-day lead: order-up-to covers through it (16 days > L + R = 15, one
    # of them ×2); lead-time demand 32 ≥ 30 and zero error → normal SS = 0
    assert r.order_up_to == 4 * 16 + 4


def test_short_history_uses_moving_average():
    y = np.zeros(200)
    y[-10:] = [1, 2, 3, 0, 1, 2, 3, 0, 1, 2]
    [r] = E.run(_hist([y], lo=[190]), {})
    assert r.method == "moving_average" and r.backtest_days == 0
    # the level is the 10 days' mean; a weekday profile (shrunk to flat: the SKU is alone) shapes the week
    assert sum(r.forecast[:7]) == pytest.approx(7 * 1.5, rel=0.02)
    assert max(r.forecast[:7]) < 1.5 * 1.1 and min(r.forecast[:7]) > 1.5 * 0.9


def test_intermittent_sku_routes_to_tsb_and_gets_discrete_safety_stock():
    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.2) * rng.integers(1, 4, 400)
    [r] = E.run(_hist([y]), {"S0": E.SkuParams("S0", lead_time_days=7)})
    assert r.demand_class in ("intermittent", "lumpy")
    assert r.method in ("tsb", "sba")
    assert r.ss_method in ("poisson", "negative_binomial")
    assert r.reorder_point == pytest.approx(round(r.reorder_point))  # a count quantile


def test_history_from_rows_aggregates_channels():
    rows = [{"sku": "A", "date": dt.date(2024, 1, 1), "qty": 1}, {"sku": "A", "date": dt.date(2024, 1, 1), "qty": 2},
            {"sku": "B", "date": dt.date(2024, 1, 3), "qty": 5}]
    h = E.History.from_rows(rows)
    assert h.skus == ["A", "B"] and h.first_date == dt.date(2024, 1, 1)
    assert h.Y.tolist() == [[3, 0], [0, 0], [0, 5]]
    assert h.lo.tolist() == [0, 2]


def test_bias_by_class_sums_the_backtests_of_each_class_and_merges_pages():
    rows = [{"demand_class": "smooth", "backtest_days": 14, "backtest_error": 7.0, "backtest_sales": 70.0},
            {"demand_class": "smooth", "backtest_days": 14, "backtest_error": -3.5, "backtest_sales": 35.0},
            {"demand_class": "lumpy", "backtest_days": 28, "backtest_error": -2.8, "backtest_sales": 14.0},
            {"demand_class": "lumpy", "backtest_days": 0, "backtest_error": 0.0, "backtest_sales": 0.0}]
    b = E.bias_by_class(rows)
    assert b["smooth"]["skus"] == 2 and b["smooth"]["mean_error"] == pytest.approx(3.5 / 28, abs=1e-6)
    assert b["smooth"]["bias_pct"] == pytest.approx(3.5 / 105, abs=1e-6)   # rounded to 6 places
    assert b["lumpy"]["skus"] == 1 and b["lumpy"]["bias_pct"] == pytest.approx(-0.2)
    assert b["all"]["bias_pct"] == pytest.approx(0.7 / 119, abs=1e-6)
    total = E.merge_bias(E.merge_bias({}, b), E.bias_by_class(rows[:1]))
    assert total["smooth"]["skus"] == 3 and total["smooth"]["error"] == pytest.approx(10.5)


def test_engine_reports_the_backtest_error_it_chose_with():
    rng = np.random.default_rng(4)
    y = rng.poisson(6, 200).astype(float)
    [r] = E.run(_hist([y]), {})
    assert r.backtest_days > 0
    assert r.backtest_error == pytest.approx(r.bias * r.backtest_days, abs=1e-2)
    assert r.backtest_sales == pytest.approx(y[-r.backtest_days:].sum())

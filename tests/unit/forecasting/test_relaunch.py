"""Relaunch detection, SES for short histories, SES's raw-scale errors and the mean of the best 4."""
import numpy as np
import pytest

from stocklink.forecasting import backtest as B
from stocklink.forecasting import methods as M
from stocklink.forecasting import windows


def _start(y, lo=0, n_season=3):
    return int(windows.relaunch_start(np.asarray(y, float)[:, None], np.array([lo]), n_season)[0])


def test_relaunch_after_a_trickle_and_a_dormant_stretch():
    # Sales 1, 1 on rows 0 and 2, nothing on rows 3..6 (4 ≥ one cycle of 3), then 20/30 every period.
    # Before the stretch: 2 units over rows [0, 3) = 0.67/period; since row 7: 200 over 8 periods = 25
    # (≥ 10×), 8 ≥ 4 periods of evidence, and a sale in every period since: (1 − 1)^4 = 0 ≤ 1 %.
    y = [1, 0, 1, 0, 0, 0, 0, 20, 30, 20, 30, 20, 30, 20, 30]
    assert _start(y) == 7


def test_regular_gaps_of_a_slow_mover_are_no_relaunch():
    # Gaps of 3 periods between sales of 2: same rate before and after, (1 − 1/4)^3 = 0.42 > 1 %.
    assert _start([2, 0, 0, 0] * 4) == 0


def test_zeros_before_any_sale_are_kept():
    # From a first-seen date: no sale before the stretch, so nothing to separate (observed zeros).
    assert _start([0, 0, 0, 0, 0, 5, 5, 5, 5, 5, 5]) == 0
    # The same from a later lo: rows before lo are not looked at.
    assert _start([9, 9, 0, 0, 0, 0, 0, 5, 5, 5, 5, 5, 5], lo=2) == 2


def test_relaunch_needs_as_much_evidence_after_as_the_stretch_it_overrides():
    # 6 dormant periods, only 3 since: too early to tell.
    assert _start([1, 1, 0, 0, 0, 0, 0, 0, 9, 9, 9]) == 0


def test_a_stretch_ordinary_at_the_new_sale_frequency_is_no_relaunch():
    # Rate 20 since row 5 is 20× the rate before (1), but a sale every other period: a run of 4
    # without one has probability 0.5^4 = 6 % > 1 %.
    assert _start([1, 0, 0, 0, 0, 40, 0, 40, 0, 40, 0, 40, 0]) == 0
    # The same rate with a sale in every period: (1 − 1)^4 = 0 → relaunch.
    assert _start([1, 0, 0, 0, 0, 20, 20, 20, 20, 20, 20, 20, 20]) == 5


def test_latest_relaunch_wins():
    y = [1] + [0] * 6 + [30] * 8 + [0] * 10 + [900] * 12
    # row 7: 1/period before, since then (30 periods) 11,040 units = 368/period with a sale in 20 of
    # 30 periods: (1/3)^6 = 0.14 % → a relaunch. Row 25: 241 units over rows [0, 15) = 16/period
    # before, 900 since in every period, 12 ≥ 10 periods → the latest relaunch, row 25.
    assert _start(y) == 25
    assert _start(y[:15]) == 7     # history ending before the second stretch: 30 in each of 8 periods


def test_fit_restarts_a_relaunched_sku():
    rng = np.random.default_rng(0)
    y = np.zeros(200)
    y[[0, 3, 5]] = 1
    y[100:] = rng.poisson(100, 100)
    dow = np.arange(200) % 7
    fit = B.fit(y[:, None], np.zeros(1, int), dow)
    # 100 days of ~100/day, not 200 days of an intermittent SKU
    assert fit.demand_class[0] == "smooth"
    assert fit.backtest_days[0] == 7 * (100 // 14)
    assert fit.path(np.arange(7))[:, 0] == pytest.approx(np.full(7, 100.0), rel=0.1)


def test_short_history_is_backtested_from_two_weeks():
    # 20 days from row 180: a week's hold-out after 13 training days (issue 20: backtests from 14 days).
    y = np.zeros(200)
    y[180:] = [2, 4] * 10
    fit = B.fit(y[:, None], np.array([180]), np.arange(200) % 7)
    assert fit.backtest_days[0] == 7
    assert np.isfinite(fit.rmsse[0])


def test_thirteen_days_get_the_moving_average_without_a_backtest():
    y = np.zeros(200)
    y[187:] = [2, 4] * 6 + [2]
    fit = B.fit(y[:, None], np.array([187]), np.arange(200) % 7)
    assert fit.method[0] == "moving_average" and fit.backtest_days[0] == 0
    assert fit.path(np.arange(7))[:, 0].sum() == pytest.approx(7 * 38 / 13, rel=0.05)


def test_ses_in_sample_errors_are_on_the_raw_scale():
    # Profile (2, 0.5), level 1, α 0.5. Day 0: forecast 2, actual 2, error 0. Day 1: forecast 0.5,
    # actual 1 → raw error 0.5 (squared 0.25); on the de-seasonalised scale it would be 1.
    r = M.ses_kernel(np.array([[2.0], [1.0]]), 0.5, 1.0, P=np.array([[2.0], [0.5]]), dow=np.array([0, 1]),
                     train_only=True)
    assert r.sse["level"][0] == pytest.approx(0.25)
    assert r.final[0] == pytest.approx(1.5)   # x = 1/0.5 = 2 → 1 + 0.5·(2 − 1)


def test_choose_mean_of_best_four():
    # Four candidates with MSE 2 each (ties: first first): best 2 mean (1, 1) → 1; best 3 mean
    # (0, 2/3) → 2/9; all 4 → 0.
    E = np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0], [0.0, -2.0]])[:, :, None]
    n_days = np.full((4, 1), 2)
    W = B.choose(E, n_days, np.array([0]), np.ones(1, bool), switch_margin=0.02, combo_sizes=(2, 3, 4))
    assert W[:, 0].tolist() == [0.25] * 4
    W = B.choose(E, n_days, np.array([0]), np.ones(1, bool), switch_margin=0.02, combo_sizes=(2, 3))
    assert W[:, 0] == pytest.approx([1 / 3, 1 / 3, 1 / 3, 0.0])

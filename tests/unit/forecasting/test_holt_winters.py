"""Holt–Winters kernel, backtest error rows, the choice among candidates and their means, refit."""
import numpy as np
import pytest

from stocklink.forecasting import backtest as B
from stocklink.forecasting import methods as M


def test_damped_factor_including_no_damping():
    assert M.damped_factor(0.5, 1) == pytest.approx(0.5)
    assert M.damped_factor(0.5, 2) == pytest.approx(0.75)          # 0.5 + 0.25
    assert M.damped_factor(1.0, 3) == pytest.approx(3.0)           # undamped: h
    assert M.damped_factor(np.array([1.0, 0.5]), 2).tolist() == [2.0, 0.75]


def test_holt_winters_additive_hand_computed():
    # α = β = φ = γ = 0.5, ℓ0 = 10, b0 = 2, season (+2, −2), y = 13, 9.
    # day 0 (season 0): base 10 + 0.5·2 = 11, f = 13, e = 0 → ℓ 11, b 1, S0 stays 2.
    # day 1 (season 1): base 11.5, f = 9.5, e = −0.5 → ℓ 11.25, b 0.5 − 0.25 = 0.25, S1 = −2.25.
    r = M.hw_kernel(np.array([13.0, 9.0]), 0.5, 0.5, 0.5, 0.5, 10.0, 2.0, np.array([[2.0], [-2.0]]),
                    np.array([0, 1]), multiplicative=False, keep_path=True)
    assert r.path[:, 0].tolist() == [13.0, 9.5]
    assert r.final[0] == pytest.approx(11.25)
    assert r.sse["final_trend"][0] == pytest.approx(0.25)
    assert r.sse["final_season"][:, 0].tolist() == [2.0, -2.25]
    # next two periods: ℓ + φb = 11.375 (+2), ℓ + (φ + φ²)b = 11.4375 (−2.25)
    path = M.hw_path(r.final, r.sse["final_trend"], np.array([0.5]), r.sse["final_season"], [0, 1], False)
    assert path[:, 0].tolist() == pytest.approx([13.375, 9.1875])


def test_holt_winters_multiplicative_hand_computed():
    # α = 0.5, no trend, γ = 0.5, ℓ0 = 4, season (1.5, 0.5), y = 7.5, 3.15.
    # day 0: f = 6, e = 1.5 → ℓ = 4 + 0.5·1.5/1.5 = 4.5, S0 = 1.5 + 0.5·1.5/4 = 1.6875.
    # day 1: f = 4.5·0.5 = 2.25, e = 0.9 → ℓ = 4.5 + 0.5·0.9/0.5 = 5.4, S1 = 0.5 + 0.5·0.9/4.5 = 0.6.
    r = M.hw_kernel(np.array([7.5, 3.15]), 0.5, 0.0, 1.0, 0.5, 4.0, 0.0, np.array([[1.5], [0.5]]),
                    np.array([0, 1]), multiplicative=True, keep_path=True)
    assert r.path[:, 0].tolist() == pytest.approx([6.0, 2.25])
    assert r.final[0] == pytest.approx(5.4)
    assert r.sse["final_season"][:, 0].tolist() == pytest.approx([1.6875, 0.6])
    assert r.sse["level"][0] == pytest.approx(1.5 ** 2 + 0.9 ** 2)
    path = M.hw_path(r.final, r.sse["final_trend"], np.array([1.0]), r.sse["final_season"], [0, 1, 0], True)
    assert path[:, 0].tolist() == pytest.approx([5.4 * 1.6875, 5.4 * 0.6, 5.4 * 1.6875])


def test_holt_winters_without_season_change_or_trend_is_ses_on_the_profile():
    rng = np.random.default_rng(1)
    y = rng.poisson(5, 60).astype(float)
    dow = np.arange(60) % 7
    P = np.array([0.8, 0.9, 1.0, 1.0, 1.1, 1.1, 1.1])[:, None]
    hw = M.hw_kernel(y, 0.2, 0.0, 1.0, 0.0, 5.0, 0.0, P, dow, True, keep_path=True)
    ses = M.ses_kernel(y, 0.2, 5.0, P=P, dow=dow, keep_path=True)
    assert np.allclose(hw.path, ses.path) and hw.final[0] == pytest.approx(ses.final[0])


def test_holt_winters_backtest_freezes_state_at_origin():
    # Additive, no trend, γ = 0.5: at the origin (day 2) season (+1, −1) and ℓ = 5 are frozen, so the
    # next 7 days are scored against 6, 4, 6, … although the states keep learning. Errors: actual 5.
    y = np.array([6.0, 4.0] + [5.0] * 7)
    r = M.hw_kernel(y, 0.0, 0.0, 1.0, 0.5, 5.0, 0.0, np.array([[1.0], [-1.0]]), np.arange(9) % 2, False,
                    lo=0, ev=2)
    assert r.bt.E[:, 0].tolist() == [1, -1, 1, -1, 1, -1, 1]
    assert r.bt.start == 2 and r.bt.n[0] == 7 and r.bt.sse[0] == 7 and r.bt.se[0] == 1


def test_backtest_error_rows_match_the_sums():
    y = np.array([2, 2] + [4] * 7, float)
    r = M.ses_kernel(y, 0.5, 2.0, lo=0, ev=2)
    assert r.bt.start == 2 and r.bt.E[:, 0].tolist() == [-2.0] * 7
    assert (r.bt.E ** 2).sum() == r.bt.sse[0]


def test_choose_single_mean_of_best_two_and_route_margin():
    # Three candidates, two backtest days, three SKUs; candidate 2 is the route everywhere.
    E = np.zeros((3, 2, 3))
    E[:, :, 0] = [[2, -2], [-2, 2], [3, 3]]          # MSE 4, 4, 9; mean of best 2: 0; of all 3: 1
    E[:, :, 1] = [[1, 1], [1, 1], [1.005, 1.005]]     # route MSE 1.010025 is within 2 % of 1
    E[:, :, 2] = [[1, 3], [-1, -1], [0, 0]]          # candidate 2 has no backtest here: MSE 5, 1 → mean 0.5
    n_days = np.array([[2, 2, 2], [2, 2, 2], [2, 2, 0]])
    route = np.array([2, 2, 1])
    W = B.choose(E, n_days, route, np.ones(3, bool), switch_margin=0.02, combo_sizes=(2, 3))
    assert W[:, 0].tolist() == [0.5, 0.5, 0.0]
    assert W[:, 1].tolist() == [0.0, 0.0, 1.0]
    assert W[:, 2].tolist() == [0.5, 0.5, 0.0]
    # without the means the best single is chosen (ties: the first)
    W = B.choose(E, n_days, np.array([2, 0, 1]), np.ones(3, bool), switch_margin=0.0, combo_sizes=())
    assert W[:, 0].tolist() == [1.0, 0.0, 0.0] and W[:, 2].tolist() == [0.0, 1.0, 0.0]
    # a candidate a SKU has no backtest for may carry non-finite errors: they never reach a mean
    E[2, :, 2] = np.nan
    W = B.choose(E, n_days, route, np.ones(3, bool), switch_margin=0.02, combo_sizes=(2, 3))
    assert W[:, 2].tolist() == [0.5, 0.5, 0.0] and W[:, 0].tolist() == [0.5, 0.5, 0.0]


def test_fit_reports_the_backtest_error_of_the_chosen_mean():
    rng = np.random.default_rng(4)
    Y = rng.poisson(np.linspace(2, 8, 300)[:, None] * np.ones((1, 6))).astype(float)
    fit = B.fit(Y, np.zeros(6, int), np.arange(300) % 7)
    assert np.allclose(fit.weights.sum(0), 1.0)
    assert all(m in B.METHODS or m.startswith("mean(") for m in fit.method)
    # The same errors rebuilt from the kernels: weighted mean of the members' backtest errors.
    assert np.all(np.isfinite(fit.rmse)) and np.all(fit.rmse > 0)
    F = fit.path(np.arange(14) % 7)
    assert F.shape == (14, 6) and np.all(F >= 0)


def test_seasonal_forecast_uses_the_profile_of_the_latest_data():
    # Weekday pattern flips inside the backtest window (last 84 days): a profile estimated only before
    # the backtest would forecast the old pattern; the refit on the latest data forecasts the new one.
    T = 400
    dow = np.arange(T) % 7
    old = np.array([10, 10, 10, 10, 10, 30, 30], float)
    new = old[::-1].copy()
    y = np.where(np.arange(T) < T - 70, old[dow], new[dow])
    fit = B.fit(y[:, None], np.zeros(1, int), dow)
    F = fit.path((np.arange(7) + T) % 7)[:, 0]
    assert F[(np.arange(7) + T) % 7 == 0][0] > F[(np.arange(7) + T) % 7 == 5][0]  # new: Monday high

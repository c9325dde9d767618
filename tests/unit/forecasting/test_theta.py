"""Theta method (SES with drift = half the trend slope), the trend line it starts from, backtest origins one
season cycle apart, and the joint Holt–Winters grid."""
import numpy as np
import pytest

from stocklink.forecasting import backtest as B
from stocklink.forecasting import methods as M
from stocklink.forecasting import seasonal as S


def test_trend_line_hand_computed():
    # y = 1, 3, 2, 5 at t = 0..3: t̄ = 1.5, ȳ = 2.75, Σ(t − t̄)(y − ȳ) = 5.5, Σ(t − t̄)² = 5 → slope 1.1,
    # intercept at t = 0: 2.75 − 1.1·1.5 = 1.1, so the line at t = −1 is 0.0.
    level, slope, mean = S.trend_line(np.array([[1.0], [3.0], [2.0], [5.0]]), np.array([0]), np.array([4]))
    assert slope[0] == pytest.approx(1.1)
    assert level[0] == pytest.approx(0.0)
    assert mean[0] == pytest.approx(2.75)
    # a window [1, 4) only: y = 3, 2, 5 at t = 1..3: slope 1, mean 10/3, line at t = 0: 10/3 − 2 = 4/3
    level, slope, mean = S.trend_line(np.array([[1.0], [3.0], [2.0], [5.0]]), np.array([1]), np.array([4]))
    assert slope[0] == pytest.approx(1.0)
    assert level[0] == pytest.approx(4.0 / 3.0)


def test_theta_is_ses_with_half_slope_drift_hand_computed(monkeypatch):
    # Adjusted demand x = 2, 4, 3 (t = 0..2): slope 0.5 → drift b = 0.25; line at t = −1: 2.5 − 0.5 = 2.0.
    # With α = 0.5 (one-value grid): f = ℓ + b, ℓ ← ℓ + b + α(x − f)
    #   t0: f = 2.25, e = −0.25  → ℓ = 2.125
    #   t1: f = 2.375, e = 1.625 → ℓ = 3.1875
    #   t2: f = 3.4375, e = −0.4375 → ℓ = 3.21875
    # h-step forecast (ℓ + h·b)·s. Profile (0.5, 1.5) on seasons 0, 1, 0: y = x·s = 1, 6, 1.5.
    monkeypatch.setattr(S, "THETA_ALPHAS", (0.5,))
    P = np.array([[0.5], [1.5]])
    dow = np.array([0, 1, 0])
    Y = np.array([[1.0], [6.0], [1.5]])
    th = S.fit_theta(Y, P, dow, np.array([0]), np.array([0]), np.array([3]), 3, 3)
    assert th["trend"][0] == pytest.approx(0.25)
    assert th["params"]["theta_drift"][0] == pytest.approx(0.25)
    assert th["params"]["theta_alpha"][0] == 0.5
    assert th["level"][0] == pytest.approx(3.21875)
    assert th["prev"][0] == pytest.approx(3.4375 * 0.5)    # forecast made for the last day (season 0)
    path = M.hw_path(th["level"], th["trend"], np.ones(1), th["season"], [1, 0], np.array([True]))
    assert path[:, 0].tolist() == pytest.approx([(3.21875 + 0.25) * 1.5, (3.21875 + 0.5) * 0.5])


def test_theta_alpha_chosen_on_one_step_errors():
    # A level shift half way: the one-step errors favour the largest α of the grid.
    y = np.r_[np.full(30, 10.0), np.full(30, 50.0)][:, None]
    th = S.fit_theta(y, np.ones((1, 1)), np.zeros(60, int), np.array([0]), np.array([0]), np.array([60]),
                     60, 60)
    assert th["params"]["theta_alpha"][0] == max(S.THETA_ALPHAS)


def test_fit_offers_theta_and_forecasts_a_trend():
    # A clean upward trend with a weekday pattern: Theta (or Holt–Winters, both trended) beats flat SES
    # and the forecast keeps rising.
    T = 200
    t = np.arange(T)
    dow = t % 7
    prof = np.array([0.8, 1.0, 1.2, 1.0, 0.9, 1.1, 1.0])
    Y = ((20 + 0.2 * t) * prof[dow])[:, None]
    fit = B.fit(Y, np.zeros(1, int), dow)
    assert "theta" in B.METHODS
    assert fit.method[0] != "ses"
    F = fit.path((np.arange(T, T + 14)) % 7)[:, 0]
    assert F[7:].sum() > F[:7].sum()
    assert np.isfinite(fit.params["theta_alpha"]).all()


def test_backtest_origins_one_step_apart_hand_computed():
    # SES with α = 1 (level = last actual), ℓ0 = 0, backtest from day 2; y = 0 0 0 3 3 3 6 6.
    # Origins every 3 days (2, 5): frozen 0 for days 2-4 → errors 0, −3, −3; frozen y4 = 3 for days
    # 5-7 → 0, −3, −3: SSE 36. Default 7-day origins: one origin (2), frozen 0 → SSE 0+9+9+9+36+36 = 99.
    y = np.array([0, 0, 0, 3, 3, 3, 6, 6], float)
    r3 = M.ses_kernel(y, 1.0, 0.0, lo=0, ev=2, origin_step=3)
    r7 = M.ses_kernel(y, 1.0, 0.0, lo=0, ev=2)
    assert r3.bt.sse[0] == pytest.approx(36.0)
    assert r3.bt.E[:, 0].tolist() == [0.0, -3.0, -3.0, 0.0, -3.0, -3.0]
    assert r7.bt.sse[0] == pytest.approx(99.0)
    assert r3.bt.n[0] == r7.bt.n[0] == 6
    # the moving average and Holt–Winters kernels freeze on the same origins
    ma = M.ma_kernel(y, 1, 0, 2, origin_step=3)
    assert ma.bt.E[:, 0].tolist() == [0.0, -3.0, -3.0, 0.0, -3.0, -3.0]
    hw = M.hw_kernel(y, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, np.zeros((1, 1)), np.zeros(8, int), False, 0, 2,
                     origin_step=3)
    assert hw.bt.E[:, 0].tolist() == [0.0, -3.0, -3.0, 0.0, -3.0, -3.0]


def test_holt_winters_joint_grid_finds_trend_and_season():
    # Additive-looking trend with a strong multiplicative weekday season: the joint grid must pick a
    # trended model (β > 0) and forecast the next week above the last one.
    T = 210
    t = np.arange(T)
    dow = t % 7
    prof = np.array([0.5, 1.5, 1.0, 1.0, 1.0, 1.0, 1.0])
    Y = ((30 + 0.3 * t) * prof[dow])[:, None]
    P = S.profile_from_sums(*S.season_sums(Y, np.zeros(1, int), np.full(1, T - 28), dow), np.array([True]),
                            prior=0.0, floor=M.SEASON_FLOOR)
    hw = S.fit_holt_winters(Y, P, dow, np.array([0]), np.zeros(1, int), np.full(1, T - 28), T,
                            np.array([0.2]), T - 28, 7)
    assert hw["params"]["hw_beta"][0] > 0
    assert np.isfinite(hw["bt"].sse[0])
    path = M.hw_path(hw["level"], hw["trend"], hw["phi"], hw["season"], np.arange(T, T + 7) % 7, hw["mult"])
    assert path[:, 0].sum() > Y[-7:, 0].sum()


def test_profile_needs_56_periods_and_3_cycles():
    assert S.profile_min(7) == 56          # 8 weeks of daily data (DESIGN §8), unchanged
    assert S.profile_min(12) == 56         # monthly: 56 months (≥ 3 years)
    assert S.profile_min(52) == 156        # weekly data with a yearly cycle: 3 years

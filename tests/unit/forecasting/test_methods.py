"""Each method against small hand-computed sequences (one-step forecasts = value before seeing the day)."""
import numpy as np
import pytest

from stocklink.forecasting import methods as M


def test_ses_hand_computed():
    # alpha 0.5, level 4: 4 → (6) 5 → (2) 3.5
    path, nxt = M.ses([4, 6, 2], 0.5, level0=4)
    assert path.tolist() == [4, 4, 5]
    assert nxt == 3.5


def test_tsb_hand_computed():
    # z0=2, p0=.5; day0 y=0: p=.25; day1 y=4: z=3, p=.625; day2 y=0: p=.3125 → next .3125*3
    path, nxt = M.tsb([0, 4, 0], 0.5, 0.5, size0=2, prob0=0.5)
    assert path.tolist() == [1.0, 0.5, 1.875]
    assert nxt == pytest.approx(0.9375)


def test_croston_and_sba_hand_computed():
    # z0=4, q0=2. Sale of 6 after 3 days: z=5, q=2.5. Sale of 3 after 2 days: z=4, q=2.25.
    path, nxt = M.croston([0, 0, 6, 0, 3], 0.5, size0=4, interval0=2)
    assert path.tolist() == [2, 2, 2, 2, 2]
    assert nxt == pytest.approx(4 / 2.25)
    path, nxt = M.sba([0, 0, 6, 0, 3], 0.5, size0=4, interval0=2)
    assert path.tolist() == [1.5] * 5  # × (1 − 0.5/2)
    assert nxt == pytest.approx(0.75 * 4 / 2.25)


def test_moving_average_hand_computed():
    path, nxt = M.moving_average([1, 2, 3, 4, 5], 3)
    assert path.tolist() == [0, 1, 1.5, 2, 3]
    assert nxt == 4


def test_grid_picks_fastest_alpha_after_a_step():
    y = np.array([0.0] * 10 + [10.0] * 10)
    grid = np.asarray(M.SES_ALPHAS)[:, None]
    r = M.ses_kernel(y, grid, 0.0, train_only=True)
    best, _ = M.pick(M.SES_ALPHAS, r.sse["level"])
    assert best[0] == max(M.SES_ALPHAS)


def test_grid_picks_slowest_alpha_on_noise_around_a_level():
    y = np.array([4.0, 6.0] * 30)
    r = M.ses_kernel(y, np.asarray(M.SES_ALPHAS)[:, None], 5.0, train_only=True)
    best, _ = M.pick(M.SES_ALPHAS, r.sse["level"])
    assert best[0] == min(M.SES_ALPHAS)


def test_backtest_freezes_forecast_at_weekly_origin():
    # Level 2 at the origin (day 2); the next 7 days are 4: each error is 2 − 4 even though the
    # state moves towards 4 during the week.
    y = [2, 2] + [4] * 7
    r = M.ses_kernel(np.array(y, float), 0.5, 2.0, lo=0, ev=2)
    assert r.bt.sse.tolist() == [28.0]
    assert r.bt.se.tolist() == [-14.0]
    assert r.bt.mse.tolist() == [4.0]
    assert r.bt.bias.tolist() == [-2.0]


def test_later_start_equals_truncated_series():
    # A SKU whose history starts at row 3 of the batch behaves exactly like its own short series.
    y = np.array([0, 0, 0, 5, 0, 3, 0, 0, 7, 1], float)
    batch = np.stack([y, np.arange(10.0)], axis=1)
    rb = M.tsb_kernel(batch, 0.3, 0.2, size0=[4, 1], prob0=[0.5, 1], lo=[3, 0], keep_path=True)
    rs = M.tsb_kernel(y[3:], 0.3, 0.2, size0=4, prob0=0.5, keep_path=True)
    assert np.allclose(rb.path[3:, 0], rs.path[:, 0])
    assert rb.final[0] == pytest.approx(rs.final[0])
    rb = M.croston_kernel(batch, 0.3, 0.2, size0=[4, 1], interval0=[2, 1], lo=[3, 0], keep_path=True)
    rs = M.croston_kernel(y[3:], 0.3, 0.2, size0=4, interval0=2, keep_path=True)
    assert np.allclose(rb.path[3:, 0], rs.path[:, 0])


def test_running_sums_of_squares_and_of_squared_changes_match_the_plain_ones():
    from stocklink.forecasting._util import cumsum0, cumsum0_squares

    Y = np.random.default_rng(5).poisson(3.0, (30, 4)).astype(float)
    assert np.array_equal(cumsum0_squares(Y), cumsum0(Y * Y))
    buf = np.full((40, 4), np.nan)                       # a larger buffer is reused from its first row
    assert np.array_equal(cumsum0_squares(Y, lag=1, out=buf), cumsum0(np.diff(Y, axis=0) ** 2))

"""Stock-out days are censored demand (issue 20): imputed for fitting, left out of the backtest."""
import numpy as np
import pytest

from stocklink.forecasting import backtest as B
from stocklink.forecasting import censoring
from stocklink.forecasting.methods import Backtest


def test_impute_takes_the_local_mean_of_observed_days():
    y = np.array([4.0, 6.0, 0.0, 0.0, 5.0, 5.0])[:, None]
    cens = np.array([False, False, True, True, False, False])[:, None]
    out = censoring.impute(y, np.array([0]), cens, half=2)
    assert out[2, 0] == pytest.approx((4 + 6 + 5) / 3)      # rows 0..4 observed: 0, 1, 4
    assert out[3, 0] == pytest.approx((6 + 5 + 5) / 3)      # rows 1..5 observed: 1, 4, 5
    assert out[[0, 1, 4, 5], 0].tolist() == [4.0, 6.0, 5.0, 5.0]


def test_mask_backtests_drops_censored_days_from_sums_and_counts():
    E = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    bt = Backtest(sse=(E * E).sum(0), se=E.sum(0), n=np.array([3.0, 2.0]), e_last=E[-1].copy(), E=E.copy(),
                  start=7)
    bt.E[0, 1] = 0.0                                          # SKU 1's backtest is rows 8..9 only
    cens = np.zeros((10, 2), bool)
    cens[8] = True
    censoring.mask_backtests([bt], cens)
    assert bt.n.tolist() == [2.0, 1.0]
    assert bt.sse.tolist() == [1 + 25, 36] and bt.se.tolist() == [6, 6]


def test_a_weeks_stock_out_does_not_drag_the_forecast_down():
    rng = np.random.default_rng(5)
    T = 120
    y = rng.poisson(10, T).astype(float)
    y[-20:-13] = 0.0                                          # out of stock for a week, 2 weeks ago
    cens = np.zeros((T, 1), bool)
    cens[-20:-13] = True
    dow = np.arange(T) % 7
    told = B.fit(y[:, None], np.zeros(1, int), dow, censored=cens).path(np.arange(7))[:, 0].mean()
    blind = B.fit(y[:, None], np.zeros(1, int), dow).path(np.arange(7))[:, 0].mean()
    assert told == pytest.approx(10, rel=0.1)
    assert told > blind

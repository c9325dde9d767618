"""Yearly movement borrowed from a group's established SKUs by SKUs with less than a year (issue 20)."""
import numpy as np
import pytest

from stocklink.forecasting import backtest as B
from stocklink.forecasting import yearly

T = 520


def _catalogue(rng, season_lift=1.5, growth=1.0):
    """Group "a": 20 established SKUs whose demand rose by `season_lift` for the 8 weeks that followed
    this day last year (and grew by `growth` since); group "b": 20 flat ones; one SKU launched 4 weeks
    ago in each group, selling 5 a day."""
    t = np.arange(T)[:, None]
    last_year = T - yearly.YEAR
    season = np.where((t >= last_year) & (t < last_year + 56), season_lift, 1.0)
    level = np.where(t >= T - 100, growth, 1.0)
    a = rng.poisson(30.0 * season * level, (T, 20))
    b = rng.poisson(30.0 * level, (T, 20))
    new = rng.poisson(5.0, (T, 2)) * (t >= T - 28)
    Y = np.concatenate([a, b, new], axis=1).astype(float)
    lo = np.r_[np.zeros(40, int), [T - 28, T - 28]]
    category = np.array(["a"] * 20 + ["b"] * 20 + ["a", "b"])
    return Y, lo, category


def test_a_new_sku_follows_its_groups_season_of_last_year():
    Y, lo, category = _catalogue(np.random.default_rng(1))
    fit = B.fit(Y, lo, np.arange(T) % 7, groups={"category": category})
    days = np.arange(70) % 7
    F = fit.path(days)
    fit.yearly = None
    lift = F / fit.path(days)                                              # against the same fit without it
    assert lift[14:42, 40].mean() == pytest.approx(1.5, rel=0.06)          # the lift group "a" had a year ago
    assert lift[66:, 40].mean() == pytest.approx(1.0, rel=0.06)            # and its end after 8 weeks
    assert lift[:, 41] == pytest.approx(1.0, rel=0.06)                     # a flat group moves nothing
    assert np.array_equal(lift[:, :40], np.ones((70, 40)))                 # established SKUs: untouched


def test_a_group_that_grew_since_last_year_does_not_lift_a_new_sku():
    Y, lo, category = _catalogue(np.random.default_rng(2), season_lift=1.0, growth=2.0)
    r = yearly.ratios(Y, lo, T - lo, np.unique(category, return_inverse=True)[1])
    cols, m = r.multipliers(56)
    assert cols.tolist() == [40, 41]
    assert np.abs(m - 1.0).max() < 0.05


def test_without_a_year_of_related_history_nothing_is_borrowed():
    Y, lo, category = _catalogue(np.random.default_rng(3))
    codes = np.unique(category, return_inverse=True)[1]
    assert yearly.ratios(Y[-300:], np.maximum(lo - (T - 300), 0), np.minimum(T - lo, 300), codes) is None
    # references only in group "b": the new SKU of group "a" has none to borrow from
    r = yearly.ratios(Y, np.r_[np.full(20, T - 100), np.zeros(20, int), [T - 28, T - 28]], T - lo, codes)
    assert r.group[40] == -1 and r.group[41] >= 0


def test_a_season_within_the_references_noise_is_mostly_dropped():
    rng = np.random.default_rng(4)
    Y, lo, category = _catalogue(rng, season_lift=1.1)
    noisy = Y.copy()
    noisy[:, :20] = rng.poisson(0.3, (T, 20)) * rng.integers(1, 60, (T, 20))   # big irregular orders
    codes = np.unique(category, return_inverse=True)[1]
    _, m_clean = yearly.ratios(Y, lo, T - lo, codes).multipliers(56)
    _, m_noisy = yearly.ratios(noisy, lo, T - lo, codes).multipliers(56)
    assert abs(np.log(m_clean[7:49, 0]).mean() - np.log(1.1)) < 0.03
    assert np.abs(np.log(m_noisy[:, 0])).mean() < np.abs(np.log(m_clean[:, 0])).mean()

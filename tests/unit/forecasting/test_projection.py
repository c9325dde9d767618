import datetime as dt

import numpy as np

from stocklink.forecasting.projection import arrivals_matrix, stockout_date, stockout_day

F = np.full((5, 1), 3.0)  # cumulative 3 6 9 12 15


def test_without_arrivals():
    assert stockout_day(F, [5]).tolist() == [2]  # 6 > 5


def test_arrival_pushes_the_date():
    A = arrivals_matrix(5, 1, [(0, 2, 4)])  # supply 5, 9, 9, 9, 9
    assert stockout_day(F, [5], A).tolist() == [4]  # 12 > 9


def test_arrival_counts_on_its_own_day_and_equal_is_not_short():
    A = arrivals_matrix(5, 1, [(0, 2, 4), (0, 4, 6)])  # supply 5, 9, 9, 15, 15 vs 3 6 9 12 15
    assert stockout_day(F, [5], A).tolist() == [0]


def test_arrival_after_stockout_does_not_help():
    A = arrivals_matrix(5, 1, [(0, 3, 100)])
    assert stockout_day(F, [5], A).tolist() == [2]


def test_overdue_arrival_counts_from_day_one_and_beyond_horizon_is_ignored():
    A = arrivals_matrix(5, 1, [(0, -3, 10), (0, 9, 100)])
    assert A[:, 0].tolist() == [10, 0, 0, 0, 0]


def test_dates():
    assert stockout_date(dt.date(2024, 12, 30), 2) == dt.date(2025, 1, 1)
    assert stockout_date(dt.date(2024, 12, 30), 0) is None

"""Transfer rules (pure): states, receiving with short units, and the move-stock suggestions."""
import datetime as dt

import pytest

from stocklink.domain.transfers import (
    Lane, LineArrival, TransferLine, TransferStatus as S, WarehousePosition as W, arrivals, check_transition, suggest,
)
from stocklink.errors import InvalidTransition, ValidationFailed

TODAY = dt.date(2026, 12, 7)


def test_states():
    check_transition(S.DRAFT, S.PICKED)
    check_transition(S.PICKED, S.RECEIVED)
    check_transition(S.PICKED, S.CANCELLED)
    for current, target in ((S.DRAFT, S.RECEIVED), (S.RECEIVED, S.CANCELLED), (S.CANCELLED, S.PICKED)):
        with pytest.raises(InvalidTransition):
            check_transition(current, target)


LINES = [TransferLine(1, "A", 10), TransferLine(2, "B", 4)]


def test_lines_not_counted_arrive_in_full_and_short_ones_need_a_reason():
    assert arrivals(LINES, {1: (8, "two cartons lost")}) == [
        LineArrival(1, "A", 8, 2, "two cartons lost"), LineArrival(2, "B", 4, 0, None)]
    with pytest.raises(ValidationFailed):
        arrivals(LINES, {1: (8, None)})
    with pytest.raises(ValidationFailed):
        arrivals(LINES, {2: (5, None)})
    with pytest.raises(ValidationFailed):
        arrivals(LINES, {3: (1, None)})


def test_a_warehouse_running_out_within_the_lead_time_gets_stock_from_one_with_plenty():
    # A sells 5/day with 10 left (2 days), B sells 1/day with 200 (200 days): lead time 10, transit 3 days
    lanes = {("B", "A"): Lane("B", "A", 3, 0.8)}
    (s,) = suggest("SKU", [W("A", 10, 0, 5.0), W("B", 200, 0, 1.0)], lanes, lead_time_days=10, donor_min_days=60,
                   today=TODAY)
    assert (s.from_warehouse, s.to_warehouse, s.qty) == ("B", "A", 55)   # 5 x (10 + 3) - 10
    assert s.stockout_date == "2026-12-09" and s.as_dict()["total_cost"] == 44.0
    assert s.days_of_cover_after == 13 and s.donor_days_of_cover_after == 145 and s.lane_configured


def test_a_donor_never_goes_below_its_own_minimum_cover_and_units_on_the_way_count():
    (s,) = suggest("SKU", [W("A", 0, 0, 5.0), W("B", 80, 0, 1.0)], {}, lead_time_days=10, donor_min_days=60,
                   today=TODAY)
    assert s.qty == 20 and s.transit_days == 2.0 and not s.lane_configured     # keeps 60 days = 60 units
    assert suggest("SKU", [W("A", 10, 50, 5.0), W("B", 200, 0, 1.0)], {}, lead_time_days=10, donor_min_days=60,
                   today=TODAY) == []                                        # 60 on hand + on the way: 12 days


def test_presold_units_on_the_way_are_sold_already_and_never_count_as_cover():
    # A's 50 on the way are 40 presold: 10 + 10 unsold = 4 days, as if only 10 were coming
    (s,) = suggest("SKU", [W("A", 10, 50, 5.0, presold=40), W("B", 200, 0, 1.0)], {}, lead_time_days=10,
                   donor_min_days=60, today=TODAY)
    assert s.qty == 5 * (10 + 2) - 20 and s.days_of_cover_before == 4.0 and s.stockout_date == "2026-12-11"


def test_no_donor_with_spare_cover_means_no_suggestion():
    assert suggest("SKU", [W("A", 2, 0, 5.0), W("B", 50, 0, 1.0)], {}, lead_time_days=10, donor_min_days=60,
                   today=TODAY) == []


def test_several_donors_cover_one_warehouse_richest_first():
    found = suggest("SKU", [W("A", 0, 0, 10.0), W("B", 70, 0, 0.0), W("C", 100, 0, 0.5)], {},
                    lead_time_days=10, donor_min_days=30, today=TODAY)
    assert [(s.from_warehouse, s.qty) for s in found] == [("C", 85), ("B", 35)]
    assert found[1].as_dict()["donor_days_of_cover_after"] is None        # B sells nothing

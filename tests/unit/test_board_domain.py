"""The stock board's pure rules: status, days of cover, filters, counts, sort order and keyset pages."""
from __future__ import annotations

import pytest

from stocklink.domain import board
from stocklink.domain.board import BoardSettings, PlanFacts, StockCounters

SETTINGS = BoardSettings(low_floor=15, over_days=90)


@pytest.mark.parametrize("available, safety, cover, expected", [
    (0, None, None, "zero"),
    (-2, None, None, "zero"),
    (14, None, None, "low"),                 # below the floor
    (15, None, None, "normal"),              # at the floor is not below it
    (40, 50, 10.0, "low"),                   # below its safety stock, above the floor
    (50, 50, 10.0, "normal"),
    (500, 10, 90.5, "over"),                 # more than over_days of demand
    (500, 10, 90.0, "normal"),
    (500, None, None, "normal"),             # no demand: cover unknown, never over
])
def test_status(available, safety, cover, expected):
    assert board.status(available, safety, cover, SETTINGS) == expected


def test_days_of_cover_and_whole_units():
    assert board.days_of_cover(30, 2.0) == 15.0
    assert board.days_of_cover(-3, 2.0) == 0.0
    assert board.days_of_cover(30, 0.0) is None and board.days_of_cover(30, None) is None
    assert board.whole_units(3.2) == 4 and board.whole_units(3.0) == 3 and board.whole_units(None) is None
    assert board.daily_demand([1, 2, 3, 4, 5, 6, 7, 100]) == 4.0      # the first week only
    assert board.daily_demand([]) is None


def test_plan_facts_from_a_forecast_result():
    facts = PlanFacts.from_result({"forecast": [2.0] * 30, "safety_stock": 7.5, "abc_class": "B"})
    assert facts == PlanFacts(2.0, 7.5, "B")
    assert PlanFacts.from_result({"abc_class": "?"}).abc is None


def _rows(warehouse_id=None):
    names = {"A-1": "Apple", "B-2": "banana", "C-3": "Cherry", "D-4": "Date"}
    counters = [StockCounters("A-1", "wh-a", 10, 2, 8, 0), StockCounters("A-1", "wh-b", 20, 0, 20, 5, 2),
                StockCounters("B-2", "wh-a", 100, 0, 100, 0), StockCounters("C-3", "wh-b", 0, 0, 0, 4, 4)]
    plans = {"A-1": PlanFacts(1.0, 3.0, "A"), "B-2": PlanFacts(0.5, 2.0, "C")}
    return board.rows(names, counters, plans, SETTINGS, warehouse_id)


def test_rows_sum_every_warehouse_and_list_every_sku():
    by_sku = {r["sku"]: r for r in _rows()}
    assert set(by_sku) == {"A-1", "B-2", "C-3", "D-4"}
    assert by_sku["A-1"] | {} == {"sku": "A-1", "name": "Apple", "on_hand": 30, "reserved": 2, "available": 28,
                                  "in_transit": 5, "presold": 2, "days_of_cover": 28.0, "status": "normal",
                                  "abc": "A", "safety_stock": 3}
    assert by_sku["C-3"]["presold"] == 4 and by_sku["D-4"]["presold"] == 0
    assert by_sku["B-2"]["status"] == "over" and by_sku["B-2"]["days_of_cover"] == 200.0
    assert by_sku["D-4"]["status"] == "zero" and by_sku["D-4"]["days_of_cover"] is None


def test_a_warehouse_board_holds_that_warehouses_items_only():
    by_sku = {r["sku"]: r for r in _rows("wh-a")}
    assert set(by_sku) == {"A-1", "B-2"}
    assert (by_sku["A-1"]["on_hand"], by_sku["A-1"]["available"], by_sku["A-1"]["status"]) == (10, 8, "low")
    assert by_sku["A-1"]["presold"] == 0                    # wh-b's presold units are not wh-a's


def test_filters_and_counts():
    rows = _rows()
    assert [r["sku"] for r in rows if board.matches(r, None, "AN")] == ["B-2"]        # banana, any case
    assert [r["sku"] for r in rows if board.matches(r, None, "c-3")] == ["C-3"]       # the SKU too
    assert [r["sku"] for r in rows if board.matches(r, "A", None)] == ["A-1"]
    assert board.counts(rows) == {"normal": 1, "low": 0, "zero": 2, "over": 1}


def _walk(rows, sort, order, limit):
    keyed, after, seen = board.ordered(rows, sort, order), None, []
    while True:
        chunk, last = board.page(keyed, limit, after, order)
        seen.append([r["sku"] for r in chunk])
        if last is None:
            return seen
        cursor = board.encode_cursor(last, sort, order)
        after = board.decode_cursor(cursor, sort, order)


def test_pages_cover_every_row_once_in_order():
    rows = _rows()
    assert _walk(rows, "sku", "asc", 3) == [["A-1", "B-2", "C-3"], ["D-4"]]
    assert _walk(rows, "available", "desc", 2) == [["B-2", "A-1"], ["D-4", "C-3"]]
    # no demand: last whichever the order
    assert _walk(rows, "days_of_cover", "asc", 10) == [["A-1", "B-2", "C-3", "D-4"]]
    assert _walk(rows, "days_of_cover", "desc", 1) == [["B-2"], ["A-1"], ["D-4"], ["C-3"]]
    assert _walk(rows, "status", "asc", 10) == [["C-3", "D-4", "A-1", "B-2"]]          # zero, zero, normal, over
    assert _walk(rows, "name", "asc", 10) == [["A-1", "B-2", "C-3", "D-4"]]            # case-insensitive
    assert _walk(rows, "presold", "desc", 10) == [["C-3", "A-1", "D-4", "B-2"]]


def test_a_page_continues_after_its_last_row_when_rows_before_it_change():
    rows = _rows()
    keyed = board.ordered(rows, "sku", "asc")
    _, last = board.page(keyed, 2, None, "asc")
    fewer = [r for r in rows if r["sku"] != "A-1"]            # a row before the cursor went away
    chunk, _ = board.page(board.ordered(fewer, "sku", "asc"), 2, last, "asc")
    assert [r["sku"] for r in chunk] == ["C-3", "D-4"]


@pytest.mark.parametrize("cursor", ["", "!!", "eyJ4IjoxfQ", board.encode_cursor((0, 1, "A"), "available", "asc")[:-2],
                                    board.encode_cursor((0, "x", "A"), "available", "asc"),
                                    board.encode_cursor((2, 1, "A"), "available", "asc"),
                                    board.encode_cursor((0, 1, "A"), "sku", "asc")])
def test_a_foreign_or_tampered_cursor_is_refused(cursor):
    with pytest.raises(board.BadBoardCursor):
        board.decode_cursor(cursor, "available", "asc")


def test_a_cursor_of_another_order_is_refused():
    cursor = board.encode_cursor((0, 5, "A-1"), "available", "asc")
    assert board.decode_cursor(cursor, "available", "asc") == (0, 5, "A-1")
    with pytest.raises(board.BadBoardCursor):
        board.decode_cursor(cursor, "available", "desc")


def test_days_of_cover_counts_arrivals_that_land_before_the_shelf_is_empty():
    assert board.days_of_cover(10, 2.0, [(3, 20)]) == 15.0          # lasts 5 days: the 3rd-day arrival counts
    assert board.days_of_cover(10, 2.0, [(8, 20)]) == 5.0           # runs out on day 5, before it lands
    assert board.days_of_cover(10, 2.0, [(12, 4), (4, 10)]) == 10.0  # 10 more on day 4: empty on day 10, before day 12
    assert board.days_of_cover(0, 2.0, [(0, 6)]) == 3.0             # arriving today

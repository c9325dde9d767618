"""Daily snapshots and the reports API on moto: a seeded month, idempotent runs, chunked runs, paging, bad
input, roles, and the stock-out marks and order lines the sales aggregation leaves for the snapshot."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.apigw import ApiClient
from tests.integration.conftest import STAFF_TOKEN, STOREFRONT_TOKEN, VIEWER_TOKEN, moto_env

MONTH = [(dt.date(2026, 1, 1) + dt.timedelta(days=i)).isoformat() for i in range(30)]
FULL = {"from": MONTH[0], "to": MONTH[-1]}


def after(day: str, minutes: int = 10) -> int:
    """A moment just after `day` ended: when its scheduled snapshot runs."""
    from stocklink.logic.snapshots import DAY_MS, day_start_ms
    return day_start_ms(day) + DAY_MS + minutes * 60_000


def put_sales(day: str, sku: str, warehouse_id: str, qty: int) -> None:
    """The day's sales counters as the sales aggregation leaves them (units and order lines)."""
    from stocklink.store.keys import sales_pk
    from stocklink.store.sales_models import ForecastItem
    for pk in (sales_pk(sku), sales_pk(sku, warehouse_id=warehouse_id)):
        ForecastItem(pk, day, qty=qty, lines=qty).save()


def rows_of_day(day: str) -> dict:
    from stocklink.store.report_models import ReportItem
    return {(i.pk, i.sk): i.data for i in ReportItem.scan() if i.pk.startswith(("SNAP#", "SNAPW#"))
            and i.pk.split("#")[1] == day}


@pytest.fixture(scope="module")
def month():
    """wh-a; A (cost 10, price 20): 100 units all month, 2 sold a day; B (cost 5, price 8): none for the
    first 10 days, 50 received on day 11, 1 sold a day from then. One oversold order line on day 5."""
    from functions.staff_api.handler import handler as staff_handler
    from stocklink.logic import snapshots
    from stocklink.store.models import InboundEvent
    from stocklink.time import iso_now

    with moto_env() as bus:
        staff = ApiClient(staff_handler, STAFF_TOKEN)
        staff.put("/warehouses/wh-a", {"name": "A", "priority": 1})
        staff.put("/skus/A", {"name": "A", "price": 20, "unit_cost": 10})
        staff.put("/skus/B", {"name": "B", "price": 8, "unit_cost": 5})
        staff.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-1",
                                       "lines": [{"sku": "A", "qty": 100}]})
        for i, day in enumerate(MONTH):
            if i == 10:
                staff.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-2",
                                               "lines": [{"sku": "B", "qty": 50}]})
            put_sales(day, "A", "wh-a", 2)
            if i >= 10:
                put_sales(day, "B", "wh-a", 1)
            if i == 4:
                InboundEvent(f"shopify#s1#o-{day}#paid", kind="order.paid", status="oversold", status_index="oversold",
                             received_at=iso_now(after(day, -600)),
                             outcome={"shortfall": [{"sku": "A", "requested": 3, "available": 0, "shortfall": 3}]}
                             ).save()
            assert snapshots.run(f"daily-{day}", after(day))["status"] == "done"
        yield bus


@pytest.fixture
def viewer(month):
    from functions.reports_api.handler import handler
    return ApiClient(handler, VIEWER_TOKEN)


# --- a seeded month ---------------------------------------------------------------------------------

def test_turnover_over_a_month_matches_the_hand_computed_figures(viewer):
    got = viewer.get("/reports/turnover", query=FULL)
    assert got.status == 200, got.body
    # A: cogs 60 x 10 = 600 over an average value of 1,000 -> 0.6 in 30 days -> x 365/30 = 7.3 a year
    # B: cogs 20 x 5 = 100 over an average of 20 days x 250 / 30 = 166.67 -> 7.3 as well
    rows = {r["sku"]: r for r in got.body["rows"]}
    assert rows["A"]["cogs"] == 600 and rows["A"]["avg_stock_value"] == 1000 and rows["A"]["turnover"] == 7.3
    assert rows["B"]["cogs"] == 100 and rows["B"]["avg_stock_value"] == 166.67 and rows["B"]["turnover"] == 7.3
    assert got.body["summary"] == {"value": 7.3, "band": "healthy",
                                   "thresholds": {"healthy_at_least": 6, "watch_at_least": 4}}
    assert got.body["snapshot_days"] == 30 and got.body["next"] is None
    assert {c["key"]: c["type"] for c in got.body["columns"]}["cogs"] == "money"


def test_a_shorter_period_reads_only_its_own_days(viewer):
    # days 11-20: A sold 20 (cogs 200, value 1,000) -> 0.2 x 365/10 = 7.3; B sold 10 (cogs 50, value 250) -> 7.3
    got = viewer.get("/reports/turnover", query={"from": MONTH[10], "to": MONTH[19]})
    rows = {r["sku"]: r for r in got.body["rows"]}
    assert (rows["A"]["units_sold"], rows["A"]["cogs"]) == (20, 200)
    assert (rows["B"]["units_sold"], rows["B"]["avg_stock_value"]) == (10, 250)
    assert got.body["snapshot_days"] == 10


def test_stockouts_count_the_days_b_had_nothing_and_estimate_what_it_lost(viewer):
    got = viewer.get("/reports/stockouts", query=FULL)
    # B: days 1-10 at 0, and day 11 began at 0 -> 11 stock-out days; 19 sold on 19 in-stock days -> 11 lost,
    # x price 8 = 88. Rate: 11 / 60 SKU-days = 18.33 % -> problem
    assert got.body["rows"] == [{"sku": "B", "stockout_days": 11, "days": 30, "stockout_rate": 36.67,
                                 "avg_daily_sales_in_stock": 1.0, "lost_sales_units": 11.0,
                                 "lost_sales_value": 88.0}]
    assert got.body["summary"]["value"] == 18.33 and got.body["summary"]["band"] == "problem"


def test_oversell_divides_oversold_lines_by_order_lines(viewer):
    got = viewer.get("/reports/oversell", query=FULL)
    # 80 paid lines (60 of A, 20 of B) + 1 oversold -> 1 / 81 = 1.23 % -> watch; day 5: 1 / (2 + 1)
    assert got.body["summary"]["value"] == 1.23 and got.body["summary"]["band"] == "watch"
    assert got.body["rows"][4] == {"date": MONTH[4], "order_lines": 2, "oversold_lines": 1, "oversell_rate": 33.333}


def test_stock_value_per_warehouse_and_the_warehouse_filter(viewer):
    got = viewer.get("/reports/stock-value", query=FULL)
    assert got.body["rows"] == [{"warehouse_id": "wh-a", "on_hand": 150, "stock_value": 1250,
                                 "avg_stock_value": 1166.67, "share": 100.0}]
    one = viewer.get("/reports/turnover", query={**FULL, "warehouse_id": "wh-a"})
    assert {r["sku"]: r["turnover"] for r in one.body["rows"]} == {"A": 7.3, "B": 7.3}
    none = viewer.get("/reports/turnover", query={**FULL, "warehouse_id": "wh-nowhere"})
    assert none.status == 200 and none.body["rows"] == []


def test_the_list_names_every_report_in_english_and_chinese(viewer):
    got = viewer.get("/reports")
    names = [r["name"] for r in got.body["reports"]]
    assert names == ["turnover", "days-of-supply", "slow-movers", "fast-movers", "stockouts", "oversell",
                     "sync-accuracy", "stock-value", "abc"]
    assert all(r["title"]["en"] and r["title"]["zh"] for r in got.body["reports"])
    for name in names:
        assert viewer.get(f"/reports/{name}", query=FULL).status == 200, name


# --- paging and bad input -----------------------------------------------------------------------------

def test_pages_of_one_row_add_up_to_the_whole_report(viewer):
    whole = viewer.get("/reports/fast-movers", query=FULL).body["rows"]
    first = viewer.get("/reports/fast-movers", query={**FULL, "limit": "1"})
    second = viewer.get("/reports/fast-movers", query={**FULL, "limit": "1", "cursor": first.body["next"]})
    assert first.body["rows"] + second.body["rows"] == whole and len(whole) == 2
    assert second.body["next"] is None
    other = viewer.get("/reports/turnover", query={**FULL, "limit": "1", "cursor": first.body["next"]})
    assert other.status == 400 and other.body["field"] == "cursor"
    assert viewer.get("/reports/fast-movers", query={**FULL, "cursor": "eyJvIjoxfQ"}).status == 400
    assert viewer.get("/reports/fast-movers", query={**FULL, "cursor": "!!"}).status == 400


@pytest.mark.parametrize("query,field", [
    ({"from": "2026-13-01", "to": "2026-12-31"}, "from"),
    ({"from": "2026-02-30"}, "from"),
    ({"from": "yesterday"}, "from"),
    ({"from": "2026-02-01", "to": "2026-01-01"}, "from"),
    ({"from": "2025-01-01", "to": "2026-02-05"}, "from"),      # 401 days
    ({"limit": "0"}, "limit"),
    ({"warehouse_id": "wh a"}, "warehouse_id"),
])
def test_bad_periods_and_arguments_are_a_400_naming_the_field(viewer, query, field):
    got = viewer.get("/reports/turnover", query=query)
    assert got.status == 400 and got.body["field"] == field, got.body


def test_400_days_is_the_longest_period_and_an_unknown_report_is_a_404(viewer):
    assert viewer.get("/reports/turnover", query={"from": "2025-01-01", "to": "2026-02-04"}).status == 200
    assert viewer.get("/reports/margins", query=FULL).status == 404


# --- runs: idempotent, chunked, on request --------------------------------------------------------------

def test_running_a_day_again_writes_the_same_rows(month):
    from stocklink.logic import snapshots
    from stocklink.store import report_models
    day = MONTH[20]
    before = rows_of_day(day)
    figures = dict(report_models.days_between(day, day))[day]
    assert snapshots.run(f"daily-{day}", after(day, 30))["rows"] == 4        # done: not run again
    again = snapshots.run("manual-again", after(day, 30), day=day)
    assert again["status"] == "done" and again["rows"] == len(before) == 4
    assert rows_of_day(day) == before
    refigured = dict(report_models.days_between(day, day))[day]
    assert {k: v for k, v in refigured.items() if k != "taken_at"} == {k: v for k, v in figures.items()
                                                                         if k != "taken_at"}


def test_a_run_cut_short_continues_where_it_stopped_and_writes_the_same(month):
    from stocklink.logic import snapshots
    day = MONTH[25]
    before = rows_of_day(day)
    state = snapshots.run("chunked", after(day, 40), day=day, page_size=1, has_time=lambda: False)
    assert state["status"] == "running" and state["skus"] == 1 and state["cursor"] is not None
    state = snapshots.run("chunked", after(day, 41), page_size=1)
    assert state["status"] == "done" and state["skus"] == 2
    assert rows_of_day(day) == before


def test_the_scheduled_tick_runs_only_just_after_midnight():
    from stocklink.logic.snapshots import daily_run_id, day_start_ms
    start = day_start_ms("2026-03-02")
    assert daily_run_id(start + 5 * 60_000) == "daily-2026-03-01"
    assert daily_run_id(start + 4 * 3_600_000) is None


def test_staff_ask_for_todays_snapshot_and_the_snapshot_function_takes_it(month):
    from functions.reports_api.handler import handler as reports_handler
    from functions.snapshots.handler import handler as snapshots_handler
    from stocklink import events
    from stocklink.logic.snapshots import day_of
    from stocklink.time import now_ms
    from tests.integration.apigw import LambdaContext

    month.drain()
    assert ApiClient(reports_handler, VIEWER_TOKEN).post("/reports/snapshots/run").status == 403
    assert ApiClient(reports_handler, STOREFRONT_TOKEN).get("/reports").status == 403
    got = ApiClient(reports_handler, STAFF_TOKEN).post("/reports/snapshots/run")
    assert got.status == 202 and got.body["status"] == "queued" and got.body["requested_by"] == "alice"
    (event,) = [e for e in month.drain() if e["detail-type"] == events.SNAPSHOT_REQUESTED]
    assert event["detail"]["run_id"] == got.body["run_id"]
    result = snapshots_handler(event, LambdaContext())
    today = day_of(now_ms())
    assert result["status"] == "done" and result["day"] == today
    assert len(rows_of_day(today)) == 4

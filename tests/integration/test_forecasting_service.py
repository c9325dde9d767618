"""Forecasting wiring on moto: daily demand counters from commit/return ledger entries (exactly once), sales
import (all or nothing), supplier settings, forecast runs (paged, resumable) → results, replenishment
order and forecast.* events, and the routes' auth."""
from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace

import pytest

from tests.integration.apigw import ApiClient, LambdaContext
from tests.integration.conftest import STAFF_TOKEN, STOREFRONT_TOKEN

DAY_MS = 86_400_000
NOW = int(dt.datetime(2025, 6, 2, 12, tzinfo=dt.timezone.utc).timestamp() * 1000)   # as_of = 2025-06-01


@pytest.fixture
def forecast_api(aws) -> ApiClient:
    from functions.forecast_api.handler import handler
    return ApiClient(handler, STAFF_TOKEN)


def counter(pk: str, day: str) -> float | None:
    from stocklink.store.sales_models import ForecastItem
    item = ForecastItem.get(pk, day) if ForecastItem.count(pk, ForecastItem.sk == day) else None
    return None if item is None else float(item.qty)


def aggregate(detail: dict, kind: str = "stock.changed") -> dict:
    from functions.sales_aggregate.handler import handler
    return handler({"detail-type": kind, "source": "stocklink", "detail": detail}, LambdaContext())


def stock_changed(aws, cause: str) -> list[dict]:
    return [e["detail"] for e in aws.drain() if e["detail-type"] == "stock.changed" and e["detail"]["cause"] == cause]


def committed_events(events) -> list[dict]:
    return [e["detail"] for e in events if e["detail-type"] == "reservation.committed"]


def reserve(storefront, rid: str, qty: int):
    assert storefront.post("/reservations", {"reservation_id": rid, "channel": "web",
                                             "lines": [{"sku": "TEE-RED-M", "qty": qty}]}).status == 201


def ship(storefront, rid: str, qty: int):
    reserve(storefront, rid, qty)
    assert storefront.post(f"/reservations/{rid}/commit").status == 200
    assert storefront.post(f"/reservations/{rid}/ship").status == 200


# --- sales counters ------------------------------------------------------------------------------

def test_demand_counts_at_commit_once_even_when_redelivered_and_not_again_at_ship(stocked, storefront, aws):
    from stocklink.logic.sales_history import day_of
    from stocklink.store import repository

    aws.drain()
    reserve(storefront, "r1", 2)
    reserve(storefront, "r0", 1)
    assert storefront.post("/reservations/r0/release").status == 200     # unpaid hold cancelled: no demand
    assert committed_events(aws.drain()) == []
    assert storefront.post("/reservations/r1/commit").status == 200
    (event,) = committed_events(aws.drain())
    assert event["reservation_id"] == "r1" and event["source"] == "storefront"
    assert event["lines"] == [{"sku": "TEE-RED-M", "qty": 2}]
    assert event["allocations"] == [{"sku": "TEE-RED-M", "warehouse_id": "wh-a", "qty": 2}]
    first = aggregate(event, "reservation.committed")
    assert first == {"counted": 1, "already_counted": 0, "ignored": False}
    again = aggregate(event, "reservation.committed")                   # EventBridge redelivery
    assert again == {"counted": 0, "already_counted": 1, "ignored": False}
    (entry,) = [e for e in repository.ledger_entries("TEE-RED-M", "wh-a") if e.movement == "commit"]
    day = day_of(int(entry.created_at))
    assert counter("SALES#TEE-RED-M", day) == 2
    assert counter("SALESW#TEE-RED-M#wh-a", day) == 2
    assert counter("SALESC#TEE-RED-M#storefront", day) == 2

    assert storefront.post("/reservations/r1/ship").status == 200
    (shipped,) = stock_changed(aws, "ship")
    assert aggregate(shipped)["ignored"] is True                        # shipping is not demand again
    assert aggregate({**shipped, "cause": "reserve"})["ignored"] is True
    assert counter("SALES#TEE-RED-M", day) == 2


def test_a_paid_order_cancelled_before_shipping_is_taken_back_once_on_the_day_it_was_counted(stocked, storefront,
                                                                                              aws):
    from stocklink.logic.sales_history import day_of
    from stocklink.store import repository

    aws.drain()
    reserve(storefront, "paid", 2)
    reserve(storefront, "unpaid", 1)
    assert storefront.post("/reservations/paid/commit").status == 200
    (event,) = committed_events(aws.drain())
    assert aggregate(event, "reservation.committed")["counted"] == 1
    (entry,) = [e for e in repository.ledger_entries("TEE-RED-M", "wh-a") if e.movement == "commit"]
    day = day_of(int(entry.created_at))
    assert counter("SALES#TEE-RED-M", day) == 2

    assert storefront.post("/reservations/unpaid/release").status == 200     # never paid: no demand to undo
    (released,) = stock_changed(aws, "release")
    assert aggregate(released)["counted"] == 0
    assert counter("SALES#TEE-RED-M", day) == 2

    assert storefront.post("/reservations/paid/release").status == 200       # the buyer cancels after paying
    (cancelled,) = stock_changed(aws, "release")
    assert aggregate(cancelled)["counted"] == 1
    assert aggregate(cancelled)["counted"] == 0                                  # redelivered: once only
    assert counter("SALES#TEE-RED-M", day) == 0
    assert counter("SALESW#TEE-RED-M#wh-a", day) == 0
    assert counter("SALESC#TEE-RED-M#storefront", day) == 0


def test_lost_event_is_caught_up_reserve_as_committed_counts_and_return_counts_negative(stocked, storefront, aws):
    from stocklink.domain.stock import Line, Movement, ReservationStatus
    from stocklink.logic import reservations
    from stocklink.logic.sales_history import day_of
    from stocklink.store import repository
    from stocklink.store.transactions import StockOp, StockTransaction
    from stocklink.time import now_ms

    aws.drain()
    ship(storefront, "r1", 1)
    ship(storefront, "r2", 2)
    last = committed_events(aws.drain())[-1]
    assert aggregate(last, "reservation.committed")["counted"] == 2     # r1's event was "lost": r2's counts both

    # A paid platform order reserved as committed (wh-a is empty now: wh-b) publishes the event too.
    request = reservations.ReservationRequest("shopify:shop1:o7", "shopify", (Line("TEE-RED-M", 2),), "fp",
                                              "shopify:shop1", 0)
    reservations.reserve(request, actor="shopify:shop1", now_ms=now_ms(), status=ReservationStatus.COMMITTED)
    (paid,) = committed_events(aws.drain())
    assert paid["allocations"] == [{"sku": "TEE-RED-M", "warehouse_id": "wh-b", "qty": 2}]
    assert aggregate(paid, "reservation.committed")["counted"] == 1     # the commit entry, not the reserve one
    (paid_entry,) = [e for e in repository.ledger_entries("TEE-RED-M", "wh-b") if e.movement == "commit"]
    assert counter("SALESC#TEE-RED-M#shopify", day_of(int(paid_entry.created_at))) == 2

    returned_at = now_ms()   # ledger entry ids carry the real clock (entries older than the cursor are not re-read)
    txn = StockTransaction(actor="shopify:shop1", source="shopify#shop1#o9#returned#d1", reason="return",
                           now_ms=returned_at)
    txn.stock(StockOp("TEE-RED-M", "wh-a", Movement.RETURN, 1))
    txn.commit()
    ret = {"sku": "TEE-RED-M", "warehouse_id": "wh-a", "cause": "return", "source": "shopify:shop1"}
    assert aggregate(ret)["counted"] == 1
    assert aggregate(ret)["counted"] == 0
    commit_days = {day_of(int(e.created_at)) for e in repository.ledger_entries("TEE-RED-M", "wh-a")
                   if e.movement == "commit"}
    (commit_day,) = commit_days
    return_day = day_of(returned_at)
    if commit_day == return_day:                   # net demand of the day: 3 + 2 − 1
        assert counter("SALES#TEE-RED-M", commit_day) == 3 + 2 - 1
    else:
        assert counter("SALES#TEE-RED-M", return_day) == -1
    assert counter("SALESC#TEE-RED-M#storefront", commit_day) == 3
    assert counter("SALESC#TEE-RED-M#shopify", return_day) == -1 + (2 if commit_day == return_day else 0)
    # The cursor forgotten (e.g. two invocations racing): the markers still stop a second count.
    from stocklink.store.sales_models import ForecastItem
    ForecastItem("CURSOR#TEE-RED-M#wh-a", "-").delete()
    assert aggregate(last, "reservation.committed")["counted"] == 0
    assert counter("SALESC#TEE-RED-M#storefront", commit_day) == 3


# --- import --------------------------------------------------------------------------------------

def _all_items():
    from stocklink.store.sales_models import ForecastItem
    return list(ForecastItem.scan())


class _InProcessApi:
    """The CLI's Api, answered by the imports function in this process (as `stocklink import sales` would be)."""

    def __init__(self):
        from functions.imports_api.handler import handler
        from tests.integration.conftest import STAFF_TOKEN
        self.client = ApiClient(handler, STAFF_TOKEN)

    def json(self, method: str, path: str, *, query=None, body=None, content_type="application/json") -> dict:
        from infra.local.api_cli import ApiError
        answer = self.client.call(method, path, raw=body, query=query, headers={"Content-Type": content_type})
        if answer.status >= 400:
            raise ApiError(answer.status, answer.body)
        return answer.body


def test_import_with_a_bad_row_writes_nothing_then_good_file_imports_idempotently(aws, tmp_path):
    import io

    from infra.local import api_cli

    bad = tmp_path / "bad.csv"
    bad.write_text("sku,date,qty,channel,warehouse\nA,2025-05-01,3,shopify,wh-a\nA,2025-13-01,2,,\nB,2025-05-01,-1,,\n")
    args, err, out = SimpleNamespace(file=str(bad), dry_run=False), io.StringIO(), io.StringIO()
    assert api_cli.import_sales(args, api=_InProcessApi(), stderr=err, stdout=out) == 1
    err = err.getvalue()
    assert f"{bad}:3: date '2025-13-01'" in err and f"{bad}:4: qty" in err and "nothing was imported" in err
    assert _all_items() == []

    good = tmp_path / "good.csv"
    good.write_text("sku,date,qty,channel,warehouse\nA,2025-05-01,3,shopify,wh-a\nA,2025-05-01,2,tiktok,wh-a\n"
                    "B,2025-05-02,1,,\n")
    for _ in range(2):
        assert api_cli.import_sales(SimpleNamespace(file=str(good), dry_run=False), api=_InProcessApi(),
                                    stderr=io.StringIO(), stdout=out) == 0
        assert counter("SALES#A", "2025-05-01") == 5
        assert counter("SALESW#A#wh-a", "2025-05-01") == 5
        assert counter("SALESC#A#shopify", "2025-05-01") == 3
        assert counter("SALESC#A#tiktok", "2025-05-01") == 2
        assert counter("SALES#B", "2025-05-02") == 1
    assert "imported 3 rows for 2 SKUs" in out.getvalue()


# --- supplier settings, forecast runs, replenishment ---------------------------------------------

def _history(sku: str, daily, days: int = 150):
    """Rows ending on as_of (2025-06-01); daily(t) gives the units of day t (0 = oldest)."""
    from stocklink.forecasting.importer import SalesRow
    last = dt.date(2025, 6, 1)
    return [SalesRow(sku, last - dt.timedelta(days=days - 1 - t), float(daily(t))) for t in range(days)
            if daily(t)]


@pytest.fixture
def planned(staff, forecast_api):
    """Four SKUs: FAST (10/day, 30 in stock, 14-day lead time), STEADY (3/day, plenty in stock), MID
    (3/day, 20 in stock, lead time 4 ± 3 days: order, but no stock-out within the lead time), SLOW (no sale for 100 days)."""
    from stocklink.logic.sales_history import import_rows

    staff.put("/warehouses/wh-a", {"name": "A", "priority": 1})
    for sku, price, stock in (("FAST", 10.0, 30), ("STEADY", 5.0, 2000), ("MID", 4.0, 20), ("SLOW", 3.0, 80)):
        assert staff.put(f"/skus/{sku}", {"name": sku, "price": price}).status == 200
        staff.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": sku, "qty": stock}],
                                       "reference": f"PO-{sku}"})
    assert forecast_api.put("/skus/FAST/supplier", {"lead_time_days": 14, "lead_time_std_days": 2, "moq": 100,
                                                   "case_pack": 12, "price_breaks": [{"min_qty": 500, "unit_cost": 3.5},
                                                                                     {"min_qty": 1, "unit_cost": 4}]}).status == 200
    rows = (_history("FAST", lambda t: 10 + (t % 3)) + _history("STEADY", lambda t: 3)
            + _history("MID", lambda t: 2 + t % 3) + _history("SLOW", lambda t: 1 if t < 50 else 0))
    assert forecast_api.put("/skus/MID/supplier", {"lead_time_days": 4, "lead_time_std_days": 3}).status == 200
    import_rows(rows, NOW)
    return forecast_api


def test_forecast_run_pages_resumes_and_orders_replenishment_by_urgency(planned, aws):
    from stocklink.logic import forecasting_service as fs

    aws.drain()
    state = fs.run("daily-2025-06-01", NOW, page_size=2, has_time=lambda: False)
    assert (state["phase"], state["abc_pages"], state["skus"]) == ("abc", 1, 0) and state["cursor"]
    state = fs.run("daily-2025-06-01", NOW, page_size=2, has_time=lambda: False)
    # the revenue pass ends (catalogue-wide ABC cut points), then one forecast page per invocation
    assert (state["phase"], state["abc_pages"]) == ("forecast", 2)
    assert state["abc_cuts"] == {"A": [2250.0, "STEADY"], "B": [1800.0, "MID"]}
    assert (state["status"], state["skus"], state["pages"]) == ("running", 2, 1) and state["cursor"]
    assert planned.get("/replenishment").body["run_id"] is None       # not finished: no suggestions shown
    state = fs.run("daily-2025-06-01", NOW, page_size=2)              # continues from the stored cursor
    assert (state["status"], state["skus"]) == ("done", 4)
    assert fs.run("daily-2025-06-01", NOW)["skus"] == 4               # a finished run is not redone

    # Classes over the whole catalogue (revenue FAST 16500, STEADY 2250, MID 1800, SLOW 150 of 20700:
    # 80 % is reached with FAST + STEADY, 95 % with MID). Ranked within its page {SLOW, STEADY} SLOW
    # would have been B (150 of 2400 is the last 6.25 %).
    classes = {s: planned.get(f"/forecasts/{s}").body["abc_class"] for s in ("FAST", "STEADY", "MID", "SLOW")}
    assert classes == {"FAST": "A", "STEADY": "A", "MID": "B", "SLOW": "C"}

    fast = planned.get("/forecasts/FAST")
    assert fast.status == 200 and fast.body["as_of"] == "2025-06-01" and len(fast.body["forecast"]) == 90
    assert 9 < fast.body["forecast"][0] < 13
    assert fast.body["stockout_within_lead_time"] is True and fast.body["stockout_date"] <= "2025-06-15"
    qty = fast.body["suggested_order_qty"]
    assert qty >= 100 and qty % 12 == 0
    assert planned.get("/forecasts/NOPE").status == 404

    repl = planned.get("/replenishment").body
    assert repl["run_id"] == "daily-2025-06-01"
    skus = [s["sku"] for s in repl["suggestions"]]
    assert skus == ["FAST", "MID"]
    flags = [s["stockout_within_lead_time"] for s in repl["suggestions"]]
    assert flags == sorted(flags, reverse=True)                        # risks first
    page = planned.get("/replenishment", query={"limit": "1"}).body
    assert [s["sku"] for s in page["suggestions"]] == ["FAST"] and page["next"]
    rest = planned.get("/replenishment", query={"limit": "10", "next": page["next"]}).body
    assert [s["sku"] for s in rest["suggestions"]] == skus[1:]

    events = aws.drain()
    by_type = {}
    for e in events:
        by_type.setdefault(e["detail-type"], set()).add(e["detail"]["sku"])
    assert by_type.get("forecast.stockout_risk") == {"FAST"}
    assert by_type.get("forecast.burst", set()) == set()
    assert "SLOW" in by_type.get("forecast.slow_mover", set())
    assert "STEADY" not in set().union(*by_type.values())


def test_spike_on_the_last_day_publishes_a_burst_and_steady_sales_do_not(staff, forecast_api, aws):
    """SPIKE sells 2/day for 149 days then 300 on as_of; CALM alternates 1, 3 and sells 3 on as_of.
    Against the model fitted before as_of SPIKE is Poisson(2) → P(X ≥ 300) ≈ 0 → burst; CALM's 3 is
    well inside its spread (μ ≈ 2, σ ≈ 1)."""
    from stocklink.logic import forecasting_service as fs
    from stocklink.logic.sales_history import import_rows

    staff.put("/warehouses/wh-a", {"name": "A", "priority": 1})
    for sku in ("SPIKE", "CALM"):
        assert staff.put(f"/skus/{sku}", {"name": sku, "price": 5.0}).status == 200
        staff.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": sku, "qty": 500}],
                                       "reference": f"PO-{sku}"})
    import_rows(_history("SPIKE", lambda t: 300 if t == 149 else 2)
                + _history("CALM", lambda t: 1 if t % 2 == 0 else 3), NOW)
    aws.drain()
    assert fs.run("daily-2025-06-01", NOW)["status"] == "done"
    bursts = [e["detail"] for e in aws.drain() if e["detail-type"] == "forecast.burst"]
    assert [b["sku"] for b in bursts] == ["SPIKE"]
    assert bursts[0]["burst_tail_prob"] < 1e-6
    assert forecast_api.get("/forecasts/CALM").body["burst"] is False


def test_routes_need_staff_token_and_run_on_demand_goes_through_the_bus(planned, aws):
    from functions.forecast.handler import handler as forecast_handler

    planned.token = None
    assert planned.get("/replenishment").status == 401
    assert planned.put("/skus/FAST/supplier", {"lead_time_days": 3}).status == 401
    planned.token = STOREFRONT_TOKEN
    assert planned.put("/skus/FAST/supplier", {"lead_time_days": 3}).status == 403
    assert planned.post("/forecasts/run").status == 403
    planned.token = STAFF_TOKEN
    bad = planned.put("/skus/FAST/supplier", {"lead_time_days": 3, "moq": 0})
    assert bad.status == 400 and bad.body["field"] == "moq"
    assert planned.put("/skus/NOPE/supplier", {"lead_time_days": 3}).status == 404
    assert planned.get("/skus/FAST/supplier").body["moq"] == 100

    aws.drain()
    started = planned.post("/forecasts/run")
    assert started.status == 202 and started.body["status"] == "queued"
    (requested,) = [e for e in aws.drain() if e["detail-type"] == "forecast.requested"]
    assert requested["detail"]["run_id"] == started.body["run_id"]
    out = forecast_handler(requested, LambdaContext())
    assert out["status"] == "done" and out["skus"] == 4 and out["run_id"] == started.body["run_id"]
    assert planned.get("/replenishment").body["run_id"] == started.body["run_id"]


def test_history_starts_when_stocked_and_stock_out_days_are_censored(staff, forecast_api, aws):
    """NEW was launched (catalogue launch_date) 28 days before as_of and first sold 7 days later: its
    history has 28 days, 21 with a sale (ADI 28/21), not 21 of 21 (from the first sale). OUT sells 4/day for 60
    days but was out of stock (marked) for the last 10 of them, 2 of which with no sale: its forecast
    stays near 4, not the mean dragged down by the empty shelf."""
    from stocklink.logic import forecasting_service as fs
    from stocklink.logic.sales_history import import_rows
    from stocklink.store import sales_models

    staff.put("/warehouses/wh-a", {"name": "A", "priority": 1})
    assert staff.put("/skus/NEW", {"name": "NEW", "price": 5.0, "launch_date": "2025-05-05"}).status == 200
    assert staff.put("/skus/OUT", {"name": "OUT", "price": 5.0}).status == 200
    import_rows(_history("NEW", lambda t: 3, days=21) + _history("OUT", lambda t: 4 if t < 50 else 0, days=60),
                NOW)
    for k in range(10):
        sales_models.mark_stockout("OUT", None, (dt.date(2025, 6, 1) - dt.timedelta(days=k)).isoformat(), NOW)
    aws.drain()
    state = fs.run("daily-2025-06-01", NOW)
    assert state["status"] == "done"
    assert state["bias_by_class"]["all"]["skus"] == 2     # the run reports its backtests' bias per class
    new = forecast_api.get("/forecasts/NEW").body
    out = forecast_api.get("/forecasts/OUT").body
    assert new["adi"] == pytest.approx(28 / 21, abs=1e-3)
    assert sum(out["forecast"][:7]) == pytest.approx(4 * 7, rel=0.1)


def test_a_paged_run_gives_a_new_sku_its_categorys_week_from_other_pages(staff, aws):
    """Pages of 3 SKUs sorted by id: the new toy (10 days) shares its page with tools only, its category's
    established SKUs sit on later pages. Its forecast is the one a single page of the whole catalogue
    gives it (the first pass's group statistics), with the toys' Saturday peak. Two toys of 3 weeks, whose
    hold-outs are too short to choose on alone, sit on the first and the last catalog page: the run
    forecasts them in one page (its plan), so they choose together as in the single page."""
    from stocklink.logic import forecasting_service as fs
    from stocklink.logic.sales_history import import_rows
    from stocklink.store import sales_models

    last = dt.date(2025, 6, 1)
    toy_week, tool_week = [1, 1, 1, 1, 2, 6, 2], [3, 3, 3, 3, 2, 0, 0]
    rows = _history("a-new-toy", lambda t: toy_week[(last - dt.timedelta(days=9 - t)).weekday()], days=10)
    skus = {"a-new-toy": "toys"}
    for k in range(2):
        skus[f"b-tool-{k}"] = "tools"
        rows += _history(f"b-tool-{k}", lambda t: tool_week[(last - dt.timedelta(days=119 - t)).weekday()], 120)
    for k in range(4):
        skus[f"c-toy-{k}"] = "toys"
        rows += _history(f"c-toy-{k}", lambda t, k=k: (k + 1) * toy_week[(last - dt.timedelta(days=119 - t)).weekday()],
                         120)
    # the first toy took off in its third week, the second sells steadily (both erratic: one choice group)
    for sku, daily in (("a-young-toy", lambda t: 1 if t < 14 else 8), ("z-young-toy", lambda t: 6 if t % 2 else 1)):
        skus[sku] = "toys"
        rows += _history(sku, daily, days=21)
    for sku, category in skus.items():
        assert staff.put(f"/skus/{sku}", {"name": sku, "price": 5.0, "category": category}).status == 200
    import_rows(rows, NOW)
    aws.drain()
    forecasts = {}
    for run_id, page_size in (("manual-one-page", 100), ("manual-paged", 3), ("manual-cut-short", 3)):
        state = fs.run(run_id, NOW, page_size=page_size)
        while run_id == "manual-cut-short" and state["status"] != "done":   # one page per invocation
            state = fs.run(run_id, NOW, page_size=page_size, has_time=lambda: False)
        assert state["status"] == "done" and state["skus"] == len(skus)   # each SKU forecast once
        forecasts[run_id] = {sku: sales_models.get_result(sku) for sku in ("a-new-toy", "a-young-toy", "z-young-toy")}
    for sku in ("a-new-toy", "a-young-toy", "z-young-toy"):
        one = forecasts["manual-one-page"][sku]
        for paged in (forecasts["manual-paged"][sku], forecasts["manual-cut-short"][sku]):
            assert paged["forecast"] == pytest.approx(one["forecast"], rel=1e-6), sku
            assert paged["method"] == one["method"] and paged["params"] == one["params"], sku
    assert forecasts["manual-paged"]["a-young-toy"]["method"] == forecasts["manual-paged"]["z-young-toy"]["method"]
    week = forecasts["manual-paged"]["a-new-toy"]["forecast"][:7]
    saturday = [(last + dt.timedelta(days=1 + h)).weekday() for h in range(7)].index(5)
    assert week[saturday] > 2 * sorted(week)[3]

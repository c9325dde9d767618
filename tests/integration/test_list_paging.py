"""Every list endpoint pages: `limit` (default 100, 1..1000, else 400) and the opaque `cursor` from the
previous answer's `next`. Paging through more items than a page returns each exactly once, in the order
of the unpaged list; a tampered or foreign cursor is a 400, never a 500."""
from __future__ import annotations

import base64
import json

import pytest

from tests.integration.apigw import ApiClient
from tests.integration.conftest import STAFF_TOKEN

SKU = "TEE-RED-M"


@pytest.fixture
def alerts_api(aws) -> ApiClient:
    from functions.alerts_api.handler import handler
    return ApiClient(handler, STAFF_TOKEN)


@pytest.fixture
def forecast_api(aws) -> ApiClient:
    from functions.forecast_api.handler import handler
    return ApiClient(handler, STAFF_TOKEN)


def all_pages(client: ApiClient, path: str, field: str, limit: int, query: dict | None = None) -> list:
    """Every item, following `next` until it is null; each page holds at most `limit` items."""
    items, cursor, pages = [], None, 0
    while True:
        answer = client.get(path, query={**(query or {}), "limit": str(limit),
                                         **({"cursor": cursor} if cursor else {})})
        assert answer.status == 200, answer.body
        assert len(answer.body[field]) <= limit
        items += answer.body[field]
        pages += 1
        cursor = answer.body["next"]
        if cursor is None:
            return items
        assert pages < 100, "paging does not end"


def ids(items: list[dict], key: str) -> list:
    return [item[key] for item in items]


# --- each list: paging returns every item exactly once --------------------------------------------------

def test_ledger_pages_over_every_warehouse_in_entry_order(stocked):
    for n in range(6):        # 2 receipts from the fixture + 12 adjustments over both warehouses
        for wid in ("wh-a", "wh-b"):
            assert stocked.post("/stock/adjustments", {"warehouse_id": wid, "sku": SKU, "delta": 1,
                                                       "reason": f"count {n}"}).status == 201
    whole = stocked.get("/ledger", query={"sku": SKU, "limit": "1000"}).body
    assert len(whole["entries"]) == 14 and whole["next"] is None
    assert ids(whole["entries"], "entry_id") == sorted(ids(whole["entries"], "entry_id"))
    for limit in (1, 3, 5, 14):
        assert ids(all_pages(stocked, "/ledger", "entries", limit, {"sku": SKU}), "entry_id") == \
            ids(whole["entries"], "entry_id")
    one = all_pages(stocked, "/ledger", "entries", 4, {"sku": SKU, "warehouse_id": "wh-b"})
    assert ids(one, "entry_id") == [e["entry_id"] for e in whole["entries"] if e["warehouse_id"] == "wh-b"]


def test_ledger_merge_keeps_entries_of_the_same_id_in_two_warehouses(stocked):
    """Entry ids are unique per stream only: an id shared by two warehouses' entries is listed for both."""
    from stocklink.store.models import LedgerEntry

    for wid in ("wh-a", "wh-b"):
        LedgerEntry(f"{SKU}#{wid}", "9999999999999-same", sku=SKU, warehouse_id=wid, movement="adjust", qty=0,
                    on_hand_delta=0, reserved_delta=0, available_delta=0, actor="t", reason="t", source="t",
                    created_at=1).save()
    listed = all_pages(stocked, "/ledger", "entries", 1, {"sku": SKU})
    assert [(e["entry_id"], e["warehouse_id"]) for e in listed][-2:] == [
        ("9999999999999-same", "wh-a"), ("9999999999999-same", "wh-b")]
    assert len(listed) == 4


def test_events_page_newest_first(staff):
    from stocklink.store import repository
    from stocklink.store.models import InboundEvent

    for n in range(23):       # ties on received_at: the index key alone cannot order them
        repository.record_event(InboundEvent(
            f"shopify#s1#O-{n:02d}#created#-", kind="order.created", status="unmapped",
            status_index="unmapped", received_at=f"2024-05-01T10:00:{n // 2:02d}Z", platform="shopify",
            shop="s1", order_id=f"O-{n:02d}"))
    whole = staff.get("/events", query={"status": "unmapped", "limit": "1000"}).body["events"]
    assert len(whole) == 23 and ids(whole, "received_at") == sorted(ids(whole, "received_at"), reverse=True)
    paged = all_pages(staff, "/events", "events", 4, {"status": "unmapped"})
    assert ids(paged, "event_key") == ids(whole, "event_key")


def test_sync_failures_and_reconciliation_history_page(staff):
    from stocklink.store import reconcile_models, sync_models

    for n in range(12):
        sync_models.record_failure("lazada", "s1", f"L{n}", {"error": "HTTP 500", "quantity": n},
                                   1_000_000 + n)
        reconcile_models.save_report(2_000_000 + n * 30_000, {"started_at": 2_000_000 + n * 30_000})
    failures = all_pages(staff, "/sync/failures", "failures", 5)
    assert ids(failures, "listing_id") == [f"L{n}" for n in reversed(range(12))]
    passes = all_pages(staff, "/reconciliation/history", "passes", 5)
    assert ids(passes, "started_at") == [2_000_000 + n * 30_000 for n in reversed(range(12))]


def test_warehouses_page_in_id_order_and_by_priority_within_a_page(staff):
    for n in range(7):
        assert staff.put(f"/warehouses/wh-{n}", {"name": f"W{n}", "priority": 10 - n}).status == 200
    paged = all_pages(staff, "/warehouses", "warehouses", 3)
    assert sorted(ids(paged, "warehouse_id")) == [f"wh-{n}" for n in range(7)]
    assert len(paged) == 7
    first = staff.get("/warehouses", query={"limit": "3"}).body["warehouses"]
    assert ids(first, "warehouse_id") == ["wh-2", "wh-1", "wh-0"]     # wh-0..2 by priority


def test_alerts_rules_and_subscriptions_page(alerts_api):
    from stocklink.alerts.levels import Level
    from stocklink.alerts.state import AlertKey, AlertState
    from stocklink.store import alert_models as store

    for n in range(9):
        state = AlertState(AlertKey("low_stock", f"SKU-{n}"), level=Level.ORANGE, since=1, last_at=1,
                           acked_level=Level.ORANGE if n % 3 == 0 else Level.NONE)
        store.save_state(state, expected_version=None, now_ms=5_000 + n // 2)    # ties on updated_at
        store.save_rule("sku", f"SKU-{n}", {"safety_stock": n}, 5_000 + n)
        store.save_subscription(f"sub-{n}", {"id": f"sub-{n}", "protocol": "email"}, 5_000 + n)

    def alert_ids(status: str, limit: int) -> list[str]:
        return ids(all_pages(alerts_api, "/alerts", "alerts", limit, {"status": status}), "id")

    everything = alert_ids("all", 1000)
    assert sorted(everything) == sorted(f"low_stock#SKU-{n}#all" for n in range(9))
    assert alert_ids("all", 2) == everything
    acked = alert_ids("acked", 2)          # filtered pages are filled from the following alerts
    assert sorted(acked) == [f"low_stock#SKU-{n}#all" for n in (0, 3, 6)]
    assert sorted(alert_ids("unacked", 2) + acked) == sorted(everything)
    assert alerts_api.get("/alerts", query={"status": "acked", "limit": "2"}).body["count"] == 2

    rules, cursor = {}, None
    while True:
        query = {"limit": "4", **({"cursor": cursor} if cursor else {})}
        body = alerts_api.get("/alert-rules", query=query).body
        assert set(body["sku"]).isdisjoint(rules) and len(body["sku"]) <= 4 and body["defaults"]
        rules.update(body["sku"])
        if (cursor := body["next"]) is None:
            break
    assert rules == {f"SKU-{n}": {"safety_stock": n} for n in range(9)}
    subs = all_pages(alerts_api, "/subscriptions", "subscriptions", 4)
    assert sorted(ids(subs, "id")) == [f"sub-{n}" for n in range(9)] and len(subs) == 9


# --- bad limits and cursors are 400s ----------------------------------------------------------------------

LISTS = [
    ("staff", "/ledger", {"sku": SKU}),
    ("staff", "/events", {"status": "unmapped"}),
    ("staff", "/sync/failures", {}),
    ("staff", "/reconciliation/history", {}),
    ("staff", "/warehouses", {}),
    ("alerts", "/alerts", {"status": "all"}),
    ("alerts", "/alert-rules", {}),
    ("alerts", "/subscriptions", {}),
    ("forecast", "/replenishment", {}),
]


def _b64(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.fixture
def clients(stocked, alerts_api, forecast_api):
    from stocklink.store import sales_models

    sales_models.set_latest_run("run-1", 1)           # so /replenishment reads a page (of nothing)
    return {"staff": stocked, "alerts": alerts_api, "forecast": forecast_api}


def test_a_limit_out_of_range_is_a_400_on_every_list(clients):
    for limit in ("0", "1001", "-1", "abc", "1.5", " 5", "99999999"):
        for who, path, query in LISTS:
            answer = clients[who].get(path, query={**query, "limit": limit})
            assert answer.status == 400, (path, limit, answer.body)
            assert answer.body["field"] == "limit"


def test_the_default_and_the_bounds_of_limit(clients):
    from stocklink.logic.paging import DEFAULT_LIMIT, MAX_LIMIT, page_request

    assert (DEFAULT_LIMIT, MAX_LIMIT) == (100, 1000)
    assert page_request(None).limit == 100 and page_request({"limit": "1000"}).limit == 1000
    for who, path, query in LISTS:
        assert clients[who].get(path, query={**query, "limit": "1"}).status == 200, path
        assert clients[who].get(path, query={**query, "limit": "1000"}).status == 200, path


BAD_CURSORS = {
    "not base64": "%%%not-a-cursor%%%",
    "padding": "eyJ9",
    "not json": base64.urlsafe_b64encode(b"\xff\xfe garbage").decode().rstrip("="),
    "a list": _b64(["pk", "sk"]),
    "a string": _b64("hello"),
    "no types": _b64({"stream": "x", "entry_id": "y"}),
    "extra attribute": _b64({"pk": {"S": "a"}, "sk": {"S": "b"}, "x": {"S": "c"}}),
    "wrong type": _b64({"pk": {"N": "1"}, "sk": {"S": "b"}}),
    "too long": "A" * 5000,
}


def test_a_tampered_cursor_is_a_400_on_every_list(clients):
    for name, cursor in BAD_CURSORS.items():
        for who, path, query in LISTS:
            answer = clients[who].get(path, query={**query, "cursor": cursor})
            assert answer.status == 400, (path, name, answer.body)
            assert answer.body["field"] == "cursor"


def test_a_cursor_of_another_list_or_partition_is_a_400(stocked):
    from stocklink.store import sync_models

    for n in range(3):
        sync_models.record_failure("lazada", "s1", f"L{n}", {"error": "HTTP 500"}, 1_000_000 + n)
        assert stocked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": 1,
                                                   "reason": "count"}).status == 201
    stocked.put("/skus/CAP-BLUE", {"name": "Blue cap"})
    stocked.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-CAP",
                                     "lines": [{"sku": "CAP-BLUE", "qty": 1}]})
    failures_next = stocked.get("/sync/failures", query={"limit": "1"}).body["next"]
    ledger_next = stocked.get("/ledger", query={"sku": SKU, "limit": "1"}).body["next"]
    assert failures_next and ledger_next
    assert stocked.get("/ledger", query={"sku": SKU, "cursor": failures_next}).status == 400
    assert stocked.get("/sync/failures", query={"cursor": ledger_next}).status == 400
    assert stocked.get("/ledger", query={"sku": "CAP-BLUE", "cursor": ledger_next}).status == 400
    # a forged key of the right shape in another partition is refused before DynamoDB sees it
    forged = _b64({"pk": {"S": "SHOP"}, "sk": {"S": "lazada#s1"}})
    assert stocked.get("/sync/failures", query={"cursor": forged}).status == 400
    assert stocked.get("/ledger", query={"sku": SKU, "cursor": ledger_next}).status == 200

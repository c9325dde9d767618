"""Requests larger than one DynamoDB transaction (100 items) on moto: never a 500. A receipt is booked in
parts (each idempotent by reference + part), a storefront hold is bounded (400 above), and a platform order
that cannot fit is recorded as needing attention (its lines kept, an alert event, 200 to the platform)."""
import base64
import hashlib
import hmac
import json

import pytest

from stocklink import time_budget
from stocklink.store import repository
from tests.integration.conftest import as_admin
from tests.integration.test_alerting import alert_fn, topic  # noqa: F401 (fixtures)
from tests.integration.test_shopify_webhooks import triggered_now
from tests.transaction_conflicts import ConflictInjector

SECRET = "shpss_test_secret"
SHOP = "acme.myshopify.com"


def _skus(staff, count, prefix="SKU"):
    names = [f"{prefix}-{n:03d}" for n in range(count)]
    for name in names:
        assert staff.put(f"/skus/{name}", {"name": name}).status == 200
    return names


def _warehouses(staff, *names):
    for priority, name in enumerate(names, start=1):
        assert staff.put(f"/warehouses/{name}", {"name": name, "priority": priority}).status == 200


def _on_hand(staff, sku):
    return staff.get(f"/skus/{sku}/stock").body["totals"]["on_hand"]


# --- receipts ---------------------------------------------------------------------------------------

def test_a_receipt_of_50_skus_is_booked_in_two_parts_once(staff, aws):
    _warehouses(staff, "wh-a")
    skus = _skus(staff, 50)
    body = {"warehouse_id": "wh-a", "reference": "PO-50", "lines": [{"sku": s, "qty": 2} for s in skus]}
    first = staff.post("/stock/receipts", body)
    assert first.status == 201, first.body
    assert first.body["duplicate"] is False and len(first.body["lines"]) == 50
    assert all(_on_hand(staff, s) == 2 for s in (skus[0], skus[48], skus[49]))
    again = staff.post("/stock/receipts", body)
    assert again.status == 200 and again.body["duplicate"] is True
    assert _on_hand(staff, skus[49]) == 2
    other = staff.post("/stock/receipts", {**body, "lines": [{"sku": s, "qty": 3} for s in skus]})
    assert other.status == 400 and other.body["error"] == "validation_error"
    assert _on_hand(staff, skus[0]) == 2
    ledger = staff.get("/ledger", query={"sku": skus[49]}).body["entries"]
    assert [e["source"] for e in ledger] == ["receipt#wh-a#PO-50"]


def test_a_receipt_retried_after_its_second_part_failed_books_only_that_part(staff, monkeypatch):
    _warehouses(staff, "wh-a")
    skus = _skus(staff, 60)
    body = {"warehouse_id": "wh-a", "reference": "PO-60", "lines": [{"sku": s, "qty": 1} for s in skus]}
    monkeypatch.setattr(time_budget, "DEFAULT_S", 0.2)
    injector = ConflictInjector(always=True, pass_first=1).install(monkeypatch)
    from tests.integration import apigw
    monkeypatch.setattr(apigw.LambdaContext, "get_remaining_time_in_millis", lambda self: 1_300)
    failed = staff.post("/stock/receipts", body)
    assert failed.status == 503, failed.body        # part 1 booked, part 2 kept colliding
    assert (_on_hand(staff, skus[0]), _on_hand(staff, skus[59])) == (1, 0)
    injector.always = False
    retried = staff.post("/stock/receipts", body)
    assert retried.status == 201 and retried.body["duplicate"] is False
    assert all(_on_hand(staff, s) == 1 for s in (skus[0], skus[48], skus[49], skus[59]))
    assert staff.post("/stock/receipts", body).body["duplicate"] is True
    assert _on_hand(staff, skus[0]) == 1


def test_a_receipt_booked_whole_before_parts_existed_still_replays(staff):
    _warehouses(staff, "wh-a")
    skus = _skus(staff, 3)
    body = {"warehouse_id": "wh-a", "reference": "PO-OLD", "lines": [{"sku": s, "qty": 5} for s in skus]}
    from stocklink.store.models import InboundEvent
    # the marker as receipts wrote it before: key receipt#<warehouse>#<reference>, no part in its outcome
    InboundEvent("receipt#wh-a#PO-OLD", kind="stock.receipt", status="applied", received_at="2026-01-01",
                 outcome={"warehouse_id": "wh-a", "reference": "PO-OLD",
                          "lines": [{"sku": s, "qty": 5} for s in skus]}).save()
    again = staff.post("/stock/receipts", body)
    assert again.status == 200 and again.body["duplicate"] is True
    assert _on_hand(staff, skus[0]) == 0


# --- storefront holds --------------------------------------------------------------------------------

def _stock_two_warehouses(staff, skus, per_warehouse):
    for wh in ("wh-a", "wh-b"):
        staff.post("/stock/receipts", {"warehouse_id": wh, "reference": f"PO-{wh}",
                                       "lines": [{"sku": s, "qty": per_warehouse} for s in skus]})


def test_a_30_line_hold_is_400_and_24_lines_split_over_two_warehouses_fit(staff, storefront):
    _warehouses(staff, "wh-a", "wh-b")
    skus = _skus(staff, 30)
    _stock_two_warehouses(staff, skus, 1)
    refused = storefront.post("/reservations", {"reservation_id": "web-30", "channel": "web",
                                                "lines": [{"sku": s, "qty": 2} for s in skus]})
    assert refused.status == 400 and refused.body["field"] == "lines"
    assert "24" in refused.body["message"]
    held = storefront.post("/reservations", {"reservation_id": "web-24", "channel": "web",
                                             "lines": [{"sku": s, "qty": 2} for s in skus[:24]]})
    assert held.status == 201, held.body
    assert len(held.body["allocations"]) == 48
    assert staff.get(f"/skus/{skus[0]}/stock").body["totals"]["reserved"] == 2


def test_a_hold_that_would_need_a_third_warehouse_past_the_limit_is_400_and_writes_nothing(staff, storefront):
    _warehouses(staff, "wh-a", "wh-b", "wh-c")
    skus = _skus(staff, 24)
    for wh in ("wh-a", "wh-b", "wh-c"):
        staff.post("/stock/receipts", {"warehouse_id": wh, "reference": f"PO-{wh}",
                                       "lines": [{"sku": s, "qty": 1} for s in skus]})
    refused = storefront.post("/reservations", {"reservation_id": "web-3wh", "channel": "web",
                                                "lines": [{"sku": s, "qty": 3} for s in skus]})
    assert refused.status == 400 and refused.body["error"] == "too_large"
    assert refused.body["needed"] == 72 and refused.body["limit"] == 49
    assert storefront.get("/reservations/web-3wh").status == 404
    assert staff.get(f"/skus/{skus[0]}/stock").body["totals"]["reserved"] == 0


def test_a_hold_past_the_limit_in_priority_order_fits_with_fewer_splits(staff, storefront):
    _warehouses(staff, "wh-a", "wh-b", "wh-c")
    skus = _skus(staff, 24)
    for wh, qty in (("wh-a", 1), ("wh-b", 1), ("wh-c", 5)):
        staff.post("/stock/receipts", {"warehouse_id": wh, "reference": f"PO-{wh}",
                                       "lines": [{"sku": s, "qty": qty} for s in skus]})
    # in priority order every line would take 1 + 1 + 1 (72 pairs); wh-c alone covers each line
    held = storefront.post("/reservations", {"reservation_id": "web-f", "channel": "web",
                                             "lines": [{"sku": s, "qty": 3} for s in skus]})
    assert held.status == 201, held.body
    assert {a["warehouse_id"] for a in held.body["allocations"]} == {"wh-c"}
    assert len(held.body["allocations"]) == 24


# --- platform orders ---------------------------------------------------------------------------------

def _shopify(webhooks, order_id, lines, topic="orders/create", paid=True, webhook_id=None):
    body = json.dumps({"id": order_id, "name": f"#{order_id}", "financial_status": "paid" if paid else "pending",
                       "created_at": "2026-11-24T10:00:00-05:00", "currency": "USD", "fulfillment_status": None,
                       "line_items": [{"id": n, "variant_id": n, "sku": sku, "quantity": qty, "price": "1.00"}
                                      for n, (sku, qty) in enumerate(lines, start=1)]}).encode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return webhooks.post(f"/webhooks/shopify/{SHOP}", raw=body, headers={
        "X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": signature, "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Webhook-Id": webhook_id or f"{topic}-{order_id}", "X-Shopify-API-Version": "2025-10",
        "X-Shopify-Triggered-At": triggered_now()})


@pytest.fixture
def shop(staff):
    _warehouses(staff, "wh-a")
    skus = _skus(staff, 34)
    staff.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-1",
                                   "lines": [{"sku": s, "qty": 10} for s in skus]})
    assert as_admin(staff).put(f"/shops/shopify/{SHOP}", {"webhook_secret": SECRET}).status == 200
    return skus


def test_a_paid_order_of_34_skus_needs_attention_answered_200(shop, staff, webhooks, alert_fn):
    alert_fn.pump()
    answer = _shopify(webhooks, 5001, [(s, 1) for s in shop])
    assert answer.status == 200, answer.body
    outcome = answer.body["outcomes"][0]
    assert outcome["status"] == "needs_attention" and "34 SKUs" in outcome["reason"]
    assert staff.get(f"/skus/{shop[0]}/stock").body["totals"]["reserved"] == 0
    assert repository.get_reservation(f"shopify:{SHOP}:5001") is None
    listed = staff.get("/events", query={"status": "needs_attention"}).body["events"]
    assert [e["order_id"] for e in listed] == ["5001"]
    assert listed[0]["detail"]["lines"] == [{"sku": s, "qty": 1} for s in shop]
    # the alert path: order.needs_attention on the bus, graded red by the alert function
    alerts = alert_fn.pump()
    assert [(a["key"], a["severity"]) for a in alerts] == [
        (f"order_needs_attention#*#order:shopify:{SHOP}:5001", "red")]
    redelivered = _shopify(webhooks, 5001, [(s, 1) for s in shop], webhook_id="again")
    assert redelivered.status == 200 and redelivered.body["outcomes"][0]["duplicate"] is True
    assert len(staff.get("/events", query={"status": "needs_attention"}).body["events"]) == 1
    assert alert_fn.pump() == []


def test_a_paid_order_of_32_skus_still_fits(shop, staff, webhooks):
    answer = _shopify(webhooks, 5002, [(s, 1) for s in shop[:32]])
    assert answer.status == 200 and answer.body["outcomes"][0]["status"] == "applied"
    assert staff.get(f"/skus/{shop[0]}/stock").body["totals"]["reserved"] == 1


def test_an_unpaid_order_of_34_skus_is_held(shop, staff, webhooks):
    answer = _shopify(webhooks, 5003, [(s, 1) for s in shop], paid=False)
    assert answer.status == 200 and answer.body["outcomes"][0]["reservation_status"] == "held"

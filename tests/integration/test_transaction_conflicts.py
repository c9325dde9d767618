"""Transaction conflicts through the API on moto (injected: tests/transaction_conflicts.py). A conflict is
retried with backoff within the invocation's time budget and never answered as insufficient stock or
recorded as an oversell; one that outlasts the budget is a retryable 503 with Retry-After and writes
nothing. A failed condition (the pool really short) is still a 409, at once."""
import base64
import hashlib
import hmac
import json

import pytest

from stocklink import time_budget
from stocklink.store import repository
from tests.integration import apigw
from tests.integration.conftest import as_admin
from tests.integration.test_shopify_webhooks import triggered_now
from tests.transaction_conflicts import ConflictInjector

SECRET = "shpss_test_secret"
SHOP = "acme.myshopify.com"
SKU = "TEE-RED-M"


@pytest.fixture
def conflicts(stocked, monkeypatch):
    """Six units (3 in wh-a, 3 in wh-b); transactions from now on pass through the injector."""
    assert as_admin(stocked).put(f"/shops/shopify/{SHOP}", {"webhook_secret": SECRET}).status == 200
    return ConflictInjector().install(monkeypatch)


@pytest.fixture
def short_budget(monkeypatch):
    """A Lambda with 1.5 s left: retries stop after 0.5 s (1 s is kept back to answer)."""
    monkeypatch.setattr(apigw.LambdaContext, "get_remaining_time_in_millis", lambda self: 1_500)


def _paid_order(webhooks, order_id, qty=1, webhook_id=None):
    body = json.dumps({"id": order_id, "name": f"#{order_id}", "financial_status": "paid", "currency": "USD",
                       "created_at": "2026-11-24T10:00:00-05:00", "fulfillment_status": None,
                       "line_items": [{"id": 1, "variant_id": 1, "sku": SKU, "quantity": qty, "price": "9.00"}]})
    signature = base64.b64encode(hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).digest()).decode()
    return webhooks.post(f"/webhooks/shopify/{SHOP}", raw=body.encode(), headers={
        "X-Shopify-Topic": "orders/create", "X-Shopify-Hmac-Sha256": signature, "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Webhook-Id": webhook_id or f"w-{order_id}", "X-Shopify-API-Version": "2025-10",
        "X-Shopify-Triggered-At": triggered_now()})


def _totals(staff):
    totals = staff.get(f"/skus/{SKU}/stock").body["totals"]
    return totals["on_hand"], totals["reserved"], totals["available"]


def test_a_hold_outlasting_a_burst_of_conflicts_is_made(conflicts, storefront, staff):
    conflicts.first = 8     # more than the six re-plans that used to end in "insufficient stock"
    answer = storefront.post("/reservations", {"reservation_id": "web-1", "channel": "web",
                                               "lines": [{"sku": SKU, "qty": 2}]})
    assert answer.status == 201, answer.body
    assert conflicts.injected == 8
    assert _totals(staff) == (6, 2, 4)


def test_conflicts_outlasting_the_budget_answer_503_with_retry_after_and_write_nothing(
        conflicts, storefront, staff, short_budget):
    conflicts.always = True
    answer = storefront.post("/reservations", {"reservation_id": "web-1", "channel": "web",
                                               "lines": [{"sku": SKU, "qty": 2}]})
    assert answer.status == 503, answer.body
    assert answer.body["error"] == "busy" and answer.headers.get("Retry-After") == "1"
    assert conflicts.injected >= 3     # retried with backoff before giving up
    conflicts.always = False
    assert _totals(staff) == (6, 0, 6)
    assert storefront.get("/reservations/web-1").status == 404
    retried = storefront.post("/reservations", {"reservation_id": "web-1", "channel": "web",
                                                "lines": [{"sku": SKU, "qty": 2}]})
    assert retried.status == 201


def test_a_real_shortage_is_409_without_waiting(conflicts, storefront):
    answer = storefront.post("/reservations", {"reservation_id": "web-1", "channel": "web",
                                               "lines": [{"sku": SKU, "qty": 7}]})
    assert answer.status == 409 and answer.body["error"] == "insufficient_stock"
    assert conflicts.calls == 0        # refused from the consistent read, no transaction sent


def test_a_paid_order_outlasting_a_burst_of_conflicts_is_applied_not_oversold(conflicts, webhooks, staff):
    conflicts.first = 10
    answer = _paid_order(webhooks, 1001, qty=2)
    assert answer.status == 200, answer.body
    assert answer.body["outcomes"][0]["status"] == "applied"
    assert staff.get("/events", query={"status": "oversold"}).body["events"] == []
    assert _totals(staff) == (6, 2, 4)


def test_a_paid_order_in_conflict_past_the_budget_is_503_and_applied_on_redelivery(
        conflicts, webhooks, staff, short_budget):
    conflicts.always = True
    answer = _paid_order(webhooks, 1002, qty=2)
    assert answer.status == 503 and answer.headers.get("Retry-After") == "1"
    assert repository.get_reservation(f"shopify:{SHOP}:1002") is None
    assert staff.get("/events", query={"status": "oversold"}).body["events"] == []
    conflicts.always = False
    redelivered = _paid_order(webhooks, 1002, qty=2)
    assert redelivered.status == 200 and redelivered.body["outcomes"][0]["status"] == "applied"
    assert _totals(staff) == (6, 2, 4)


def test_receipts_adjustments_and_moves_ride_out_conflicts(conflicts, storefront, staff):
    conflicts.first = 3
    receipt = staff.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-9",
                                             "lines": [{"sku": SKU, "qty": 4}]})
    assert receipt.status == 201, receipt.body
    conflicts.first, conflicts.calls = 3, 0
    adjusted = staff.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": -1,
                                                 "reason": "damaged"})
    assert adjusted.status == 201, adjusted.body
    assert storefront.post("/reservations", {"reservation_id": "web-2", "channel": "web",
                                             "lines": [{"sku": SKU, "qty": 1}]}).status == 201
    conflicts.first, conflicts.calls = 3, 0
    assert storefront.post("/reservations/web-2/release").body["status"] == "released"
    assert _totals(staff) == (9, 0, 9)


def test_the_budget_follows_the_lambda_context():
    class Context:
        def get_remaining_time_in_millis(self):
            return 4_000

    time_budget.start(Context())
    import time
    left = time_budget.deadline() - time.monotonic()
    assert 2.5 < left <= 3.0
    time_budget.start(None)
    assert time_budget.deadline() - time.monotonic() == pytest.approx(time_budget.DEFAULT_S, abs=0.1)

import json
import uuid

import pytest

from stocklink.channels._common import Outcome
from stocklink.channels.base import OrderEventKind, OrderLine, PayloadInvalid, StockAdjust, StockPush, WebhookRequest
from stocklink.channels.shopify import ShopifyAdapter

from .fixtures import request

SHOP = "shopify-shop-1"
CREDS = {"access_token": "shpat_test", "shop_domain": "stocklink-demo.myshopify.com", "location_id": "40642626",
         "webhook_secret": "x"}
LINES = (OrderLine("808950810", 1, "IPOD2008PINK"), OrderLine("49148385", 2, "IPOD2008RED"))


@pytest.mark.parametrize("name,kind,paid", [
    ("orders_create", OrderEventKind.CREATED, False),
    ("orders_paid", OrderEventKind.PAID, True),
    ("orders_cancelled", OrderEventKind.CANCELLED, False),
    ("orders_fulfilled", OrderEventKind.SHIPPED, True),
])
def test_order_fixtures(name, kind, paid):
    [event] = ShopifyAdapter().parse_webhook(request("shopify", name), SHOP)
    assert (event.order_id, event.kind, event.lines, event.paid) == ("820982911946154508", kind, LINES, paid)
    assert event.delivery_id and event.shop == SHOP and event.platform == "shopify"


def test_orders_updated_is_acknowledged_and_ignored():
    assert ShopifyAdapter().parse_webhook(request("shopify", "orders_updated"), SHOP) == []


def test_refund_restocks_only_returned_lines():
    [event] = ShopifyAdapter().parse_webhook(request("shopify", "refunds_create"), SHOP)
    assert event.kind is OrderEventKind.RETURNED
    assert event.lines == (OrderLine("808950810", 1, "IPOD2008PINK"),)
    assert event.delivery_id == "refund-509562969"


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"line_items": []}', b'{"id": 1, "line_items": []}',
                                  b'{"id": 1, "line_items": [{"variant_id": 5, "quantity": 0}]}'])
def test_malformed_orders_are_invalid(body):
    req = WebhookRequest(headers={"x-shopify-topic": "orders/create"}, body=body)
    with pytest.raises(PayloadInvalid):
        ShopifyAdapter().parse_webhook(req, SHOP)


def _push(i, qty, **ids):
    return StockPush(str(1000 + i), qty, {"inventory_item_id": str(5000 + i), **ids})


def test_stock_update_is_inventory_set_quantities_with_explicit_change_from_quantity():
    [call] = ShopifyAdapter().build_stock_updates(CREDS, [_push(1, 7), _push(2, 0, expected_quantity="3")])
    assert call.method == "POST"
    assert call.url == "https://stocklink-demo.myshopify.com/admin/api/2026-04/graphql.json"
    assert call.headers["X-Shopify-Access-Token"] == "shpat_test"
    body = json.loads(call.body)
    assert "inventorySetQuantities(input: $input) @idempotent(key: $key)" in body["query"]
    assert body["variables"]["key"]
    data = body["variables"]["input"]
    assert data["name"] == "available" and data["reason"] == "correction"
    assert data["quantities"] == [
        {"inventoryItemId": "gid://shopify/InventoryItem/5001", "locationId": "gid://shopify/Location/40642626",
         "quantity": 7, "changeFromQuantity": None},
        {"inventoryItemId": "gid://shopify/InventoryItem/5002", "locationId": "gid://shopify/Location/40642626",
         "quantity": 0, "changeFromQuantity": 3},
    ]
    # The key is present as a JSON null, not omitted: 2026-04 rejects a missing changeFromQuantity.
    assert b'"changeFromQuantity":null' in call.body


def test_each_built_call_has_its_own_idempotency_key():
    adapter = ShopifyAdapter()
    a, = adapter.build_stock_updates(CREDS, [_push(1, 1)])
    b, = adapter.build_stock_updates(CREDS, [_push(1, 1)])
    assert json.loads(a.body)["variables"]["key"] != json.loads(b.body)["variables"]["key"]


def test_batches_of_250():
    calls = ShopifyAdapter().build_stock_updates(CREDS, [_push(i, i) for i in range(600)])
    sizes = [len(json.loads(c.body)["variables"]["input"]["quantities"]) for c in calls]
    assert sizes == [250, 250, 100]


def test_api_base_url_points_at_a_simulator():
    creds = {**CREDS, "api_base_url": "http://127.0.0.1:9000/shopify/s1"}
    [call] = ShopifyAdapter().build_stock_updates(creds, [_push(1, 1)])
    assert call.url == "http://127.0.0.1:9000/shopify/s1/admin/api/2026-04/graphql.json"


@pytest.mark.parametrize("push", [StockPush("1", 3, {}), StockPush("1", -1, {"inventory_item_id": "9"})])
def test_bad_pushes_are_refused_before_sending(push):
    with pytest.raises(ValueError):
        ShopifyAdapter().build_stock_updates(CREDS, [push])


def test_read_back_round_trip():
    [call] = ShopifyAdapter().build_read_back(CREDS, ["808950810", "49148385"])
    variables = json.loads(call.body)["variables"]
    assert variables == {"ids": ["gid://shopify/ProductVariant/808950810", "gid://shopify/ProductVariant/49148385"],
                         "location": "gid://shopify/Location/40642626"}
    response = {"data": {"nodes": [
        {"id": "gid://shopify/ProductVariant/808950810", "inventoryItem": {"id": "gid://shopify/InventoryItem/1",
         "inventoryLevel": {"quantities": [{"name": "available", "quantity": 4}]}}},
        None]}}
    assert ShopifyAdapter().parse_read_back(200, json.dumps(response).encode()) == {"808950810": 4}


@pytest.mark.parametrize("status,body,headers,outcome,code", [
    (200, {"data": {"inventorySetQuantities": {"inventoryAdjustmentGroup": {"id": "x"}, "userErrors": []}}}, None,
     Outcome.OK, ""),
    (200, {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}, None, Outcome.RETRYABLE,
     "THROTTLED"),
    (429, {"errors": "Exceeded 2 calls per second"}, {"Retry-After": "2.0"}, Outcome.RETRYABLE, "429"),
    (503, None, None, Outcome.RETRYABLE, "503"),
    (401, {"errors": "[API] Invalid API key or access token"}, None, Outcome.PERMANENT, "401"),
    (200, {"data": {"inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": [
        {"code": "CHANGE_FROM_QUANTITY_STALE", "field": ["input", "quantities", "0"], "message": "stale"}]}}},
     None, Outcome.PERMANENT, "CHANGE_FROM_QUANTITY_STALE"),
])
def test_error_mapping(status, body, headers, outcome, code):
    raw = json.dumps(body).encode() if body is not None else b"<html>oops</html>"
    result = ShopifyAdapter().classify_response(status, raw, headers)
    assert (result.outcome, result.code) == (outcome, code)
    if headers:
        assert result.retry_after == 2.0


# -- relative adjustments (inventoryAdjustQuantities) ------------------------------------------------
def _adjust(i, delta, **ids):
    return StockAdjust(str(1000 + i), delta, {"inventory_item_id": str(5000 + i), **ids})


def test_adapter_declares_a_relative_mode_that_may_go_below_zero_and_dedupes_retries():
    adapter = ShopifyAdapter()
    assert (adapter.supports_relative, adapter.relative_below_zero, adapter.relative_idempotent) == (True, True, True)


def test_stock_adjustment_is_inventory_adjust_quantities_with_idempotency_key():
    [call] = ShopifyAdapter().build_stock_adjustments(CREDS, [_adjust(1, -2), _adjust(2, 3, location_id="777")])
    assert call.method == "POST"
    assert call.url == "https://stocklink-demo.myshopify.com/admin/api/2026-04/graphql.json"
    assert dict(call.headers) == {"Content-Type": "application/json", "X-Shopify-Access-Token": "shpat_test"}
    body = json.loads(call.body)
    assert body["query"] == (
        "mutation StockLinkAdjust($input: InventoryAdjustQuantitiesInput!, $key: String!) {"
        " inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {"
        " inventoryAdjustmentGroup { id } userErrors { code field message } } }")
    key = body["variables"]["key"]
    assert body["variables"]["input"] == {
        "name": "available",
        "reason": "correction",
        "referenceDocumentUri": f"gid://stocklink/StockSync/{key}",
        "changes": [
            {"inventoryItemId": "gid://shopify/InventoryItem/5001", "locationId": "gid://shopify/Location/40642626",
             "delta": -2, "changeFromQuantity": None},
            {"inventoryItemId": "gid://shopify/InventoryItem/5002", "locationId": "gid://shopify/Location/777",
             "delta": 3, "changeFromQuantity": None},
        ],
    }
    # 2026-04 requires changeFromQuantity on every change: present as JSON null, not omitted. And no
    # ledgerDocumentUri, which Shopify refuses when adjusting `available`.
    assert call.body.count(b'"changeFromQuantity":null') == 2 and b"ledgerDocumentUri" not in call.body


def test_each_built_adjustment_has_its_own_key_and_batches_of_250():
    adapter = ShopifyAdapter()
    calls = adapter.build_stock_adjustments(CREDS, [_adjust(i, 1) for i in range(600)])
    assert [len(json.loads(c.body)["variables"]["input"]["changes"]) for c in calls] == [250, 250, 100]
    assert len({json.loads(c.body)["variables"]["key"] for c in calls}) == 3


@pytest.mark.parametrize("adjust", [
    StockAdjust("1", -1, {}),                                   # no inventory item
    StockAdjust("1", 0, {"inventory_item_id": "9"}),            # a call that changes nothing
    StockAdjust("1", True, {"inventory_item_id": "9"}),         # bool is not a delta
    StockAdjust("1", 1.5, {"inventory_item_id": "9"}),
])
def test_bad_adjustments_are_refused_before_sending(adjust):
    with pytest.raises(ValueError):
        ShopifyAdapter().build_stock_adjustments(CREDS, [adjust])


def test_adjustment_without_a_location_is_refused():
    creds = {k: v for k, v in CREDS.items() if k != "location_id"}
    with pytest.raises(ValueError, match="location_id"):
        ShopifyAdapter().build_stock_adjustments(creds, [_adjust(1, -1)])


def _adjust_answer(*codes):
    errors = [{"code": c, "field": ["input", "changes", "0", "delta"], "message": c.lower()} for c in codes]
    group = None if codes else {"id": "gid://shopify/InventoryAdjustmentGroup/1"}
    return {"data": {"inventoryAdjustQuantities": {"inventoryAdjustmentGroup": group, "userErrors": errors}}}


@pytest.mark.parametrize("codes,outcome", [
    ((), Outcome.OK),
    (("ADJUST_QUANTITIES_FAILED",), Outcome.RETRYABLE),          # "The quantities couldn't be adjusted. Try again."
    (("IDEMPOTENCY_CONCURRENT_REQUEST",), Outcome.RETRYABLE),    # the same key is still being processed
    (("IDEMPOTENCY_KEY_PARAMETER_MISMATCH",), Outcome.PERMANENT),
    (("CHANGE_FROM_QUANTITY_STALE",), Outcome.PERMANENT),
    (("INVALID_INVENTORY_ITEM",), Outcome.PERMANENT),
    (("INVALID_QUANTITY_TOO_LOW",), Outcome.PERMANENT),
    (("ADJUST_QUANTITIES_FAILED", "INVALID_LOCATION"), Outcome.PERMANENT),   # one lasting error: don't resend
])
def test_adjustment_user_errors(codes, outcome):
    result = ShopifyAdapter().classify_response(200, json.dumps(_adjust_answer(*codes)).encode())
    assert result.outcome is outcome
    assert result.code == (codes[0] if codes else "")


def test_a_caller_key_gives_every_rebuild_the_same_idempotency_keys():
    # The retry loop rebuilds (re-signs) a call per attempt: with the caller's key, Shopify sees a duplicate.
    adapter = ShopifyAdapter()
    adjusts = [_adjust(i, -1) for i in range(300)]
    first = adapter.build_stock_adjustments(CREDS, adjusts, key="push-42")
    again = adapter.build_stock_adjustments(CREDS, adjusts, key="push-42")
    other = adapter.build_stock_adjustments(CREDS, adjusts, key="push-43")
    assert [c.body for c in first] == [c.body for c in again]
    keys = [json.loads(c.body)["variables"]["key"] for c in first]
    assert len(set(keys)) == 2 and all(str(uuid.UUID(k)) == k for k in keys)   # one UUID per batch
    assert not set(keys) & {json.loads(c.body)["variables"]["key"] for c in other}

import hashlib
import hmac
import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from stocklink.channels._common import Outcome
from stocklink.channels.base import OrderEventKind, OrderLine, PayloadInvalid, StockPush, WebhookRequest
from stocklink.channels.tiktok import TikTokAdapter

from .fixtures import body, request

SHOP = "tiktok-shop-1"
CREDS = {"app_key": "6a1b2c3d4e5f6", "app_secret": "stocklink-test-tiktok-secret", "access_token": "TTP_token",
         "shop_cipher": "ROW_cipher", "api_base_url": "https://open-api.tiktokglobalshop.com"}
NOW = 1772445330
ORDER = "576486316948490001"


def adapter():
    return TikTokAdapter(clock=lambda: NOW)


@pytest.mark.parametrize("name,kind", [
    ("order_status_unpaid", OrderEventKind.CREATED),
    ("order_status_awaiting_shipment", OrderEventKind.PAID),
    ("order_status_in_transit", OrderEventKind.SHIPPED),
    ("order_status_cancel", OrderEventKind.CANCELLED),
    ("cancellation_status_complete", OrderEventKind.CANCELLED),
    ("return_status_complete", OrderEventKind.RETURNED),
])
def test_webhook_fixtures(name, kind):
    [event] = adapter().parse_webhook(request("tiktok", name), SHOP)
    assert (event.order_id, event.kind, event.lines) == (ORDER, kind, ())
    if kind in (OrderEventKind.CREATED, OrderEventKind.PAID):
        assert event.paid == (kind is OrderEventKind.PAID)  # `paid` only matters for these two


@pytest.mark.parametrize("name", ["order_status_awaiting_shipment", "return_status_complete"])
def test_webhook_signature_is_the_documented_scheme(name):
    # TikTok Shop Partner Center: header `Authorization` (no prefix) = lower-case hex
    # HMAC-SHA256(key=app_secret, msg=app_key + raw body); no timestamp, no path. Computed here independently.
    from stocklink.channels.tiktok import webhook_signature
    req = request("tiktok", name)
    expected = hmac.new(CREDS["app_secret"].encode(), CREDS["app_key"].encode() + req.body, hashlib.sha256).hexdigest()
    assert req.header("authorization") == expected
    assert webhook_signature(CREDS["app_key"], CREDS["app_secret"], req.body) == expected
    adapter().verify_webhook(req, CREDS)


def test_webhook_signature_over_a_reserialized_body_is_rejected():
    from stocklink.channels.base import WebhookRejected
    req = request("tiktok", "order_status_awaiting_shipment")
    reserialized = json.dumps(json.loads(req.body), separators=(",", ":")).encode()
    assert reserialized != req.body
    with pytest.raises(WebhookRejected):
        adapter().verify_webhook(WebhookRequest(headers=dict(req.headers), body=reserialized), CREDS)


def test_api_sign_matches_the_documented_base_string():
    # "Sign your API request": secret + path + sorted(k + v, without sign and access_token) + body + secret.
    from stocklink.channels.tiktok import api_sign
    query = {"app_key": "68xu9ks5p4i8", "shop_cipher": "ROW_xkMbgAAAeVAQra0eZWebFQq5aIK", "timestamp": "1696909648",
             "access_token": "ignored", "sign": "ignored"}
    raw = b'{"address":"https://partner.tiktokshop.com","event_type":"PACKAGE_UPDATE"}'
    base = ("e59af819cc/event/202309/webhooksapp_key68xu9ks5p4i8shop_cipherROW_xkMbgAAAeVAQra0eZWebFQq5aIK"
            "timestamp1696909648" + raw.decode() + "e59af819cc")
    assert api_sign("e59af819cc", "/event/202309/webhooks", query, raw) == hmac.new(
        b"e59af819cc", base.encode(), hashlib.sha256).hexdigest()


def test_return_delivery_id_is_the_return_id():
    [event] = adapter().parse_webhook(request("tiktok", "return_status_complete"), SHOP)
    assert event.delivery_id == "return-4035318504086604222"


@pytest.mark.parametrize("data", [
    {"type": 11, "data": {"order_id": "1", "cancel_status": "CANCELLATION_REQUEST_PENDING"}},
    {"type": 12, "data": {"order_id": "1", "return_type": "REFUND", "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE",
                          "return_id": "9"}},
    {"type": 12, "data": {"order_id": "1", "return_type": "RETURN_AND_REFUND",
                          "return_status": "AWAITING_BUYER_SHIP", "return_id": "9"}},
    {"type": 4, "data": {"order_id": "1", "package_id": "2"}},
])
def test_events_without_stock_effect_are_ignored(data):
    req = WebhookRequest(headers={}, body=json.dumps(data).encode())
    assert adapter().parse_webhook(req, SHOP) == []


@pytest.mark.parametrize("raw", [b"{", b'{"type": 1}', b'{"type": 1, "data": {"order_status": "UNPAID"}}',
                                 b'{"type": 1, "data": {"order_id": "1"}}'])
def test_malformed_webhooks_are_invalid(raw):
    with pytest.raises(PayloadInvalid):
        adapter().parse_webhook(WebhookRequest(headers={}, body=raw), SHOP)


def expected_sign(secret, path, query, body_bytes):
    # The documented base string, written out independently of the adapter.
    pieces = "".join(k + query[k] for k in sorted(query) if k not in ("sign", "access_token"))
    base = secret + path + pieces + body_bytes.decode() + secret
    return hmac.new(secret.encode(), base.encode(), hashlib.sha256).hexdigest()


def test_stock_update_request_and_signature():
    pushes = [StockPush("1729592969712207012", 5, {"product_id": "1729592969712207000", "warehouse_id": "7068517275539719942"}),
              StockPush("1729592969712207013", 0, {"product_id": "1729592969712207000"})]
    [call] = adapter().build_stock_updates(CREDS, pushes)
    url = urlsplit(call.url)
    assert call.method == "POST"
    assert url.path == "/product/202309/products/1729592969712207000/inventory/update"
    query = dict(parse_qsl(url.query))
    assert query["app_key"] == "6a1b2c3d4e5f6" and query["shop_cipher"] == "ROW_cipher"
    assert query["timestamp"] == str(NOW) and "access_token" not in query
    assert call.headers["x-tts-access-token"] == "TTP_token"
    assert call.headers["Content-Type"] == "application/json"
    assert json.loads(call.body) == {"skus": [
        {"id": "1729592969712207012", "inventory": [{"quantity": 5, "warehouse_id": "7068517275539719942"}]},
        {"id": "1729592969712207013", "inventory": [{"quantity": 0}]}]}
    assert query["sign"] == expected_sign(CREDS["app_secret"], url.path, query, call.body)


def test_get_detail_signature_covers_query_parameters():
    event = adapter().parse_webhook(request("tiktok", "order_status_awaiting_shipment"), SHOP)[0]
    call = adapter().build_order_detail(CREDS, event)
    url = urlsplit(call.url)
    query = dict(parse_qsl(url.query))
    assert call.method == "GET" and url.path == "/order/202309/orders" and query["ids"] == ORDER
    assert call.body == b""
    assert query["sign"] == expected_sign(CREDS["app_secret"], url.path, query, b"")


def test_one_call_per_product_batched():
    pushes = [StockPush(f"sku{i}", i, {"product_id": "A" if i % 2 else "B"}) for i in range(250)]
    calls = adapter().build_stock_updates(CREDS, pushes)
    per_call = [(urlsplit(c.url).path.split("/")[4], len(json.loads(c.body)["skus"])) for c in calls]
    assert per_call == [("B", 100), ("B", 25), ("A", 100), ("A", 25)]


def test_missing_product_id_is_refused():
    with pytest.raises(ValueError):
        adapter().build_stock_updates(CREDS, [StockPush("sku", 1, {})])


def test_order_detail_fills_lines_counting_units():
    event = adapter().parse_webhook(request("tiktok", "order_status_awaiting_shipment"), SHOP)[0]
    assert adapter().needs_order_detail(event)
    full = adapter().parse_order_detail(event, 200, body("tiktok", "order_detail_response"))
    assert full.lines == (OrderLine("1729592969712207012", 2, "TEE-BLK-M"), OrderLine("1729592969712207013", 1, "TEE-BLK-L"))
    assert full.event_key == event.event_key


def test_return_detail_fills_returned_lines():
    event = adapter().parse_webhook(request("tiktok", "return_status_complete"), SHOP)[0]
    call = adapter().build_order_detail(CREDS, event)
    assert urlsplit(call.url).path == "/return_refund/202309/returns/search"
    assert json.loads(call.body) == {"return_ids": ["4035318504086604222"]}
    full = adapter().parse_order_detail(event, 200, body("tiktok", "return_search_response"))
    assert full.lines == (OrderLine("1729592969712207012", 1, "TEE-BLK-M"),)


def _detail_with(line: dict, kind="return") -> bytes:
    record = {"return_id": "4035318504086604222", "order_id": ORDER, "return_line_items": [line]} if kind == "return" \
        else {"id": ORDER, "line_items": [line]}
    key = "return_orders" if kind == "return" else "orders"
    return json.dumps({"code": 0, "message": "Success", "data": {key: [record]}}).encode()


@pytest.mark.parametrize("quantity", [-5, 0, 2.5, "3x", True, 10**9])
@pytest.mark.parametrize("kind", ["return", "order"])
def test_a_line_quantity_that_is_not_a_sane_positive_integer_is_refused(quantity, kind):
    # A return of -5 once drove on_hand negative: the detail is refused (400, nothing applied) instead.
    name = "return_status_complete" if kind == "return" else "order_status_awaiting_shipment"
    event = adapter().parse_webhook(request("tiktok", name), SHOP)[0]
    line = {"sku_id": "1729592969712207012", "seller_sku": "TEE-BLK-M", "quantity": quantity}
    with pytest.raises(PayloadInvalid, match="invalid quantity"):
        adapter().parse_order_detail(event, 200, _detail_with(line, kind))


def test_a_named_line_quantity_is_counted():
    event = adapter().parse_webhook(request("tiktok", "return_status_complete"), SHOP)[0]
    line = {"sku_id": "1729592969712207012", "seller_sku": "TEE-BLK-M", "quantity": 3}
    assert adapter().parse_order_detail(event, 200, _detail_with(line)).lines == (
        OrderLine("1729592969712207012", 3, "TEE-BLK-M"),)


def test_cancellation_needs_no_lines():
    event = adapter().parse_webhook(request("tiktok", "order_status_cancel"), SHOP)[0]
    assert not adapter().needs_order_detail(event)


def test_read_back():
    [call] = adapter().build_read_back(CREDS, ["s1", "s2"])
    assert urlsplit(call.url).path == "/product/202309/inventory/search"
    assert json.loads(call.body) == {"sku_ids": ["s1", "s2"]}
    answer = {"code": 0, "message": "Success", "data": {"inventory": [{"product_id": "p", "skus": [
        {"id": "s1", "total_available_quantity": 3, "warehouse_inventory": []},
        {"id": "s2", "total_available_quantity": 0}]}]}}
    assert adapter().parse_read_back(200, json.dumps(answer).encode()) == {"s1": 3, "s2": 0}


@pytest.mark.parametrize("status,payload,outcome,code", [
    (200, {"code": 0, "message": "Success", "data": {}}, Outcome.OK, ""),
    (401, {"code": 106001, "message": "signature is invalid"}, Outcome.PERMANENT, "106001"),
    (429, {"code": 36009004, "message": "Too many requests"}, Outcome.RETRYABLE, "36009004"),
    (200, {"code": 36009004, "message": "Too many requests"}, Outcome.RETRYABLE, "36009004"),
    (500, {"code": 36009001, "message": "internal error"}, Outcome.RETRYABLE, "36009001"),
])
def test_error_mapping(status, payload, outcome, code):
    result = adapter().classify_response(status, json.dumps(payload).encode())
    assert (result.outcome, result.code) == (outcome, code)

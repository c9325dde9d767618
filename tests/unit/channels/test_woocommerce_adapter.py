import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from stocklink.channels._common import Outcome
from stocklink.channels.base import OrderEventKind, OrderLine, PayloadInvalid, StockPush, WebhookRequest
from stocklink.channels.woocommerce import WooCommerceAdapter

from .fixtures import request

SHOP = "woo-shop-1"
CREDS = {"consumer_key": "ck_test", "consumer_secret": "cs_test", "webhook_secret": "x",
         "api_base_url": "https://shop.example.com"}
LINES = (OrderLine("93", 2, "WOO-SINGLE-1"), OrderLine("23", 1, "SHIP-BLK-XL"))


def adapter():
    return WooCommerceAdapter(clock=lambda: 1772445330, nonce=lambda: "abc123")


@pytest.mark.parametrize("name,kind,paid", [
    ("order_created_pending", OrderEventKind.CREATED, False),
    ("order_updated_on_hold", OrderEventKind.CREATED, False),
    ("order_updated_processing", OrderEventKind.PAID, True),
    ("order_updated_completed", OrderEventKind.SHIPPED, True),
    ("order_updated_cancelled", OrderEventKind.CANCELLED, True),
    ("order_updated_failed", OrderEventKind.CANCELLED, True),
    ("order_updated_refunded", OrderEventKind.RETURNED, True),
])
def test_order_fixtures(name, kind, paid):
    [event] = adapter().parse_webhook(request("woocommerce", name), SHOP)
    assert (event.order_id, event.kind, event.lines) == ("4750", kind, LINES)
    if kind is OrderEventKind.CREATED:
        assert event.paid is paid


def test_refund_is_identified_by_its_refund_ids_not_the_delivery():
    [event] = adapter().parse_webhook(request("woocommerce", "order_updated_refunded"), SHOP)
    assert event.delivery_id == "refund-4751"


def test_deleted_order_releases_its_hold():
    [event] = adapter().parse_webhook(request("woocommerce", "order_deleted"), SHOP)
    assert (event.order_id, event.kind, event.lines) == ("4750", OrderEventKind.CANCELLED, ())


def test_ping_and_other_topics_are_ignored():
    ping = WebhookRequest(headers={}, body=b"webhook_id=3")
    product = WebhookRequest(headers={"x-wc-webhook-topic": "product.updated"}, body=b"{}")
    assert adapter().parse_webhook(ping, SHOP) == [] and adapter().parse_webhook(product, SHOP) == []


@pytest.mark.parametrize("raw", [b"{", b'{"status": "processing"}', b'{"id": 1}', b'{"id": 1, "status": "processing"}',
                                 b'{"id": 1, "status": "pending", "line_items": [{"product_id": 5, "quantity": -1}]}'])
def test_malformed_orders_are_invalid(raw):
    with pytest.raises(PayloadInvalid):
        adapter().parse_webhook(WebhookRequest(headers={"x-wc-webhook-topic": "order.updated"}, body=raw), SHOP)


def test_batch_update_over_https_uses_basic_auth():
    pushes = [StockPush("93", 5, {}), StockPush("23", 0, {"parent_id": "22"}), StockPush("24", 2, {"parent_id": "22"})]
    calls = adapter().build_stock_updates(CREDS, pushes)
    by_path = {urlsplit(c.url).path: c for c in calls}
    assert set(by_path) == {"/wp-json/wc/v3/products/batch", "/wp-json/wc/v3/products/22/variations/batch"}
    simple = by_path["/wp-json/wc/v3/products/batch"]
    assert simple.method == "POST"
    assert simple.headers["Authorization"] == "Basic " + base64.b64encode(b"ck_test:cs_test").decode()
    assert json.loads(simple.body) == {"update": [{"id": 93, "manage_stock": True, "stock_quantity": 5}]}
    variations = json.loads(by_path["/wp-json/wc/v3/products/22/variations/batch"].body)["update"]
    assert [(v["id"], v["stock_quantity"]) for v in variations] == [(23, 0), (24, 2)]


def test_batches_of_100():
    calls = adapter().build_stock_updates(CREDS, [StockPush(str(i), 1, {}) for i in range(1, 251)])
    assert [len(json.loads(c.body)["update"]) for c in calls] == [100, 100, 50]


def pct(s):
    return quote(s, safe="~-._")


def test_plain_http_uses_oauth1_signature():
    creds = {**CREDS, "api_base_url": "http://127.0.0.1:8080/woocommerce/s1"}
    [call] = adapter().build_stock_updates(creds, [StockPush("93", 5, {})])
    assert "Authorization" not in call.headers
    url = urlsplit(call.url)
    query = dict(parse_qsl(url.query))
    assert query["oauth_consumer_key"] == "ck_test" and query["oauth_signature_method"] == "HMAC-SHA256"
    # RFC 5849 base string, computed here by hand; WooCommerce keys it with consumer_secret + "&".
    params = "&".join(f"{pct(k)}={pct(v)}" for k, v in sorted(query.items()) if k != "oauth_signature")
    base = "&".join(["POST", pct(f"{url.scheme}://{url.netloc}{url.path}"), pct(params)])
    want = base64.b64encode(hmac.new(b"cs_test&", base.encode(), hashlib.sha256).digest()).decode()
    assert query["oauth_signature"] == want


def test_read_back():
    calls = adapter().build_read_back(CREDS, ["93", "23"], {"23": {"parent_id": "22"}})
    assert sorted((urlsplit(c.url).path, dict(parse_qsl(urlsplit(c.url).query))["include"]) for c in calls) == [
        ("/wp-json/wc/v3/products", "93"), ("/wp-json/wc/v3/products/22/variations", "23")]
    answer = [{"id": 93, "stock_quantity": 4}, {"id": 94, "stock_quantity": None}]
    assert adapter().parse_read_back(200, json.dumps(answer).encode()) == {"93": 4}


@pytest.mark.parametrize("status,payload,outcome,code,failed", [
    (200, {"update": [{"id": 93, "stock_quantity": 5}]}, Outcome.OK, "", ()),
    (200, {"update": [{"id": 93, "stock_quantity": 5}, {"id": 94, "error": {"code": "woocommerce_rest_product_invalid_id",
     "message": "Invalid ID.", "data": {"status": 400}}}]}, Outcome.OK, "", ("94",)),
    (200, {"update": [{"id": 94, "error": {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID."}}]},
     Outcome.PERMANENT, "woocommerce_rest_product_invalid_id", ("94",)),
    (401, {"code": "woocommerce_rest_authentication_error", "message": "Invalid signature", "data": {"status": 401}},
     Outcome.PERMANENT, "woocommerce_rest_authentication_error", ()),
    (429, {"code": "rest_too_many_requests"}, Outcome.RETRYABLE, "rest_too_many_requests", ()),
    (503, None, Outcome.RETRYABLE, "503", ()),
])
def test_error_mapping(status, payload, outcome, code, failed):
    raw = json.dumps(payload).encode() if payload is not None else b"Service Unavailable"
    result = adapter().classify_response(status, raw)
    assert (result.outcome, result.code, result.failed_listings) == (outcome, code, failed)

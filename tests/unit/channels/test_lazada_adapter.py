import hashlib
import hmac
import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from stocklink.channels._common import Outcome
from stocklink.channels.base import OrderEventKind, OrderLine, PayloadInvalid, StockAdjust, StockPush, WebhookRequest
from stocklink.channels.lazada import LazadaAdapter

from .fixtures import body, request

SHOP = "lazada-shop-1"
CREDS = {"app_key": "100001", "app_secret": "stocklink-test-lazada-secret", "access_token": "50000200819dSmgr",
         "api_base_url": "https://api.lazada.vn/rest"}
NOW = 1772445330.123
ITEM = "260422900198363-260422900298363"


def adapter():
    return LazadaAdapter(clock=lambda: NOW)


@pytest.mark.parametrize("name,kind", [
    ("trade_order_unpaid", OrderEventKind.CREATED),
    ("trade_order_pending", OrderEventKind.PAID),
    ("trade_order_shipped", OrderEventKind.SHIPPED),
    ("trade_order_canceled", OrderEventKind.CANCELLED),
    ("trade_order_returned", OrderEventKind.RETURNED),
    ("reverse_order_rtm_receive_item", OrderEventKind.RETURNED),
])
def test_push_fixtures(name, kind):
    [event] = adapter().parse_webhook(request("lazada", name), SHOP)
    assert (event.order_id, event.kind, event.lines) == (ITEM, kind, ())


def test_return_messages_dedupe_on_the_reverse_order_line():
    a = adapter().parse_webhook(request("lazada", "trade_order_returned"), SHOP)[0]
    b = adapter().parse_webhook(request("lazada", "reverse_order_rtm_receive_item"), SHOP)[0]
    assert a.event_key == b.event_key


def test_every_announcement_of_an_item_return_is_one_event():
    # The reverse push, the item status `returned` without a reverse line and `shipped_back_success`, each
    # pushed at its own time: one order item (one unit) comes back once, whatever announces it.
    item = {"trade_order_id": "260422900198363", "trade_order_line_id": "260422900298363"}
    messages = [
        {"message_type": 10, "data": {**item, "reverse_status": "RTM_RECEIVE_ITEM", "reverse_order_line_id": "5",
                                      "status_update_time": 1}},
        {"message_type": 0, "data": {**item, "order_status": "returned", "status_update_time": 2}},
        {"message_type": 0, "data": {**item, "order_status": "shipped_back_success", "status_update_time": 3}},
    ]
    events = [adapter().parse_webhook(WebhookRequest({}, json.dumps(m).encode()), SHOP)[0] for m in messages]
    assert {e.kind for e in events} == {OrderEventKind.RETURNED}
    assert len({e.event_key for e in events}) == 1


@pytest.mark.parametrize("payload", [
    {"message_type": 10, "data": {"trade_order_id": 1, "trade_order_line_id": 2, "reverse_status": "RTW_INIT"}},
    {"message_type": 0, "data": {"trade_order_id": 1, "trade_order_line_id": 2, "order_status": "lost_by_3pl"}},
    {"message_type": 3, "data": {"item_id": 1}},
])
def test_messages_without_stock_effect_are_ignored(payload):
    assert adapter().parse_webhook(WebhookRequest(headers={}, body=json.dumps(payload).encode()), SHOP) == []


@pytest.mark.parametrize("raw", [b"", b'{"message_type": 0}', b'{"message_type": 0, "data": {"trade_order_id": "1"}}',
                                 b'{"message_type": 0, "data": {"trade_order_id": "1", "trade_order_line_id": "2"}}'])
def test_malformed_pushes_are_invalid(raw):
    with pytest.raises(PayloadInvalid):
        adapter().parse_webhook(WebhookRequest(headers={}, body=raw), SHOP)


def expected_sign(secret, api_path, params):
    base = api_path + "".join(k + params[k] for k in sorted(params) if k != "sign")
    return hmac.new(secret.encode(), base.encode("utf-8"), hashlib.sha256).hexdigest().upper()


def test_documented_signature_example_shape():
    # Lazada's guide: sort -> "bar2foo1foo_bar3foobar4", prefix the API name, HMAC-SHA256, upper hex.
    from stocklink.channels.lazada import api_sign
    params = {"foo": "1", "bar": "2", "foo_bar": "3", "foobar": "4"}
    want = hmac.new(b"s", b"/test/apibar2foo1foo_bar3foobar4", hashlib.sha256).hexdigest().upper()
    assert api_sign("s", "/test/api", params) == want


def test_sellable_update_request_and_signature():
    pushes = [StockPush("1234567890", 20, {"item_id": "557711987", "seller_sku": "TEE-BLK-M"}),
              StockPush("1234567891", 0, {"item_id": "557711987"})]
    [call] = adapter().build_stock_updates(CREDS, pushes)
    url = urlsplit(call.url)
    assert call.method == "POST" and url.path == "/rest/product/stock/sellable/update"
    query = dict(parse_qsl(url.query))
    form = dict(parse_qsl(call.body.decode()))
    assert query["timestamp"] == str(int(NOW * 1000)) and query["sign_method"] == "sha256"
    assert form["payload"] == (
        "<Request><Product><Skus>"
        "<Sku><ItemId>557711987</ItemId><SkuId>1234567890</SkuId><SellerSku>TEE-BLK-M</SellerSku>"
        "<SellableQuantity>20</SellableQuantity></Sku>"
        "<Sku><ItemId>557711987</ItemId><SkuId>1234567891</SkuId><SellableQuantity>0</SellableQuantity></Sku>"
        "</Skus></Product></Request>")
    signed = {k: v for k, v in query.items() if k != "sign"} | form
    assert query["sign"] == expected_sign(CREDS["app_secret"], "/product/stock/sellable/update", signed)


def test_multi_warehouse_format():
    [call] = adapter().build_stock_updates(CREDS, [StockPush("1", 3, {"item_id": "9", "warehouse_code": "dropshipping"})])
    payload = dict(parse_qsl(call.body.decode()))["payload"]
    assert ("<MultiWarehouseInventories><MultiWarehouseInventory><WarehouseCode>dropshipping</WarehouseCode>"
            "<SellableQuantity>3</SellableQuantity></MultiWarehouseInventory></MultiWarehouseInventories>") in payload


def test_batches_of_50_skus():
    pushes = [StockPush(str(i), i, {"item_id": str(i // 7)}) for i in range(120)]
    sizes = [dict(parse_qsl(c.body.decode()))["payload"].count("<Sku>") for c in adapter().build_stock_updates(CREDS, pushes)]
    assert sizes == [50, 50, 20]


def test_order_items_fill_the_one_unit_of_this_item():
    event = adapter().parse_webhook(request("lazada", "trade_order_pending"), SHOP)[0]
    call = adapter().build_order_detail(CREDS, event)
    url = urlsplit(call.url)
    query = dict(parse_qsl(url.query))
    assert call.method == "GET" and url.path == "/rest/order/items/get" and query["order_id"] == "260422900198363"
    assert query["sign"] == expected_sign(CREDS["app_secret"], "/order/items/get", query)
    full = adapter().parse_order_detail(event, 200, body("lazada", "order_items_response"))
    assert full.lines == (OrderLine("1234567890", 1, "TEE-BLK-M"),)


def test_read_back():
    [call] = adapter().build_read_back(CREDS, ["1", "2"], {"1": {"item_id": "9"}, "2": {"item_id": "9"}})
    assert dict(parse_qsl(urlsplit(call.url).query))["item_id"] == "9"
    answer = {"code": "0", "data": {"item_id": 9, "skus": [{"SkuId": 1, "quantity": 8, "sellableQuantity": 5},
                                                         {"SkuId": 2, "quantity": 4}]}}
    assert adapter().parse_read_back(200, json.dumps(answer).encode()) == {"1": 5, "2": 4}


@pytest.mark.parametrize("status,payload,outcome,code", [
    (200, {"code": "0", "request_id": "x"}, Outcome.OK, ""),
    (200, {"code": "ApiCallLimit", "type": "ISV", "message": "call limit"}, Outcome.RETRYABLE, "ApiCallLimit"),
    (200, {"code": "IncompleteSignature", "type": "ISV", "message": "bad sign"}, Outcome.PERMANENT, "IncompleteSignature"),
    (200, {"code": "IllegalAccessToken", "type": "ISV", "message": "token"}, Outcome.PERMANENT, "IllegalAccessToken"),
    (200, {"code": "InternalError", "type": "SYSTEM", "message": "x"}, Outcome.RETRYABLE, "InternalError"),
    (502, None, Outcome.RETRYABLE, "502"),
])
def test_error_mapping(status, payload, outcome, code):
    raw = json.dumps(payload).encode() if payload else b""
    result = adapter().classify_response(status, raw)
    assert (result.outcome, result.code) == (outcome, code)


# -- relative adjustments (AdjustSellableQuantity) -----------------------------------------------------
def test_adapter_declares_a_relative_mode_that_refuses_negative_results_and_has_no_idempotency_key():
    a = adapter()
    assert (a.supports_relative, a.relative_below_zero, a.relative_idempotent) == (True, False, False)


def test_sellable_adjust_request_and_signature():
    adjusts = [StockAdjust("1234567890", -2, {"item_id": "557711987", "seller_sku": "TEE-BLK-M"}),
               StockAdjust("1234567891", 20, {"item_id": "557711987"})]
    [call] = adapter().build_stock_adjustments(CREDS, adjusts)
    url = urlsplit(call.url)
    assert call.method == "POST" and url.scheme == "https" and url.netloc == "api.lazada.vn"
    assert url.path == "/rest/product/stock/sellable/adjust"
    assert call.headers == {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"}
    query = dict(parse_qsl(url.query))
    form = dict(parse_qsl(call.body.decode()))
    assert set(query) == {"app_key", "timestamp", "sign_method", "access_token", "sign"}
    assert (query["app_key"], query["access_token"]) == ("100001", "50000200819dSmgr")
    assert query["timestamp"] == str(int(NOW * 1000)) and query["sign_method"] == "sha256"
    # Same Sku list as UpdateSellableQuantity; SellableQuantity is the signed delta.
    assert form == {"payload": (
        "<Request><Product><Skus>"
        "<Sku><ItemId>557711987</ItemId><SkuId>1234567890</SkuId><SellerSku>TEE-BLK-M</SellerSku>"
        "<SellableQuantity>-2</SellableQuantity></Sku>"
        "<Sku><ItemId>557711987</ItemId><SkuId>1234567891</SkuId><SellableQuantity>20</SellableQuantity></Sku>"
        "</Skus></Product></Request>")}
    # Signed like every Lazada call: API path + sorted key+value of system and business parameters.
    signed = {k: v for k, v in query.items() if k != "sign"} | form
    assert query["sign"] == expected_sign(CREDS["app_secret"], "/product/stock/sellable/adjust", signed)
    # The path is part of what is signed: the same parameters signed for /update do not pass for /adjust.
    assert query["sign"] != expected_sign(CREDS["app_secret"], "/product/stock/sellable/update", signed)


def test_adjust_multi_warehouse_format_and_batches_of_50():
    [call] = adapter().build_stock_adjustments(CREDS, [StockAdjust("1", -3, {"item_id": "9", "warehouse_code": "wh2"})])
    assert dict(parse_qsl(call.body.decode()))["payload"] == (
        "<Request><Product><Skus><Sku><ItemId>9</ItemId><SkuId>1</SkuId>"
        "<MultiWarehouseInventories><MultiWarehouseInventory><WarehouseCode>wh2</WarehouseCode>"
        "<SellableQuantity>-3</SellableQuantity></MultiWarehouseInventory></MultiWarehouseInventories>"
        "</Sku></Skus></Product></Request>")
    adjusts = [StockAdjust(str(i), -1, {"item_id": str(i // 7)}) for i in range(120)]
    calls = adapter().build_stock_adjustments(CREDS, adjusts)
    assert [dict(parse_qsl(c.body.decode()))["payload"].count("<Sku>") for c in calls] == [50, 50, 20]
    assert {urlsplit(c.url).path for c in calls} == {"/rest/product/stock/sellable/adjust"}


@pytest.mark.parametrize("adjust", [StockAdjust("1", -1, {}), StockAdjust("1", 0, {"item_id": "9"}),
                                    StockAdjust("1", False, {"item_id": "9"})])
def test_bad_adjustments_are_refused_before_sending(adjust):
    with pytest.raises(ValueError):
        adapter().build_stock_adjustments(CREDS, [adjust])


def test_a_refused_stock_change_names_the_skus_it_refused():
    answer = {"code": "501", "type": "ISP", "message": "E501: Update product failed",
              "detail": [{"code": "E0501", "field": "bizCheck", "item_id": 557711987, "sku_id": 1234567890,
                          "message": "negative sellable"}]}
    result = adapter().classify_response(200, json.dumps(answer).encode())
    assert (result.outcome, result.code, result.failed_listings) == (Outcome.PERMANENT, "501", ("1234567890",))

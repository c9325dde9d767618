import hashlib
import hmac
import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from stocklink.channels._common import Outcome
from stocklink.channels.base import OrderEventKind, OrderLine, PayloadInvalid, StockPush, WebhookRequest
from stocklink.channels.shopee import ShopeeAdapter

from .fixtures import body, request

SHOP = "shopee-shop-1"
CREDS = {"partner_id": "2001887", "partner_key": "stocklink-test-shopee-partner-key", "shop_id": "14701711",
         "access_token": "59777174636562737266615546704c6d", "api_base_url": "https://partner.shopeemobile.com"}
NOW = 1655714431


def adapter():
    return ShopeeAdapter(clock=lambda: NOW)


@pytest.mark.parametrize("name,kind", [
    ("order_status_unpaid", OrderEventKind.CREATED),
    ("order_status_ready_to_ship", OrderEventKind.PAID),
    ("order_status_shipped", OrderEventKind.SHIPPED),
    ("order_status_cancelled", OrderEventKind.CANCELLED),
])
def test_order_status_push(name, kind):
    [event] = adapter().parse_webhook(request("shopee", name), SHOP)
    assert (event.order_id, event.kind, event.lines) == ("2603020F6TKXQ7", kind, ())


@pytest.mark.parametrize("name", ["order_status_in_cancel", "tracking_no_push"])
def test_pushes_without_stock_effect_are_ignored(name):
    assert adapter().parse_webhook(request("shopee", name), SHOP) == []


@pytest.mark.parametrize("raw", [b"nope", b'{"code": 3}', b'{"code": 3, "data": {"status": "UNPAID"}}'])
def test_malformed_pushes_are_invalid(raw):
    with pytest.raises(PayloadInvalid):
        adapter().parse_webhook(WebhookRequest(headers={}, body=raw), SHOP)


def test_documented_sign_example():
    # Shopee's guide: partner 2001887, /api/v2/shop/get_shop_info, ts 1655714431 -> this base string.
    from stocklink.channels.shopee import shop_sign
    base = "2001887/api/v2/shop/get_shop_info165571443159777174636562737266615546704c6d14701711"
    expected = hmac.new(b"k", base.encode(), hashlib.sha256).hexdigest()
    assert shop_sign("k", "2001887", "/api/v2/shop/get_shop_info", NOW, CREDS["access_token"], "14701711") == expected


def test_update_stock_request_and_signature():
    pushes = [StockPush("5074620257", 9, {"item_id": "1220089094", "model_id": "5074620257"}),
              StockPush("5074620258", 0, {"item_id": "1220089094", "model_id": "5074620258", "location_id": "IDZ"}),
              StockPush("7348262532", 4, {"item_id": "7348262532"})]
    calls = adapter().build_stock_updates(CREDS, pushes)
    assert len(calls) == 2  # one call per item
    first = calls[0]
    url = urlsplit(first.url)
    query = dict(parse_qsl(url.query))
    assert first.method == "POST" and url.path == "/api/v2/product/update_stock"
    base = f"{CREDS['partner_id']}{url.path}{NOW}{CREDS['access_token']}{CREDS['shop_id']}"
    assert query["sign"] == hmac.new(CREDS["partner_key"].encode(), base.encode(), hashlib.sha256).hexdigest()
    assert {k: query[k] for k in ("partner_id", "timestamp", "access_token", "shop_id")} == {
        "partner_id": "2001887", "timestamp": str(NOW), "access_token": CREDS["access_token"], "shop_id": "14701711"}
    assert json.loads(first.body) == {"item_id": 1220089094, "stock_list": [
        {"model_id": 5074620257, "seller_stock": [{"stock": 9}]},
        {"model_id": 5074620258, "seller_stock": [{"stock": 0, "location_id": "IDZ"}]}]}
    assert json.loads(calls[1].body) == {"item_id": 7348262532, "stock_list": [{"seller_stock": [{"stock": 4}]}]}


def test_batches_of_50_models_per_item():
    pushes = [StockPush(str(i), 1, {"item_id": "77", "model_id": str(i + 1)}) for i in range(120)]
    sizes = [len(json.loads(c.body)["stock_list"]) for c in adapter().build_stock_updates(CREDS, pushes)]
    assert sizes == [50, 50, 20]


def test_order_detail_round_trip():
    event = adapter().parse_webhook(request("shopee", "order_status_ready_to_ship"), SHOP)[0]
    call = adapter().build_order_detail(CREDS, event)
    query = dict(parse_qsl(urlsplit(call.url).query))
    assert urlsplit(call.url).path == "/api/v2/order/get_order_detail"
    assert query["order_sn_list"] == "2603020F6TKXQ7" and query["response_optional_fields"] == "item_list"
    full = adapter().parse_order_detail(event, 200, body("shopee", "order_detail_response"))
    assert full.lines == (OrderLine("5074620257", 2, "CASE-BLU"), OrderLine("7348262532", 1, "USB-C-1M"))


def test_read_back_uses_model_list_and_base_info():
    ids = {"m1": {"item_id": "10", "model_id": "m1"}, "m2": {"item_id": "10", "model_id": "m2"}, "20": {"item_id": "20"}}
    calls = adapter().build_read_back(CREDS, list(ids), ids)
    assert [urlsplit(c.url).path for c in calls] == ["/api/v2/product/get_model_list", "/api/v2/product/get_item_base_info"]
    models = {"error": "", "message": "", "response": {"model": [
        {"model_id": 1, "stock_info_v2": {"seller_stock": [{"location_id": "A", "stock": 3}, {"stock": 2}],
                                          "shopee_stock": [{"stock": 99}]}}]}}
    assert adapter().parse_read_back(200, json.dumps(models).encode()) == {"1": 5}
    items = {"error": "", "response": {"item_list": [{"item_id": 20, "stock_info_v2": {"seller_stock": [{"stock": 7}]}}]}}
    assert adapter().parse_read_back(200, json.dumps(items).encode()) == {"20": 7}


def test_read_back_needs_item_ids():
    with pytest.raises(ValueError):
        adapter().build_read_back(CREDS, ["m1"])


@pytest.mark.parametrize("status,payload,outcome,code,failed", [
    (200, {"error": "", "message": "", "response": {"failure_list": [],
                                                    "success_list": [{"model_id": 1, "stock": 3}]}}, Outcome.OK, "", ()),
    (200, {"error": "", "response": {"failure_list": [{"model_id": 2, "failed_reason": "model not exist"}],
                                     "success_list": [{"model_id": 1}]}}, Outcome.OK, "", ("2",)),
    (200, {"error": "", "response": {"failure_list": [{"model_id": 2, "failed_reason": "model not exist"}],
                                     "success_list": []}}, Outcome.PERMANENT, "failure_list", ("2",)),
    (403, {"error": "error_sign", "message": "Wrong sign."}, Outcome.PERMANENT, "error_sign", ()),
    (429, {"error": "error_too_many_request", "message": "too many"}, Outcome.RETRYABLE, "error_too_many_request", ()),
    (500, {"error": "error_server", "message": "x"}, Outcome.RETRYABLE, "error_server", ()),
])
def test_error_mapping(status, payload, outcome, code, failed):
    result = adapter().classify_response(status, json.dumps(payload).encode())
    assert (result.outcome, result.code, result.failed_listings) == (outcome, code, failed)


# -- returns: push code 29 (return_updates_push) + v2.returns.get_return_detail ---------------------------
RETURN_SN = "2603110R7QK2M5A"


def return_event():
    [event] = adapter().parse_webhook(request("shopee", "return_updates_push"), SHOP)
    return event


def test_return_push_is_a_returned_candidate_needing_the_return_detail():
    event = return_event()
    assert (event.order_id, event.kind, event.lines) == ("2603020F6TKXQ7", OrderEventKind.RETURNED, ())
    assert event.delivery_id == f"return-{RETURN_SN}"
    assert adapter().needs_order_detail(event)


def test_return_detail_call_is_a_signed_shop_level_get():
    call = adapter().build_order_detail(CREDS, return_event())
    url = urlsplit(call.url)
    query = dict(parse_qsl(url.query))
    assert call.method == "GET" and url.path == "/api/v2/returns/get_return_detail" and call.body == b""
    assert query["return_sn"] == RETURN_SN
    # sign = hex HMAC-SHA256(partner_key, partner_id + api_path + timestamp + access_token + shop_id)
    base = f"{CREDS['partner_id']}/api/v2/returns/get_return_detail{NOW}{CREDS['access_token']}{CREDS['shop_id']}"
    assert query["sign"] == hmac.new(CREDS["partner_key"].encode(), base.encode(), hashlib.sha256).hexdigest()
    assert {k: query[k] for k in ("partner_id", "timestamp", "access_token", "shop_id")} == {
        "partner_id": "2001887", "timestamp": str(NOW), "access_token": CREDS["access_token"], "shop_id": "14701711"}


def test_delivered_return_and_refund_restocks_the_returned_amounts():
    event = return_event()
    full = adapter().parse_order_detail(event, 200, body("shopee", "return_detail_response"))
    assert full.lines == (OrderLine("5074620257", 2, "CASE-BLU"),)
    assert (full.kind, full.order_id, full.delivery_id) == (OrderEventKind.RETURNED, "2603020F6TKXQ7",
                                                            f"return-{RETURN_SN}")
    assert full.event_key == event.event_key   # one key per return: redeliveries and later pushes dedupe


def test_refund_only_restocks_nothing_under_a_key_of_its_own():
    event = return_event()
    full = adapter().parse_order_detail(event, 200, body("shopee", "return_detail_refund_only"))
    assert full.lines == ()
    assert full.delivery_id == f"return-{RETURN_SN}@ACCEPTED/-"
    assert full.event_key != event.event_key  # a later restock of the same return is not blocked by it


def _detail(**response):
    base = {"return_sn": RETURN_SN, "order_sn": "2603020F6TKXQ7", "status": "ACCEPTED", "needs_logistics": True,
            "logistics_status": "LOGISTICS_DELIVERY_DONE", "validation_type": "seller_validation",
            "item": [{"item_id": 7348262532, "model_id": 0, "amount": 1, "item_sku": "USB-C-1M", "variation_sku": ""}]}
    base.update(response)
    return json.dumps({"error": "", "message": "", "request_id": "x", "response": base}).encode()


@pytest.mark.parametrize("change,restock", [
    ({}, True),
    ({"status": "REFUND_PAID"}, True),                                # refunded after the seller got the parcel
    ({"status": "PROCESSING"}, True),
    ({"logistics_status": "Delivered", "return_refund_request_type": 1}, True),   # in-transit RR back to seller
    ({"needs_logistics": False, "logistics_status": ""}, False),       # refund only: buyer keeps the goods
    ({"needs_logistics": False, "status": "REFUND_PAID"}, False),
    ({"status": "REQUESTED", "logistics_status": "LOGISTICS_PENDING_ARRANGE"}, False),
    ({"logistics_status": "LOGISTICS_REQUEST_CREATED"}, False),        # still on its way
    ({"logistics_status": "LOGISTICS_PICKUP_DONE"}, False),
    ({"logistics_status": "LOGISTICS_LOST", "status": "REFUND_PAID"}, False),
    ({"logistics_status": "LOGISTICS_DELIVERY_FAILED"}, False),
    ({"status": "SELLER_DISPUTE"}, False),                             # seller contests what came back
    ({"status": "JUDGING"}, False),
    ({"status": "CANCELLED"}, False),
    ({"status": "CLOSED"}, False),
    ({"validation_type": "warehouse_validation"}, False),             # parcel goes to a Shopee warehouse
])
def test_which_return_states_restock(change, restock):
    full = adapter().parse_order_detail(return_event(), 200, _detail(**change))
    assert bool(full.lines) is restock
    if restock:
        assert full.lines == (OrderLine("7348262532", 1, "USB-C-1M"),)
        assert full.delivery_id == f"return-{RETURN_SN}"
    else:
        assert full.delivery_id.startswith(f"return-{RETURN_SN}@")


def test_return_lines_add_up_per_listing():
    items = [{"item_id": 1220089094, "model_id": 5074620257, "amount": 1, "variation_sku": "CASE-BLU"},
             {"item_id": 1220089094, "model_id": 5074620257, "amount": 2, "variation_sku": "CASE-BLU"}]
    full = adapter().parse_order_detail(return_event(), 200, _detail(item=items))
    assert full.lines == (OrderLine("5074620257", 3, "CASE-BLU"),)


def test_return_push_without_order_sn_takes_it_from_the_detail():
    raw = json.dumps({"code": 29, "shop_id": 14701711, "timestamp": 1, "data": {"return_sn": RETURN_SN}}).encode()
    [event] = adapter().parse_webhook(WebhookRequest(headers={}, body=raw), SHOP)
    full = adapter().parse_order_detail(event, 200, _detail())
    assert full.order_id == "2603020F6TKXQ7"


@pytest.mark.parametrize("raw", [b'{"code": 29}', b'{"code": 29, "data": {"order_sn": "X"}}',
                                 b'{"code": 29, "data": []}'])
def test_malformed_return_pushes_are_invalid(raw):
    with pytest.raises(PayloadInvalid):
        adapter().parse_webhook(WebhookRequest(headers={}, body=raw), SHOP)


@pytest.mark.parametrize("status,raw", [
    (200, json.dumps({"error": "error_not_found", "message": "return_sn not found."}).encode()),
    (403, json.dumps({"error": "error_sign", "message": "Wrong sign."}).encode()),
    (200, json.dumps({"error": "", "response": {"return_sn": "OTHER"}}).encode()),
    (200, json.dumps({"error": "", "response": {"return_sn": RETURN_SN, "order_sn": "X", "needs_logistics": True,
                                                 "logistics_status": "LOGISTICS_DELIVERY_DONE", "item": []}}).encode()),
    (200, json.dumps({"error": "", "response": {"return_sn": RETURN_SN, "order_sn": "X", "needs_logistics": True,
                                                 "logistics_status": "LOGISTICS_DELIVERY_DONE",
                                                 "item": [{"item_id": 1, "model_id": 0, "amount": 0}]}}).encode()),
])
def test_unusable_return_details_are_invalid(status, raw):
    with pytest.raises(PayloadInvalid):
        adapter().parse_order_detail(return_event(), status, raw)

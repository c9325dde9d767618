"""JD (JOS) adapter: the published signing example, the order search poll (windows, forward paging, GMT+8
times, the status mapping and its ambiguous states), absolute stock pushes, read-back and SKU discovery,
against the example answers in events/jd/."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from stocklink.channels._common import Outcome
from stocklink.channels.base import (OrderEventKind, PayloadInvalid, PollWindow, StockAdjust, StockPush,
                                     WebhookRejected, WebhookRequest)
from stocklink.channels.jd import JdAdapter, api_sign, kinds_of, param_json

EVENTS = Path(__file__).resolve().parents[3] / "events" / "jd"
CREDS = {"app_key": "jd-key", "app_secret": "jd-secret", "access_token": "jd-token"}
WINDOW = PollWindow(1_772_417_000, 1_772_418_000)     # 2026-03-02 10:03:20 .. 10:20:00 Beijing


def example(name: str) -> bytes:
    return (EVENTS / name).read_bytes()


def form(call) -> dict[str, str]:
    return dict(parse_qsl(call.body.decode()))


@pytest.fixture
def adapter():
    return JdAdapter(clock=lambda: 1_772_418_300.0)


def test_the_published_signing_example_reproduces():
    """open.jd.com/v2/#/doc/dev-guide?listId=2643: app secret yourappSecret, jingdong.pop.order.search."""
    params = {
        "360buy_param_json": '{"end_date":null,"optional_fields":null,"order_state":"WAIT_SELLER_STOCK_OUT",'
                             '"page":"1","page_size":"200","start_date":null}',
        "access_token": "yourtoken", "app_key": "yourappkey", "method": "jingdong.pop.order.search",
        "timestamp": "2021-05-07 09:20:39.683+0800", "v": "2.0"}
    assert api_sign("yourappSecret", params) == "D70825340F4084360B9362B60DFD7930"
    assert api_sign("yourappSecret", {**params, "sign": "ignored"}) == "D70825340F4084360B9362B60DFD7930"
    # the business JSON as this adapter writes it: keys sorted, compact, as in the example
    business = {"start_date": None, "page_size": "200", "page": "1", "order_state": "WAIT_SELLER_STOCK_OUT",
                "optional_fields": None, "end_date": None}
    assert param_json(business) == params["360buy_param_json"]


def test_every_call_is_signed_over_what_it_sends(adapter):
    call = adapter.build_order_poll(CREDS, WINDOW, None)
    sent = form(call)
    assert call.method == "POST" and call.url == "https://api.jd.com/routerjson"
    assert call.hosts is adapter.api_hosts
    assert sent["sign"] == api_sign("jd-secret", sent)
    assert (sent["method"], sent["app_key"], sent["access_token"], sent["v"], sent["timestamp"]) == (
        "jingdong.pop.order.enSearch", "jd-key", "jd-token", "2.0", "2026-03-02 10:25:00")
    business = json.loads(sent["360buy_param_json"])
    assert (business["start_date"], business["end_date"], business["page"], business["page_size"]) == (
        "2026-03-02 10:03:20", "2026-03-02 10:20:00", "1", "100")
    assert business["dateType"] == 0                                 # by modification time
    assert {"WAIT_SELLER_STOCK_OUT", "TRADE_CANCELED", "FINISHED_L"} <= set(business["order_state"].split(","))
    assert list(business) == sorted(business)


def test_a_window_longer_than_30_minutes_is_refused_before_sending(adapter):
    with pytest.raises(ValueError, match="30 min"):
        adapter.build_order_poll(CREDS, PollWindow(0, 30 * 60 + 1), None)


def test_the_order_search_answer_maps_each_state(adapter):
    page = adapter.parse_order_poll("s1", WINDOW, None, 200, example("order_search_page.json"))
    got = [(e.order_id, e.kind, [(l.listing_id, l.qty, l.seller_sku) for l in e.lines]) for e in page.events]
    assert got == [
        ("305518766001", OrderEventKind.PAID, [("100012345678", 2, "TEE-RED-M")]),
        ("305518766002", OrderEventKind.PAID, [("100012345678", 1, "TEE-RED-M")]),
        ("305518766002", OrderEventKind.SHIPPED, [("100012345678", 1, "TEE-RED-M")]),
        ("305518766003", OrderEventKind.CANCELLED, [("100012345678", 1, "TEE-RED-M")]),
    ]
    first = page.events[0]
    assert first.occurred_at == "2026-03-02T10:15:30+08:00" and first.paid
    assert first.delivery_id == "305518766001:WAIT_SELLER_STOCK_OUT:2026-03-02 10:15:30"
    assert page.next_page is None                                    # 3 orders: one page


def test_pages_are_read_forward_until_the_total(adapter):
    body = json.loads(example("order_search_page.json"))
    body["jingdong_pop_order_enSearch_responce"]["searchorderinfo_result"]["orderTotal"] = 250
    raw = json.dumps(body).encode()
    assert adapter.parse_order_poll("s1", WINDOW, None, 200, raw).next_page == {"page": 2}
    assert adapter.parse_order_poll("s1", WINDOW, {"page": 2}, 200, raw).next_page == {"page": 3}
    assert adapter.parse_order_poll("s1", WINDOW, {"page": 3}, 200, raw).next_page is None
    assert json.loads(form(adapter.build_order_poll(CREDS, WINDOW, {"page": 3}))["360buy_param_json"])["page"] == "3"


def test_a_partly_refunded_order_is_read_by_its_state_alone_the_documented_choice(adapter):
    """JD's after-sale reads are not used (module docstring): an order with one of its two SKUs refunded keeps
    every unit committed while JD locks it, is released whole when JD cancels it, and ships whole (nothing
    restocked, no part release) once finished."""
    page = adapter.parse_order_poll("s1", WINDOW, None, 200, example("order_search_part_refunded.json"))
    lines = [("100012345678", 2), ("100012345679", 1)]
    got = [(e.order_id, e.kind, [(l.listing_id, l.qty) for l in e.lines]) for e in page.events]
    assert got == [
        ("305518766101", OrderEventKind.PAID, lines),                                  # locked: still committed
        ("305518766102", OrderEventKind.CANCELLED, [("100012345678", 1), ("100012345679", 1)]),
        ("305518766103", OrderEventKind.PAID, [("100012345678", 1), ("100012345679", 1)]),
        ("305518766103", OrderEventKind.SHIPPED, [("100012345678", 1), ("100012345679", 1)]),
    ]
    assert not {OrderEventKind.PART_CANCELLED, OrderEventKind.RETURNED} & {e.kind for e in page.events}


@pytest.mark.parametrize("state, kinds", [
    ("WAIT_SELLER_STOCK_OUT", [OrderEventKind.PAID]),
    ("WAIT_SEND_CODE", [OrderEventKind.PAID]),
    ("WAIT_GOODS_RECEIVE_CONFIRM", [OrderEventKind.PAID, OrderEventKind.SHIPPED]),
    ("FINISHED_L", [OrderEventKind.PAID, OrderEventKind.SHIPPED]),
    ("TRADE_CANCELED", [OrderEventKind.CANCELLED]),
    # ambiguous, chosen: a locked or paused order may still go out, so its units stay committed
    ("LOCKED", [OrderEventKind.PAID]),
    ("POP_ORDER_PAUSE", [OrderEventKind.PAID]),
    # ambiguous, chosen: overseas purchase waiting for domestic shipment has not been sent on yet
    ("WAIT_SELLER_DELIVERY", [OrderEventKind.PAID]),
])
def test_status_mapping(state, kinds):
    assert kinds_of(state) == kinds


def test_an_unknown_state_or_a_broken_answer_is_refused_not_skipped(adapter):
    with pytest.raises(PayloadInvalid, match="unknown orderState"):
        kinds_of("SOMETHING_NEW", "1")
    for body in (b"not json", b'{"jingdong_pop_order_enSearch_responce": {"code": "0"}}',
                 example("invalid_signature.json")):
        with pytest.raises(PayloadInvalid):
            adapter.parse_order_poll("s1", WINDOW, None, 200, body)
    refused = json.loads(example("order_search_page.json"))
    refused["jingdong_pop_order_enSearch_responce"]["searchorderinfo_result"]["apiResult"] = {
        "success": False, "chineseErrCode": "查询失败"}
    with pytest.raises(PayloadInvalid, match="查询失败"):
        adapter.parse_order_poll("s1", WINDOW, None, 200, json.dumps(refused).encode())
    body = json.loads(example("order_search_page.json"))
    body["jingdong_pop_order_enSearch_responce"]["searchorderinfo_result"]["orderInfoList"][0]["itemInfoList"][0][
        "itemTotal"] = "0"
    with pytest.raises(PayloadInvalid):
        adapter.parse_order_poll("s1", WINDOW, None, 200, json.dumps(body).encode())


def test_no_webhook_is_taken(adapter):
    request = WebhookRequest({}, b"{}")
    with pytest.raises(WebhookRejected):
        adapter.verify_webhook(request, CREDS)
    with pytest.raises(WebhookRejected):
        adapter.verify_shop_and_freshness(request, CREDS, "s1", 0)


def test_stock_is_set_absolutely_one_sku_a_call(adapter):
    calls = adapter.build_stock_updates(CREDS, [StockPush("100012345678", 7), StockPush("100012345679", 0)])
    sent = [form(c) for c in calls]
    assert [s["method"] for s in sent] == ["jingdong.stock.write.updateSkuStock"] * 2
    assert [json.loads(s["360buy_param_json"]) for s in sent] == [
        {"skuId": 100012345678, "stockNum": 7}, {"skuId": 100012345679, "stockNum": 0}]
    assert all(s["sign"] == api_sign("jd-secret", s) for s in sent)
    assert not adapter.supports_relative
    with pytest.raises(NotImplementedError):
        adapter.build_stock_adjustments(CREDS, [StockAdjust("100012345678", -1)])
    with pytest.raises(ValueError):
        adapter.build_stock_updates(CREDS, [StockPush("100012345678", -1)])
    with pytest.raises(ValueError, match="numeric skuId"):
        adapter.build_stock_updates(CREDS, [StockPush("TEE-RED-M", 1)])


def test_read_back_takes_the_skus_own_stock(adapter):
    (call,) = adapter.build_read_back(CREDS, ["100012345678", "100012345678"])
    assert json.loads(form(call)["360buy_param_json"]) == {"skuId": 100012345678}
    assert adapter.parse_read_back(200, example("find_sku_stock.json")) == {"100012345678": 7}


def test_discovery_reads_the_sku_list(adapter):
    call = adapter.build_list_listings(CREDS, None)
    business = json.loads(form(call)["360buy_param_json"])
    assert (form(call)["method"], business["pageNo"], business["page_size"]) == (
        "jingdong.sku.read.searchSkuList", 1, 50)
    page = adapter.parse_list_listings(None, 200, example("search_sku_list.json"))
    assert [(l.listing_id, l.seller_sku, l.barcode, l.quantity, dict(l.platform_ids)) for l in page.listings] == [
        ("100012345678", "TEE-RED-M", "6901234567892", 7, {"ware_id": "10001234"}),
        ("100012345679", "TEE-RED-L", "", 0, {"ware_id": "10001234"})]
    assert page.cursor is None


def test_answers_are_classified(adapter):
    assert adapter.classify_response(200, example("stock_update_ok.json")).ok
    refused = adapter.classify_response(200, example("invalid_signature.json"))
    assert refused.outcome is Outcome.PERMANENT and refused.code == "19"
    assert adapter.classify_response(200, example("throttled.json")).outcome is Outcome.RETRYABLE
    assert adapter.classify_response(503, b"").outcome is Outcome.RETRYABLE
    business = adapter.classify_response(200, b'{"jingdong_stock_write_updateSkuStock_responce": {"code": "1"}}')
    assert business.outcome is Outcome.PERMANENT

"""Pinduoduo adapter: the published signing example, the increment order poll (windows, reverse paging,
GMT+8 times, the status mapping and its ambiguous case), the after-sales list read after each window's orders
(per-line refunds), stock pushes full and incremental, the promotion slot refusal, read-back and listing
discovery, against the example answers in events/pinduoduo/."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from stocklink.channels._common import Outcome
from stocklink.channels.base import OrderEventKind, PayloadInvalid, PollWindow, StockAdjust, StockPush, WebhookRejected, WebhookRequest
from stocklink.channels.pinduoduo import PROMOTION_SLOT, REFUNDS, PinduoduoAdapter, api_sign, kinds_of, refunded_units

EVENTS = Path(__file__).resolve().parents[3] / "events" / "pinduoduo"
CREDS = {"client_id": "pdd-client", "client_secret": "pdd-secret", "access_token": "pdd-token"}
WINDOW = PollWindow(1_772_417_000, 1_772_418_000)


def example(name: str) -> bytes:
    return (EVENTS / name).read_bytes()


def form(call) -> dict[str, str]:
    return dict(parse_qsl(call.body.decode()))


@pytest.fixture
def adapter():
    return PinduoduoAdapter(clock=lambda: 1_772_418_300.0)


def test_the_published_signing_example_reproduces():
    """open.pinduoduo.com 签名算法 (idStr=8EC06C399636041E): client_secret testSecret."""
    params = {"type": "pdd.order.number.list.get", "client_id": "1", "data_type": "XML",
              "access_token": "asd78172s8ds9a921j9qqwda12312w1w21211", "timestamp": "1480411125",
              "order_status": "1", "page": "1", "page_size": "10"}
    assert api_sign("testSecret", params) == "E4DE3ED21002510DED352819E7AE6775"
    assert api_sign("testSecret", {**params, "sign": "ignored"}) == "E4DE3ED21002510DED352819E7AE6775"


def test_every_call_is_signed_over_what_it_sends(adapter):
    call = adapter.build_order_poll(CREDS, WINDOW, None)
    sent = form(call)
    assert call.method == "POST" and call.url == "https://gw-api.pinduoduo.com/api/router"
    assert call.hosts is adapter.api_hosts
    assert sent["sign"] == api_sign("pdd-secret", sent)
    assert (sent["type"], sent["client_id"], sent["access_token"], sent["data_type"], sent["timestamp"]) == (
        "pdd.order.number.list.increment.get", "pdd-client", "pdd-token", "JSON", "1772418300")
    assert (sent["start_updated_at"], sent["end_updated_at"], sent["page"], sent["page_size"]) == (
        "1772417000", "1772418000", "1", "100")
    assert (sent["order_status"], sent["refund_status"]) == ("5", "5")     # every status: cancellations too


def test_a_window_longer_than_30_minutes_is_refused_before_sending(adapter):
    with pytest.raises(ValueError, match="30 min"):
        adapter.build_order_poll(CREDS, PollWindow(0, 30 * 60 + 1), None)
    assert adapter.max_poll_window_s == 1800 and adapter.poll_settle_s == 180


@pytest.mark.parametrize("listed, key", [(None, "order_sn_increment_get_response"),
                                         (REFUNDS, "refund_increment_get_response")])
def test_pages_are_read_from_the_last_back_to_the_first_orders_then_after_sales(adapter, listed, key):
    def answer(total):
        return json.dumps({key: {"total_count": total, "order_sn_list": [], "refund_list": []}}).encode()

    start = {"list": listed} if listed else None
    after = {"list": REFUNDS} if listed is None else None        # the window's after-sales follow its orders
    assert adapter.parse_order_poll("s1", WINDOW, start, 200, answer(80)).next_page == after
    first = adapter.parse_order_poll("s1", WINDOW, start, 200, answer(250))
    assert first.next_page == {**(start or {}), "page": 3}
    pages = []
    page = first.next_page
    while page != after:
        pages.append(page["page"])
        assert form(adapter.build_order_poll(CREDS, WINDOW, page))["page"] == str(page["page"])
        page = adapter.parse_order_poll("s1", WINDOW, page, 200, answer(250)).next_page
    assert pages == [3, 2, 1]


def test_the_example_page_maps_each_order_to_what_happened_to_it(adapter):
    page = adapter.parse_order_poll("s1", WINDOW, None, 200, example("order_increment_page.json"))
    by_order = {}
    for event in page.events:
        by_order.setdefault(event.order_id, []).append(event)
    kinds = {order: [e.kind for e in found] for order, found in by_order.items()}
    assert kinds == {
        "260302-118000000000001": [OrderEventKind.CREATED],                          # 拼团中: hold
        "260302-118000000000002": [OrderEventKind.PAID],                             # 待发货: commit
        "260301-118000000000003": [OrderEventKind.PAID, OrderEventKind.SHIPPED],     # shipped: both steps
        "260302-118000000000004": [OrderEventKind.PAID],         # refunded before shipping: units by after-sale
        "260228-118000000000005": [OrderEventKind.PAID, OrderEventKind.SHIPPED],     # refunded after: no restock
    }
    held = by_order["260302-118000000000001"][0]
    assert held.paid is False and [(l.listing_id, l.qty, l.seller_sku) for l in held.lines] == [
        ("1180000001", 2, "TEE-RED-M")]
    assert held.occurred_at == "2026-03-02T10:10:31+08:00"                      # Beijing time, as printed
    assert held.delivery_id == "260302-118000000000001:1:1:0:2026-03-02 10:10:31"
    assert all(e.paid for e in page.events if e.kind is not OrderEventKind.CREATED)


def test_a_refund_is_never_read_from_the_order_list_the_documented_choice():
    shipped_refunded = {"order_sn": "x", "order_status": 2, "refund_status": 4, "group_status": 1}
    assert OrderEventKind.RETURNED not in kinds_of(shipped_refunded)
    # refunded before shipment: committed, not released whole (the after-sales list says how many units)
    assert kinds_of({**shipped_refunded, "order_status": 1}) == [OrderEventKind.PAID]
    assert kinds_of({**shipped_refunded, "refund_status": 3}) == [OrderEventKind.PAID, OrderEventKind.SHIPPED]
    assert kinds_of({"order_sn": "x", "order_status": 1, "group_status": 2}) == [OrderEventKind.CANCELLED]
    assert kinds_of({"order_sn": "x", "order_status": 1, "group_status": 1, "confirm_status": 2}) == [
        OrderEventKind.CANCELLED]


def test_the_after_sales_call_asks_for_finished_refunds_of_the_window(adapter):
    sent = form(adapter.build_order_poll(CREDS, WINDOW, {"list": REFUNDS}))
    assert sent["sign"] == api_sign("pdd-secret", sent)
    assert (sent["type"], sent["start_updated_at"], sent["end_updated_at"], sent["page"], sent["page_size"]) == (
        "pdd.refund.list.increment.get", "1772417000", "1772418000", "1", "100")
    assert (sent["after_sales_status"], sent["after_sales_type"]) == ("10", "1")    # 退款成功, 全部
    with pytest.raises(ValueError, match="30 min"):
        adapter.build_order_poll(CREDS, PollWindow(0, 30 * 60 + 1), {"list": REFUNDS})


def test_the_example_after_sales_map_to_part_cancellations_and_returns_of_their_line(adapter):
    page = adapter.parse_order_poll("s1", WINDOW, {"list": REFUNDS}, 200, example("refund_increment_page.json"))
    assert page.next_page is None
    assert [(e.order_id, e.kind, [(l.listing_id, l.qty, l.seller_sku) for l in e.lines]) for e in page.events] == [
        ("260302-118000000000004", OrderEventKind.PART_CANCELLED, [("1180000002", 1, "TEE-RED-L")]),  # whole refund
        ("260302-118000000000006", OrderEventKind.PART_CANCELLED, [("1180000001", 1, "TEE-RED-M")]),  # 1 of 3 units
        ("260228-118000000000005", OrderEventKind.RETURNED, [("1180000001", 1, "TEE-RED-M")]),        # 退货退款
    ]   # a price difference refunded (5.00 of 89.70) is no unit; an exchange moves nothing
    first = page.events[0]
    assert first.delivery_id == "refund-7100000001:1180000002:10" and first.occurred_at == "2026-03-02T10:13:05+08:00"
    assert first.event_key == "pinduoduo#s1#260302-118000000000004#part_cancelled#refund-7100000001:1180000002:10"
    again = adapter.parse_order_poll("s1", PollWindow(WINDOW.start_s - 120, WINDOW.end_s), {"list": REFUNDS}, 200,
                                     example("refund_increment_page.json"))
    assert [e.event_key for e in again.events] == [e.event_key for e in page.events]   # read twice: one event


@pytest.mark.parametrize("refund, goods_back, units", [
    ({"goods_number": "3", "refund_amount": "89.70", "order_amount": "89.70"}, False, 3),
    ({"goods_number": "3", "refund_amount": "59.80", "order_amount": "89.70"}, False, 2),
    ({"goods_number": "3", "refund_amount": "5.00", "order_amount": "89.70"}, False, 0),   # money only: no unit
    ({"goods_number": "3", "refund_amount": "5.00", "order_amount": "89.70"}, True, 1),    # goods came back
    ({"goods_number": "3", "refund_amount": "94.70", "order_amount": "89.70"}, False, 3),  # never above the count
    ({"goods_number": "2"}, False, 2),                                                     # no amounts: all
    ({"goods_number": 1, "refund_amount": 1990, "order_amount": 1990}, False, 1),          # numbers, not text
])
def test_the_units_a_refund_takes_are_its_share_of_the_money_rounded_down(refund, goods_back, units):
    assert refunded_units({"id": 1, **refund}, goods_back) == units


@pytest.mark.parametrize("change, error", [
    ({"sku_id": ""}, "without id, order_sn or sku_id"),
    ({"goods_number": "0"}, "invalid quantity"),
])
def test_a_broken_after_sale_is_refused_whole(adapter, change, error):
    refund = {"id": 1, "order_sn": "o1", "sku_id": "1", "after_sales_status": 10, "after_sales_type": 2,
              "goods_number": "1", **change}
    body = json.dumps({"refund_increment_get_response": {"total_count": 1, "refund_list": [refund]}}).encode()
    with pytest.raises(PayloadInvalid, match=error):
        adapter.parse_order_poll("s1", WINDOW, {"list": REFUNDS}, 200, body)


def test_the_same_change_read_twice_is_one_business_event(adapter):
    """The overlap window reads a change again: same event keys, so the markers make it a duplicate."""
    once = adapter.parse_order_poll("s1", WINDOW, None, 200, example("order_increment_page.json")).events
    again = adapter.parse_order_poll("s1", PollWindow(WINDOW.start_s - 120, WINDOW.end_s + 30), None, 200,
                                     example("order_increment_page.json")).events
    assert [e.event_key for e in once] == [e.event_key for e in again]


@pytest.mark.parametrize("change, error", [
    ({"item_list": []}, "no item_list"),
    ({"item_list": [{"sku_id": 1, "goods_count": 0}]}, "invalid quantity"),
    ({"order_status": 9}, "unknown order_status"),
    ({"order_sn": ""}, "without order_sn"),
])
def test_a_broken_order_is_refused_whole(adapter, change, error):
    order = {"order_sn": "o1", "order_status": 1, "refund_status": 1, "group_status": 1, "updated_at": "",
             "item_list": [{"sku_id": 1, "goods_count": 1}], **change}
    body = json.dumps({"order_sn_increment_get_response": {"total_count": 1, "order_sn_list": [order]}}).encode()
    with pytest.raises(PayloadInvalid, match=error):
        adapter.parse_order_poll("s1", WINDOW, None, 200, body)


def test_an_error_answer_is_not_read_as_an_empty_page(adapter):
    with pytest.raises(PayloadInvalid, match="70031"):
        adapter.parse_order_poll("s1", WINDOW, None, 200, example("throttled.json"))


def test_stock_push_full_and_incremental_one_sku_per_call(adapter):
    full = adapter.build_stock_updates(CREDS, [StockPush("1180000001", 7, {"goods_id": "350000001"}),
                                               StockPush("1180000002", 0, {"goods_id": "350000001"})])
    assert [(form(c)["type"], form(c)["sku_id"], form(c)["quantity"], form(c)["update_type"]) for c in full] == [
        ("pdd.goods.quantity.update", "1180000001", "7", "1"), ("pdd.goods.quantity.update", "1180000002", "0", "1")]
    (relative,) = adapter.build_stock_adjustments(CREDS, [StockAdjust("1180000001", -2, {"goods_id": "350000001"})])
    assert (form(relative)["quantity"], form(relative)["update_type"], form(relative)["goods_id"]) == ("-2", "2", "350000001")
    assert all(form(c)["sign"] == api_sign("pdd-secret", form(c)) for c in full + [relative])
    with pytest.raises(ValueError, match="goods_id"):
        adapter.build_stock_updates(CREDS, [StockPush("1180000001", 1, {})])
    with pytest.raises(ValueError):
        adapter.build_stock_updates(CREDS, [StockPush("1180000001", -1, {"goods_id": "1"})])


def test_responses_are_classified(adapter):
    assert adapter.classify_response(200, example("quantity_update_ok.json")).ok
    slot = adapter.classify_response(200, example("quantity_update_promotion_slot.json"))
    assert slot.outcome is Outcome.PERMANENT and slot.code == PROMOTION_SLOT and "资源位" in slot.message
    assert adapter.classify_response(200, example("throttled.json")).outcome is Outcome.RETRYABLE
    assert adapter.classify_response(503, b"<html>").outcome is Outcome.RETRYABLE
    assert adapter.classify_response(200, b"").outcome is Outcome.PERMANENT


def refusal(code: int, message: str) -> bytes:
    return json.dumps({"error_response": {"error_code": code, "error_msg": message, "sub_code": str(code),
                                          "sub_msg": "", "request_id": "1"}}, ensure_ascii=False).encode()


def test_only_the_after_sales_pages_may_be_skipped_and_only_a_refusal_for_good_skips_them(adapter):
    # the window's after-sales pages only release stock: the poller may go without them
    assert adapter.skippable_poll_page({"list": REFUNDS}) and adapter.skippable_poll_page({"list": REFUNDS, "page": 2})
    assert not adapter.skippable_poll_page(None) and not adapter.skippable_poll_page({"page": 3})
    # a permission refusal is permanent (it skips them); the platform failing is not (the window is read again)
    assert adapter.classify_response(200, refusal(20031, "用户没有该接口的调用权限")).outcome is Outcome.PERMANENT
    assert adapter.classify_response(200, refusal(50001, "系统错误")).outcome is Outcome.RETRYABLE
    assert adapter.classify_response(200, refusal(50000, "服务繁忙，请稍后重试")).outcome is Outcome.RETRYABLE
    assert adapter.classify_response(200, refusal(10000, "业务服务错误")).outcome is Outcome.PERMANENT


def test_read_back_and_listing_discovery(adapter):
    (read,) = adapter.build_read_back(CREDS, ["1180000001", "1180000002"],
                                      {"1180000001": {"goods_id": "350000001"}, "1180000002": {"goods_id": "350000001"}})
    assert (form(read)["type"], form(read)["goods_id"]) == ("pdd.goods.detail.get", "350000001")
    assert adapter.parse_read_back(200, example("goods_detail.json")) == {"1180000001": 70, "1180000002": 50}
    listed = adapter.parse_list_listings(None, 200, example("goods_list.json"))
    assert listed.cursor is None
    assert [(l.listing_id, l.seller_sku, l.title, dict(l.platform_ids), l.quantity) for l in listed.listings] == [
        ("1180000001", "TEE-RED-M", "纯棉T恤", {"goods_id": "350000001"}, 70),
        ("1180000002", "TEE-RED-L", "纯棉T恤", {"goods_id": "350000001"}, 50)]
    assert form(adapter.build_list_listings(CREDS, {"page": 3}))["page"] == "3"


def test_no_webhook_is_ever_accepted(adapter):
    with pytest.raises(WebhookRejected):
        adapter.verify_webhook(WebhookRequest({}, b"{}"), CREDS)

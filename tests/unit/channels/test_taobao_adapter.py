"""Taobao (TOP) adapter: the published md5 signing example, hmac-sha256 against an independent computation,
the TMC queue (consume, the trade fetch, confirm; other sellers' and other topics' messages), the increment
poll (one-day windows, reverse paging, GMT+8 times), the status mapping and its ambiguous cases, stock pushes
full and incremental, read-back and the two-level discovery, against the example answers in events/taobao/."""
from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from stocklink.channels._common import Outcome
from stocklink.channels.base import (
    OrderEventKind,
    PayloadInvalid,
    PollWindow,
    StockAdjust,
    StockPush,
    WebhookRejected,
    WebhookRequest,
)
from stocklink.channels.taobao import TaobaoAdapter, api_sign, kinds_of

EVENTS = Path(__file__).resolve().parents[3] / "events" / "taobao"
CREDS = {"app_key": "12497914", "app_secret": "tb-secret", "session": "tb-session", "user_id": "2200000001"}
NOW = 1_772_417_730.0            # 2026-03-02 10:15:30 in Beijing
WINDOW = PollWindow(1_772_410_000, 1_772_417_000)


def example(name: str) -> bytes:
    return (EVENTS / name).read_bytes()


def form(call) -> dict[str, str]:
    return dict(parse_qsl(call.body.decode()))


@pytest.fixture
def adapter():
    return TaobaoAdapter(clock=lambda: NOW)


def test_the_published_md5_signing_example_reproduces():
    """open.taobao.com "API调用方法详解" (docId=101617): app_key 12345678, secret helloworld."""
    params = {"method": "taobao.item.seller.get", "app_key": "12345678", "session": "test",
              "timestamp": "2016-01-01 12:00:00", "format": "json", "v": "2.0", "sign_method": "md5",
              "fields": "num_iid,title,nick,price,num", "num_iid": "11223344"}
    assert api_sign("helloworld", params) == "66987CB115214E59E6EC978214934FB8"
    assert api_sign("helloworld", {**params, "sign": "ignored"}) == "66987CB115214E59E6EC978214934FB8"


def test_hmac_sha256_matches_an_independent_computation():
    """TOP publishes no hmac-sha256 example: written out here from the rule (HMAC over the sorted k+v, no
    secret wrapping, upper hex) with hashlib directly."""
    params = {"b": "2", "a": "1", "method": "x.y", "sign_method": "hmac-sha256"}
    expected = hmac.new(b"k3y", b"a1b2methodx.ysign_methodhmac-sha256", hashlib.sha256).hexdigest().upper()
    assert api_sign("k3y", params, "hmac-sha256") == expected
    with pytest.raises(ValueError, match="sign_method"):
        api_sign("k3y", params, "sha1")


@pytest.mark.parametrize("method", ["md5", "hmac-sha256"])
def test_every_call_is_signed_over_what_it_sends(adapter, method):
    creds = {**CREDS, "sign_method": method}
    call = adapter.build_order_poll(creds, WINDOW, None)
    sent = form(call)
    assert call.method == "POST" and call.url == "https://eco.taobao.com/router/rest"
    assert call.hosts is adapter.api_hosts
    assert sent["sign"] == api_sign("tb-secret", sent, method)
    assert (sent["method"], sent["app_key"], sent["session"], sent["sign_method"], sent["timestamp"], sent["v"]) == (
        "taobao.trades.sold.increment.get", "12497914", "tb-session", method, "2026-03-02 10:15:30", "2.0")
    assert (sent["start_modified"], sent["end_modified"], sent["page_no"], sent["page_size"]) == (
        "2026-03-02 08:06:40", "2026-03-02 10:03:20", "1", "100")
    assert "buyer" not in sent["fields"] and "receiver" not in sent["fields"]    # masked buyer data: never asked


def test_a_window_longer_than_a_day_is_refused_before_sending(adapter):
    with pytest.raises(ValueError, match="1 day"):
        adapter.build_order_poll(CREDS, PollWindow(0, 24 * 3600 + 1), None)
    assert adapter.max_poll_window_s == 86400


def test_the_increment_pages_are_read_from_the_last_back_to_the_first(adapter):
    def answer(total: int) -> bytes:
        return json.dumps({"trades_sold_increment_get_response": {"total_results": total, "trades": {"trade": []}}}).encode()

    assert adapter.parse_order_poll("s1", WINDOW, None, 200, answer(250)).next_page == {"page": 3}
    assert adapter.parse_order_poll("s1", WINDOW, {"page": 3}, 200, answer(250)).next_page == {"page": 2}
    assert adapter.parse_order_poll("s1", WINDOW, {"page": 1}, 200, answer(250)).next_page is None
    assert adapter.parse_order_poll("s1", WINDOW, None, 200, answer(80)).next_page is None


def test_an_increment_page_maps_each_trade_status(adapter):
    page = adapter.parse_order_poll("s1", WINDOW, None, 200, example("trades_increment_page.json"))
    got = [(e.order_id, e.kind, e.paid, [(l.listing_id, l.qty, l.seller_sku) for l in e.lines]) for e in page.events]
    assert got == [
        ("4100000000000002", OrderEventKind.CREATED, False, [("4800000000001", 1, "TEE-RED-M")]),
        ("4100000000000003", OrderEventKind.PAID, True, [("600000000002", 3, None)]),    # no SKUs: the item
        ("4100000000000003", OrderEventKind.SHIPPED, True, [("600000000002", 3, None)]),
        ("4100000000000004", OrderEventKind.CANCELLED, True, [("4800000000002", 1, None)]),
    ]
    first = page.events[0]
    assert first.delivery_id == "4100000000000002:WAIT_BUYER_PAY:2026-03-02 09:58:01"
    assert first.occurred_at == "2026-03-02T09:58:01+08:00"


@pytest.mark.parametrize("status,kinds", [
    ("WAIT_BUYER_PAY", ["created"]), ("TRADE_NO_CREATE_PAY", ["created"]),
    ("WAIT_SELLER_SEND_GOODS", ["paid"]),
    ("PAID_FORBID_CONSIGN", ["paid"]),             # ambiguous, chosen: paid, not shippable yet
    ("SELLER_CONSIGNED_PART", ["paid"]),           # ambiguous, chosen: ships when the whole trade does
    ("WAIT_BUYER_CONFIRM_GOODS", ["paid", "shipped"]), ("TRADE_BUYER_SIGNED", ["paid", "shipped"]),
    ("TRADE_FINISHED", ["paid", "shipped"]),
    ("TRADE_CLOSED", ["cancelled"]), ("TRADE_CLOSED_BY_TAOBAO", ["cancelled"]),
])
def test_status_mapping(status, kinds):
    assert [k.value for k in kinds_of(status)] == kinds


def test_an_unknown_status_or_a_trade_without_lines_is_refused(adapter):
    with pytest.raises(PayloadInvalid, match="status"):
        kinds_of("SOMETHING_NEW")
    empty = json.dumps({"trade_fullinfo_get_response": {"trade": {"tid": 1, "status": "WAIT_SELLER_SEND_GOODS",
                                                                  "modified": "2026-03-02 10:00:00"}}}).encode()
    with pytest.raises(PayloadInvalid, match="no orders"):
        adapter.parse_message_order("s1", 200, empty)


def test_tmc_consume_keeps_this_sellers_order_messages_and_confirms_other_topics(adapter):
    call = adapter.build_message_consume({**CREDS, "tmc_group": "shop-s1"})
    sent = form(call)
    assert (sent["method"], sent["quantity"], sent["group_name"]) == ("taobao.tmc.messages.consume", "100", "shop-s1")
    assert "session" not in sent and sent["sign"] == api_sign("tb-secret", sent)
    messages = adapter.parse_message_consume(CREDS, 200, example("tmc_consume.json"))
    assert [(m.message_id, m.order_ref, m.ours) for m in messages] == [
        ("5041100000001", "4100000000000001", True),      # a paid trade: fetch it
        ("5041100000002", None, True),                    # ItemUpdate: confirmed unread
        ("5041100000003", None, False),                   # another seller's: left for its shop
    ]


def test_the_trade_a_message_names_is_fetched_and_mapped_like_the_poll(adapter):
    sent = form(adapter.build_message_order(CREDS, "4100000000000001"))
    assert (sent["method"], sent["tid"]) == ("taobao.trade.fullinfo.get", "4100000000000001")
    assert "buyer" not in sent["fields"]
    events = adapter.parse_message_order("s1", 200, example("trade_fullinfo.json"))
    assert [(e.kind, e.lines[0].listing_id, e.lines[0].qty, e.delivery_id) for e in events] == [
        (OrderEventKind.PAID, "4800000000001", 2, "4100000000000001:WAIT_SELLER_SEND_GOODS:2026-03-02 10:15:30")]


def test_the_confirm_names_the_handled_messages(adapter):
    sent = form(adapter.build_message_confirm(CREDS, ["5041100000001", "5041100000002"]))
    assert (sent["method"], sent["s_message_ids"]) == ("taobao.tmc.messages.confirm", "5041100000001,5041100000002")
    with pytest.raises(ValueError):
        adapter.build_message_confirm(CREDS, [str(i) for i in range(201)])


def test_no_webhook_is_accepted(adapter):
    request = WebhookRequest({}, b"{}")
    with pytest.raises(WebhookRejected):
        adapter.verify_webhook(request, CREDS)
    with pytest.raises(WebhookRejected):
        adapter.verify_shop_and_freshness(request, CREDS, "s1", NOW)


def test_stock_pushes_batch_skus_per_item_and_use_the_item_call_without_skus(adapter):
    pushes = [StockPush(f"48{i:011d}", i, {"num_iid": "600000000001"}) for i in range(21)]
    pushes.append(StockPush("600000000002", 7, {"num_iid": "600000000002"}))
    calls = [form(c) for c in adapter.build_stock_updates(CREDS, pushes)]
    assert [(c["method"], c["num_iid"], c["type"]) for c in calls] == [
        ("taobao.skus.quantity.update", "600000000001", "1"), ("taobao.skus.quantity.update", "600000000001", "1"),
        ("taobao.item.quantity.update", "600000000002", "1")]
    assert len(calls[0]["skuid_quantities"].split(";")) == 20
    assert calls[1]["skuid_quantities"] == "4800000000020:20" and calls[2]["quantity"] == "7"
    adjust = form(adapter.build_stock_adjustments(CREDS, [StockAdjust("4800000000001", -2, {"num_iid": "600000000001"})])[0])
    assert (adjust["type"], adjust["skuid_quantities"]) == ("2", "4800000000001:-2")
    with pytest.raises(Exception):
        adapter.build_stock_updates(CREDS, [StockPush("4800000000001", 1, {})])     # num_iid is required


def test_read_back_and_responses(adapter):
    sent = form(adapter.build_read_back(CREDS, ["4800000000001", "4800000000002"],
                                        {"4800000000001": {"num_iid": "600000000001"},
                                         "4800000000002": {"num_iid": "600000000001"}})[0])
    assert (sent["method"], sent["num_iid"]) == ("taobao.item.seller.get", "600000000001")
    assert adapter.parse_read_back(200, example("item_seller_get.json")) == {"4800000000001": 12, "4800000000002": 5}
    assert adapter.classify_response(200, example("skus_quantity_update_ok.json")).outcome is Outcome.OK
    assert adapter.classify_response(200, example("throttled.json")).outcome is Outcome.RETRYABLE
    refused = adapter.classify_response(200, example("invalid_signature.json"))
    assert (refused.outcome, refused.code) == (Outcome.PERMANENT, "25")


def test_discovery_walks_items_then_each_items_skus(adapter):
    first = form(adapter.build_list_listings(CREDS, None))
    assert (first["method"], first["page_no"], first["page_size"]) == ("taobao.items.onsale.get", "1", "200")
    page = adapter.parse_list_listings(None, 200, example("items_onsale.json"))
    assert page.listings == () and page.cursor == {"page": 1, "items": ["600000000001", "600000000002"], "more": False}
    step = form(adapter.build_list_listings(CREDS, page.cursor))
    assert (step["method"], step["num_iid"]) == ("taobao.item.seller.get", "600000000001")
    skus = adapter.parse_list_listings(page.cursor, 200, example("item_seller_get.json"))
    assert [(l.listing_id, l.seller_sku, l.platform_ids["num_iid"], l.quantity) for l in skus.listings] == [
        ("4800000000001", "TEE-RED-M", "600000000001", 12), ("4800000000002", "TEE-RED-L", "600000000001", 5)]
    assert skus.cursor == {"page": 1, "items": ["600000000002"], "more": False}
    bag = json.dumps({"item_seller_get_response": {"item": {"num_iid": 600000000002, "title": "帆布袋",
                                                            "outer_id": "BAG", "num": 30}}}).encode()
    last = adapter.parse_list_listings(skus.cursor, 200, bag)
    assert [(l.listing_id, l.seller_sku, l.quantity) for l in last.listings] == [("600000000002", "BAG", 30)]
    assert last.cursor is None


# -- per-line refunds -------------------------------------------------------------------------------------
def test_a_refund_message_is_read_as_a_return_of_its_sub_order_only(adapter):
    """RefundSuccess names the refund: taobao.refund.get says the goods came back and a third of the
    sub-order's money was refunded; the trade (the order detail) gives the sub-order's line: 1 of its 3 units
    of sku 4800000000002 comes back, nothing of the other sub-order."""
    [message] = adapter.parse_message_consume(CREDS, 200, example("tmc_consume_refund.json"))
    assert message.order_ref == "refund:70200000000001"
    sent = form(adapter.build_message_order(CREDS, message.order_ref))
    assert (sent["method"], sent["refund_id"]) == ("taobao.refund.get", "70200000000001")
    assert {"has_good_return", "oid", "refund_fee", "num"} <= set(sent["fields"].split(","))
    [event] = adapter.parse_message_order("s1", 200, example("refund_get.json"))
    assert (event.kind, event.order_id, event.lines) == (OrderEventKind.RETURNED, "4100000000000002", ())
    assert adapter.needs_order_detail(event)
    detail = form(adapter.build_order_detail(CREDS, event))
    assert (detail["method"], detail["tid"]) == ("taobao.trade.fullinfo.get", "4100000000000002")
    completed = adapter.parse_order_detail(event, 200, example("trade_fullinfo_two_lines.json"))
    assert [(line.listing_id, line.qty, line.seller_sku) for line in completed.lines] == [
        ("4800000000002", 1, "TEE-RED-L")]
    # its own event key: another refund of the same trade is another return
    [second] = adapter.parse_message_order("s1", 200, _refund_answer({"refund_id": "70200000000002",
                                                                      "oid": 4100000000000011}))
    assert second.event_key != event.event_key


def _refund_answer(change: dict, **base) -> bytes:
    """refund_get.json's answer with `base`, then `change`, applied to the refund (None removes a field)."""
    payload = json.loads(example("refund_get.json"))
    refund = payload["refund_get_response"]["refund"]
    refund.update({**base, **{k: v for k, v in change.items() if v is not None}})
    for key in [k for k, v in change.items() if v is None]:
        refund.pop(key)
    return json.dumps(payload).encode()


@pytest.mark.parametrize("change, returned", [
    ({}, 1),                                                   # 39.80 of 119.40: one of three units
    ({"refund_fee": "119.40"}, 3),                             # the whole sub-order
    ({"refund_fee": "10.00"}, 1),                              # less than a unit's worth: still the one
    ({"refund_fee": "80.00"}, 2),
    ({"total_fee": None, "refund_fee": None}, 3),              # no amounts: the sub-order's quantity
    ({"status": "WAIT_SELLER_CONFIRM_GOODS"}, None),           # not refunded yet
])
def test_a_refund_returns_its_share_of_the_sub_order_and_only_goods_that_came_back(adapter, change, returned):
    events = adapter.parse_message_order("s1", 200, _refund_answer(change))
    if returned is None:
        assert events == []
        return
    [event] = events
    completed = adapter.parse_order_detail(event, 200, example("trade_fullinfo_two_lines.json"))
    assert [line.qty for line in completed.lines] == [returned]


@pytest.mark.parametrize("change, released", [
    ({}, 1),                                                   # 39.80 of 119.40: one of three units
    ({"refund_fee": "119.40"}, 3),                             # the whole sub-order
    ({"refund_fee": "10.00"}, None),                           # a price difference: no unit released
    ({"refund_fee": "80.00"}, 2),
    ({"total_fee": None, "refund_fee": None}, 3),              # no amounts: the sub-order's quantity
])
def test_a_money_only_refund_is_a_part_cancellation_of_its_sub_order_rounded_down(adapter, change, released):
    """仅退款: the goods never came back; before shipment the order logic releases the sub-order's units
    (after shipment the part cancellation moves nothing)."""
    events = adapter.parse_message_order("s1", 200, _refund_answer(
        change, has_good_return=False, good_status="BUYER_NOT_RECEIVED"))
    if released is None:
        assert events == []
        return
    [event] = events
    assert (event.kind, event.lines) == (OrderEventKind.PART_CANCELLED, ()) and adapter.needs_order_detail(event)
    assert event.event_key.startswith("taobao#s1#4100000000000002#part_cancelled#refund-70200000000001:")
    completed = adapter.parse_order_detail(event, 200, example("trade_fullinfo_two_lines.json"))
    assert [(line.listing_id, line.qty) for line in completed.lines] == [("4800000000002", released)]


def test_a_sub_order_refunded_before_the_trade_is_seen_is_left_out_of_its_lines(adapter):
    payload = json.loads(example("trade_fullinfo_two_lines.json"))
    trade = payload["trade_fullinfo_get_response"]["trade"]
    trade["status"] = "WAIT_SELLER_SEND_GOODS"
    trade["orders"]["order"][0]["status"] = "WAIT_SELLER_SEND_GOODS"
    trade["orders"]["order"][1]["status"] = "TRADE_CLOSED"          # refunded and closed
    [event] = adapter.parse_message_order("s1", 200, json.dumps(payload).encode())
    assert (event.kind, [(l.listing_id, l.qty) for l in event.lines]) == (OrderEventKind.PAID, [("4800000000001", 2)])

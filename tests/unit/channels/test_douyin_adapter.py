"""Douyin Shop adapter: request signing (md5 and hmac-sha256, against an independent computation: Douyin
publishes no input/output example), push verification on the raw bytes, shop binding and freshness, the tag
and order-status mappings with their ambiguous cases, the searchList poll and its reverse paging, stock sync
full and incremental with its idempotent_id, read-back and discovery, against events/douyin/."""
from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from stocklink.channels._common import Outcome
from stocklink.channels.base import (OrderEventKind, PayloadInvalid, PollWindow, StockAdjust, StockPush,
                                     WebhookRejected, WebhookRequest)
from stocklink.channels.douyin import DouyinAdapter, api_sign, canonical_json, poll_kinds, push_sign

EVENTS = Path(__file__).resolve().parents[3] / "events" / "douyin"
CREDS = {"app_key": "7152331588175513101", "app_secret": "douyin-secret", "access_token": "dy-token",
         "shop_id": "4463798"}
ORDER = "6919874451234567890"
NOW = 1_772_417_600.0          # 2026-03-02 10:13:20 in Beijing
WINDOW = PollWindow(1_772_417_000, 1_772_418_000)


def example(name: str) -> bytes:
    return (EVENTS / name).read_bytes()


def pushed(name: str, body: bytes | None = None, **headers) -> WebhookRequest:
    recorded = json.loads(example(f"{name}.headers.json"))
    return WebhookRequest({**recorded, **headers}, example(f"{name}.json") if body is None else body)


def sent(call) -> tuple[dict[str, str], dict]:
    return dict(parse_qsl(urlsplit(call.url).query)), json.loads(call.body)


@pytest.fixture
def adapter():
    return DouyinAdapter(clock=lambda: NOW)


# -- signing ----------------------------------------------------------------------------------------------
def independent_sign(secret, app_key, method, params, timestamp, digest):
    """Written from the API调用指南's words, separately from the adapter: sort keys (every level), serialise
    without spaces, wrap the k+v string of the five named parameters in the secret."""
    def sort(v):
        return {k: sort(v[k]) for k in sorted(v)} if isinstance(v, dict) else [sort(x) for x in v] \
            if isinstance(v, list) else v
    param_json = json.dumps(sort(params), separators=(",", ":"), ensure_ascii=False)
    plain = secret + "".join(k + v for k, v in (("app_key", app_key), ("method", method),
                                                ("param_json", param_json), ("timestamp", timestamp), ("v", "2"))) + secret
    if digest == "md5":
        return hashlib.md5(plain.encode()).hexdigest()
    return hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()


def test_param_json_sorts_keys_at_every_level_without_spaces():
    assert canonical_json({"page": 1, "b": {"z": 1, "a": [{"y": 2, "x": "红"}]}}) == \
        '{"b":{"a":[{"x":"红","y":2}],"z":1},"page":1}'


@pytest.mark.parametrize("digest", ["md5", "hmac-sha256"])
def test_the_signature_matches_an_independent_computation(digest):
    # The guide's own example parameters (method product.getGoodsCategory, param_json {"cid":"12","page":"1"}).
    args = ("3409409348479354011", "secret-of-the-app", "product.getGoodsCategory")
    expected = independent_sign(args[1], args[0], args[2], {"page": "1", "cid": "12"}, "2020-09-15 14:48:13", digest)
    assert api_sign(*args, '{"cid":"12","page":"1"}', "2020-09-15 14:48:13", digest) == expected


def test_the_md5_signature_of_a_fixed_string():
    # Hand-checkable: md5("s" + "app_keykmethodmparam_json{}timestamptv2" + "s").
    assert api_sign("k", "s", "m", "{}", "t", "md5") == hashlib.md5(b"sapp_keykmethodmparam_json{}timestamptv2s").hexdigest()


def test_every_call_is_signed_over_what_it_sends(adapter):
    call = adapter.build_order_poll(CREDS, WINDOW, None)
    query, body = sent(call)
    assert call.method == "POST" and call.url.startswith("https://openapi-fxg.jinritemai.com/order/searchList?")
    assert call.hosts is adapter.api_hosts
    assert (query["method"], query["v"], query["sign_method"], query["timestamp"]) == (
        "order.searchList", "2", "hmac-sha256", "2026-03-02 10:13:20")          # GMT+8
    assert query["sign"] == independent_sign("douyin-secret", CREDS["app_key"], "order.searchList", body,
                                             query["timestamp"], "hmac-sha256")
    assert call.body.decode() == canonical_json(body)
    assert body == {"update_time_start": 1_772_417_000, "update_time_end": 1_772_418_000, "order_by": "update_time",
                    "order_asc": True, "page": 0, "size": 100}


def test_a_shop_may_choose_md5(adapter):
    query, body = sent(adapter.build_read_back({**CREDS, "sign_method": "md5"}, ["1736000000000000001"])[0])
    assert query["sign_method"] == "md5"
    assert query["sign"] == independent_sign("douyin-secret", CREDS["app_key"], "sku.stockNum", body,
                                             query["timestamp"], "md5")


# -- push -------------------------------------------------------------------------------------------------
PUSHES = ["trade_create", "trade_paid", "trade_seller_ship", "trade_canceled", "refund_success_return",
          "refund_success_refund_only"]


@pytest.mark.parametrize("name", PUSHES)
def test_recorded_pushes_verify_and_a_tampered_body_does_not(adapter, name):
    adapter.verify_webhook(pushed(name), CREDS)
    body = example(f"{name}.json").replace(b"4463798", b"4463799")
    with pytest.raises(WebhookRejected):
        adapter.verify_webhook(pushed(name, body), CREDS)


def test_wrong_secret_another_app_or_no_signature_is_rejected(adapter):
    for creds, request in (({**CREDS, "app_secret": "other"}, pushed("trade_paid")),
                           ({**CREDS, "app_key": "7152331588175513999"}, pushed("trade_paid")),
                           (CREDS, WebhookRequest({"app-id": CREDS["app_key"]}, example("trade_paid.json"))),
                           ({k: v for k, v in CREDS.items() if k != "app_secret"}, pushed("trade_paid"))):
        with pytest.raises(WebhookRejected):
            adapter.verify_webhook(request, creds)


def test_the_hmac_sha256_push_variant_verifies(adapter):
    body = example("trade_paid.json")
    signature = hmac.new(b"douyin-secret", CREDS["app_key"].encode() + body + b"douyin-secret", hashlib.sha256).hexdigest()
    request = WebhookRequest({"event-sign": signature, "sign-method": "hmac-sha256"}, body)
    adapter.verify_webhook(request, CREDS)
    with pytest.raises(WebhookRejected):       # the md5 of the same body is not an hmac
        adapter.verify_webhook(WebhookRequest({"event-sign": push_sign(CREDS["app_key"], "douyin-secret", body),
                                               "sign-method": "hmac-sha256"}, body), CREDS)


def test_a_push_is_taken_only_for_its_shop_and_within_the_horizon(adapter):
    request = pushed("trade_paid")
    paid_at = 1_772_417_460
    adapter.verify_shop_and_freshness(request, CREDS, "s1", paid_at + 60)
    for creds, now in (({**CREDS, "shop_id": "4463799"}, paid_at + 60),
                       ({k: v for k, v in CREDS.items() if k != "shop_id"}, paid_at + 60),
                       (CREDS, paid_at + 25 * 3600),          # past the 24 h horizon
                       (CREDS, paid_at - 3600)):              # from the future
        with pytest.raises(WebhookRejected):
            adapter.verify_shop_and_freshness(request, creds, "s1", now)


def test_a_push_with_one_message_of_another_shop_is_rejected_whole(adapter):
    messages = json.loads(example("trade_paid.json")) + json.loads(example("trade_paid.json").replace(b"4463798", b"1"))
    with pytest.raises(WebhookRejected):
        adapter.verify_shop_and_freshness(WebhookRequest({}, json.dumps(messages).encode()), CREDS, "s1", 1_772_417_500)


@pytest.mark.parametrize("name,kind", [("trade_create", OrderEventKind.CREATED), ("trade_paid", OrderEventKind.PAID),
                                       ("trade_seller_ship", OrderEventKind.SHIPPED),
                                       ("trade_canceled", OrderEventKind.CANCELLED),
                                       ("refund_success_return", OrderEventKind.RETURNED)])
def test_tags_map_onto_hold_commit_ship_release_return(adapter, name, kind):
    [event] = adapter.parse_webhook(pushed(name), "s1")
    assert (event.order_id, event.kind) == (ORDER, kind)
    assert event.paid is (kind in (OrderEventKind.PAID, OrderEventKind.SHIPPED, OrderEventKind.CANCELLED))
    assert event.occurred_at.endswith("+08:00")
    assert adapter.needs_order_detail(event) is (kind is not OrderEventKind.CANCELLED)


def test_a_refund_without_returned_goods_restocks_nothing(adapter):
    # Ambiguous, chosen: 仅退款 (aftersale_type 1/2) — nothing came back, so nothing is offered again.
    assert adapter.parse_webhook(pushed("refund_success_refund_only"), "s1") == []


def test_untaken_tags_are_acknowledged_and_broken_data_is_a_400(adapter):
    other = json.dumps([{"tag": "105", "msg_id": "1", "data": json.dumps({"p_id": 1, "shop_id": 4463798})}]).encode()
    assert adapter.parse_webhook(WebhookRequest({}, other), "s1") == []
    for body in (b'{"tag":"101"}', b'[{"tag":"101","msg_id":"1","data":"not json"}]',
                 b'[{"tag":"101","msg_id":"1","data":"{\\"shop_id\\":1}"}]'):
        with pytest.raises(PayloadInvalid):
            adapter.parse_webhook(WebhookRequest({}, body), "s1")


def test_the_order_detail_completes_a_push_and_a_return_takes_only_its_sub_order(adapter):
    [paid] = adapter.parse_webhook(pushed("trade_paid"), "s1")
    query, body = sent(adapter.build_order_detail(CREDS, paid))
    assert query["method"] == "order.orderDetail" and body == {"shop_order_id": ORDER}
    full = adapter.parse_order_detail(paid, 200, example("order_detail.json"))
    assert [(l.listing_id, l.qty, l.seller_sku) for l in full.lines] == [
        ("1736000000000000001", 2, "TEE-RED-M"), ("1736000000000000002", 1, "TEE-BLUE-L")]
    [returned] = adapter.parse_webhook(pushed("refund_success_return"), "s1")
    assert [(l.listing_id, l.qty) for l in adapter.parse_order_detail(returned, 200, example("order_detail.json")).lines] \
        == [("1736000000000000001", 2)]
    with pytest.raises(PayloadInvalid):
        adapter.parse_order_detail(paid, 200, example("throttled.json"))


# -- poll -------------------------------------------------------------------------------------------------
def test_a_search_list_page_maps_each_order_status(adapter):
    page = adapter.parse_order_poll("s1", WINDOW, None, 200, example("order_search_list_page.json"))
    got = [(e.order_id, e.kind, e.paid, [(l.listing_id, l.qty) for l in e.lines]) for e in page.events]
    assert got == [
        (ORDER, OrderEventKind.PAID, True, [("1736000000000000001", 2)]),
        ("6919874451234567000", OrderEventKind.CREATED, False, [("1736000000000000001", 1)]),
        ("6919874451234567100", OrderEventKind.PAID, True, [("1736000000000000002", 1)]),
        ("6919874451234567100", OrderEventKind.SHIPPED, True, [("1736000000000000002", 1)]),
        ("6919874451234567200", OrderEventKind.CANCELLED, True, [("1736000000000000001", 1)])]
    assert page.events[0].delivery_id == f"{ORDER}:2:1772417460"
    assert page.events[0].occurred_at == "2026-03-02T10:11:00+08:00"
    assert page.next_page is None


def test_a_pushed_and_a_polled_change_are_one_business_event(adapter):
    [pushed_paid] = adapter.parse_webhook(pushed("trade_paid"), "s1")
    polled = adapter.parse_order_poll("s1", WINDOW, None, 200, example("order_search_list_page.json")).events[0]
    assert pushed_paid.event_key == polled.event_key


@pytest.mark.parametrize("status,kinds", [("1", ["created"]), ("105", ["paid"]), ("2", ["paid"]),
                                          ("101", ["paid"]), ("3", ["paid", "shipped"]), ("5", ["paid", "shipped"]),
                                          ("4", ["cancelled"])])
def test_order_statuses_including_the_part_shipped_choice(status, kinds):
    # 101 部分发货: committed, shipped in StockLink only once the whole order is (status 3).
    assert [k.value for k in poll_kinds({"order_status": status})] == kinds


def test_an_unknown_status_is_refused():
    with pytest.raises(PayloadInvalid):
        poll_kinds({"order_id": "1", "order_status": "99"})


def test_pages_are_read_from_the_last_back_to_the_first(adapter):
    answer = json.loads(example("order_search_list_page.json"))
    answer["data"]["total"] = 250
    first = adapter.parse_order_poll("s1", WINDOW, None, 200, json.dumps(answer).encode())
    assert first.next_page == {"page": 2}
    assert sent(adapter.build_order_poll(CREDS, WINDOW, first.next_page))[1]["page"] == 2
    assert adapter.parse_order_poll("s1", WINDOW, {"page": 2}, 200, json.dumps(answer).encode()).next_page == {"page": 1}
    assert adapter.parse_order_poll("s1", WINDOW, {"page": 1}, 200, json.dumps(answer).encode()).next_page == {"page": 0}
    assert adapter.parse_order_poll("s1", WINDOW, {"page": 0}, 200, json.dumps(answer).encode()).next_page is None


def test_a_window_longer_than_30_minutes_is_refused_before_sending(adapter):
    with pytest.raises(ValueError, match="30 min"):
        adapter.build_order_poll(CREDS, PollWindow(0, 30 * 60 + 1), None)


# -- stock ------------------------------------------------------------------------------------------------
def test_a_full_sync_and_an_incremental_one_with_its_idempotent_id(adapter):
    ids = {"product_id": "3600123456789012345"}
    [full] = adapter.build_stock_updates(CREDS, [StockPush("1736000000000000001", 5, ids)])
    query, body = sent(full)
    assert full.url.startswith("https://openapi-fxg.jinritemai.com/sku/syncStock?") and query["method"] == "sku.syncStock"
    assert body == {"product_id": "3600123456789012345", "sku_id": "1736000000000000001", "stock_num": 5,
                    "incremental": False}
    first = adapter.build_stock_adjustments(CREDS, [StockAdjust("1736000000000000001", -2, ids)], key="k1")
    again = adapter.build_stock_adjustments(CREDS, [StockAdjust("1736000000000000001", -2, ids)], key="k1")
    body = sent(first[0])[1]
    assert (body["incremental"], body["stock_num"]) == (True, -2)
    assert body["idempotent_id"] == sent(again[0])[1]["idempotent_id"]       # a rebuild is the same change
    unkeyed = [adapter.build_stock_adjustments(CREDS, [StockAdjust("1736000000000000001", -2, ids)])[0] for _ in "ab"]
    assert len({sent(c)[1]["idempotent_id"] for c in unkeyed}) == 2             # without a key: two changes
    assert adapter.supports_relative and adapter.relative_idempotent and not adapter.relative_below_zero
    with pytest.raises(ValueError):
        adapter.build_stock_updates(CREDS, [StockPush("1736000000000000001", 5, {})])     # product_id needed
    with pytest.raises(ValueError):
        adapter.build_stock_updates(CREDS, [StockPush("1736000000000000001", -1, ids)])


def test_answers_are_classified(adapter):
    assert adapter.classify_response(200, example("sync_stock_ok.json")).ok
    assert adapter.classify_response(200, example("throttled.json")).outcome is Outcome.RETRYABLE
    refused = adapter.classify_response(200, example("sync_stock_below_zero.json"))
    assert refused.outcome is Outcome.PERMANENT and refused.code == "40004"
    assert adapter.classify_response(503, b"").outcome is Outcome.RETRYABLE


def test_read_back_asks_each_sku_and_reads_its_stock_num(adapter):
    calls = adapter.build_read_back(CREDS, ["1736000000000000001", "1736000000000000001", "1736000000000000002"])
    assert [sent(c)[1] for c in calls] == [{"sku_id": "1736000000000000001"}, {"sku_id": "1736000000000000002"}]
    assert adapter.parse_read_back(200, example("sku_stock_num.json")) == {"1736000000000000001": 7}


def test_discovery_walks_products_then_their_skus(adapter):
    first = adapter.build_list_listings(CREDS, None)
    assert sent(first)[0]["method"] == "product.listV2" and sent(first)[1] == {"page": 1, "size": 100}
    products = adapter.parse_list_listings(None, 200, example("product_list_v2.json"))
    assert products.listings == () and products.cursor["products"][0]["id"] == "3600123456789012345"
    skus_call = adapter.build_list_listings(CREDS, products.cursor)
    assert sent(skus_call)[0]["method"] == "sku.list" and sent(skus_call)[1] == {"product_id": "3600123456789012345"}
    skus = adapter.parse_list_listings(products.cursor, 200, example("sku_list.json"))
    assert [(l.listing_id, l.seller_sku, l.platform_ids["product_id"], l.quantity) for l in skus.listings] == [
        ("1736000000000000001", "TEE-RED-M", "3600123456789012345", 7),
        ("1736000000000000002", "TEE-BLUE-L", "3600123456789012345", 3)]
    assert skus.cursor is None            # one product, one page: all read

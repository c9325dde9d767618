"""The Douyin Shop adapter against its simulator: signed calls (hmac-sha256 and md5) accepted and a tampered
one refused, an incremental sync applied once per idempotent_id and refused below 0, read-back and
discovery, an order pushed signed (the adapter verifies it) and listed by /order/searchList."""
from __future__ import annotations

import time

from stocklink.channels._common import Outcome
from stocklink.channels.base import HttpCall, OrderEventKind, PollWindow, StockAdjust, StockPush, WebhookRequest
from stocklink.channels.douyin import DouyinAdapter

from .conftest import control, send

CREDS = {"app_key": "7152331588175513101", "app_secret": "douyin-secret", "access_token": "dy-token",
         "shop_id": "4463798"}
SKU_ID, PRODUCT_ID = "1736000000000000001", "3600123456789012345"
IDS = {"product_id": PRODUCT_ID}


def setup(base: str, receiver) -> dict:
    creds = {**CREDS, "api_base_url": f"{base}/douyin/s1"}
    control(base, "POST", "shops", {"platform": "douyin", "shop": "s1", "credentials": creds,
                                    "webhook_url": f"{receiver.base}/hook"})
    control(base, "PUT", "listings", {"platform": "douyin", "shop": "s1", "listings": [
        {"listing_id": SKU_ID, "quantity": 5, "platform_ids": IDS, "seller_sku": "TEE-RED-M"}]})
    return creds


def answer(call: HttpCall) -> tuple[int, bytes]:
    status, _, body = send(call)
    return status, body


def test_signed_calls_pass_and_a_tampered_one_is_refused(sandbox_base, receiver):
    adapter = DouyinAdapter()
    for creds in (setup(sandbox_base, receiver), {**setup(sandbox_base, receiver), "sign_method": "md5"}):
        (call,) = adapter.build_stock_updates(creds, [StockPush(SKU_ID, 9, IDS)])
        assert adapter.classify_response(*answer(call)).ok
        tampered = HttpCall(call.method, call.url, call.headers, call.body.replace(b'"stock_num":9', b'"stock_num":8'))
        verdict = adapter.classify_response(*answer(tampered))
        assert verdict.outcome is Outcome.PERMANENT and verdict.code == "30002"
        assert adapter.parse_read_back(*answer(adapter.build_read_back(creds, [SKU_ID])[0])) == {SKU_ID: 9}


def test_an_incremental_sync_is_applied_once_per_id_and_refused_below_zero(sandbox_base, receiver):
    creds = setup(sandbox_base, receiver)
    adapter = DouyinAdapter()
    for _ in range(2):      # rebuilt with the same key: one change
        (call,) = adapter.build_stock_adjustments(creds, [StockAdjust(SKU_ID, -2, IDS)], key="change-1")
        assert adapter.classify_response(*answer(call)).ok
    assert adapter.parse_read_back(*answer(adapter.build_read_back(creds, [SKU_ID])[0])) == {SKU_ID: 3}
    (below,) = adapter.build_stock_adjustments(creds, [StockAdjust(SKU_ID, -4, IDS)], key="change-2")
    assert adapter.classify_response(*answer(below)).outcome is Outcome.PERMANENT
    assert adapter.parse_read_back(*answer(adapter.build_read_back(creds, [SKU_ID])[0])) == {SKU_ID: 3}


def test_discovery_walks_products_then_skus(sandbox_base, receiver):
    creds = setup(sandbox_base, receiver)
    adapter = DouyinAdapter()
    cursor, found = None, []
    for _ in range(5):
        page = adapter.parse_list_listings(cursor, *answer(adapter.build_list_listings(creds, cursor)))
        found += page.listings
        cursor = page.cursor
        if cursor is None:
            break
    assert [(l.listing_id, l.seller_sku, dict(l.platform_ids), l.quantity) for l in found] == [
        (SKU_ID, "TEE-RED-M", IDS, 5)]


def test_an_order_is_pushed_signed_and_listed_by_search(sandbox_base, receiver):
    creds = setup(sandbox_base, receiver)
    adapter = DouyinAdapter()
    placed = control(sandbox_base, "POST", "orders", {"platform": "douyin", "shop": "s1", "kind": "paid",
                                                      "lines": [{"listing_id": SKU_ID, "qty": 2, "sku": "TEE-RED-M"}]})
    [delivery] = receiver.requests
    request = WebhookRequest(delivery["headers"], delivery["body"])
    adapter.verify_webhook(request, creds)
    adapter.verify_shop_and_freshness(request, creds, "s1", time.time())
    [pushed] = adapter.parse_webhook(request, "s1")
    assert (pushed.order_id, pushed.kind) == (placed["order_id"], OrderEventKind.PAID)
    detail = adapter.parse_order_detail(pushed, *answer(adapter.build_order_detail(creds, pushed)))
    assert [(l.listing_id, l.qty) for l in detail.lines] == [(SKU_ID, 2)]
    now = int(time.time())
    window = PollWindow(now - 60, now + 5)
    page = adapter.parse_order_poll("s1", window, None, *answer(adapter.build_order_poll(creds, window, None)))
    assert [(e.order_id, e.kind, e.lines[0].qty) for e in page.events] == [(placed["order_id"], OrderEventKind.PAID, 2)]
    assert page.events[0].event_key == pushed.event_key

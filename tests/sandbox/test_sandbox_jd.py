"""The JD adapter against its simulator: signed calls accepted and a tampered one refused as JD refuses it,
the order search answering what changed in its window (in Beijing time), read-back and the SKU list."""
from __future__ import annotations

import time

from stocklink.channels._common import Outcome
from stocklink.channels.base import HttpCall, OrderEventKind, PollWindow, StockPush
from stocklink.channels.jd import JdAdapter

from .conftest import control, send

CREDS = {"app_key": "jd-key", "app_secret": "jd-secret", "access_token": "jd-token"}
SKU_ID = "100012345678"


def setup(base: str, receiver) -> dict:
    creds = {**CREDS, "api_base_url": f"{base}/jd/s1"}
    control(base, "POST", "shops", {"platform": "jd", "shop": "s1", "credentials": creds,
                                    "webhook_url": f"{receiver.base}/hook"})
    control(base, "PUT", "listings", {"platform": "jd", "shop": "s1", "listings": [
        {"listing_id": SKU_ID, "quantity": 5, "platform_ids": {"ware_id": "10001234"}, "seller_sku": "TEE-RED-M"}]})
    return creds


def verdict(adapter, answer):
    status, headers, body = answer
    return adapter.classify_response(status, body, headers)


def test_signed_calls_pass_and_a_tampered_one_is_refused(sandbox_base, receiver):
    creds = setup(sandbox_base, receiver)
    adapter = JdAdapter()
    (call,) = adapter.build_stock_updates(creds, [StockPush(SKU_ID, 9)])
    assert verdict(adapter, send(call)).ok
    tampered = HttpCall(call.method, call.url, call.headers, call.body.replace(b"stockNum%22%3A9", b"stockNum%22%3A8"))
    assert tampered.body != call.body
    refused = verdict(adapter, send(tampered))
    assert refused.outcome is Outcome.PERMANENT and refused.code == "19"
    wrong_secret = adapter.build_stock_updates({**creds, "app_secret": "other"}, [StockPush(SKU_ID, 1)])[0]
    assert verdict(adapter, send(wrong_secret)).code == "19"
    status, _, body = send(adapter.build_read_back(creds, [SKU_ID])[0])
    assert adapter.parse_read_back(status, body) == {SKU_ID: 9}          # the tampered and the wrong one changed nothing
    status, _, body = send(adapter.build_list_listings(creds, None))
    page = adapter.parse_list_listings(None, status, body)
    assert [(l.listing_id, l.seller_sku, l.quantity) for l in page.listings] == [(SKU_ID, "TEE-RED-M", 9)]
    assert page.cursor is None


def test_the_order_search_answers_the_orders_changed_in_the_window(sandbox_base, receiver):
    creds = setup(sandbox_base, receiver)
    adapter = JdAdapter()
    placed = control(sandbox_base, "POST", "orders", {"platform": "jd", "shop": "s1", "kind": "paid",
                                                      "lines": [{"listing_id": SKU_ID, "qty": 2}]})
    now = int(time.time())
    window = PollWindow(now - 60, now + 5)
    status, _, body = send(adapter.build_order_poll(creds, window, None))
    page = adapter.parse_order_poll("s1", window, None, status, body)
    assert [(e.order_id, e.kind, e.lines[0].qty) for e in page.events] == [(placed["order_id"], OrderEventKind.PAID, 2)]
    earlier = PollWindow(now - 1800, now - 60)
    status, _, body = send(adapter.build_order_poll(creds, earlier, None))
    assert adapter.parse_order_poll("s1", earlier, None, status, body).events == ()

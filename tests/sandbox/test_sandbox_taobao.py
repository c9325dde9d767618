"""The Taobao adapter against its simulator: signed calls (md5 and hmac-sha256) accepted and a tampered one
refused as TOP refuses it, SKU quantities set and changed (never below 0), read-back and the two-level
discovery, and the TMC queue: consume hands out what was placed until it is confirmed."""
from __future__ import annotations

import pytest

from stocklink.channels._common import Outcome
from stocklink.channels.base import HttpCall, StockAdjust, StockPush
from stocklink.channels.taobao import TaobaoAdapter

from .conftest import control, send

CREDS = {"app_key": "12497914", "app_secret": "tb-secret", "session": "tb-session", "user_id": "2200000001"}
IDS = {"num_iid": "600000000001"}


def setup(base: str, receiver, sign_method: str = "md5") -> dict:
    creds = {**CREDS, "sign_method": sign_method, "api_base_url": f"{base}/taobao/s1"}
    control(base, "POST", "shops", {"platform": "taobao", "shop": "s1", "credentials": creds,
                                    "webhook_url": f"{receiver.base}/hook"})
    control(base, "PUT", "listings", {"platform": "taobao", "shop": "s1", "listings": [
        {"listing_id": "4800000000001", "quantity": 5, "platform_ids": IDS, "seller_sku": "TEE-RED-M"}]})
    return creds


def result(adapter, answer):
    status, headers, body = answer
    return adapter.classify_response(status, body, headers)


@pytest.mark.parametrize("sign_method", ["md5", "hmac-sha256"])
def test_signed_calls_pass_and_a_tampered_one_is_refused(sandbox_base, receiver, sign_method):
    creds = setup(sandbox_base, receiver, sign_method)
    adapter = TaobaoAdapter()
    (call,) = adapter.build_stock_updates(creds, [StockPush("4800000000001", 9, IDS)])
    assert result(adapter, send(call)).ok
    tampered = HttpCall(call.method, call.url, call.headers, call.body.replace(b"%3A9", b"%3A8"))
    verdict = result(adapter, send(tampered))
    assert verdict.outcome is Outcome.PERMANENT and verdict.code == "25"
    (lower,) = adapter.build_stock_adjustments(creds, [StockAdjust("4800000000001", -10, IDS)])
    assert result(adapter, send(lower)).outcome is Outcome.PERMANENT          # below 0: refused
    (lower,) = adapter.build_stock_adjustments(creds, [StockAdjust("4800000000001", -2, IDS)])
    assert result(adapter, send(lower)).ok
    status, _, body = send(adapter.build_read_back(creds, ["4800000000001"], {"4800000000001": IDS})[0])
    assert adapter.parse_read_back(status, body) == {"4800000000001": 7}
    cursor, found = None, []
    for _ in range(5):
        status, _, body = send(adapter.build_list_listings(creds, cursor))
        page = adapter.parse_list_listings(cursor, status, body)
        found += [(l.listing_id, l.seller_sku, l.platform_ids["num_iid"], l.quantity) for l in page.listings]
        cursor = page.cursor
        if cursor is None:
            break
    assert found == [("4800000000001", "TEE-RED-M", "600000000001", 7)] and cursor is None


def test_the_tmc_queue_hands_out_a_message_until_it_is_confirmed(sandbox_base, receiver):
    creds = setup(sandbox_base, receiver)
    adapter = TaobaoAdapter()
    placed = control(sandbox_base, "POST", "orders", {"platform": "taobao", "shop": "s1", "kind": "paid",
                                                      "lines": [{"listing_id": "4800000000001", "qty": 2}]})

    def consume():
        status, _, body = send(adapter.build_message_consume(creds))
        return adapter.parse_message_consume(creds, status, body)

    (message,) = consume()
    assert message.order_ref == placed["order_id"] and message.ours
    assert consume() == (message,)                                    # not confirmed: handed out again
    status, _, body = send(adapter.build_message_order(creds, message.order_ref))
    (event,) = adapter.parse_message_order("s1", status, body)
    assert (event.kind.value, event.lines[0].listing_id, event.lines[0].qty) == ("paid", "4800000000001", 2)
    assert result(adapter, send(adapter.build_message_confirm(creds, [message.message_id]))).ok
    assert consume() == ()

"""The Pinduoduo adapter against its simulator: signed calls accepted and a tampered one refused as
Pinduoduo refuses it, the increment order API answering what was placed in its window, the after-sales list
answering a refund of part of an order, a decrease of goods in a promotion slot refused, read-back and the
goods list."""
from __future__ import annotations

from stocklink.channels._common import Outcome
from stocklink.channels.base import HttpCall, OrderEventKind, PollWindow, StockAdjust, StockPush
from stocklink.channels.pinduoduo import PROMOTION_SLOT, PinduoduoAdapter

from .conftest import control, send

CREDS = {"client_id": "pdd-client", "client_secret": "pdd-secret", "access_token": "pdd-token"}


def setup(base: str, receiver, promotion_slot: bool = False) -> dict:
    creds = {**CREDS, "api_base_url": f"{base}/pinduoduo/s1"}
    control(base, "POST", "shops", {"platform": "pinduoduo", "shop": "s1", "credentials": creds,
                                    "webhook_url": f"{receiver.base}/hook"})
    ids = {"goods_id": "350000001", **({"promotion_slot": "1"} if promotion_slot else {})}
    control(base, "PUT", "listings", {"platform": "pinduoduo", "shop": "s1", "listings": [
        {"listing_id": "1180000001", "quantity": 5, "platform_ids": ids, "seller_sku": "TEE-RED-M"}]})
    return creds


def test_signed_calls_pass_and_a_tampered_one_is_refused(sandbox_base, receiver):
    creds = setup(sandbox_base, receiver)
    adapter = PinduoduoAdapter()
    (call,) = adapter.build_stock_updates(creds, [StockPush("1180000001", 9, {"goods_id": "350000001"})])
    assert adapter.classify_response(*_status_body(send(call))).ok
    tampered = HttpCall(call.method, call.url, call.headers, call.body.replace(b"quantity=9", b"quantity=8"))
    verdict = adapter.classify_response(*_status_body(send(tampered)))
    assert verdict.outcome is Outcome.PERMANENT and verdict.code == "10014"
    status, _, body = send(adapter.build_read_back(creds, ["1180000001"], {"1180000001": {"goods_id": "350000001"}})[0])
    assert adapter.parse_read_back(status, body) == {"1180000001": 9}
    status, _, body = send(adapter.build_list_listings(creds, None))
    page = adapter.parse_list_listings(None, status, body)
    assert [(l.listing_id, l.seller_sku, l.quantity) for l in page.listings] == [("1180000001", "TEE-RED-M", 9)]
    assert page.cursor is None


def test_the_increment_api_answers_the_orders_changed_in_the_window(sandbox_base, receiver):
    import time

    creds = setup(sandbox_base, receiver)
    adapter = PinduoduoAdapter()
    placed = control(sandbox_base, "POST", "orders", {"platform": "pinduoduo", "shop": "s1", "kind": "created",
                                                      "lines": [{"listing_id": "1180000001", "qty": 2}]})
    now = int(time.time())
    status, _, body = send(adapter.build_order_poll(creds, PollWindow(now - 60, now + 5), None))
    page = adapter.parse_order_poll("s1", PollWindow(now - 60, now + 5), None, status, body)
    assert [(e.order_id, e.kind, e.lines[0].qty) for e in page.events] == [
        (placed["order_id"], OrderEventKind.CREATED, 2)]
    status, _, body = send(adapter.build_order_poll(creds, PollWindow(now - 1800, now - 60), None))
    assert adapter.parse_order_poll("s1", PollWindow(now - 1800, now - 60), None, status, body).events == ()


def test_the_after_sales_list_answers_a_refund_of_part_of_an_order(sandbox_base, receiver):
    import time

    from stocklink.channels.pinduoduo import REFUNDS

    creds = setup(sandbox_base, receiver)
    adapter = PinduoduoAdapter()
    placed = control(sandbox_base, "POST", "orders", {"platform": "pinduoduo", "shop": "s1", "kind": "paid",
                                                      "lines": [{"listing_id": "1180000001", "qty": 3, "sku": "TEE-RED-M"}]})
    control(sandbox_base, "POST", "orders", {"platform": "pinduoduo", "shop": "s1", "order_id": placed["order_id"],
                                             "kind": "cancelled", "lines": [{"listing_id": "1180000001", "qty": 1}],
                                             "changed_ago_s": 300})
    now = int(time.time())
    window = PollWindow(now - 360, now - 240)                   # the refund is stamped 300 s back
    call = adapter.build_order_poll(creds, window, {"list": REFUNDS})
    status, _, body = send(call)
    page = adapter.parse_order_poll("s1", window, {"list": REFUNDS}, status, body)
    assert [(e.order_id, e.kind, [(l.listing_id, l.qty, l.seller_sku) for l in e.lines]) for e in page.events] == [
        (placed["order_id"], OrderEventKind.PART_CANCELLED, [("1180000001", 1, "TEE-RED-M")])]
    assert page.next_page is None
    # the order list shows the order refunded (refund_status 4) but still to ship: committed, not released
    status, _, body = send(adapter.build_order_poll(creds, window, None))
    orders = adapter.parse_order_poll("s1", window, None, status, body)
    assert [e.kind for e in orders.events] == [OrderEventKind.PAID] and orders.next_page == {"list": REFUNDS}
    tampered = HttpCall(call.method, call.url, call.headers, call.body.replace(b"after_sales_type=1", b"after_sales_type=3"))
    assert adapter.classify_response(*_status_body(send(tampered))).code == "10014"
    status, _, body = send(adapter.build_order_poll(creds, PollWindow(now - 200, now), {"list": REFUNDS}))
    assert adapter.parse_order_poll("s1", window, {"list": REFUNDS}, status, body).events == ()


def test_goods_in_a_promotion_slot_refuse_any_decrease(sandbox_base, receiver):
    creds = setup(sandbox_base, receiver, promotion_slot=True)
    adapter = PinduoduoAdapter()
    ids = {"goods_id": "350000001"}
    for call in (adapter.build_stock_updates(creds, [StockPush("1180000001", 3, ids)])
                 + adapter.build_stock_adjustments(creds, [StockAdjust("1180000001", -1, ids)])):
        verdict = adapter.classify_response(*_status_body(send(call)))
        assert verdict.outcome is Outcome.PERMANENT and verdict.code == PROMOTION_SLOT
    (raise_call,) = adapter.build_stock_adjustments(creds, [StockAdjust("1180000001", 2, ids)])
    assert adapter.classify_response(*_status_body(send(raise_call))).ok
    rows = control(sandbox_base, "GET", "listings")["listings"]
    assert [r["quantity"] for r in rows if r["platform"] == "pinduoduo"] == [7]


def _status_body(answer):
    status, headers, body = answer
    return status, body, headers

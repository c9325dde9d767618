"""First paid wins on moto, through the Shopify webhook and the storefront API: a paid order the pool cannot
cover takes unpaid holds of other channels (newest first, just enough), never a paid reservation or a hold
of its own channel, and never a unit twice."""
import base64
import hashlib
import hmac
import json

import pytest

from stocklink.logic import inventory
from stocklink.store import repository
from tests.integration.test_shopify_webhooks import triggered_now
from tests.integration.conftest import as_admin

SECRET = "shpss_test_secret"
SHOP = "acme.myshopify.com"
OTHER = "other.myshopify.com"
SKU = "IPOD2008PINK"


def _send(webhooks, topic, order_id, qty=2, paid=True, shop=SHOP, webhook_id=None, lines=None):
    body = json.dumps({
        "id": order_id, "name": f"#{order_id}", "financial_status": "paid" if paid else "pending",
        "fulfillment_status": None, "created_at": "2026-11-24T10:00:00-05:00", "currency": "USD",
        "line_items": lines or [{"id": 1, "variant_id": 808950810, "sku": SKU, "quantity": qty, "price": "199.00"}],
    }).encode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    answer = webhooks.post(f"/webhooks/shopify/{shop}", raw=body, headers={
        "X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": signature, "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Webhook-Id": webhook_id or f"{topic}-{order_id}", "X-Shopify-API-Version": "2025-10",
        "X-Shopify-Triggered-At": triggered_now()})
    assert answer.status == 200, answer.body
    return answer.body["outcomes"][0]


def _paid(webhooks, order_id, qty=2, **kwargs):
    return _send(webhooks, "orders/create", order_id, qty=qty, paid=True, **kwargs)


@pytest.fixture
def shop(staff):
    """Two units of the SKU, both Shopify shops connected."""
    staff.put("/warehouses/wh-a", {"name": "A", "priority": 1})
    staff.put(f"/skus/{SKU}", {"name": "iPod Nano pink"})
    staff.put("/skus/CASE-CLEAR", {"name": "Clear case"})
    staff.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-1",
                                   "lines": [{"sku": SKU, "qty": 2}, {"sku": "CASE-CLEAR", "qty": 10}]})
    for name in (SHOP, OTHER):
        assert as_admin(staff).put(f"/shops/shopify/{name}", {"webhook_secret": SECRET}).status == 200
    return staff


def _hold(storefront, rid, qty=2, sku=SKU, channel="web", extra=()):
    answer = storefront.post("/reservations", {"reservation_id": rid, "channel": channel,
                                               "lines": [{"sku": sku, "qty": qty}, *extra]})
    assert answer.status == 201, answer.body
    return answer.body


def _totals(staff, sku=SKU):
    totals = staff.get(f"/skus/{sku}/stock").body["totals"]
    return totals["on_hand"], totals["reserved"], totals["available"]


def _ledger_replays(*skus):
    for sku in skus or (SKU,):
        for item in repository.stock_items(sku):
            assert inventory.replay_ledger(sku, item.warehouse_id) == {
                "on_hand": item.on_hand, "reserved": item.reserved, "available": item.available, "in_transit": item.in_transit, "presold": item.presold}


def test_paid_order_takes_the_storefront_hold_of_the_last_units(shop, storefront, webhooks, aws, staff_reservations):
    _hold(storefront, "web-1")
    aws.drain()
    outcome = _paid(webhooks, 1001)
    assert outcome["status"] == "applied" and outcome["reservation_status"] == "committed"
    assert outcome["preempted"] == ["web-1"]
    assert staff_reservations.get(f"/reservations/shopify:{SHOP}:1001").body["status"] == "committed"
    hold = storefront.get("/reservations/web-1").body
    assert hold["status"] == "released"
    assert hold["status_reason"] == f"preempted by paid order shopify/{SHOP}/1001"
    assert _totals(shop) == (2, 2, 0)
    published = aws.drain()
    preempted = [e["detail"] for e in published if e["detail-type"] == "reservation.preempted"]
    assert preempted == [{"reservation_id": "web-1", "channel": "web", "by_reservation_id": f"shopify:{SHOP}:1001",
                          "by_channel": f"shopify:{SHOP}", "lines": [{"sku": SKU, "qty": 2}],
                          "preempted_at": preempted[0]["preempted_at"]}]
    changed = [e["detail"] for e in published if e["detail-type"] == "stock.changed"]
    assert [(d["sku"], d["total_available"]) for d in changed] == [(SKU, 0)]   # every listing of SKU is pushed
    assert any(e["detail-type"] == "reservation.committed" for e in published)
    assert not any(e["detail-type"] == "order.oversold" for e in published)
    listed = shop.get("/events", query={"status": "preempted"}).body["events"]
    assert len(listed) == 1
    record = listed[0]
    assert (record["status"], record["kind"], record["reservation_id"]) == ("preempted", "reservation.preempted",
                                                                            "web-1")
    assert (record["platform"], record["shop"], record["order_id"]) == ("shopify", SHOP, "1001")
    assert record["outcome"]["by_reservation_id"] == f"shopify:{SHOP}:1001"
    assert record["outcome"]["lines"] == [{"sku": SKU, "qty": 2}]
    assert record["outcome"]["allocations"] == [{"sku": SKU, "warehouse_id": "wh-a", "qty": 2}]
    assert record["detail"]["shortfall"] == [{"sku": SKU, "shortfall": 2}]
    movements = [(e["movement"], e["qty"], e["reason"]) for e in shop.get("/ledger", query={"sku": SKU}).body["entries"]]
    assert sorted(movements, key=str) == sorted([
        ("receive", 2, "receipt PO-1"), ("reserve", 2, None), ("release", 2, f"preempted by paid order shopify/{SHOP}/1001"),
        ("reserve", 2, None), ("commit", 2, None)], key=str)
    _ledger_replays()


def test_the_preempted_hold_cannot_be_paid_later_and_a_replayed_webhook_changes_nothing(shop, storefront, webhooks):
    _hold(storefront, "web-1")
    first = _paid(webhooks, 1001)
    again = _paid(webhooks, 1001, webhook_id="another-delivery")
    assert again["duplicate"] is True and again["preempted"] == first["preempted"] == ["web-1"]
    refused = storefront.post("/reservations/web-1/commit")
    assert refused.status == 409 and refused.body["error"] == "invalid_transition"
    assert _totals(shop) == (2, 2, 0)
    assert len(shop.get("/events", query={"status": "preempted"}).body["events"]) == 1
    _ledger_replays()


def test_only_the_newest_holds_needed_are_taken(shop, storefront, webhooks):
    shop.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-2", "lines": [{"sku": SKU, "qty": 2}]})
    _hold(storefront, "web-old", qty=1)
    _hold(storefront, "web-mid", qty=1)
    _hold(storefront, "web-new", qty=1)
    assert _totals(shop) == (4, 3, 1)
    outcome = _paid(webhooks, 1002, qty=2)       # 1 available + 1 taken from the newest hold
    assert outcome["preempted"] == ["web-new"]
    statuses = {rid: storefront.get(f"/reservations/{rid}").body["status"] for rid in ("web-old", "web-mid", "web-new")}
    assert statuses == {"web-old": "held", "web-mid": "held", "web-new": "released"}
    assert _totals(shop) == (4, 4, 0)
    _ledger_replays()


def test_a_hold_is_taken_whole_and_its_other_skus_go_back_to_the_pool(shop, storefront, webhooks, aws):
    _hold(storefront, "web-1", extra=[{"sku": "CASE-CLEAR", "qty": 3}])
    assert _totals(shop, "CASE-CLEAR") == (10, 3, 7)
    aws.drain()
    assert _paid(webhooks, 1003)["preempted"] == ["web-1"]
    assert _totals(shop, "CASE-CLEAR") == (10, 0, 10)
    changed = {(e["detail"]["sku"], e["detail"]["cause"], e["detail"]["total_available"])
               for e in aws.drain() if e["detail-type"] == "stock.changed"}
    assert changed == {(SKU, "reserve", 0), ("CASE-CLEAR", "release", 10)}
    _ledger_replays(SKU, "CASE-CLEAR")


def test_a_paid_order_never_takes_a_paid_reservation(shop, storefront, webhooks):
    _hold(storefront, "web-paid")
    assert storefront.post("/reservations/web-paid/commit").body["status"] == "committed"
    outcome = _paid(webhooks, 1004)
    assert outcome["status"] == "oversold"
    assert storefront.get("/reservations/web-paid").body["status"] == "committed"
    # nor a paid platform order: the other shop's paid order finds the first one committed
    assert _paid(webhooks, 1005, shop=OTHER)["status"] == "oversold"
    assert _totals(shop) == (2, 2, 0)
    assert shop.get("/events", query={"status": "preempted"}).body["events"] == []
    _ledger_replays()


def test_a_paid_platform_order_takes_another_shops_unpaid_order_which_then_is_oversold(shop, staff_reservations,
                                                                                      webhooks):
    held = _send(webhooks, "orders/create", 2001, paid=False, shop=OTHER)
    assert held["reservation_status"] == "held"
    assert _paid(webhooks, 1006)["preempted"] == [f"shopify:{OTHER}:2001"]
    other = staff_reservations.get(f"/reservations/shopify:{OTHER}:2001").body
    assert other["status"] == "released" and other["status_reason"].startswith("preempted by paid order")
    # when the other shop's buyer pays, the units are gone: the paid order is never taken back
    late = _send(webhooks, "orders/paid", 2001, paid=True, shop=OTHER)
    assert late["status"] == "oversold"
    assert staff_reservations.get(f"/reservations/shopify:{SHOP}:1006").body["status"] == "committed"
    assert _totals(shop) == (2, 2, 0)
    _ledger_replays()


def test_a_hold_of_the_orders_own_channel_is_not_taken(shop, storefront, webhooks, staff_reservations):
    shop.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-2", "lines": [{"sku": SKU, "qty": 2}]})
    assert _send(webhooks, "orders/create", 3001, paid=False)["reservation_status"] == "held"
    _hold(storefront, "web-same-channel", channel=f"shopify:{SHOP}")   # a hold that names the order's channel
    assert _totals(shop) == (4, 4, 0)
    assert _paid(webhooks, 3002)["status"] == "oversold"
    assert staff_reservations.get(f"/reservations/shopify:{SHOP}:3001").body["status"] == "held"
    assert storefront.get("/reservations/web-same-channel").body["status"] == "held"
    assert _totals(shop) == (4, 4, 0)
    # the same holds are another channel to the other shop's paid order: it takes the newest
    assert _paid(webhooks, 3003, shop=OTHER)["preempted"] == ["web-same-channel"]
    _ledger_replays()


def test_an_unpaid_order_never_takes_holds(shop, storefront, webhooks):
    _hold(storefront, "web-1")
    assert _send(webhooks, "orders/create", 1007, paid=False)["status"] == "oversold"
    assert storefront.get("/reservations/web-1").body["status"] == "held"


def test_a_hold_paid_between_read_and_write_is_never_allocated_twice(shop, storefront, webhooks, monkeypatch):
    shop.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-2", "lines": [{"sku": SKU, "qty": 2}]})
    _hold(storefront, "web-old")
    _hold(storefront, "web-new")
    real = repository.active_holds
    reads = []

    def paid_meanwhile(now_s, limit):
        holds = real(now_s, limit)
        if not reads:   # the newest hold is paid after the paid order read it and before it writes
            assert storefront.post("/reservations/web-new/commit").body["status"] == "committed"
        reads.append([h.reservation_id for h in holds])
        return holds

    monkeypatch.setattr(repository, "active_holds", paid_meanwhile)
    outcome = _paid(webhooks, 1008)
    assert sorted(reads[0]) == ["web-new", "web-old"]
    assert len(reads) == 2                     # refused once, then tried again from fresh reads
    assert outcome["preempted"] == ["web-old"]
    assert storefront.get("/reservations/web-new").body["status"] == "committed"
    assert storefront.get("/reservations/web-old").body["status"] == "released"
    assert _totals(shop) == (4, 4, 0)
    _ledger_replays()


def test_a_hold_paid_meanwhile_with_no_other_hold_leaves_an_oversell(shop, storefront, webhooks, monkeypatch,
                                                                     staff_reservations):
    _hold(storefront, "web-1")
    real = repository.active_holds

    def paid_meanwhile(now_s, limit):
        holds = real(now_s, limit)
        storefront.post("/reservations/web-1/commit")
        return holds

    monkeypatch.setattr(repository, "active_holds", paid_meanwhile)
    assert _paid(webhooks, 1009)["status"] == "oversold"
    assert storefront.get("/reservations/web-1").body["status"] == "committed"
    assert staff_reservations.get(f"/reservations/shopify:{SHOP}:1009").body["status"] == "oversold"
    assert _totals(shop) == (2, 2, 0)
    assert shop.get("/events", query={"status": "preempted"}).body["events"] == []
    _ledger_replays()


def test_a_paid_event_whose_hold_is_taken_as_it_commits_is_oversold_not_skipped(shop, storefront, webhooks,
                                                                                  monkeypatch):
    from stocklink.logic import reservations

    assert _send(webhooks, "orders/create", 2002, paid=False, shop=OTHER)["reservation_status"] == "held"
    real = reservations.transition
    raced = []

    def preempted_first(reservation_id, action, **kwargs):
        if reservation_id == f"shopify:{OTHER}:2002" and not raced:   # the other shop's paid order lands first
            raced.append(_paid(webhooks, 1010))
        return real(reservation_id, action, **kwargs)

    monkeypatch.setattr(reservations, "transition", preempted_first)
    late = _send(webhooks, "orders/paid", 2002, paid=True, shop=OTHER)
    assert raced[0]["preempted"] == [f"shopify:{OTHER}:2002"]
    assert late["status"] == "oversold" and late["shortfall"] == [{"sku": SKU, "requested": 2, "available": 0,
                                                                   "shortfall": 2}]
    assert [e["order_id"] for e in shop.get("/events", query={"status": "oversold"}).body["events"]] == ["2002"]
    assert shop.get("/events", query={"status": "skipped"}).body["events"] == []
    assert _totals(shop) == (2, 2, 0)
    _ledger_replays()

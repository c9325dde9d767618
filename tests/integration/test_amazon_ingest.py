"""Amazon on moto against its simulator (LWA token endpoint, SP-API): an ORDER_CHANGE notification taken off
the stack's queue (the amazon_notifications handler) reaches StockLink and lowers the other channels through
Listings Items PATCHes; a redelivery, and the fallback poll reading the same change, apply it once; a
notification for a seller no shop is configured for stores nothing; a refused refresh token makes the poll
fail for that shop only."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from infra.sandbox.platforms.amazon import AmazonSim
from tests.integration.apigw import LambdaContext
from tests.integration.conftest import as_admin
from tests.integration.test_channel_sync import (  # noqa: F401 - fixtures
    SKU,
    api_calls,
    control,
    fast_retries,
    linked,
    listed,
    receiver,
    run_bus,
    sandbox_base,
)
from tests.sandbox_support import loopback_simulators  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("loopback_simulators")

AMZ = {"client_id": "amzn1.application-oa2-client.sandbox", "client_secret": "lwa-secret",
       "refresh_token": "Atzr|sandbox-refresh", "seller_id": "A3TH9S8BH6GOGM", "marketplace_id": "ATVPDKIKX0DER"}


@pytest.fixture
def amazon_shop(linked, aws, sandbox_base, receiver, monkeypatch):
    """linked's three channels plus an Amazon shop s1 listing TEE-RED-M (the seller SKU is the listing id)."""
    from stocklink.channels import amazon
    from stocklink.logic import order_poll
    monkeypatch.setattr(order_poll, "BACKFILL_S", 900)
    amazon._token_cache.clear()
    api = f"{sandbox_base}/amazon/s1"
    creds = {**AMZ, "api_base_url": api, "lwa_url": f"{api}/auth/o2/token"}
    # the simulator posts nothing there (Amazon has no HTTP webhook): its orders go to getOrders and the queue
    control(sandbox_base, "POST", "shops", {"platform": "amazon", "shop": "s1", "credentials": creds,
                                            "webhook_url": f"{receiver.base}/hook/amazon"})
    assert as_admin(linked).put("/shops/amazon/s1", creds).status == 200
    control(sandbox_base, "PUT", "listings", {"platform": "amazon", "shop": "s1", "listings": [
        {"listing_id": SKU, "quantity": 6, "platform_ids": {"product_type": "SHIRT"}, "seller_sku": SKU}]})
    assert linked.put(f"/listings/amazon/s1/{SKU}", {"components": [{"sku": SKU, "qty": 1}],
                                                    "platform_ids": {"product_type": "SHIRT"}}).status == 200
    run_bus(aws)
    yield linked
    amazon._token_cache.clear()


def deliver(*bodies: bytes) -> dict:
    from functions.amazon_notifications.handler import handler
    records = [{"messageId": f"m{i}", "body": body.decode(), "eventSource": "aws:sqs"} for i, body in enumerate(bodies)]
    return handler({"Records": records}, LambdaContext())


def notification(order_id: str, status: str, qty: int, seller: str = AMZ["seller_id"]) -> bytes:
    shop = SimpleNamespace(credentials={**AMZ, "seller_id": seller})
    order = SimpleNamespace(order_id=order_id, status=status, updated_at=0.0,
                            lines=[{"listing_id": SKU, "qty": qty}])
    return AmazonSim.notification(shop, order)


def test_a_queued_order_change_lowers_the_other_channels_once(amazon_shop, aws, sandbox_base, staff_reservations):
    placed = control(sandbox_base, "POST", "orders", {"platform": "amazon", "shop": "s1", "kind": "paid",
                                                      "lines": [{"listing_id": SKU, "qty": 2, "sku": SKU}]})
    body = notification(placed["order_id"], "Unshipped", 2)
    assert deliver(body) == {"batchItemFailures": []}
    reservation = staff_reservations.get(f"/reservations/amazon:s1:{placed['order_id']}").body
    assert reservation["status"] == "committed"
    run_bus(aws)
    assert {p: q for p, q in listed(sandbox_base).items() if p != "amazon"} == {"tiktok": 4, "lazada": 4, "shopify": 4}
    patches = [c for c in api_calls(sandbox_base) if c.get("platform") == "amazon" and c.get("kind") == "stock_update"]
    assert patches, "the Amazon listing is set through Listings Items PATCH"

    # SQS redelivers (at least once): the same change is a duplicate and changes nothing.
    assert deliver(body, body) == {"batchItemFailures": []}
    assert not [e for e in aws.drain() if e["detail-type"] == "stock.changed"]
    assert amazon_shop.get(f"/skus/{SKU}/stock").body["totals"]["available"] == 4


def test_the_fallback_poll_reads_the_same_change_once_and_a_later_status_applies(amazon_shop, aws, sandbox_base,
                                                                                  staff_reservations, monkeypatch):
    from infra.sandbox.platforms import amazon as simulator
    from stocklink.logic.order_poll import run_poll
    from stocklink.time import now_ms

    monkeypatch.setattr(simulator, "SETTLE_S", simulator.SETTLE_S - 700)   # the poller runs up to 690 s ahead
    from stocklink.logic.sync import seams
    real_send, item_calls = seams.send, []

    def counting(call, *args, **kwargs):       # getOrderItems calls (0.5 req/s: the budget they spend)
        if call.url.split("?")[0].endswith("/orderItems"):
            item_calls.append(call.url)
        return real_send(call, *args, **kwargs)

    monkeypatch.setattr(seams, "send", counting)

    placed = control(sandbox_base, "POST", "orders", {"platform": "amazon", "shop": "s1", "kind": "paid",
                                                      "lines": [{"listing_id": SKU, "qty": 1, "sku": SKU}]})
    deliver(notification(placed["order_id"], "Unshipped", 1))
    t0 = now_ms() + 200_000          # getOrders wants LastUpdatedBefore 2 min back: the poller runs ahead
    report = {r["shop"]: r for r in run_poll(t0, budget_ms=20_000)["shops"] if r["platform"] == "amazon"}["s1"]
    assert report["error"] is None and report["changes"] == 1 and report["applied"] == 0   # the queue had it
    assert item_calls == []          # applied already (its marker): its items are not fetched again
    control(sandbox_base, "POST", "orders", {"platform": "amazon", "shop": "s1", "order_id": placed["order_id"],
                                             "kind": "shipped"})
    # getOrders allows ~1 call a minute (burst 20): runs within 5 min of the last window read none
    aws.drain()
    for after_ms in (30_000, 240_000):
        soon = {r["shop"]: r for r in run_poll(t0 + after_ms, budget_ms=20_000)["shops"]
                if r["platform"] == "amazon"}["s1"]
        assert soon["error"] is None and soon["windows"] == 0 and soon["calls"] == 0
    later = {r["shop"]: r for r in run_poll(t0 + 330_000, budget_ms=20_000)["shops"] if r["platform"] == "amazon"}["s1"]
    assert later["error"] is None and later["windows"] >= 1 and later["outcomes"] == {"applied": 1}
    assert len(item_calls) == 1      # for the new step (ship) only: the commit before it was applied already
    assert staff_reservations.get(f"/reservations/amazon:s1:{placed['order_id']}").body["status"] == "shipped"
    # 4 min after that read (no window read yet) its lag is past the 300 s other platforms alert at: no alert
    # for Amazon, whose normal lag reaches its settle time and interval
    quiet = {r["shop"]: r for r in run_poll(t0 + 570_000, budget_ms=20_000)["shops"] if r["platform"] == "amazon"}["s1"]
    assert quiet["error"] is None and quiet["windows"] == 0 and quiet["lag_s"] > 300
    assert [e for e in aws.drain() if e["detail-type"] == "order_poll.lagging"] == []
    tokens = [c for c in api_calls(sandbox_base) if c.get("platform") == "amazon" and c.get("kind") == "token"]
    assert len(tokens) == 1          # one LWA grant, cached for every later call of the container


def test_an_unknown_seller_or_a_broken_message_stores_nothing(amazon_shop, aws):
    from stocklink.store import repository

    stranger = notification("113-0000000-0000001", "Unshipped", 1, seller="AUNKNOWNSELLER")
    assert deliver(stranger, b"{not json") == {"batchItemFailures": []}
    assert repository.get_event(f"amazon#s1#113-0000000-0000001#paid#-") is None
    assert not [e for e in aws.drain() if e["detail-type"] == "stock.changed"]
    assert amazon_shop.get(f"/skus/{SKU}/stock").body["totals"]["available"] == 6


def test_a_refused_refresh_token_fails_that_shops_poll_only(amazon_shop, aws, sandbox_base, monkeypatch):
    from stocklink.channels import amazon
    from stocklink.logic.order_poll import run_poll
    from stocklink.time import now_ms

    amazon._token_cache.clear()
    api = f"{sandbox_base}/amazon/s1"
    assert as_admin(amazon_shop).put("/shops/amazon/s1", {**AMZ, "refresh_token": "Atzr|revoked", "api_base_url": api,
                                                           "lwa_url": f"{api}/auth/o2/token"}).status == 200
    report = run_poll(now_ms() + 200_000, budget_ms=20_000)
    (mine,) = [r for r in report["shops"] if r["platform"] == "amazon"]
    assert "invalid_grant" in mine["error"] and "Atzr" not in json.dumps(report)


def test_discovery_and_read_back_against_the_simulator(amazon_shop, sandbox_base):
    from stocklink.channels.registry import adapter_for
    from stocklink.logic.catalog import shop_credentials
    from stocklink.outbound import send

    adapter, creds = adapter_for("amazon"), shop_credentials("amazon", "s1")
    control(sandbox_base, "PUT", "listings", {"platform": "amazon", "shop": "s1", "listings": [
        {"listing_id": f"MUG-{i:02d}", "quantity": i, "seller_sku": f"MUG-{i:02d}"} for i in range(25)]})
    found, cursor, calls = [], None, 0
    while True:
        status, headers, body = send(adapter.build_list_listings(creds, cursor))
        page = adapter.parse_list_listings(cursor, status, body, headers)
        found += page.listings
        calls += 1
        if page.cursor is None:
            break
        cursor = page.cursor
    assert calls == 2 and len({l.listing_id for l in found}) == len(found) >= 25   # pageSize 20: two pages
    [call] = adapter.build_read_back(creds, ["MUG-07"])
    status, _headers, body = send(call)
    assert adapter.parse_read_back(status, body) == {"MUG-07": 7}

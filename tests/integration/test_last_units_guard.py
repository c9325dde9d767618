"""The last-units guard through channel_push against the simulators (moto + in-process marketplaces): while
a SKU is at risk the platforms together never offer more than the pool, a channel that sold out is
refilled, an oversell cuts every channel to 0, and with the policy off the shared pool is shown as before.

TEE-RED-M has 6 units on TikTok, Lazada and Shopify (the `linked` fixture of test_channel_sync).
"""
from __future__ import annotations

import urllib.error

import pytest

from tests.integration.test_channel_sync import (  # noqa: F401 - fixtures
    SHOPS, SKU, fast_retries, linked, listed, push, run_bus, stock_changed)
from tests.sandbox_support import control, loopback_simulators, receiver, sandbox_base  # noqa: F401 (fixtures)

# The simulators answer on 127.0.0.1, as in the local runtime (see tests/sandbox_support.loopback_simulators).
pytestmark = pytest.mark.usefixtures("loopback_simulators")


def _available(staff) -> int:
    return staff.get(f"/skus/{SKU}/stock").body["totals"]["available"]


def _checkout(base, platform: str) -> bool:
    """A buyer orders one unit on the platform; its checkout refuses what the listing no longer shows."""
    listing_id = SHOPS[platform][2]
    try:
        control(base, "POST", "orders", {"platform": platform, "shop": "s1", "kind": "created",
                                         "enforce_listed": True, "lines": [{"listing_id": listing_id, "qty": 1}]})
    except urllib.error.HTTPError as refused:
        assert refused.code == 409              # sold out on the platform
        return False
    return True


def _stocklink_hears(platform: str, order_id: str):
    """The platform's webhook reaches StockLink (the fixture's simulators send theirs to a test receiver)."""
    from stocklink.channels.base import OrderEvent, OrderEventKind, OrderLine
    from stocklink.logic import orders
    from stocklink.time import now_ms

    event = OrderEvent(platform, "s1", order_id, OrderEventKind.CREATED, (OrderLine(SHOPS[platform][2], 1),),
                       delivery_id=order_id)
    orders.apply_order_event(event, now_ms())       # its note of what the listing still shows included


def test_the_rule_is_on_by_default(staff):
    policy = staff.get("/allocation/last-units").body
    assert policy["enabled"] is True and policy["k"] == 2.0 and policy["drain_s"] == 8.0


def test_the_policy_is_validated_and_nothing_is_half_written(linked):
    assert linked.get("/allocation/last-units").body["enabled"] is False      # the fixture turned it off
    assert linked.put("/allocation/last-units", {"enabled": True, "k": -1}).status == 400
    assert linked.put("/allocation/last-units", {"enabled": True, "bogus": 1}).status == 400
    assert linked.get("/allocation/last-units").body["enabled"] is False     # nothing half-written
    assert linked.put("/allocation/last-units", {"enabled": True}).status == 200
    assert linked.get("/allocation/last-units").body["enabled"] is True


def test_at_risk_the_platforms_never_offer_more_than_the_pool(linked, aws, sandbox_base):
    assert linked.put("/allocation/last-units", {"enabled": True, "drain_s": 0}).status == 200
    push(stock_changed())                    # at risk: what the shared sync set is cut (its count may be short)
    assert sum(listed(sandbox_base).values()) <= 6
    push(stock_changed())                    # drained (the delayed re-run): the units split by demand
    shown = listed(sandbox_base)
    assert 0 < sum(shown.values()) <= _available(linked) == 6, shown
    sold = 0
    for n in range(12):                      # TikTok buyers keep coming; StockLink hears each order
        if not _checkout(sandbox_base, "tiktok"):
            run_bus(aws)
            push(stock_changed())            # sold out there: the guard refills it from what is left
            continue
        sold += 1
        _stocklink_hears("tiktok", f"t{n}")
        run_bus(aws)
        assert sum(listed(sandbox_base).values()) <= _available(linked), listed(sandbox_base)
    assert sold + sum(listed(sandbox_base).values()) <= 6
    assert sold >= 3                          # a channel that sells out is refilled
    allocation = linked.get(f"/skus/{SKU}/channels").body["allocation"]
    assert allocation["mode"] == "guarded" and "split by demand" in allocation["why"]
    # the sentence's case and numbers, for a client that words it in its own language
    assert allocation["reason"] == "at_risk" and allocation["available"] <= allocation["at_risk_at_or_below"]
    assert allocation["k"] > 0 and allocation["min_units_per_channel"] >= 0
    assert sum(c["share"] for c in allocation["channels"]) <= allocation["available"]
    velocity = {c["listing"].split("#")[0]: c["velocity_per_s"] for c in allocation["channels"]}
    assert velocity["tiktok"] > 0 and velocity["lazada"] == velocity["shopify"] == 0   # from its own sales


def test_a_listings_recent_sales_are_appended_by_each_order_and_trimmed_oldest_first(linked):
    from stocklink.store import sync_models

    lid = SHOPS["tiktok"][2]
    for at, qty in ((1_000, 1), (2_000, 2), (3_000, 1)):
        sync_models.add_shown("tiktok", "s1", {lid: -qty}, at, sold=True)
    sync_models.add_shown("tiktok", "s1", {lid: 5}, 4_000)                 # a raise is not a sale
    state = sync_models.shops_listing_states({("tiktok", "s1"): [lid]})[("tiktok", "s1")][lid]
    assert [[int(a), int(b)] for a, b in state.recent_sales] == [[1_000, 1], [2_000, 2], [3_000, 1]]
    sync_models.trim_recent_sales("tiktok", "s1", lid, 2)
    state = sync_models.shops_listing_states({("tiktok", "s1"): [lid]})[("tiktok", "s1")][lid]
    assert [[int(a), int(b)] for a, b in state.recent_sales] == [[3_000, 1]]


def test_the_sweep_moves_the_units_of_skus_at_risk_again(linked, sandbox_base):
    from stocklink.logic.sync.sweep import run_pass
    from stocklink.time import now_ms

    assert linked.put("/allocation/last-units", {"enabled": True}).status == 200
    push(stock_changed())
    report = run_pass(now_ms())
    assert report["last_units"]["at_risk"] == 1
    assert sum(listed(sandbox_base).values()) <= _available(linked)


def test_an_oversell_cuts_every_channel_to_zero(linked, aws, sandbox_base):
    assert linked.put("/allocation/last-units", {"enabled": True}).status == 200
    push(stock_changed())
    push({"detail-type": "order.oversold", "detail": {"platform": "tiktok", "shop": "s1", "order_id": "o1",
                                                       "shortfall": [{"sku": SKU, "requested": 9, "available": 6}]}})
    assert sum(listed(sandbox_base).values()) <= 6


def test_with_the_policy_off_every_channel_shows_the_pool(linked, sandbox_base):
    push(stock_changed())
    assert set(listed(sandbox_base).values()) == {6}
    allocation = linked.get(f"/skus/{SKU}/channels").body["allocation"]
    assert (allocation["mode"], allocation["reason"]) == ("shared", "guard_off")


def test_a_declared_sale_is_guarded_from_its_start_whatever_the_demand(linked, aws, sandbox_base):
    from datetime import datetime, timedelta, timezone

    from stocklink.logic.sync.sweep import run_pass
    from stocklink.time import now_ms

    soon = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    push(stock_changed())
    assert set(listed(sandbox_base).values()) == {6}                 # the policy is off: shared
    assert linked.put(f"/skus/{SKU}/sale", {"until": "2020-01-01T00:00:00Z"}).status == 400   # in the past
    assert linked.put(f"/skus/{SKU}/sale", {"until": "2099-01-01T00:00:00"}).status == 400    # no time zone
    assert linked.put(f"/skus/{SKU}/sale", {"until": soon, "bogus": 1}).status == 400
    assert linked.put("/skus/NO-SUCH-SKU/sale", {"until": soon}).status == 404
    assert linked.get(f"/skus/{SKU}/channels").body["allocation"]["mode"] == "shared"        # nothing written

    assert linked.put("/allocation/last-units", {"enabled": False, "drain_s": 0}).status == 200
    answer = linked.put(f"/skus/{SKU}/sale", {"until": soon})
    assert answer.status == 200 and answer.body["guarded_until"].endswith("Z")
    run_bus(aws)               # the declaration's stock.changed: platforms that take absolute numbers are cut
    assert sum(listed(sandbox_base).values()) <= 6, listed(sandbox_base)
    run_pass(now_ms())         # their drains over, every channel gets its share (even: nothing sold yet)
    assert listed(sandbox_base) == {"tiktok": 2, "lazada": 2, "shopify": 2}
    allocation = linked.get(f"/skus/{SKU}/channels").body["allocation"]
    assert allocation["mode"] == "guarded" and "declared" in allocation["why"]
    assert allocation["reason"] == "sale_declared"
    assert allocation["sale_declared_until"] is not None

    assert linked.delete(f"/skus/{SKU}/sale").status == 200
    run_bus(aws)
    assert set(listed(sandbox_base).values()) == {6}                 # shared again once the sale is over
    assert linked.get(f"/skus/{SKU}/channels").body["allocation"]["mode"] == "shared"


def test_a_cut_runs_the_sku_again_when_its_drain_is_over(linked, aws, sandbox_base, monkeypatch):
    from stocklink import bus

    later = []
    monkeypatch.setattr(bus, "publish_later", lambda detail_type, detail, delay_s: later.append(
        (detail_type, detail["sku"], delay_s)) or True)
    push(stock_changed())                                            # shared: every channel shows 6
    assert linked.put("/allocation/last-units", {"enabled": True, "drain_s": 4}).status == 200
    push(stock_changed())                                            # at risk: the absolute platforms are cut
    assert later == [("stock.changed", SKU, 5)]                      # once, for the SKU, after its drain


def test_an_event_published_later_arrives_on_the_functions_queue_after_its_delay(aws, monkeypatch):
    import json
    import time

    import boto3

    from stocklink import bus
    from stocklink.config import settings

    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="channel-push-own")["QueueUrl"]
    monkeypatch.setenv("REQUEUE_QUEUE", "channel-push-own")
    settings.cache_clear()
    bus._sqs_queue.cache_clear()
    try:
        assert bus.publish_later("stock.changed", {"sku": SKU, "cause": "drain_over"}, 1)
        assert sqs.receive_message(QueueUrl=url).get("Messages") is None          # not before its delay
        time.sleep(1.2)
        body = json.loads(sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"])
        assert body["detail-type"] == "stock.changed" and body["source"] == "stocklink"
        assert body["detail"] == {"sku": SKU, "cause": "drain_over"}
    finally:
        monkeypatch.delenv("REQUEUE_QUEUE")
        settings.cache_clear()
        bus._sqs_queue.cache_clear()
    assert bus.publish_later("stock.changed", {"sku": SKU}, 1) is False            # no queue set: logged only

"""Channel sync on moto against the marketplace simulators (in-process, free port): stock changes reach
every listing, unchanged values are not pushed, 429 is retried, 500s end as recorded failures, oversells
push 0, allocation rules and bundles apply, and TikTok webhooks are completed with the order detail."""
from __future__ import annotations

import threading

import pytest

from tests.integration.apigw import LambdaContext
from tests.integration.conftest import as_admin
from tests.sandbox_support import control, loopback_simulators, receiver, sandbox_base  # noqa: F401 (fixtures)

# The simulators answer on 127.0.0.1, as in the local runtime (see tests/sandbox_support.loopback_simulators).
pytestmark = pytest.mark.usefixtures("loopback_simulators")

SKU = "TEE-RED-M"
SHOPS = {
    "tiktok": ({"app_key": "6a1b2c3d4e5f6", "app_secret": "tiktok-secret", "access_token": "TTP_sandbox",
                "shop_cipher": "ROW_sandbox", "shop_id": "7494049642642441621"}, "",
               "1729592969712207012", {"product_id": "1729592969712207000"}),
    "lazada": ({"app_key": "100001", "app_secret": "lazada-secret", "access_token": "lazada-token",
                "seller_id": "1000114855"}, "/rest",
               "1234567890", {"item_id": "557711987"}),
    "shopify": ({"access_token": "shpat_sandbox", "location_id": "40642626", "webhook_secret": "whsec-shopify",
                "shop_domain": "stocklink-sandbox.myshopify.com"}, "",
                "808950810", {"inventory_item_id": "5001"}),
}


@pytest.fixture
def fast_retries(monkeypatch):
    from stocklink.logic.sync import platform_calls, rate_limit, seams
    monkeypatch.setattr(platform_calls, "BACKOFF_BASE_S", 0.01)
    monkeypatch.setattr(platform_calls, "BACKOFF_CAP_S", 0.05)
    rate_limit._limiters.clear()


@pytest.fixture
def linked(aws, stocked, sandbox_base, receiver, fast_retries):
    """TEE-RED-M (6 units over two warehouses) listed on TikTok, Lazada and Shopify (simulated), with the
    last-units rule off: these tests are about the shared pool (6 units on 3 channels would be at risk);
    the guard's own tests turn it on."""
    control(sandbox_base, "POST", "reset", {})
    assert stocked.put("/allocation/last-units", {"enabled": False}).status == 200
    receiver.requests.clear()
    for platform, (creds, suffix, listing_id, ids) in SHOPS.items():
        api = f"{sandbox_base}/{platform}/s1{suffix}"
        control(sandbox_base, "POST", "shops", {"platform": platform, "shop": "s1", "credentials": {**creds, "api_base_url": api},
                                                "webhook_url": f"{receiver.base}/hook/{platform}"})
        control(sandbox_base, "PUT", "listings", {"platform": platform, "shop": "s1", "listings": [
            {"listing_id": listing_id, "quantity": 0, "platform_ids": ids, "seller_sku": SKU}]})
        assert as_admin(stocked).put(f"/shops/{platform}/s1", {**creds, "api_base_url": api}).status == 200
        assert stocked.put(f"/listings/{platform}/s1/{listing_id}",
                           {"components": [{"sku": SKU, "qty": 1}], "platform_ids": ids}).status == 200
    aws.drain()
    return stocked


def listed(base: str) -> dict[str, int]:
    rows = control(base, "GET", "listings")["listings"]
    return {r["platform"]: r["quantity"] for r in rows}


def api_calls(base: str) -> list[dict]:
    return control(base, "GET", "calls")["calls"]


def push(event: dict):
    from functions.channel_push.handler import handler
    return handler(event, LambdaContext())


def stock_changed(sku: str = SKU) -> dict:
    return {"detail-type": "stock.changed", "source": "stocklink", "detail": {"sku": sku}}


def run_bus(aws) -> list[dict]:
    """Deliver every event published since the last drain to channel_push, as the rule would."""
    return [push(e) for e in aws.drain() if e["detail-type"] in ("stock.changed", "order.oversold")]


def test_stock_change_pushes_every_listing_and_unchanged_values_are_not_pushed(linked, aws, sandbox_base):
    assert linked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": 2,
                                              "reason": "found"}).status == 201
    reports = run_bus(aws)
    assert listed(sandbox_base) == {"tiktok": 8, "lazada": 8, "shopify": 8}
    assert sum(r["pushed"] for r in reports) == 3
    calls_before = len(api_calls(sandbox_base))

    again = push(stock_changed())           # same stock: nothing to push, no platform call
    assert again["pushed"] == 0 and again["unchanged"] == 3
    assert len(api_calls(sandbox_base)) == calls_before

    view = linked.get(f"/skus/{SKU}/channels").body["listings"]
    assert {(l["platform"], l["computed_qty"], l["pushed_qty"], l["in_sync"]) for l in view} == {
        ("tiktok", 8, 8, True), ("lazada", 8, 8, True), ("shopify", 8, 8, True)}
    assert all(l["pushed_at"] for l in view)


def test_a_burst_is_coalesced_into_pushes_of_the_current_value(linked, aws, sandbox_base):
    for _ in range(3):
        assert linked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": -1,
                                                  "reason": "damaged"}).status == 201
    reports = run_bus(aws)                   # 3 events; stock read at push time is already final
    assert len(reports) == 3
    assert sum(r["pushed"] for r in reports) == 3          # one push per listing, not one per event
    assert sum(r["unchanged"] for r in reports) == 6
    assert listed(sandbox_base) == {"tiktok": 3, "lazada": 3, "shopify": 3}


def test_429_then_ok_is_retried(linked, sandbox_base):
    control(sandbox_base, "POST", "faults", {"status": 429, "count": 1, "platform": "tiktok"})
    report = push(stock_changed())
    assert report["pushed"] == 3 and report["failed"] == 0
    tiktok = [c for c in api_calls(sandbox_base) if c["platform"] == "tiktok"]
    assert [c["fault"] for c in tiktok] == [True, False]
    assert listed(sandbox_base)["tiktok"] == 6


def test_500_until_exhausted_is_recorded_as_a_failure_and_raised_for_the_dlq(linked, sandbox_base):
    from functions.channel_push.handler import SyncIncomplete
    from stocklink.logic.sync import platform_calls, rate_limit, seams

    control(sandbox_base, "POST", "faults", {"status": 500, "count": 100, "platform": "lazada"})
    with pytest.raises(SyncIncomplete):
        push(stock_changed())
    lazada = [c for c in api_calls(sandbox_base) if c["platform"] == "lazada"]
    assert len(lazada) == platform_calls.MAX_ATTEMPTS and all(c["fault"] for c in lazada)
    assert listed(sandbox_base) == {"tiktok": 6, "lazada": 0, "shopify": 6}
    failures = linked.get("/sync/failures").body["failures"]
    assert [(f["platform"], f["listing_id"], f["quantity"]) for f in failures] == [("lazada", "1234567890", 6)]
    view = {l["platform"]: l for l in linked.get(f"/skus/{SKU}/channels").body["listings"]}
    assert view["lazada"]["status"] == "failed" and view["lazada"]["in_sync"] is False

    control(sandbox_base, "POST", "reset", {})   # platform healthy again: the Lambda retry pushes it
    creds, suffix, lid, ids = SHOPS["lazada"]
    control(sandbox_base, "POST", "shops", {"platform": "lazada", "shop": "s1",
                                            "credentials": {**creds, "api_base_url": f"{sandbox_base}/lazada/s1{suffix}"}})
    control(sandbox_base, "PUT", "listings", {"platform": "lazada", "shop": "s1", "listings": [
        {"listing_id": lid, "quantity": 0, "platform_ids": ids}]})
    retry = push(stock_changed())
    assert retry["pushed"] == 1 and retry["unchanged"] == 2
    assert listed(sandbox_base)["lazada"] == 6


def test_oversold_pushes_zero_everywhere(linked, sandbox_base):
    push(stock_changed())
    assert set(listed(sandbox_base).values()) == {6}
    push({"detail-type": "order.oversold", "detail": {"platform": "tiktok", "shop": "s1", "order_id": "o1",
                                                       "shortfall": [{"sku": SKU, "requested": 9, "available": 6}]}})
    assert set(listed(sandbox_base).values()) == {0}


def test_allocation_rules_and_sync_off(linked, sandbox_base):
    assert linked.put("/shops/tiktok/s1/allocation", {"rule": "shared", "buffer": 2}).status == 200
    assert linked.put("/shops/lazada/s1/allocation", {"rule": "fixed", "fixed": 4}).status == 200
    assert linked.put("/shops/shopify/s1/allocation", {"sync": False}).status == 200
    assert linked.put("/shops/shopify/s1/allocation", {"rule": "bogus"}).status == 400
    assert linked.put("/shops/nowhere/s1/allocation", {}).status == 404
    assert linked.get("/shops/tiktok/s1/allocation").body["buffer"] == 2
    report = push(stock_changed())
    assert report["sync_off"] == 1
    assert listed(sandbox_base) == {"tiktok": 4, "lazada": 4, "shopify": 0}


def test_bundle_shows_complete_sets(linked, aws, sandbox_base):
    linked.put("/skus/CAP-BLK", {"name": "Black cap"})
    linked.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "CAP-BLK", "qty": 2}], "reference": "PO-9"})
    control(sandbox_base, "PUT", "listings", {"platform": "tiktok", "shop": "s1", "listings": [
        {"listing_id": "1729592969712207013", "quantity": 0, "platform_ids": {"product_id": "1729592969712207000"}}]})
    linked.put("/listings/tiktok/s1/1729592969712207013", {
        "components": [{"sku": SKU, "qty": 2}, {"sku": "CAP-BLK", "qty": 1}],
        "platform_ids": {"product_id": "1729592969712207000"}})
    aws.drain()
    push(stock_changed("CAP-BLK"))
    rows = {r["listing_id"]: r["quantity"] for r in control(sandbox_base, "GET", "listings", query="?platform=tiktok")["listings"]}
    assert rows["1729592969712207013"] == 2       # min(6 // 2, 2 // 1)


def test_tiktok_webhook_is_completed_with_the_order_detail_and_lowers_other_channels(linked, aws, sandbox_base,
                                                                                     receiver, webhooks):
    push(stock_changed())
    placed = control(sandbox_base, "POST", "orders", {"platform": "tiktok", "shop": "s1", "kind": "paid",
                                                      "lines": [{"listing_id": "1729592969712207012", "qty": 2}]})
    assert placed["deliveries"][0]["status"] == 200
    [delivery] = receiver.requests
    answer = webhooks.post("/webhooks/tiktok/s1", raw=delivery["body"],
                           headers={k: v for k, v in delivery["headers"].items() if k.lower() != "host"})
    assert answer.status == 200, answer.body
    assert answer.body["outcomes"][0]["status"] == "applied"
    assert linked.get(f"/skus/{SKU}/stock").body["totals"]["available"] == 4
    run_bus(aws)
    assert listed(sandbox_base) == {"tiktok": 4, "lazada": 4, "shopify": 4}


def test_shops_of_one_event_are_pushed_in_parallel(linked, sandbox_base, monkeypatch):
    """Each shop's first call waits on a barrier for the other two: pushed one shop after another, the
    barrier would break; pushed in parallel, all three pass it."""
    from stocklink.logic.sync import platform_calls, rate_limit, seams

    barrier = threading.Barrier(3, timeout=10)
    seen: set[str] = set()
    lock = threading.Lock()
    real_send = seams.send

    def send(call):
        platform = next(p for p in SHOPS if f"/{p}/" in call.url)
        with lock:
            first = platform not in seen
            seen.add(platform)
        if first:
            barrier.wait()
        return real_send(call)

    monkeypatch.setattr(seams, "send", send)
    report = push(stock_changed())
    assert report["pushed"] == 3 and report["failed"] == 0
    assert not barrier.broken
    assert listed(sandbox_base) == {"tiktok": 6, "lazada": 6, "shopify": 6}


def test_a_rate_limited_shop_pushes_its_event_after_the_wait_and_leaves_other_skus_to_their_events(
        linked, aws, sandbox_base):
    """Shopify must wait for a token: after the wait it pushes the event's listing from stock read then, in
    one call; another SKU that changed meanwhile is left to its own (queued) event, which pushes it."""
    from stocklink.logic.sync import platform_calls, rate_limit, seams

    push(stock_changed())
    cap = "808950811"
    control(sandbox_base, "PUT", "listings", {"platform": "shopify", "shop": "s1", "listings": [
        {"listing_id": cap, "quantity": 0, "platform_ids": {"inventory_item_id": "5002"}, "seller_sku": "CAP-BLK"}]})
    linked.put("/skus/CAP-BLK", {"name": "Black cap"})
    assert linked.put(f"/listings/shopify/s1/{cap}", {"components": [{"sku": "CAP-BLK", "qty": 1}],
                                                      "platform_ids": {"inventory_item_id": "5002"}}).status == 200
    aws.drain()
    linked.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "CAP-BLK", "qty": 5}],
                                    "reference": "PO-10"})
    run_bus(aws)                                   # CAP-BLK shows 5 and is marked changed
    shopify_rows = lambda: {r["listing_id"]: r["quantity"] for r in control(  # noqa: E731
        sandbox_base, "GET", "listings", query="?platform=shopify")["listings"]}
    assert shopify_rows()[cap] == 5

    assert linked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": "CAP-BLK", "delta": -2,
                                              "reason": "damaged"}).status == 201
    queued = [e for e in aws.drain() if e["detail-type"] == "stock.changed"]   # not delivered yet
    assert linked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": -1,
                                              "reason": "damaged"}).status == 201
    aws.drain()

    bucket = rate_limit.TokenBucket(2.0, 1)
    bucket.wait_time()                             # the one token is spent: the next push waits ~0.5 s
    rate_limit._limiters["shopify#s1"] = bucket
    shopify_calls = len([c for c in api_calls(sandbox_base) if c["platform"] == "shopify"])
    report = push(stock_changed())
    assert report["pushed"] == 3 and report["failed"] == 0
    assert shopify_rows() == {"808950810": 5, cap: 5}
    assert listed(sandbox_base)["tiktok"] == 5 and listed(sandbox_base)["lazada"] == 5
    assert len([c for c in api_calls(sandbox_base) if c["platform"] == "shopify"]) == shopify_calls + 1

    later = [push(e) for e in queued]              # CAP-BLK's own event pushes it
    assert sum(r["pushed"] for r in later) == 1 and shopify_rows()[cap] == 3
    view = {l["listing_id"]: l for l in linked.get("/skus/CAP-BLK/channels").body["listings"]}
    assert view[cap]["pushed_qty"] == 3 and view[cap]["in_sync"] is True


def test_a_wait_for_a_rate_limited_shop_leaves_an_oversell_zero_alone(linked, aws, sandbox_base):
    """A listing pushed to 0 for an oversell keeps 0 until its own SKU changes again, whatever else a shop
    that had to wait pushes."""
    from stocklink.logic.sync import platform_calls, rate_limit, seams

    push(stock_changed())
    push({"detail-type": "order.oversold", "detail": {"platform": "tiktok", "shop": "s1", "order_id": "o1",
                                                       "shortfall": [{"sku": SKU, "requested": 9, "available": 6}]}})
    assert set(listed(sandbox_base).values()) == {0}
    linked.put("/skus/CAP-BLK", {"name": "Black cap"})
    control(sandbox_base, "PUT", "listings", {"platform": "shopify", "shop": "s1", "listings": [
        {"listing_id": "808950811", "quantity": 0, "platform_ids": {"inventory_item_id": "5002"}}]})
    linked.put("/listings/shopify/s1/808950811", {"components": [{"sku": "CAP-BLK", "qty": 1}],
                                                  "platform_ids": {"inventory_item_id": "5002"}})
    linked.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "CAP-BLK", "qty": 5}],
                                    "reference": "PO-11"})
    aws.drain()
    bucket = rate_limit.TokenBucket(2.0, 1)
    bucket.wait_time()
    rate_limit._limiters["shopify#s1"] = bucket
    report = push(stock_changed("CAP-BLK"))
    assert report["pushed"] == 1
    assert listed(sandbox_base)["tiktok"] == 0
    rows = {r["listing_id"]: r["quantity"] for r in control(sandbox_base, "GET", "listings",
                                                            query="?platform=shopify")["listings"]}
    assert rows == {"808950810": 0, "808950811": 5}


# --- the queued delivery: an SQS batch of bus events, merged -------------------------------------------------

def sqs_batch(*bodies) -> dict:
    """An SQS event as Lambda's event source mapping hands it over (bodies: events, or raw strings)."""
    import json

    return {"Records": [{"messageId": f"m{i}", "receiptHandle": f"r{i}", "eventSource": "aws:sqs",
                         "body": body if isinstance(body, str) else json.dumps(body)}
                        for i, body in enumerate(bodies)]}


def at(event: dict, time: str) -> dict:
    return {**event, "time": time}


def test_a_batch_of_a_burst_pushes_each_listing_once(linked, aws, sandbox_base):
    for warehouse in ("wh-a", "wh-a", "wh-a", "wh-b"):
        assert linked.post("/stock/adjustments", {"warehouse_id": warehouse, "sku": SKU, "delta": -1,
                                                  "reason": "damaged"}).status == 201
    events = [e for e in aws.drain() if e["detail-type"] == "stock.changed"]
    assert len(events) == 4
    calls_before = len(api_calls(sandbox_base))

    assert push(sqs_batch(*events)) == {"batchItemFailures": []}
    assert listed(sandbox_base) == {"tiktok": 2, "lazada": 2, "shopify": 2}
    assert len(api_calls(sandbox_base)) - calls_before == 3          # one call per shop for four events


def test_a_batch_fails_only_the_records_behind_an_unpushed_listing(linked, sandbox_base):
    control(sandbox_base, "POST", "faults", {"status": 500, "count": 100, "platform": "lazada"})
    reply = push(sqs_batch(stock_changed(), "not json", stock_changed("SKU-WITHOUT-LISTINGS")))
    # m0: its SKU's Lazada listing is still unpushed -> retried, then dead-lettered; m1 kept, never dropped
    assert reply == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m0"}]}
    assert listed(sandbox_base) == {"tiktok": 6, "lazada": 0, "shopify": 6}
    assert [f["platform"] for f in linked.get("/sync/failures").body["failures"]] == ["lazada"]


def test_in_a_batch_an_oversell_zero_holds_unless_the_sku_changed_after_it(linked, sandbox_base):
    push(stock_changed())
    oversold = {"detail-type": "order.oversold", "detail": {"platform": "tiktok", "shop": "s1", "order_id": "o1",
                                                             "shortfall": [{"sku": SKU, "short": 1}]}}
    push(sqs_batch(at(stock_changed(), "2026-11-24T10:00:00Z"), at(oversold, "2026-11-24T10:00:01Z")))
    assert set(listed(sandbox_base).values()) == {0}

    # restocked after the oversell (a later stock.changed in the same batch): the listings show stock again
    push(sqs_batch(at(oversold, "2026-11-24T10:00:02Z"), at(stock_changed(), "2026-11-24T10:00:03Z")))
    assert set(listed(sandbox_base).values()) == {6}


def test_dynamic_buffer_learns_velocity_and_push_latency_from_the_events(linked, sandbox_base):
    """Lazada on the dynamic buffer: TikTok sells 3 units in the 5-minute window (0.01 units/s) and pushes
    have taken 60 s at p99, so Lazada holds back ceil(0.01 × 60) = 1 unit; the others show the pool."""
    from datetime import datetime, timedelta, timezone

    assert linked.put("/shops/lazada/s1/allocation", {"rule": "shared", "buffer_mode": "dynamic"}).status == 200
    minute_ago = (datetime.now(timezone.utc) - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sale = {"sku": SKU, "cause": "reserve", "source": "tiktok:s1"}
    push(at({"detail-type": "stock.changed", "detail": {**sale, "total_available": 9}}, minute_ago))
    assert listed(sandbox_base) == {"tiktok": 6, "lazada": 6, "shopify": 6}    # no sales seen yet
    push(at({"detail-type": "stock.changed", "detail": {**sale, "total_available": 6}}, minute_ago))
    assert listed(sandbox_base) == {"tiktok": 6, "lazada": 5, "shopify": 6}
    view = {l["platform"]: l["computed_qty"] for l in linked.get(f"/skus/{SKU}/channels").body["listings"]}
    assert view == {"tiktok": 6, "lazada": 5, "shopify": 6}


def test_a_container_waiting_for_a_shop_call_pushes_the_skus_others_handed_it(linked, aws, sandbox_base,
                                                                               monkeypatch):
    """Lazada's window is full. This container waits for the next one and announces it; meanwhile another
    container hands it TEE-BLUE-M instead of queueing its own call; after the wait one Lazada call carries
    both SKUs' listings, each computed from stock read after the wait."""
    from stocklink.logic.sync import platform_calls, rate_limit, seams
    from stocklink.store import sync_models

    blue_ids = {"item_id": "557711990"}
    assert linked.put("/skus/TEE-BLUE-M", {"name": "Blue tee M"}).status == 200
    assert linked.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "TEE-BLUE-M", "qty": 4}],
                                           "reference": "PO-B"}).status == 201
    control(sandbox_base, "PUT", "listings", {"platform": "lazada", "shop": "s1", "listings": [
        {"listing_id": "2222", "quantity": 0, "platform_ids": blue_ids, "seller_sku": "TEE-BLUE-M"}]})
    assert linked.put("/listings/lazada/s1/2222", {"components": [{"sku": "TEE-BLUE-M", "qty": 1}],
                                                   "platform_ids": blue_ids}).status == 200
    aws.drain()
    push(stock_changed())                      # everything in sync at 6 first
    lazada_calls = lambda: [c for c in api_calls(sandbox_base)
                            if c["platform"] == "lazada" and c.get("kind") == "stock_update"]
    before = len(lazada_calls())

    clock = [1_900_000_000.5]
    monkeypatch.setattr(seams, "wall", lambda: clock[0])
    limit = rate_limit.ShopRateLimit("lazada", "s1", 1, 1)
    rate_limit._limiters["lazada#s1"] = limit
    assert limit.wait_time() == 0.0            # this second's only call is taken: the next push waits

    def another_container_hands_over(seconds):
        assert sync_models.hand_over("lazada", "s1", ["TEE-BLUE-M"], int(clock[0] * 1000))
        clock[0] += seconds

    monkeypatch.setattr(seams, "sleep", another_container_hands_over)
    monkeypatch.setattr(seams, "clock", lambda: clock[0])    # the wait is spent only in _sleep
    assert linked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": -1,
                                              "reason": "damaged"}).status == 201
    report = push(stock_changed())
    calls = lazada_calls()[before:]
    assert len(calls) == 1 and calls[0]["listings"] == {"1234567890": 5, "2222": 4}
    assert report["pushed"] == 4               # TikTok, Shopify and Lazada for TEE-RED-M, Lazada for TEE-BLUE-M
    shown = {(r["platform"], r["listing_id"]): r["quantity"] for r in control(sandbox_base, "GET", "listings")["listings"]}
    assert shown == {("tiktok", SHOPS["tiktok"][2]): 5, ("shopify", SHOPS["shopify"][2]): 5,
                     ("lazada", "1234567890"): 5, ("lazada", "2222"): 4}


@pytest.mark.parametrize("seen_full", [False, True], ids=["window-not-seen-full", "window-seen-full"])
def test_with_the_window_full_and_a_container_waiting_the_skus_are_handed_to_it(linked, sandbox_base, monkeypatch,
                                                                                seen_full):
    """Lazada's window is full and another container waits for the next one. A container that has not seen
    the window full takes a slot two seconds ahead, hands its SKU over and gives the slot back; one that
    has (its limiter found this second's window taken by another and took the next) hands over at once and
    takes no slot at all."""
    from stocklink.logic.sync import platform_calls, rate_limit, seams
    from stocklink.store import sync_models

    clock = [1_900_000_000.5]
    monkeypatch.setattr(seams, "wall", lambda: clock[0])
    other = rate_limit.ShopRateLimit("lazada", "s1", 1, 1)     # the other containers' limiter
    limit = rate_limit.ShopRateLimit("lazada", "s1", 1, 1)
    other.wait_time()                          # this second full
    (limit if seen_full else other).wait_time()     # the next one taken (by a waiter)
    rate_limit._limiters["lazada#s1"] = limit
    assert limit.looks_full() is seen_full
    assert sync_models.await_slot("lazada", "s1", "other-container", int((clock[0] + 1) * 1000),
                                  int(clock[0] * 1000))
    report = push(stock_changed())
    assert report["handed_over"] == 1 and report["pushed"] == 2          # TikTok and Shopify pushed here
    assert listed(sandbox_base) == {"tiktok": 6, "lazada": 0, "shopify": 6}
    assert sync_models.collect("lazada", "s1", "other-container") == {SKU}
    windows = {int(w.sk.split("#")[1]) - int(clock[0]): int(w.calls)
               for w in sync_models.CallWindow.query("RATE#lazada#s1")}     # 1 call/s: 1000 ms windows
    # a slot taken two seconds ahead is given back for someone else; none is taken when seen full
    assert windows == ({0: 1, 1: 1} if seen_full else {0: 1, 1: 1, 2: 0})


def test_a_shop_can_set_its_own_call_rate(linked):
    from stocklink.channels.registry import adapter_for
    from stocklink.logic.sync import platform_calls, rate_limit, seams

    lazada = adapter_for("lazada")
    creds, suffix, _, _ = SHOPS["lazada"]
    assert as_admin(linked).put("/shops/lazada/s2", {**creds, "max_calls_per_second": 8}).status == 200
    assert as_admin(linked).put("/shops/lazada/s3", {**creds, "max_calls_per_second": 0}).status == 400
    own, default = rate_limit.shop_limiter("lazada", "s2", lazada), rate_limit.shop_limiter("lazada", "s1", lazada)
    assert (own.rate, own.per_window, own.window_ms) == (8, 4, 500)
    assert default.rate == lazada.rate_per_second
    # not a credential: kept beside the secret's name, never in Secrets Manager
    from stocklink.logic.catalog import shop_credentials
    assert "max_calls_per_second" not in shop_credentials("lazada", "s2")


def test_a_listing_is_never_pushed_twice_at_once_the_newer_number_goes_after_the_older_has_landed(
        linked, aws, sandbox_base, monkeypatch):
    """Container A claims Shopify at 5 and sends its call; meanwhile B (a newer stock change, 4) computes.
    Two calls in flight could land in either order, and A's 5 landing last would show one unit too many,
    so B's claim is refused while A's push may still be landing: B waits for it to land, then pushes 4."""
    from stocklink.logic.sync import platform_calls, rate_limit, seams

    push(stock_changed())
    assert listed(sandbox_base) == {"tiktok": 6, "lazada": 6, "shopify": 6}
    real_send = seams.send
    b_report: dict = {}
    b_thread: list[threading.Thread] = []
    shopify_sent: list[str] = []

    def send(call):
        if "/shopify/" in call.url:
            shopify_sent.append(threading.current_thread().name)
        if "/shopify/" in call.url and not b_thread:
            assert linked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": -1,
                                                      "reason": "damaged"}).status == 201
            b = threading.Thread(target=lambda: b_report.update(push(stock_changed())))
            b_thread.append(b)
            b.start()
            threading.Event().wait(0.3)          # B claims while A's call is on its way
        return real_send(call)

    assert linked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": -1,
                                              "reason": "damaged"}).status == 201
    monkeypatch.setattr(seams, "send", send)
    a_report = push(stock_changed())
    b_thread[0].join(timeout=30)

    assert listed(sandbox_base) == {"tiktok": 4, "lazada": 4, "shopify": 4}
    assert a_report["raced_left"] == 0 and a_report["repushed"] == 0
    assert b_report["repushed"] >= 1 and b_report["raced_left"] == 0    # Shopify, after A's call landed
    assert len(shopify_sent) == 2                                        # A's 5, then B's 4
    view = {l["platform"]: l for l in linked.get(f"/skus/{SKU}/channels").body["listings"]}
    assert view["shopify"]["pushed_qty"] == 4 and view["shopify"]["in_sync"] is True


def test_a_push_that_outlived_its_in_flight_mark_and_lost_a_race_is_pushed_again(linked, aws, sandbox_base,
                                                                                    monkeypatch):
    """A's call takes longer than the in-flight mark (here: no mark at all), so B claims, pushes and records
    4 while A's 5 is still on its way, and A's call lands last: Shopify shows 5 though one unit fewer is
    left. A's record is refused (B's claim is newer), so A computes again and pushes 4 after its own call."""
    from stocklink.logic.sync import platform_calls, rate_limit, seams
    from stocklink.store import sync_models

    monkeypatch.setattr(sync_models, "INFLIGHT_MS", -1)

    push(stock_changed())
    assert listed(sandbox_base) == {"tiktok": 6, "lazada": 6, "shopify": 6}
    real_send = seams.send
    state = {"raced": False}
    b_report = {}

    def send(call):
        if "/shopify/" in call.url and not state["raced"]:
            state["raced"] = True       # B runs to the end while A's call is still on its way
            assert linked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": -1,
                                                      "reason": "damaged"}).status == 201
            b_report.update(push(stock_changed()))
        return real_send(call)

    assert linked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": -1,
                                              "reason": "damaged"}).status == 201
    monkeypatch.setattr(seams, "send", send)
    a_report = push(stock_changed())

    assert listed(sandbox_base) == {"tiktok": 4, "lazada": 4, "shopify": 4}
    assert b_report["pushed"] == 3                     # B pushed 4 everywhere first
    # Shopify for sure; TikTok and Lazada too when A's calls to them were still in flight as B claimed
    assert 1 <= a_report["repushed"] <= 3 and a_report["raced_left"] == 0
    view = {l["platform"]: l for l in linked.get(f"/skus/{SKU}/channels").body["listings"]}
    assert view["shopify"]["pushed_qty"] == 4 and view["shopify"]["in_sync"] is True

"""Reconciliation passes on moto against the marketplace simulators (time controlled through `now`):
drift on changed listings is fixed in one pass and on the rest within verify_every; platform errors do
not stop a pass and are retried; anomalies and ledger mismatches reach the bus; the lease keeps passes
apart; an exhausted budget saves the cursor and the next pass resumes from it; reports are served."""
from __future__ import annotations

import pytest

from tests.integration.test_channel_sync import (  # noqa: F401 - fixtures
    SHOPS,
    SKU,
    control,
    fast_retries,
    receiver,
    linked,
    listed,
    run_bus,
    sandbox_base,
)
from tests.sandbox_support import loopback_simulators  # noqa: F401 - fixture

# The simulators answer on 127.0.0.1, as in the local runtime (see tests/sandbox_support.loopback_simulators).
pytestmark = pytest.mark.usefixtures("loopback_simulators")

LISTING_ID = {platform: spec[2] for platform, spec in SHOPS.items()}


def set_listed(base: str, platform: str, quantity: int, listing_id: str | None = None) -> None:
    control(base, "PUT", "listings", {"platform": platform, "shop": "s1", "listings": [
        {"listing_id": listing_id or LISTING_ID[platform], "quantity": quantity}]})


def run(now, **kw):
    """A pass in call windows a second past the pushes the test just made: these tests are not about a read
    yielding to a shop whose current window those pushes filled (the last test of this module is)."""
    from unittest import mock

    from stocklink.logic.sync import seams
    from stocklink.logic.sync.sweep import run_pass

    wall = seams.wall
    with mock.patch.object(seams, "wall", lambda: wall() + 1.0):
        return run_pass(now, **kw)


def published(aws, detail_type: str) -> list[dict]:
    return [e["detail"] for e in aws.drain() if e["detail-type"] == detail_type]


@pytest.fixture
def t0():
    """The first pass's start: past the cover of the markers the fixtures' pushes write (a pass clears a marker
    only once it no longer covers changes, reconciliation.MARK_COVERS_MS)."""
    from stocklink.logic.sync.reconciliation import MARK_COVERS_MS
    from stocklink.time import now_ms
    return now_ms() + MARK_COVERS_MS + 1_000


@pytest.fixture
def synced(linked, aws, sandbox_base, t0):
    """Stock moved to 8 and pushed everywhere, then one pass that clears the dirty markers."""
    assert linked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": 2,
                                              "reason": "found"}).status == 201
    run_bus(aws)
    first = run(t0)
    assert first["drift_found"] == 0 and first["listings_checked"] == 3
    aws.drain()
    return linked


def test_a_listing_channel_push_is_pushing_is_in_flight_not_drift(synced, aws, sandbox_base, t0):
    """During a sale a read-back often sees the value just before channel_push's next push lands: that
    listing was claimed after the read-back began, so it is neither drift, nor an anomaly, nor corrected."""
    from stocklink.logic.sync import reconciliation
    from stocklink.store import sync_models

    assert synced.post("/stock/adjustments", {"warehouse_id": "wh-b", "sku": SKU, "delta": -1,
                                              "reason": "damaged"}).status == 201
    aws.drain()                                       # the stock.changed is still "in the queue": 7 not pushed yet
    real_settled = reconciliation.Verifier._settled

    def pushing_tiktok_meanwhile(self, checks, read_began):
        # channel_push claims TikTok's listing (its read of stock is newer than the read-back)
        assert sync_models.claim("tiktok", "s1", LISTING_ID["tiktok"], 7, read_began + 5)
        return real_settled(self, checks, read_began)

    reconciliation.Verifier._settled = pushing_tiktok_meanwhile
    try:
        report = run(t0 + 30_000, min_slice=0)
    finally:
        reconciliation.Verifier._settled = real_settled
    assert report["in_flight"] == 1
    # Lazada and Shopify show 8 and nobody is pushing them: StockLink's side is behind, corrected here
    # (counted as drift fixed)
    assert (report["listings_checked"], report["drift_found"], report["drift_fixed"]) == (2, 2, 2)
    assert {d["channel"] for d in report["drifts"]} == {"lazada#s1", "shopify#s1"}
    assert listed(sandbox_base) == {"tiktok": 8, "lazada": 7, "shopify": 7}   # TikTok left to its push
    # no anomaly: TikTok is being pushed, and the others show exactly what StockLink last pushed (behind)
    assert published(aws, "sync.anomaly") == []


def test_drift_on_a_changed_listing_is_found_and_fixed_in_one_pass(synced, aws, sandbox_base, t0):
    from stocklink.store import reconcile_models

    assert synced.post("/stock/adjustments", {"warehouse_id": "wh-b", "sku": SKU, "delta": 1,
                                              "reason": "found"}).status == 201
    run_bus(aws)                                      # pushes 9 everywhere and marks the SKU dirty
    assert [sku for sku, _, _ in reconcile_models.dirty_skus()] == [SKU]
    set_listed(sandbox_base, "tiktok", 3)             # the platform drifts after our push

    report = run(t0 + 30_000, min_slice=0)
    assert report["dirty_skus_verified"] == 1
    assert (report["drift_found"], report["drift_fixed"]) == (1, 1)
    assert report["drifts"] == [{"channel": "tiktok#s1", "listing_id": LISTING_ID["tiktok"], "shown": 3,
                                 "expected": 9}]
    assert report["sync_accuracy_pct"] == pytest.approx(100 * 2 / 3, abs=0.01)
    assert listed(sandbox_base) == {"tiktok": 9, "lazada": 9, "shopify": 9}
    assert reconcile_models.dirty_skus() == []
    (anomaly,) = published(aws, "sync.anomaly")
    assert anomaly["kind"] == "lower_than_others"
    assert (anomaly["sku"], anomaly["platform"], anomaly["shop"], anomaly["listing_id"], anomaly["shown"],
            anomaly["expected"]) == (SKU, "tiktok", "s1", LISTING_ID["tiktok"], 3, 9)

    again = run(t0 + 60_000)
    assert again["drift_found"] == 0 and again["sync_accuracy_pct"] in (None, 100.0)


def test_what_a_pass_read_back_is_shown_per_listing_with_when(synced, aws, sandbox_base, t0):
    """The SKU page's "last read back, when": the quantity each platform answered at the pass, drift included
    (the correction follows), on GET /skus/{sku}/channels and GET /listings."""
    from stocklink.time import now_ms

    before = synced.get(f"/skus/{SKU}/channels").body["listings"]
    assert {l["platform"]: l["read_back_qty"] for l in before} == {"tiktok": 8, "lazada": 8, "shopify": 8}
    assert synced.post("/stock/adjustments", {"warehouse_id": "wh-b", "sku": SKU, "delta": 1,
                                              "reason": "found"}).status == 201
    run_bus(aws)                                      # 9 pushed everywhere, the SKU marked dirty
    set_listed(sandbox_base, "tiktok", 3)
    started = now_ms()
    run(t0 + 30_000, min_slice=0)
    after = {l["platform"]: l for l in synced.get(f"/skus/{SKU}/channels").body["listings"]}
    assert {p: l["read_back_qty"] for p, l in after.items()} == {"tiktok": 3, "lazada": 9, "shopify": 9}
    assert all(l["read_back_at"] >= started for l in after.values())
    assert after["tiktok"]["pushed_qty"] == 9         # what reconciliation pushed after reading 3
    answer = synced.get("/listings", query={"platform": "tiktok", "shop": "s1"})
    assert answer.status == 200, answer.body
    listed_rows = answer.body["listings"]
    assert [(l["listing_id"], l["read_back_qty"]) for l in listed_rows] == [(LISTING_ID["tiktok"], 3)]


def window_calls(platform: str) -> int:
    """Platform calls counted in the shop's shared call windows so far."""
    from stocklink.store import sync_models

    return sum(int(w.calls) for w in sync_models.CallWindow.query(f"RATE#{platform}#s1"))


def test_read_backs_and_corrections_take_their_calls_from_the_shops_limiter(synced, aws, sandbox_base, t0):
    """Reads and corrections count in the same shop-wide call windows as channel_push's pushes, so that
    together they never exceed a shop's rate (reads once paced themselves apart, on top of the pushes)."""
    assert synced.post("/stock/adjustments", {"warehouse_id": "wh-b", "sku": SKU, "delta": 1,
                                              "reason": "found"}).status == 201
    run_bus(aws)                                      # pushes 9 everywhere and marks the SKU dirty
    before = {platform: window_calls(platform) for platform in SHOPS}
    set_listed(sandbox_base, "tiktok", 3)             # the platform drifts after our push

    report = run(t0 + 30_000, min_slice=0)
    assert (report["drift_found"], report["drift_fixed"]) == (1, 1)
    # one read-back call per shop, and TikTok's correction
    assert {platform: window_calls(platform) - before[platform] for platform in SHOPS} == \
        {"tiktok": 2, "lazada": 1, "shopify": 1}


def test_drift_on_an_unchanged_listing_is_fixed_within_verify_every(synced, aws, sandbox_base, t0):
    """Nine SKUs on Shopify; the slice verifies ~1 SKU per pass, so every SKU is read back within 10 min
    without reading the whole catalogue each pass."""
    base = f"{sandbox_base}"
    extra = [f"SKU-{i:02d}" for i in range(8)]
    for i, sku in enumerate(extra):
        assert synced.put(f"/skus/{sku}", {"name": sku}).status == 200
        assert synced.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": sku, "qty": 4}],
                                               "reference": f"PO-{sku}"}).status == 201
        lid, item = str(900 + i), str(7000 + i)
        control(base, "PUT", "listings", {"platform": "shopify", "shop": "s1", "listings": [
            {"listing_id": lid, "quantity": 4, "platform_ids": {"inventory_item_id": item}, "seller_sku": sku}]})
        assert synced.put(f"/listings/shopify/s1/{lid}", {"components": [{"sku": sku, "qty": 1}],
                                                          "platform_ids": {"inventory_item_id": item}}).status == 200
    aws.drain()                                       # stock.changed not delivered: nothing marked dirty
    from stocklink.store import reconcile_models
    reconcile_models.save_state({}, t0)               # catalogue size not yet learned
    # First full cycle at t0+30 s learns the catalogue size (9 SKUs).
    first = run(t0 + 30_000, min_slice=1)
    assert first["slice"]["cycle_completed"] and first["drift_found"] == 0

    set_listed(base, "shopify", 1, listing_id="907")  # SKU-07 shows 1 instead of 4; nothing marks it dirty
    fixed_at, reads = None, []
    for k in range(1, 21):                            # 20 passes = verify_every (600 s) at one per 30 s
        report = run(t0 + 30_000 + k * 30_000, min_slice=1, verify_every_s=600)
        reads.append(report["read_calls"])
        if report["drift_found"]:
            assert report["drift_fixed"] == 1
            fixed_at = k
            break
    assert fixed_at is not None and 1 < fixed_at <= 20, fixed_at
    assert max(reads) <= 3                            # a slice, not the catalogue: ≤ one call per shop
    shown = {r["listing_id"]: r["quantity"] for r in control(base, "GET", "listings", query="?platform=shopify")["listings"]}
    assert shown["907"] == 4


def test_platform_errors_do_not_stop_the_pass_and_are_retried_next_pass(synced, aws, sandbox_base, t0):
    from stocklink.store import reconcile_models

    set_listed(sandbox_base, "tiktok", 1)
    set_listed(sandbox_base, "lazada", 2)
    control(sandbox_base, "POST", "faults", {"status": 429, "count": 1, "platform": "lazada"})
    report = run(t0 + 30_000)
    assert report["drift_fixed"] == 1                 # TikTok fixed although Lazada throttled
    assert "ApiCallLimit" in report["shops_down"]["lazada#s1"]   # Lazada throttles with HTTP 200 + code
    assert [(u["platform"], u["listing_id"]) for u in report["unreachable_listings"]] == [
        ("lazada", LISTING_ID["lazada"])]
    assert listed(sandbox_base)["tiktok"] == 8 and listed(sandbox_base)["lazada"] == 2
    assert [sku for sku, _, _ in reconcile_models.dirty_skus()] == [SKU]   # retried next pass

    again = run(t0 + 60_000)
    assert again["unreachable"] == 0 and again["drift_fixed"] == 1
    assert listed(sandbox_base) == {"tiktok": 8, "lazada": 8, "shopify": 8}


def test_anomalies_over_pool_repeated_push_failures_and_unmapped_orders(synced, aws, sandbox_base, t0):
    from stocklink.store import repository, sync_models
    from stocklink.store.models import InboundEvent
    from stocklink.time import iso_now

    set_listed(sandbox_base, "shopify", 50)           # more than the 8 units that exist
    for i in range(3):
        sync_models.record_failure("lazada", "s1", LISTING_ID["lazada"], {"error": "HTTP 500", "quantity": 8},
                                   t0 + 10_000 + i)
    repository.record_event(InboundEvent(
        "shopify#s1#O-77#created#-", kind="order.created", status="unmapped", status_index="unmapped",
        received_at=iso_now(t0 + 10_000), platform="shopify", shop="s1", order_id="O-77",
        outcome={"status": "unmapped", "unmapped": [{"listing_id": "4242", "seller_sku": "GHOST-1"}]}))

    report = run(t0 + 30_000)
    kinds = {a["kind"]: a for a in published(aws, "sync.anomaly")}
    assert set(kinds) == {"over_pool", "push_failures", "unmapped_sku"}
    over = kinds["over_pool"]
    assert (over["sku"], over["platform"], over["shown"], over["expected"], over["severity"]) == (
        SKU, "shopify", 50, 8, "red")
    assert (kinds["push_failures"]["listing_id"], kinds["push_failures"]["failures"]) == (LISTING_ID["lazada"], 3)
    assert kinds["push_failures"]["sku"] == SKU
    assert (kinds["unmapped_sku"]["sku"], kinds["unmapped_sku"]["order_id"]) == ("GHOST-1", "O-77")
    assert report["anomaly_count"] == 3 and listed(sandbox_base)["shopify"] == 8

    later = run(t0 + 60_000)                          # nothing new: nothing raised again
    assert later["anomaly_count"] == 0


def test_ledger_mismatch_is_raised_red_and_never_silently_fixed(synced, aws, t0):
    from stocklink.store.models import StockItem

    item = StockItem.get(SKU, "wh-b")
    item.update(actions=[StockItem.on_hand.add(5), StockItem.available.add(5)])   # corrupt behind the ledger
    report = run(t0 + 30_000)
    (mismatch,) = published(aws, "ledger.mismatch")
    assert (mismatch["sku"], mismatch["warehouse_id"], mismatch["stored"], mismatch["replayed"]) == (SKU, "wh-b", 8, 3)
    assert report["ledger_checked"] >= 2
    after = StockItem.get(SKU, "wh-b")
    assert (int(after.on_hand), int(after.available)) == (8, 8)   # left for a person to investigate


def test_lease_keeps_passes_apart_and_expires_after_a_crash(synced, t0):
    from stocklink.store import reconcile_models

    assert reconcile_models.acquire_lease("crashed-pass", t0 + 30_000, ttl_ms=25_000)
    skipped = run(t0 + 31_000)
    assert skipped["skipped"] is True and skipped["holds_released"] == 0
    ran = run(t0 + 56_000)                            # the crashed pass's lease has expired
    assert "skipped" not in ran and ran["listings_checked"] == 3
    assert reconcile_models.lease() is None           # released at the end of the pass


class CountingBudget:
    """Runs out after `checks` budget checks (no clock involved)."""

    def __init__(self, checks: int):
        self.left, self.budget_ms = checks, 20_000

    def exhausted(self, reserve_ms: int = 0) -> bool:
        self.left -= 1
        return self.left < 0

    def used_ms(self) -> int:
        return 0


def test_budget_exhaustion_saves_the_cursor_and_the_next_pass_resumes(synced, aws, t0, monkeypatch):
    from stocklink.logic.sync import sweep
    from stocklink.store import reconcile_models

    for i in range(6):
        assert synced.put(f"/skus/B-{i}", {"name": f"B-{i}"}).status == 200
    monkeypatch.setattr(sweep, "CHUNK", 2)
    reconcile_models.save_state({}, t0)               # catalogue size not learned: the slice is rate-bound
    # 7 SKUs: B-0..B-5, TEE-RED-M. Budget for 2 slice chunks (one check for the tail comes after).
    first = run(t0 + 30_000, budget=CountingBudget(2), min_slice=1)
    assert first["budget_exhausted"] and first["slice"]["stopped"] == "budget"
    assert first["slice"]["verified"] == 4 and first["slice"]["to"] == "B-3"
    assert reconcile_models.load_state()["sku_cursor"] == "B-3"

    second = run(t0 + 60_000, min_slice=1)
    assert second["slice"]["from"] == "B-3" and second["slice"]["verified"] == 3
    assert second["slice"]["cycle_completed"]
    assert reconcile_models.load_state()["sku_count"] == 7


def test_reports_are_served_by_the_staff_api(synced, t0):
    run(t0 + 30_000)
    last = synced.get("/reconciliation/last")
    assert last.status == 200 and last.body["started_at"] == t0 + 30_000 and last.body["listings_checked"] == 3
    history = synced.get("/reconciliation/history", query={"limit": "5"})
    assert history.status == 200
    assert [p["started_at"] for p in history.body["passes"]] == [t0 + 30_000, t0]
    assert history.body["passes"][0]["sync_accuracy_pct"] == 100.0


class EventBridgeDown:
    """PutEvents failing after the stock transaction committed (in AWS: a botocore connection error)."""

    def put_events(self, Entries):
        raise ConnectionError("EventBridge unreachable")


class EventBridgeRefusing:
    """PutEvents answering per entry: the entries for `refused` SKUs fail, the others get on the bus."""

    def __init__(self, refused: set[str]):
        self.refused = refused

    def put_events(self, Entries):
        import json

        results = [{"ErrorCode": "InternalFailure"} if json.loads(e["Detail"])["sku"] in self.refused
                   else {"EventId": "ok"} for e in Entries]
        return {"FailedEntryCount": sum(1 for r in results if "ErrorCode" in r), "Entries": results}


def test_a_lost_stock_changed_marks_the_sku_dirty_and_the_next_pass_pushes_it(synced, aws, sandbox_base, t0,
                                                                              monkeypatch):
    """Without the marker only the 10-minute slice would reach the SKU: every platform showed 8 meanwhile."""
    from stocklink import bus
    from stocklink.store import reconcile_models

    monkeypatch.setattr(bus, "_events_client", lambda: EventBridgeDown())
    assert synced.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": 3,
                                              "reason": "found"}).status == 201      # committed: 11 units
    assert published(aws, "stock.changed") == []      # nothing on the bus: channel_push never runs
    ((sku, _, hint),) = reconcile_models.dirty_skus()
    assert sku == SKU
    assert hint == {"cause": "publish_failed", "change": "adjust", "total_available": 11}
    assert listed(sandbox_base) == {"tiktok": 8, "lazada": 8, "shopify": 8}

    report = run(t0 + 30_000, min_slice=0)            # the next 30 s pass
    assert report["dirty_skus_verified"] == 1
    assert (report["drift_found"], report["drift_fixed"]) == (3, 3)
    assert listed(sandbox_base) == {"tiktok": 11, "lazada": 11, "shopify": 11}
    assert reconcile_models.dirty_skus() == []


def test_only_the_skus_whose_events_were_refused_are_marked_dirty(synced, aws, monkeypatch):
    from stocklink import bus
    from stocklink.logic.sync.reconciliation import priority
    from stocklink.store import reconcile_models

    assert synced.put("/skus/CAP-BLUE", {"name": "Blue cap"}).status == 200
    monkeypatch.setattr(bus, "_events_client", lambda: EventBridgeRefusing({"CAP-BLUE"}))
    assert synced.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-9", "lines": [
        {"sku": SKU, "qty": 1}, {"sku": "CAP-BLUE", "qty": 40}]}).status == 201
    ((sku, changed_at, hint),) = reconcile_models.dirty_skus()
    assert (sku, hint["cause"], hint["change"]) == ("CAP-BLUE", "publish_failed", "receive")
    assert priority(hint, changed_at)[0] == 0         # verified before ordinary changes: no push is coming


def test_only_skus_some_listing_holds_are_marked_dirty_by_their_push(synced, aws, sandbox_base):
    """Reconciliation reads listings back: a SKU no platform shows has nothing to verify, so its stock changes
    write no marker; once a bundle listing holds it as a component, its changes do."""
    from stocklink.store import reconcile_models

    assert synced.put("/skus/CAP-BLUE", {"name": "Blue cap"}).status == 200
    assert synced.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-9", "lines": [
        {"sku": SKU, "qty": 1}, {"sku": "CAP-BLUE", "qty": 40}]}).status == 201
    run_bus(aws)
    assert [sku for sku, _, _ in reconcile_models.dirty_skus()] == [SKU]

    control(sandbox_base, "PUT", "listings", {"platform": "shopify", "shop": "s1", "listings": [
        {"listing_id": "bundle-77", "quantity": 0, "platform_ids": {"inventory_item_id": "77"}}]})
    assert synced.put("/listings/shopify/s1/bundle-77", {"components": [{"sku": SKU, "qty": 1},
                                                                      {"sku": "CAP-BLUE", "qty": 2}],
                                                        "platform_ids": {"inventory_item_id": "77"}}).status == 200
    aws.drain()
    assert synced.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-10", "lines": [
        {"sku": "CAP-BLUE", "qty": 4}]}).status == 201
    run_bus(aws)
    assert sorted(sku for sku, _, _ in reconcile_models.dirty_skus()) == ["CAP-BLUE", SKU]


def test_a_push_within_its_markers_cover_does_not_write_it_again_unless_the_sku_became_more_urgent(synced, aws):
    """In a sale every batch of a SKU's orders is pushed: its marker is written once per MARK_COVERS_MS, not
    once per batch. A change that ranks the SKU more urgent (stock down to LOW_STOCK) is written at once, and
    a change after the cover writes the marker again."""
    from stocklink.logic.sync.reconciliation import LOW_STOCK, MARK_COVERS_MS
    from stocklink.store import reconcile_models

    def marker():
        ((sku, changed_at, hint),) = reconcile_models.dirty_skus()
        assert sku == SKU
        return changed_at, hint

    def adjust(delta):
        assert synced.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": delta,
                                                  "reason": "damaged"}).status == 201
        run_bus(aws)

    adjust(-1)                                        # 8 -> 7 available
    first = marker()
    assert first[1] == {"cause": "adjust", "total_available": 7}
    adjust(-1)                                        # 6: pushed, the marker covers it
    assert marker() == first
    adjust(LOW_STOCK - 6)                             # down to LOW_STOCK: verified first from now on
    changed_at, hint = marker()
    assert changed_at >= first[0] and hint["total_available"] == LOW_STOCK

    reconcile_models.mark_dirty(SKU, changed_at - MARK_COVERS_MS, hint)   # the cover is over
    adjust(1)
    again, hint = marker()
    assert again > changed_at - MARK_COVERS_MS and hint["total_available"] == LOW_STOCK + 1


def test_a_pass_keeps_a_marker_that_still_covered_changes_when_it_began(synced, aws, sandbox_base, t0):
    """A marker written less than MARK_COVERS_MS before a pass began may cover a change pushed after its
    read-back: the SKU is verified, and its marker kept for the next pass, which clears it."""
    from stocklink.store import reconcile_models

    reconcile_models.mark_dirty(SKU, t0 + 28_000, {"cause": "reserve", "total_available": 8})
    report = run(t0 + 30_000, min_slice=0)
    assert report["dirty_skus_verified"] == 1
    assert [sku for sku, _, _ in reconcile_models.dirty_skus()] == [SKU]
    report = run(t0 + 60_000, min_slice=0)
    assert report["dirty_skus_verified"] == 1
    assert reconcile_models.dirty_skus() == []


@pytest.fixture
def busy_shopify(synced, aws, sandbox_base, monkeypatch):
    """A change pushed everywhere (the SKU dirty), Shopify then drifted to 4, the wall clock frozen later and
    Shopify's current call window filled by channel_push's limiter: its pushes use its whole rate. Yields the
    frozen clock (a one-item list the test may move)."""
    from stocklink.channels.registry import adapter_for
    from stocklink.logic.sync import rate_limit, seams

    assert synced.post("/stock/adjustments", {"warehouse_id": "wh-b", "sku": SKU, "delta": 1,
                                              "reason": "found"}).status == 201
    run_bus(aws)
    set_listed(sandbox_base, "shopify", 4)
    now = [seams.wall() + 5.0]
    monkeypatch.setattr(seams, "wall", lambda: now[0])
    pushes = rate_limit.ShopRateLimit("shopify", "s1", adapter_for("shopify").rate_per_second, 1)
    assert [pushes.wait_time() for _ in range(pushes.per_window)] == [0.0] * pushes.per_window
    return now


def test_a_changed_sku_is_not_read_back_from_a_shop_whose_call_window_its_pushes_fill(busy_shopify, sandbox_base,
                                                                                     t0):
    """A sale on a slow platform (WooCommerce: 2 calls/s) fills every call window with its pushes: a read-back
    of the changed SKU would take the next one and make the waiting pushes wait a window longer. The SKU stays
    dirty and is verified by the next pass, once the shop has a free window; the other shops are read as
    usual."""
    from stocklink.logic.sync.sweep import run_pass
    from stocklink.store import reconcile_models

    before = {platform: window_calls(platform) for platform in SHOPS}
    report = run_pass(t0 + 30_000, min_slice=0)
    assert report["yielded_to_pushes"] == 1 and report["drift_found"] == 0
    assert {platform: window_calls(platform) - before[platform] for platform in SHOPS} == \
        {"tiktok": 1, "lazada": 1, "shopify": 0}
    assert [sku for sku, _, _ in reconcile_models.dirty_skus()] == [SKU]
    assert listed(sandbox_base)["shopify"] == 4

    busy_shopify[0] += 1.0                             # the next pass, in a window with room
    report = run_pass(t0 + 60_000, min_slice=0)
    assert report["yielded_to_pushes"] == 0 and (report["drift_found"], report["drift_fixed"]) == (1, 1)
    assert reconcile_models.dirty_skus() == []
    assert listed(sandbox_base)["shopify"] == 9


def test_a_sku_that_stopped_changing_is_read_back_even_from_a_busy_shop(busy_shopify):
    """Yielding lasts YIELD_FOR_MS after the SKU's last change: a shop kept busy by other SKUs' pushes does not
    hold back the verification of one that stopped changing."""
    from stocklink.logic.sync.sweep import YIELD_FOR_MS, run_pass
    from stocklink.store import reconcile_models

    ((_, changed_at, _),) = reconcile_models.dirty_skus()
    report = run_pass(changed_at + YIELD_FOR_MS + 1, min_slice=0)
    assert report["yielded_to_pushes"] == 0 and (report["drift_found"], report["drift_fixed"]) == (1, 1)
    assert reconcile_models.dirty_skus() == []

"""Listing discovery through the API and imports_run against the marketplace simulators, for all five
platforms: paged list calls (page sizes shrunk so five listings take three pages), the report (mapped,
unmapped with suggestions, a conflict), apply writing listings pending their first sync (never pushed to),
the read-back differences, and the first-sync choice both ways (push; opening count with a ledger entry)."""
from __future__ import annotations

import pytest

from functions.imports_api.handler import handler as imports_handler
from functions.imports_run.handler import handler as run_handler
from stocklink import events
from stocklink.channels import lazada, shopee, shopify, tiktok, woocommerce
from stocklink.store import catalog as catalog_store
from stocklink.store.models import LedgerEntry, StockItem
from tests.integration.apigw import ApiClient, LambdaContext
from tests.integration.conftest import STAFF_TOKEN, as_admin
from tests.sandbox.conftest import send
from tests.sandbox.test_sandbox_channels import SETUPS
from tests.sandbox_support import control, loopback_simulators, sandbox_base  # noqa: F401 (fixtures)

SHOP = "disc1"
# listing id -> (seller SKU, platform quantity): a code, a folded code, two claiming one SKU, an unknown code
LISTINGS = {"101": ("TEA-1", 7), "102": ("tea-2", 4), "103": ("MUG-1", 2), "104": ("MUG-1", 3), "105": ("TEA1X", 1)}


def platform_ids(platform: str, lid: str) -> dict:
    return {"shopify": {"inventory_item_id": f"9{lid}"}, "tiktok": {"product_id": f"8{lid}"},
            "shopee": {"item_id": lid}, "lazada": {"item_id": f"7{lid}"}, "woocommerce": {}}[platform]


@pytest.fixture
def small_pages(monkeypatch):
    """Two listings a page on every platform: five listings take three list calls."""
    for module, name in ((shopify, "MAX_ARRAY"), (tiktok, "LIST_PAGE_SIZE"), (shopee, "ITEM_LIST_PAGE"),
                         (lazada, "LIST_PAGE_SIZE"), (woocommerce, "MAX_BATCH")):
        monkeypatch.setattr(module, name, 2)


@pytest.fixture
def sends_to_sandbox(monkeypatch):
    from stocklink.logic.sync import seams
    monkeypatch.setattr(seams, "send", send)
    monkeypatch.setattr(seams, "sleep", lambda s: None)


class OneStep(LambdaContext):
    """A Lambda that runs low after its first step: the job must continue itself on the bus."""

    def get_remaining_time_in_millis(self) -> int:
        return 1_000


def drive(aws, kept: list | None = None) -> int:
    """Deliver discovery.requested to imports_run until none is left (other events go to `kept`); the runs."""
    runs = 0
    while True:
        drained = aws.drain()
        if kept is not None:
            kept += [e for e in drained if e["detail-type"] != events.DISCOVERY_REQUESTED]
        pending = [e for e in drained if e["detail-type"] == events.DISCOVERY_REQUESTED]
        if not pending:
            return runs
        for event in pending:
            run_handler(event, OneStep())
            runs += 1
        assert runs < 200


def setup_shop(platform, staff, sandbox_base):
    setup = SETUPS[platform]
    base = f"{sandbox_base}/{platform}/{SHOP}{setup.base_suffix}"
    control(sandbox_base, "POST", "reset", {})
    control(sandbox_base, "POST", "shops", {"platform": platform, "shop": SHOP, "credentials": setup.credentials})
    control(sandbox_base, "PUT", "listings", {"platform": platform, "shop": SHOP, "listings": [
        {"listing_id": lid, "quantity": qty, "seller_sku": code, "title": f"Listing {code}",
         "platform_ids": platform_ids(platform, lid)} for lid, (code, qty) in LISTINGS.items()]})
    assert as_admin(staff).put(f"/shops/{platform}/{SHOP}", {**setup.credentials, "api_base_url": base,
                                                             "max_calls_per_second": 100}).status == 200
    staff.put("/warehouses/wh-a", {"name": "A", "priority": 0})
    for sku in ("TEA-1", "TEA-2", "MUG-1"):
        staff.put(f"/skus/{sku}", {"name": f"{sku} thing"})
    assert staff.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "TEA-1", "qty": 10}],
                                          "reference": f"r-{platform}"}).status in (200, 201)


@pytest.mark.parametrize("platform", ["shopify", "tiktok", "shopee", "lazada", "woocommerce"])
def test_discover_apply_and_choose_the_first_sync(platform, aws, staff, sandbox_base, loopback_simulators,
                                                  small_pages, sends_to_sandbox):
    from stocklink.logic.sync.push import sync_skus
    from stocklink.time import now_ms

    setup_shop(platform, staff, sandbox_base)
    api = ApiClient(imports_handler, STAFF_TOKEN)
    base = f"/shops/{platform}/{SHOP}/listings/discover"
    started = api.post(base, {})
    assert started.status == 202 and started.body["status"] == "discovering"
    job_id = started.body["discovery_id"]
    runs = drive(aws)
    job = api.get(f"{base}/{job_id}").body
    assert job["status"] == "ready" and runs >= 3           # one list call a run: continued on the bus
    assert job["progress"]["pages"] >= 3 and job["progress"]["listings_found"] == 5
    assert {m["listing_id"]: m["components"] for m in job["mapped"]} == {
        "101": [{"sku": "TEA-1", "qty": 1}], "102": [{"sku": "TEA-2", "qty": 1}]}
    (conflict,) = job["conflicts"]
    assert conflict["skus"] == ["MUG-1"] and sorted(l["listing_id"] for l in conflict["listings"]) == ["103", "104"]
    (unmapped,) = job["unmapped"]
    assert unmapped["listing_id"] == "105" and unmapped["suggestions"][0] == "TEA-1"
    assert not catalog_store.listing_ids(platform, SHOP)          # nothing written before apply

    assert api.post(f"{base}/{job_id}/apply", {}).status == 202
    drive(aws)
    job = api.get(f"{base}/{job_id}").body
    assert job["status"] == "choosing"
    rows = {r["listing_id"]: r for r in job["first_sync"]}
    assert {lid: r["platform_qty"] for lid, r in rows.items()} == {"101": 7, "102": 4}
    assert rows["101"]["stocklink_qty"] is not None and rows["102"]["stocklink_qty"] == 0
    assert catalog_store.listing_ids(platform, SHOP) == {"101", "102"}   # unmapped / conflicting: never written

    # pending listings are not pushed to, whatever happens to their SKUs' stock
    since = control(sandbox_base, "GET", "calls")["calls"]
    sync_skus(["TEA-1", "TEA-2"], now_ms)
    assert not [c for c in control(sandbox_base, "GET", "calls")["calls"][len(since):] if c["kind"] == "stock_update"]

    # per listing: 102's platform number becomes wh-a's opening count of TEA-2; then the shop's rest is pushed
    chose = api.post(f"{base}/{job_id}/first-sync", {"choice": "opening", "warehouse_id": "wh-a",
                                                    "listing_ids": ["102"]})
    assert chose.status == 202
    drive(aws)
    assert api.get(f"{base}/{job_id}").body["status"] == "choosing"
    assert int(StockItem.get("TEA-2", "wh-a").on_hand) == 4
    assert [e.reason for e in LedgerEntry.query("TEA-2#wh-a")] == ["opening"]
    assert api.post(f"{base}/{job_id}/first-sync", {"choice": "push"}).status == 202
    kept: list = []
    drive(aws, kept)
    job = api.get(f"{base}/{job_id}").body
    assert job["status"] == "done"
    assert {r["listing_id"]: r["status"] for r in job["first_sync"]} == {"101": "push", "102": "opening"}
    assert int(StockItem.get("TEA-1", "wh-a").on_hand) == 10                  # the push side changed no stock
    assert ("TEA-1", "wh-a") in {(e["detail"]["sku"], e["detail"]["warehouse_id"]) for e in kept
                                 if e["detail-type"] == events.STOCK_CHANGED}     # what starts channel_push
    report = sync_skus(["TEA-1"], now_ms)
    listed = {l["listing_id"]: l["quantity"] for l in control(sandbox_base, "GET", "listings",
                                                               query=f"?platform={platform}&shop={SHOP}")["listings"]}
    assert report.listings == 1 and listed["101"] == rows["101"]["stocklink_qty"]


def test_a_refused_platform_call_fails_the_job_and_writes_nothing(aws, staff, sandbox_base, loopback_simulators,
                                                                  sends_to_sandbox):
    setup_shop("tiktok", staff, sandbox_base)
    control(sandbox_base, "POST", "shops", {"platform": "tiktok", "shop": SHOP,
                                            "credentials": {**SETUPS["tiktok"].credentials, "app_secret": "rotated"}})
    api = ApiClient(imports_handler, STAFF_TOKEN)
    job_id = api.post(f"/shops/tiktok/{SHOP}/listings/discover", {}).body["discovery_id"]
    drive(aws)
    job = api.get(f"/shops/tiktok/{SHOP}/listings/discover/{job_id}").body
    assert job["status"] == "failed" and "106001" in job["error"]
    assert api.post(f"/shops/tiktok/{SHOP}/listings/discover/{job_id}/apply", {}).status == 409
    assert not catalog_store.listing_ids("tiktok", SHOP)


def test_unknown_shop_and_bad_choice_are_4xx(aws, staff):
    api = ApiClient(imports_handler, STAFF_TOKEN)
    assert api.post("/shops/tiktok/nope/listings/discover", {}).status == 404
    assert api.post("/shops/tiktok/nope/listings/discover", {"mapping": {"x": []}}).status == 400
    assert api.get("/shops/tiktok/nope/listings/discover/abc").status == 404

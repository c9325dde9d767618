"""Discovery against the marketplace simulators: each adapter walks its platform's product-list API (signed as
the platform checks, paginated as it pages) until the cursor runs out, and finds every listing once with the
seller SKU, barcode and platform ids its pushes need."""
from __future__ import annotations

import pytest

from stocklink.channels._common import Outcome
from stocklink.channels.registry import WEBHOOK_PLATFORMS as PLATFORMS, adapter_for  # pulled platforms: their own tests

from .conftest import control, send
from .test_sandbox_channels import SETUPS, SHOP, TAMPER, _with_query

# TikTok signs the query and body, Lazada every parameter: a list call carries its page in the query
TAMPER_LIST = {**TAMPER, "tiktok": lambda call: _with_query(call, page_size="99"),
               "lazada": lambda call: _with_query(call, offset="1")}

# Per platform: listings laid out so that every level of its pagination has more than one page.
PAGES = {"shopify": 260, "tiktok": 130, "shopee": 130, "lazada": 80, "woocommerce": 130}


def _catalogue(platform: str) -> dict[str, dict]:
    """listing_id -> {platform_ids, seller_sku, barcode, title}: some plain, some grouped in products."""
    out: dict[str, dict] = {}
    for n in range(PAGES[platform]):
        lid = str(10_000 + n)
        group = str(900_000 + n // 3) if n < 30 else str(950_000 + n)   # three variants a product, then one
        ids = {"shopify": {"inventory_item_id": str(50_000 + n)},
               "tiktok": {"product_id": group},
               "shopee": {"item_id": group, "model_id": lid} if n % 2 else {"item_id": lid},
               "lazada": {"item_id": group},
               "woocommerce": {"parent_id": group} if n % 2 else {}}[platform]
        if platform == "shopee" and not n % 2:
            ids = {"item_id": lid}
        out[lid] = {"platform_ids": ids, "seller_sku": f"SKU-{n}" if n % 7 else "", "barcode": f"400{n:07d}",
                    "title": f"Thing {n}"}
    if platform == "shopee":   # models share an item only with models of that item
        for lid, entry in out.items():
            if "model_id" in entry["platform_ids"]:
                entry["platform_ids"]["item_id"] = str(800_000 + (int(lid) - 10_000) // 6)
    if platform == "woocommerce":
        for lid, entry in out.items():
            if entry["platform_ids"]:
                entry["platform_ids"]["parent_id"] = str(800_000 + (int(lid) - 10_000) // 6)
    return out


def _register(sandbox_base: str, platform: str, listings: dict[str, dict]) -> dict:
    setup = SETUPS[platform]
    credentials = {**setup.credentials, "api_base_url": f"{sandbox_base}/{platform}/{SHOP}{setup.base_suffix}"}
    control(sandbox_base, "POST", "shops", {"platform": platform, "shop": SHOP, "credentials": setup.credentials})
    control(sandbox_base, "PUT", "listings", {"platform": platform, "shop": SHOP, "listings": [
        {"listing_id": lid, "quantity": 5, **entry} for lid, entry in listings.items()]})
    return credentials


def walk(adapter, credentials) -> tuple[list, int]:
    found, cursor, calls = [], None, 0
    while True:
        call = adapter.build_list_listings(credentials, cursor)
        status, headers, body = send(call)
        calls += 1
        assert adapter.classify_response(status, body, headers).outcome is Outcome.OK, body[:300]
        page = adapter.parse_list_listings(cursor, status, body, {k.lower(): v for k, v in headers.items()})
        found += page.listings
        cursor = page.cursor
        if cursor is None:
            return found, calls
        assert calls < 1000


@pytest.mark.parametrize("platform", PLATFORMS)
def test_discovery_walks_every_page_and_finds_each_listing_once(platform, sandbox_base):
    listings = _catalogue(platform)
    credentials = _register(sandbox_base, platform, listings)
    adapter = adapter_for(platform)
    found, calls = walk(adapter, credentials)
    by_id = {d.listing_id: d for d in found}
    assert len(found) == len(by_id) == len(listings)
    assert calls >= 2                                    # more than one page at some level
    for lid, entry in listings.items():
        got = by_id[lid]
        assert got.seller_sku == entry["seller_sku"]
        assert got.quantity == 5
        for key, value in entry["platform_ids"].items():
            assert got.platform_ids[key] == value, (lid, key)
        if platform in ("shopify", "woocommerce"):
            assert got.barcode == entry["barcode"]
    # what discovery found is what pushes need: a built stock update is accepted by the simulator
    sample = next(iter(by_id.values()))
    from stocklink.channels.base import StockPush
    for update in adapter.build_stock_updates(credentials, [StockPush(sample.listing_id, 3, sample.platform_ids)]):
        status, headers, body = send(update)
        assert adapter.classify_response(status, body, headers).outcome is Outcome.OK, body[:300]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_tampered_list_call_is_refused(platform, sandbox_base):
    credentials = _register(sandbox_base, platform, _catalogue(platform))
    adapter = adapter_for(platform)
    call = TAMPER_LIST[platform](adapter.build_list_listings(credentials, None))
    status, headers, body = send(call)
    assert adapter.classify_response(status, body, headers).outcome is not Outcome.OK

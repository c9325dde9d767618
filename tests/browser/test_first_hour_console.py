"""The seller's first hour in the console, in Chromium against the local runtime and a marketplace simulator: a
Shopify shop's listings are discovered, the report shows one mapped by its seller SKU code and one unmapped, the
mapped one is applied, its first-sync differences are shown and "StockLink's pool is the truth" pushes StockLink's
number to the platform; the import and connect pages pass axe-core."""
from __future__ import annotations

import uuid

import pytest

from tests.browser.pages import api_get, axe_violations, screenshot, settle, url
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture()
def new_shop(seeded):
    """A Shopify shop StockLink knows but maps nothing of, in a simulator of its own: one listing whose seller SKU
    code is a master SKU with 20 units (the platform shows 7), one whose code is no SKU."""
    from infra.local.demo.client import Sandbox, start_sandbox
    from infra.local.demo.seed import CREDENTIALS

    api, run = seeded["api"], uuid.uuid4().hex[:6]
    sku, shop = f"FIRST-{run.upper()}", f"first-{run}"
    api.call("PUT", f"/skus/{sku}", {"name": "First-hour tea"})
    api.call("POST", "/stock/receipts", {"warehouse_id": "wh-east", "reference": f"FH-{run}", "lines": [{"sku": sku, "qty": 20}]})
    server, base = start_sandbox(0)
    sandbox = Sandbox(base)
    credentials = {**CREDENTIALS["shopify"][0], "api_base_url": f"{sandbox.base}/shopify/{shop}"}
    sandbox.control("POST", "shops", {"platform": "shopify", "shop": shop, "credentials": credentials})
    sandbox.control("PUT", "listings", {"platform": "shopify", "shop": shop, "listings": [
        {"listing_id": f"77{run}1", "quantity": 7, "platform_ids": {"inventory_item_id": f"88{run}1"}, "seller_sku": sku,
         "title": "Tea"},
        {"listing_id": f"77{run}2", "quantity": 3, "platform_ids": {"inventory_item_id": f"88{run}2"},
         "seller_sku": f"NOPE-{run}", "title": "Something else"}]})
    api.call("PUT", f"/shops/shopify/{shop}", credentials)
    try:
        yield {"sku": sku, "shop": shop, "mapped": f"77{run}1", "unmapped": f"77{run}2", "sandbox": sandbox}
    finally:
        server.shutdown()
        server.server_close()


def _platform_qty(sandbox, shop: str, listing_id: str) -> int:
    rows = sandbox.control("GET", "listings", query=f"?platform=shopify&shop={shop}")["listings"]
    return next(r["quantity"] for r in rows if r["listing_id"] == listing_id)


def test_a_shops_listings_are_discovered_applied_and_pushed_on_the_first_sync_choice(console, runtime, new_shop):
    shop, mapped, unmapped = new_shop["shop"], new_shop["mapped"], new_shop["unmapped"]
    console.goto(url(runtime, f"connect?platform=shopify&shop={shop}"))
    settle(console)
    console.locator("[data-start-discovery]").click()
    console.locator("[data-discovery-status='ready']").wait_for(timeout=20_000)
    discovery_id = console.locator("[data-discovery]").get_attribute("data-discovery")
    assert f"discovery={discovery_id}" in console.url                      # a reload finds the job again
    assert console.locator("[data-table='discovery-mapped'] td[data-col='listing_id']").all_inner_texts() == [mapped]
    assert console.locator("[data-table='discovery-mapped'] td[data-col='components']").inner_text() == new_shop["sku"]
    assert console.locator("[data-table='discovery-unmapped'] td[data-col='listing_id']").all_inner_texts() == [unmapped]
    assert _platform_qty(new_shop["sandbox"], shop, mapped) == 7          # nothing pushed by a discovery

    console.locator("[data-apply-discovery]").click()
    console.locator("[data-discovery-status='choosing']").wait_for(timeout=20_000)
    status, job = api_get(runtime, f"/shops/shopify/{shop}/listings/discover/{discovery_id}")
    assert status == 200, job
    (row,) = job["first_sync"]
    assert (row["listing_id"], row["platform_qty"], row["status"]) == (mapped, 7, "pending")
    table = "[data-table='discovery-first-sync']"
    assert console.locator(f"{table} td[data-col='platform_qty']").inner_text() == "7"
    assert console.locator(f"{table} td[data-col='stocklink_qty']").inner_text() == str(row["stocklink_qty"])
    assert row["stocklink_qty"] not in (None, 7)
    assert _platform_qty(new_shop["sandbox"], shop, mapped) == 7          # nor by an apply
    critical = [v for v in axe_violations(console) if v["impact"] == "critical"]
    screenshot(console, "connect-listings")
    assert not critical, critical

    console.locator("[data-first-sync-choice='push']").click()
    console.locator("[data-discovery-status='done']").wait_for(timeout=20_000)
    assert console.locator(f"{table} td[data-col='status']").inner_text() == "StockLink's number pushed"
    wait_for(lambda: _platform_qty(new_shop["sandbox"], shop, mapped) == row["stocklink_qty"],
             "StockLink's number on the platform", timeout=20)
    assert _platform_qty(new_shop["sandbox"], shop, unmapped) == 3        # an unmapped listing is never pushed to


def test_the_import_page_has_no_critical_accessibility_violation(console, runtime):
    console.goto(url(runtime, "import"))
    settle(console)
    console.locator("[data-form='import']").wait_for()
    critical = [v for v in axe_violations(console) if v["impact"] == "critical"]
    screenshot(console, "import-catalogue")
    assert not critical, critical

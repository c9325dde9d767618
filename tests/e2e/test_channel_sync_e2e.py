"""End to end through the local runtime: an order webhook from the TikTok simulator lowers the quantity
shown on the Lazada and Shopify simulators (webhook → ingest → stock.changed → bus → channel_push)."""
from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.runtime_process import handlers_exist
from tests.sandbox_support import control, sandbox_base  # noqa: F401 (fixture)
from tests.waiting import wait_for

SHOPS = {
    "tiktok": ({"app_key": "6a1b2c3d4e5f6", "app_secret": "tiktok-secret", "access_token": "TTP_sandbox",
                "shop_cipher": "ROW_sandbox", "shop_id": "7494049642642441621"}, "",
               {"product_id": "1729592969712207000"}),
    "lazada": ({"app_key": "100001", "app_secret": "lazada-secret", "access_token": "lazada-token",
                "seller_id": "1000114855"}, "/rest",
               {"item_id": "557711987"}),
    "shopify": ({"access_token": "shpat_sandbox", "location_id": "40642626", "webhook_secret": "whsec-shopify",
                "shop_domain": "stocklink-sandbox.myshopify.com"}, "",
                {"inventory_item_id": "5001"}),
}


def test_an_order_on_one_platform_lowers_the_others(local_runtime, sandbox_base):
    if not handlers_exist("channel_push"):
        pytest.skip("needs functions/channel_push")
    url, headers = local_runtime.url, local_runtime.headers
    run = uuid.uuid4().hex[:6]
    sku, shop = f"E2E-{run}", f"s{run}"
    assert requests.put(f"{url}/warehouses/wh-e2e", json={"name": "e2e", "priority": 1}, headers=headers,
                        timeout=60).status_code == 200
    assert requests.put(f"{url}/skus/{sku}", json={"name": sku}, headers=headers, timeout=60).status_code == 200
    listing = {p: f"{run}{i}" for i, p in enumerate(SHOPS)}
    for platform, (creds, suffix, ids) in SHOPS.items():
        api = f"{sandbox_base}/{platform}/{shop}{suffix}"
        ids = {**ids, **({"product_id": f"9{run}"} if platform == "tiktok" else {})}
        control(sandbox_base, "POST", "shops", {"platform": platform, "shop": shop,
                                                "credentials": {**creds, "api_base_url": api},
                                                "webhook_url": f"{url}/webhooks/{platform}/{shop}"})
        control(sandbox_base, "PUT", "listings", {"platform": platform, "shop": shop, "listings": [
            {"listing_id": listing[platform], "quantity": 0, "platform_ids": ids, "seller_sku": sku}]})
        r = requests.put(f"{url}/shops/{platform}/{shop}", json={**creds, "api_base_url": api}, headers=headers,
                         timeout=60)
        assert r.status_code == 200, r.text
        r = requests.put(f"{url}/listings/{platform}/{shop}/{listing[platform]}",
                         json={"components": [{"sku": sku, "qty": 1}], "platform_ids": ids}, headers=headers, timeout=60)
        assert r.status_code == 200, r.text
    r = requests.post(f"{url}/stock/receipts", json={"warehouse_id": "wh-e2e", "lines": [{"sku": sku, "qty": 100}],
                                                     "reference": f"po-{run}"}, headers=headers, timeout=60)
    assert r.status_code == 201, r.text

    def shown() -> dict[str, int]:
        rows = control(sandbox_base, "GET", "listings", query=f"?shop={shop}")["listings"]
        return {row["platform"]: row["quantity"] for row in rows}

    # 100 units: far from the last units, every platform shows the shared pool
    wait_for(lambda: shown() == {"tiktok": 100, "lazada": 100, "shopify": 100}, "the receipt to reach every platform")

    placed = control(sandbox_base, "POST", "orders", {"platform": "tiktok", "shop": shop, "kind": "paid",
                                                      "lines": [{"listing_id": listing["tiktok"], "qty": 3}]})
    assert placed["deliveries"][0]["status"] == 200, placed
    wait_for(lambda: shown() == {"tiktok": 97, "lazada": 97, "shopify": 97}, "the order to lower the other platforms")

    # The simulator lowers its own listing when it sells, so tiktok can show 97 before StockLink's push of 97
    # to it (same value) has been recorded: wait for the records too.
    def recorded() -> set:
        view = requests.get(f"{url}/skus/{sku}/channels", headers=headers, timeout=60).json()["listings"]
        return {(l["platform"], l["computed_qty"], l["pushed_qty"]) for l in view}

    wait_for(lambda: recorded() == {("tiktok", 97, 97), ("lazada", 97, 97), ("shopify", 97, 97)},
             "every listing's push of 97 to be recorded")

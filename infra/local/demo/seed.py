"""Seeding the demo: warehouses, SKUs, one shop per platform registered with both StockLink and its
simulator, a listing for every SKU on every platform, and the goods received last (StockLink then pushes
the stock to every platform)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from infra.local.demo.client import PLATFORMS, SHOP, Api, Sandbox

WAREHOUSES = (("wh-east", "East DC", 1), ("wh-west", "West DC", 2), ("wh-central", "Central store", 3))
FLASH_SKU = "DEMO-FLASH"
SHARED_FLASH_SKU = "DEMO-FLASH-SHARED"    # --allocation both: the same sale again, every platform showing the pool

# Credentials the simulators check (the same test values tests/sandbox uses) and the path suffix of
# each platform's api_base_url.
CREDENTIALS = {
    "shopify": ({"access_token": "shpat_sandbox", "location_id": "40642626", "webhook_secret": "whsec-shopify",
                "shop_domain": "stocklink-sandbox.myshopify.com"}, ""),
    "tiktok": ({"app_key": "6a1b2c3d4e5f6", "app_secret": "tiktok-secret", "access_token": "TTP_sandbox",
                "shop_cipher": "ROW_sandbox", "shop_id": "7494049642642441621"}, ""),
    "shopee": ({"partner_id": "2001887", "partner_key": "shopee-partner-key", "shop_id": "14701711",
                "access_token": "shopee-token"}, ""),
    "lazada": ({"app_key": "100001", "app_secret": "lazada-secret", "access_token": "lazada-token",
                "seller_id": "1000114855"}, "/rest"),
    "woocommerce": ({"consumer_key": "ck_sandbox", "consumer_secret": "cs_sandbox", "webhook_secret": "whsec-woo"},
                    ""),
}


def listing_for(platform: str, n: int) -> tuple[str, dict]:
    """(listing id, platform ids) of SKU number n on a platform, in the shape each simulator expects:
    Shopify variant + inventory item, TikTok SKU in a product, Shopee model in an item, Lazada SkuId in an
    item, WooCommerce simple product."""
    if platform == "shopify":
        return f"80{n:04d}", {"inventory_item_id": f"50{n:04d}"}
    if platform == "tiktok":
        return f"17296{n:05d}", {"product_id": f"17290{n:05d}"}
    if platform == "shopee":
        return f"60{n:04d}", {"item_id": f"70{n:04d}", "model_id": f"60{n:04d}"}
    if platform == "lazada":
        return f"12{n:06d}", {"item_id": f"55{n:05d}"}
    if platform == "woocommerce":
        return f"9{n:03d}", {}
    raise ValueError(platform)


@dataclass
class Catalog:
    skus: dict[str, int]                                # sku -> number used for its listing ids
    units: dict[str, dict[str, int]]                    # sku -> warehouse -> units received
    listings: dict[tuple[str, str], str] = field(default_factory=dict)   # (platform, sku) -> listing id

    def sku_of(self, platform: str, listing_id: str) -> str | None:
        for (p, sku), lid in self.listings.items():
            if p == platform and lid == listing_id:
                return sku
        return None


def demo_stock(n_skus: int, flash_units: int, flash_skus: tuple[str, ...] = (FLASH_SKU,)) -> dict[str, dict[str, int]]:
    """The flash SKU(s) split over the three warehouses, the others with 15..220 units each."""
    share = (flash_units // 2, flash_units // 3)
    units = {sku: {"wh-east": share[0], "wh-west": share[1], "wh-central": flash_units - sum(share)}
             for sku in flash_skus}
    for n in range(1, n_skus):
        total = 15 + (n * 37) % 206
        units[f"DEMO-{n:03d}"] = {"wh-east": total // 2, "wh-west": total // 4, "wh-central": total - total // 2 - total // 4}
    return units


def seed(api: Api, sandbox: Sandbox, units: dict[str, dict[str, int]], threads: int = 8, *,
         delivery: dict | None = None, enforce_listed: bool = True) -> Catalog:
    """`delivery`: every shop's webhook delivery in its simulator (infra/sandbox/delivery.py: webhook_delay_s,
    reorder, seed, ...; default none: inline, in order); a `seed` is offset per shop (seed + the platform's
    index in PLATFORMS) so the shops do not all draw the same delays. `enforce_listed`: every shop's checkout
    refuses what its listing no longer shows, as a marketplace's does (on unless a run needs buyers past it)."""
    catalog = Catalog({sku: n for n, sku in enumerate(units, start=1)}, units)
    _warehouses_and_skus(api, units, threads)
    for i, platform in enumerate(PLATFORMS):
        shop_delivery = dict(delivery or {})
        if shop_delivery.get("seed") is not None:
            shop_delivery["seed"] = int(shop_delivery["seed"]) + i
        _shop(api, sandbox, catalog, platform, shop_delivery, enforce_listed)
    _listings(api, catalog, threads)
    # Goods in last: the receipts are what StockLink pushes to every platform.
    _receive(api, units)
    return catalog


def _warehouses_and_skus(api: Api, units: dict[str, dict[str, int]], threads: int) -> None:
    for wid, name, priority in WAREHOUSES:
        api.call("PUT", f"/warehouses/{wid}", {"name": name, "region": "local", "priority": priority})
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda sku: api.call("PUT", f"/skus/{sku}", {"name": f"Demo item {sku}"}), units))


def _shop(api: Api, sandbox: Sandbox, catalog: Catalog, platform: str, delivery: dict | None = None,
          enforce_listed: bool = True) -> None:
    """The platform's shop of the flash-sale demo (its webhook delivery and checkout as given): open_shop."""
    creds, suffix = CREDENTIALS[platform]
    creds = {**creds, "api_base_url": f"{sandbox.base}/{platform}/{SHOP}{suffix}"}
    if platform == "shopee":
        creds["callback_url"] = f"{api.url}/webhooks/{platform}/{SHOP}"   # Shopee signs the URL it calls
    open_shop(api, sandbox, catalog, platform, creds, listing_for, delivery=delivery, enforce_listed=enforce_listed)


def open_shop(api: Api, sandbox: Sandbox, catalog: Catalog, platform: str, creds: dict,
              listing_of: Callable[[str, int], tuple[str, dict]], *, delivery: dict | None = None,
              enforce_listed: bool = True) -> None:
    """The platform's shop, in its simulator (with a listing per SKU of `catalog`, showing 0: `listing_of`
    (platform, SKU number) -> (listing id, platform ids); its webhooks sent to StockLink) and in StockLink
    (`creds`, with its api_base_url). The listings are not linked to the SKUs here."""
    sandbox.control("POST", "shops", {"platform": platform, "shop": SHOP, "credentials": creds,
                                      "webhook_url": f"{api.url}/webhooks/{platform}/{SHOP}",
                                      "delivery": delivery or {}, "enforce_listed": enforce_listed})
    rows = []
    for sku, n in catalog.skus.items():
        lid, ids = listing_of(platform, n)
        catalog.listings[(platform, sku)] = lid
        rows.append({"listing_id": lid, "quantity": 0, "platform_ids": ids, "seller_sku": sku})
    sandbox.control("PUT", "listings", {"platform": platform, "shop": SHOP, "listings": rows})
    api.call("PUT", f"/shops/{platform}/{SHOP}", creds)


def _listings(api: Api, catalog: Catalog, threads: int) -> None:
    """StockLink's listing of every SKU on every platform (one unit of the SKU each)."""
    def put_listing(key):
        platform, sku = key
        lid, ids = listing_for(platform, catalog.skus[sku])
        api.call("PUT", f"/listings/{platform}/{SHOP}/{lid}", {"components": [{"sku": sku, "qty": 1}],
                                                               "platform_ids": ids})

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(put_listing, list(catalog.listings)))


def _receive(api: Api, units: dict[str, dict[str, int]]) -> None:
    for wid, _, _ in WAREHOUSES:
        lines = [{"sku": sku, "qty": per[wid]} for sku, per in units.items() if per.get(wid)]
        api.call("POST", "/stock/receipts", {"warehouse_id": wid, "lines": lines, "reference": f"demo-po-{wid}"})

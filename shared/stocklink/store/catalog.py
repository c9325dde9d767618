"""The catalog table by name: warehouses, SKUs, shops, listings (with the reverse index channel sync
reads) and each shop's allocation settings. Callers name things; the keys are store.keys'."""
from __future__ import annotations

from typing import Iterable

from stocklink.store import keys, paging
from stocklink.store.models import CatalogItem
from stocklink.store.repository import (
    batch_get_catalog,
    batch_get_catalog_keys,
    delete_catalog,
    get_catalog,
    list_catalog,
    put_catalog,
)


# --- warehouses and SKUs ---------------------------------------------------------------------------------

def put_warehouse(warehouse_id: str, data: dict, now_ms: int) -> None:
    put_catalog(keys.WAREHOUSE, warehouse_id, data, now_ms)


def warehouse(warehouse_id: str) -> dict | None:
    return get_catalog(keys.WAREHOUSE, warehouse_id)


def warehouses() -> dict[str, dict]:
    return list_catalog(keys.WAREHOUSE)


def warehouses_page(limit: int, cursor: str | None) -> paging.Page:
    """Warehouse documents in warehouse id order, `limit` at a time."""
    page = paging.query_page(CatalogItem, keys.WAREHOUSE, limit=limit, cursor=cursor)
    return paging.Page([item.data for item in page.items], page.next)


def put_sku(sku: str, data: dict, now_ms: int) -> None:
    put_catalog(keys.SKU, sku, data, now_ms)


def skus(wanted: Iterable[str]) -> dict[str, dict]:
    """The master SKUs among `wanted` that exist, by SKU."""
    return batch_get_catalog(keys.SKU, wanted)


# --- shops ------------------------------------------------------------------------------------------------

def put_shop(platform: str, shop: str, data: dict, now_ms: int) -> None:
    put_catalog(keys.SHOP, keys.channel(platform, shop), data, now_ms)


def shop(platform: str, shop: str) -> dict | None:
    return get_catalog(keys.SHOP, keys.channel(platform, shop))


# --- listings and the reverse index -------------------------------------------------------------------------

def listing(platform: str, shop: str, listing_id: str) -> dict | None:
    return get_catalog(keys.listing_pk(platform, shop), listing_id)


def listings(platform: str, shop: str, listing_ids: Iterable[str]) -> dict[str, dict]:
    """A shop's listings among `listing_ids` that exist, by listing id (one BatchGetItem per 100)."""
    return batch_get_catalog(keys.listing_pk(platform, shop), listing_ids)


def put_listing(platform: str, shop: str, listing_id: str, data: dict, now_ms: int) -> None:
    """Store a listing and keep the reverse index (SKU → listings showing it) in step with its components:
    an entry per component SKU, and none left for a SKU the listing no longer holds."""
    previous = listing(platform, shop, listing_id)
    put_catalog(keys.listing_pk(platform, shop), listing_id, data, now_ms)
    ref = keys.listing_ref(platform, shop, listing_id)
    kept = {c["sku"] for c in data["components"]}
    for sku in kept:
        put_catalog(keys.sku_listings_pk(sku), ref, {"platform": platform, "shop": shop, "listing_id": listing_id},
                    now_ms)
    for component in (previous or {}).get("components", []):
        if component["sku"] not in kept:
            delete_catalog(keys.sku_listings_pk(component["sku"]), ref)


def listings_showing(sku: str) -> list[tuple[str, str, str]]:
    """(platform, shop, listing id) of every listing holding `sku` (one Query on the reverse index)."""
    return [(ref["platform"], ref["shop"], ref["listing_id"])
            for ref in list_catalog(keys.sku_listings_pk(sku)).values()]


def listings_with_allocation(listing_ids: Iterable[tuple[str, str, str]], channels: Iterable[tuple[str, str]]
                             ) -> tuple[dict[tuple[str, str, str], dict], dict[tuple[str, str], dict | None]]:
    """Listings by (platform, shop, listing id) and the allocation settings of `channels` by (platform,
    shop), read together in as few BatchGetItem requests as there are 100s of keys."""
    listing_ids, channels = list(listing_ids), list(channels)
    found = batch_get_catalog_keys([*((keys.listing_pk(p, s), lid) for p, s, lid in listing_ids),
                                    *((keys.ALLOCATION, keys.channel(p, s)) for p, s in channels)])
    listings_found = {(p, s, lid): found[(keys.listing_pk(p, s), lid)] for p, s, lid in listing_ids
                      if (keys.listing_pk(p, s), lid) in found}
    return listings_found, {(p, s): found.get((keys.ALLOCATION, keys.channel(p, s))) for p, s in channels}


# --- allocation settings -------------------------------------------------------------------------------------

def put_allocation(platform: str, shop: str, data: dict, now_ms: int) -> None:
    put_catalog(keys.ALLOCATION, keys.channel(platform, shop), data, now_ms)


def allocation(platform: str, shop: str) -> dict | None:
    return get_catalog(keys.ALLOCATION, keys.channel(platform, shop))


def allocation_settings(channels: Iterable[str]) -> dict[str, dict]:
    """Stored settings of the `channels` ("platform#shop") that have any, by channel."""
    return batch_get_catalog(keys.ALLOCATION, channels)


def all_allocation_settings() -> list[dict]:
    return list(list_catalog(keys.ALLOCATION).values())


# --- the last-units policy --------------------------------------------------------------------------------

def last_units_policy() -> dict | None:
    return get_catalog(keys.LAST_UNITS_POLICY, "global")


def put_last_units_policy(data: dict, now_ms: int) -> None:
    put_catalog(keys.LAST_UNITS_POLICY, "global", data, now_ms)

"""The catalog table by name: warehouses, SKUs, shops, listings (with the reverse index channel sync
reads) and each shop's allocation settings. Callers name things; the keys are store.keys'.

The hot paths (a reservation, a platform order) read SKUs, shops and listings through a per-container
cache (ttl_cache), so a warm container spends no DynamoDB request on them:
- a SKU that exists is kept CATALOG_KNOWN_SECONDS (SKUs are never deleted, so "it exists" never goes stale);
  an unknown SKU only CATALOG_SECONDS, so one created meanwhile is found within that bound;
- a shop's document and a listing (or its absence) CATALOG_SECONDS: a changed listing mapping or shop URL is
  honoured by every container within that bound.
A write through this module forgets the entry in its own container at once. A stale entry never breaks a
guard: it only chooses which SKUs an order names, and every stock change stays conditional in DynamoDB.

Channel sync keeps listings, the reverse index and allocation settings per container under the listings
version (listings_version_key): every write of them here bumps it after writing, and a push reads it in the
same request as its SKUs' guard states, so a cached entry is used only while nothing changed since it was
read (logic/sync/config.py)."""
from __future__ import annotations

from typing import Callable, Iterable

from stocklink.store import keys, paging
from stocklink.store.models import CatalogItem, CatalogVersion, update_only
from stocklink.ttl_cache import TtlCache
from stocklink.store.repository import (
    batch_get_catalog,
    batch_get_catalog_keys,
    delete_catalog,
    get_catalog,
    list_catalog,
    put_catalog,
)


CATALOG_SECONDS = 10.0         # the longest a changed shop or listing, or a new SKU, goes unseen elsewhere
CATALOG_KNOWN_SECONDS = 300.0  # a SKU known to exist (never deleted)
_skus = TtlCache(CATALOG_KNOWN_SECONDS, max_entries=20_000)
_shops = TtlCache(CATALOG_SECONDS, max_entries=2_000)
_listings = TtlCache(CATALOG_SECONDS, max_entries=20_000)


def forget_cached() -> None:
    """Drop every cached catalog document (a test starting a fresh container)."""
    for cache in (_skus, _shops, _listings):
        cache.forget()


# --- warehouses and SKUs ---------------------------------------------------------------------------------

def put_warehouse(warehouse_id: str, data: dict, now_ms: int) -> dict | None:
    """Returns the document it replaced (None if new)."""
    return put_catalog(keys.WAREHOUSE, warehouse_id, data, now_ms)


def warehouse(warehouse_id: str) -> dict | None:
    return get_catalog(keys.WAREHOUSE, warehouse_id)


def warehouses() -> dict[str, dict]:
    return list_catalog(keys.WAREHOUSE)


def warehouses_page(limit: int, cursor: str | None) -> paging.Page:
    """Warehouse documents in warehouse id order, `limit` at a time."""
    page = paging.query_page(CatalogItem, keys.WAREHOUSE, limit=limit, cursor=cursor)
    return paging.Page([item.data for item in page.items], page.next)


def put_sku(sku: str, data: dict, now_ms: int) -> dict | None:
    """Returns the document it replaced (None if new)."""
    _skus.forget(sku)
    return put_catalog(keys.SKU, sku, data, now_ms)


def put_skus(docs: list[dict], now_ms: int) -> None:
    """Store SKU documents (replacing those there) in BatchWriteItem requests of 25; no audit `before`."""
    with CatalogItem.batch_write() as batch:
        for doc in docs:
            _skus.forget(doc["sku"])
            batch.save(CatalogItem(keys.SKU, doc["sku"], data=doc, updated_at=now_ms))


def skus_page(limit: int, cursor: str | None, keep: Callable[[dict], bool] | None = None) -> paging.Page:
    """SKU documents in SKU order, `limit` at a time; with `keep`, only those it accepts (a page then reads
    at most paging.MAX_EXAMINED SKUs before it answers, its cursor continuing after the last one read)."""
    page = paging.query_page(CatalogItem, keys.SKU, limit=limit, cursor=cursor,
                             keep=None if keep is None else (lambda item: keep(item.data)))
    return paging.Page([item.data for item in page.items], page.next)


def skus(wanted: Iterable[str]) -> dict[str, dict]:
    """The master SKUs among `wanted` that exist, by SKU (cached: see the module docstring)."""
    found = _skus.get_many(list(dict.fromkeys(wanted)), lambda missing: batch_get_catalog(keys.SKU, missing),
                           none_seconds=CATALOG_SECONDS)
    return {sku: data for sku, data in found.items() if data is not None}


def skus_now(wanted: Iterable[str]) -> dict[str, dict]:
    """The SKUs among `wanted` that exist, read now (not cached: a view showing a cost just changed by
    another container), in one BatchGetItem per 100 SKUs."""
    return batch_get_catalog(keys.SKU, wanted)


# --- shops ------------------------------------------------------------------------------------------------

def put_shop(platform: str, shop: str, data: dict, now_ms: int) -> dict | None:
    """Returns the document it replaced (None if new)."""
    _shops.forget((platform, shop))
    return put_catalog(keys.SHOP, keys.channel(platform, shop), data, now_ms)


def shops_page(limit: int, cursor: str | None) -> paging.Page:
    """Shop documents in platform#shop order, `limit` at a time."""
    page = paging.query_page(CatalogItem, keys.SHOP, limit=limit, cursor=cursor)
    return paging.Page([item.data for item in page.items], page.next)


def all_shops() -> list[dict]:
    """Every shop's document, in platform#shop order."""
    return [data for _, data in sorted(list_catalog(keys.SHOP).items())]


def listings_after(platform: str, shop: str, after: str | None, limit: int) -> tuple[list[dict], bool]:
    """Up to `limit` of a shop's listing documents with ids after `after` (all from the first when None), in
    id order, and whether more follow."""
    condition = CatalogItem.sk > after if after is not None else None
    found = list(CatalogItem.query(keys.listing_pk(platform, shop), condition, limit=limit + 1))
    return [item.data for item in found[:limit]], len(found) > limit


def shop(platform: str, shop: str) -> dict | None:
    """The shop's document (cached: see the module docstring)."""
    return _shops.get((platform, shop), lambda: get_catalog(keys.SHOP, keys.channel(platform, shop)))


# --- listings and the reverse index -------------------------------------------------------------------------

def listing(platform: str, shop: str, listing_id: str) -> dict | None:
    return get_catalog(keys.listing_pk(platform, shop), listing_id)


def listings(platform: str, shop: str, listing_ids: Iterable[str]) -> dict[str, dict]:
    """A shop's listings among `listing_ids` that exist, by listing id (one BatchGetItem per 100 not cached:
    see the module docstring)."""
    pk = keys.listing_pk(platform, shop)
    found = _listings.get_many([(pk, lid) for lid in dict.fromkeys(listing_ids)], lambda missing: {
        (pk, lid): data for lid, data in batch_get_catalog(pk, [lid for _, lid in missing]).items()})
    return {lid: data for (_, lid), data in found.items() if data is not None}


def put_listing(platform: str, shop: str, listing_id: str, data: dict, now_ms: int) -> dict | None:
    """Store a listing and keep the reverse index (SKU → listings showing it) in step with its components:
    an entry per component SKU, and none left for a SKU the listing no longer holds. Returns the listing
    it replaced (None if new)."""
    _listings.forget((keys.listing_pk(platform, shop), listing_id))
    previous, listed_at = _write_listing(keys.listing_pk(platform, shop), listing_id, data, now_ms)
    ref = keys.listing_ref(platform, shop, listing_id)
    kept = {c["sku"] for c in data["components"]}
    for sku in kept:
        put_catalog(keys.sku_listings_pk(sku), ref, _index_entry(platform, shop, listing_id, listed_at),
                    now_ms)
    for component in (previous or {}).get("components", []):
        if component["sku"] not in kept:
            delete_catalog(keys.sku_listings_pk(component["sku"]), ref)
    _bump_listings_version(now_ms)
    return previous


def _write_listing(pk: str, listing_id: str, data: dict, now_ms: int) -> tuple[dict | None, int | None]:
    """Write a listing's document; (the document it replaced or None, its listed_at). listed_at is set by
    the listing's first write only (a PutItem conditional on the item not existing) and never by a later
    one (an UpdateItem of its data alone), so a listing kept since before listed_at existed stays unknown
    (None) rather than looking listed at its next write."""
    from stocklink.store.models import written

    if written(lambda: CatalogItem(pk, listing_id, data=data, updated_at=now_ms, listed_at=now_ms).save(
            condition=CatalogItem.pk.does_not_exist())):
        return None, now_ms
    old = CatalogItem._get_connection().update_item(
        pk, listing_id, actions=[CatalogItem.data.set(data), CatalogItem.updated_at.set(now_ms)],
        return_values="ALL_OLD").get("Attributes")
    item = CatalogItem.from_raw_data(old) if old else None
    if item is None:
        return None, None
    return item.data, (int(item.listed_at) if item.listed_at is not None else None)


def _index_entry(platform: str, shop: str, listing_id: str, listed_at: int | None) -> dict:
    entry = {"platform": platform, "shop": shop, "listing_id": listing_id}
    return entry if listed_at is None else {**entry, "listed_at": listed_at}


def first_listed(skus: Iterable[str]) -> dict[str, int]:
    """When each SKU was first listed (ms): the earliest listed_at of the listings holding it, from the
    reverse index (one Query per SKU); SKUs without a listing of known creation are left out."""
    out = {}
    for sku in skus:
        times = [ref["listed_at"] for ref in list_catalog(keys.sku_listings_pk(sku)).values()
                 if ref.get("listed_at") is not None]
        if times:
            out[sku] = int(min(times))
    return out


# --- listings awaiting their first sync (discovery) ------------------------------------------------------------
# A listing discovery mapped is stored with first_sync.status "pending" and NO reverse-index entry: pushes,
# reconciliation and the last-units guard find listings only through the reverse index (listings_showing), so a
# pending listing is never pushed to, while an order on it still resolves to its SKUs (resolve_order_lines reads
# the listing itself). The seller's first-sync choice activates it: the index entries are written then.
PENDING = "pending"


def put_pending_listing(platform: str, shop: str, listing_id: str, data: dict, now_ms: int) -> bool:
    """Store a discovered listing awaiting its first sync, unless the shop has that listing already (a mapping
    made meanwhile is never overwritten): False then."""
    from stocklink.store.models import written

    _listings.forget((keys.listing_pk(platform, shop), listing_id))
    item = CatalogItem(keys.listing_pk(platform, shop), listing_id, data={**data, "first_sync": {"status": PENDING}},
                       updated_at=now_ms, listed_at=now_ms)
    return written(lambda: item.save(condition=CatalogItem.pk.does_not_exist()))


def activate_listings(platform: str, shop: str, listing_ids: Iterable[str], outcome: dict, now_ms: int) -> list[dict]:
    """End the first-sync wait of the shop's pending listings among `listing_ids`: record `outcome` (the choice)
    and write their reverse-index entries, so pushes reach them from now on. Returns the listings activated."""
    pk = keys.listing_pk(platform, shop)
    found = batch_get_catalog(pk, list(dict.fromkeys(listing_ids)))
    done = []
    for listing_id, data in found.items():
        if (data.get("first_sync") or {}).get("status") != PENDING:
            continue
        data = {**data, "first_sync": {**outcome, "status": "done", "at": now_ms}}
        _, listed_at = _write_listing(pk, listing_id, data, now_ms)
        _listings.forget((pk, listing_id))
        ref = keys.listing_ref(platform, shop, listing_id)
        for component in data["components"]:
            put_catalog(keys.sku_listings_pk(component["sku"]), ref,
                        _index_entry(platform, shop, listing_id, listed_at), now_ms)
        done.append(data)
    if done:
        _bump_listings_version(now_ms)
    return done


def listing_ids(platform: str, shop: str) -> set[str]:
    """The ids of every listing StockLink has for the shop, pending or not (Queries of the shop's partition)."""
    out: set[str] = set()
    after = None
    while True:
        docs, more = listings_after(platform, shop, after, 1000)
        out |= {d["listing_id"] for d in docs}
        if not more or not docs:
            return out
        after = docs[-1]["listing_id"]


def listings_version_key() -> tuple[str, str]:
    """The key of the listings version (read with other items in one BatchGetItem: models.batch_get_models)."""
    return keys.CATALOG_VERSION, keys.LISTINGS_VERSION_SK


def listings_version_of(items: list[CatalogVersion]) -> int:
    """The listings version among items read with listings_version_key (0 before any write)."""
    return next((int(item.n or 0) for item in items), 0)


def _bump_listings_version(now_ms: int) -> None:
    """After the write it announces: a reader that sees the new number reads what was written."""
    update_only(CatalogVersion(*listings_version_key()),
                [CatalogVersion.n.add(1), CatalogVersion.updated_at.set(now_ms)])


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

def put_allocation(platform: str, shop: str, data: dict, now_ms: int) -> dict | None:
    """Returns the document it replaced (None if new)."""
    previous = put_catalog(keys.ALLOCATION, keys.channel(platform, shop), data, now_ms)
    _bump_listings_version(now_ms)
    return previous


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


def put_last_units_policy(data: dict, now_ms: int) -> dict | None:
    """Returns the document it replaced (None if new)."""
    return put_catalog(keys.LAST_UNITS_POLICY, "global", data, now_ms)

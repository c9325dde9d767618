"""Reads and non-stock writes: catalog items (named operations in store.catalog), reservations, inbound
events, stock and ledger views."""
from __future__ import annotations

from typing import Iterable, Iterator

from pynamodb.exceptions import DoesNotExist

from stocklink.domain.stock import WarehouseStock
from stocklink.store.models import (CatalogItem, InboundEvent, LedgerEntry, OpenHolds, Reservation, StockItem,
                                    save_returning_old, written)

from stocklink.store import keys, paging
from stocklink.store.keys import WAREHOUSE
from stocklink.ttl_cache import TtlCache


# --- catalog -------------------------------------------------------------------------------------

def put_catalog(pk: str, sk: str, data: dict, now_ms: int) -> dict | None:
    """Store the item; returns the document it replaced (None if new), which the same PutItem returns at no
    extra cost (ReturnValues ALL_OLD): the audit trail's `before`."""
    old = save_returning_old(CatalogItem(pk, sk, data=data, updated_at=now_ms))
    return old.data if old else None


def get_catalog(pk: str, sk: str) -> dict | None:
    try:
        return CatalogItem.get(pk, sk).data
    except DoesNotExist:
        return None


def list_catalog(pk: str) -> dict[str, dict]:
    return {item.sk: item.data for item in CatalogItem.query(pk)}


def batch_get_catalog(pk: str, sks: Iterable[str]) -> dict[str, dict]:
    keys = [(pk, sk) for sk in dict.fromkeys(sks)]
    return {item.sk: item.data for item in CatalogItem.batch_get(keys)} if keys else {}


def batch_get_catalog_keys(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """Catalogue items under any partitions, in as few BatchGetItem requests as there are 100s of keys."""
    keys = list(dict.fromkeys(keys))
    return {(item.pk, item.sk): item.data for item in CatalogItem.batch_get(keys)} if keys else {}


# --- stock ---------------------------------------------------------------------------------------

def stock_items(sku: str) -> list[StockItem]:
    return list(StockItem.query(sku, consistent_read=True))


_priorities = TtlCache(30.0)


def warehouse_priorities() -> dict[str, int]:
    """Warehouse priorities, cached per container for 30 s: they change rarely, and a stale priority
    only changes which warehouse is preferred, never whether stock is there (the write is guarded)."""
    return _priorities.get("all", lambda: {wid: int(data.get("priority", 100))
                                           for wid, data in list_catalog(WAREHOUSE).items()})


def forget_warehouse_priorities() -> None:
    _priorities.forget()


def stock_levels(skus: Iterable[str]) -> dict[str, list[WarehouseStock]]:
    """Planning view: availability per warehouse with the warehouse's priority."""
    return stock_read(skus)[0]


def stock_read(skus: Iterable[str]) -> tuple[dict[str, list[WarehouseStock]], dict[str, list[StockItem]]]:
    """One consistent Query per SKU: the planning view (stock_levels) and the items it was made from, whose
    counters a committed change's stock.changed reports without reading them again."""
    priorities = warehouse_priorities()
    levels: dict[str, list[WarehouseStock]] = {}
    items: dict[str, list[StockItem]] = {}
    for sku in dict.fromkeys(skus):
        items[sku] = stock_items(sku)
        levels[sku] = [WarehouseStock(item.warehouse_id, int(item.available), priorities.get(item.warehouse_id, 100))
                       for item in items[sku]]
    return levels, items


def ledger_entries(sku: str, warehouse_id: str) -> list[LedgerEntry]:
    return list(LedgerEntry.query(keys.ledger_stream(sku, warehouse_id), consistent_read=True))


def ledger_page(sku: str, warehouse_ids: list[str], limit: int, cursor: str | None) -> paging.Page:
    """A SKU's ledger entries in the given warehouses, oldest first (entry ids sort by time; equal ids by
    stream), `limit` at a time. Several warehouses: one query per stream, each starting after the cursor's
    entry, merged; the cursor is the key of the last entry returned."""
    streams = sorted(keys.ledger_stream(sku, wid) for wid in dict.fromkeys(warehouse_ids))
    if not streams:
        return paging.Page([], None)
    if len(streams) == 1:
        return paging.query_page(LedgerEntry, streams[0], limit=limit, cursor=cursor)
    after = paging.decode(cursor, paging.key_schema(LedgerEntry), "stream", set(streams))
    merged, more = [], False
    for stream in streams:
        condition = None
        if after is not None:
            last_id, last_stream = after["entry_id"]["S"], after["stream"]["S"]
            # the same entry id sorts by stream: a later stream may still hold it
            condition = (LedgerEntry.entry_id >= last_id if stream > last_stream
                         else LedgerEntry.entry_id > last_id)
        result = LedgerEntry.query(stream, condition, limit=limit)
        merged.extend(result)
        more = more or result.last_evaluated_key is not None
    merged.sort(key=lambda e: (e.entry_id, e.stream))
    page = merged[:limit]
    more = more or len(merged) > limit
    last = page[-1] if page and more else None
    return paging.Page(page, paging.encode(
        {"stream": {"S": last.stream}, "entry_id": {"S": last.entry_id}} if last else None))


def scan_stock() -> Iterable[StockItem]:
    return StockItem.scan()


# --- reservations --------------------------------------------------------------------------------

def get_reservation(reservation_id: str) -> Reservation | None:
    if not keys.is_reservation_id(reservation_id):
        return None
    try:
        return Reservation.get(reservation_id, consistent_read=True)
    except DoesNotExist:
        return None


def open_holds(owner: str) -> int:
    """How many holds the storefront owner has open (as counted by their transactions)."""
    try:
        return int(OpenHolds.get(keys.open_holds(owner), consistent_read=True).open_holds or 0)
    except DoesNotExist:
        return 0


def ledger_actor(sku: str, warehouse_id: str, at_ms: int, source: str) -> str | None:
    """The actor of the ledger entry of (sku, warehouse) written at `at_ms` for `source`, if any."""
    entries = LedgerEntry.query(keys.ledger_stream(sku, warehouse_id),
                                LedgerEntry.entry_id.startswith(keys.ledger_entry_prefix(at_ms)),
                                filter_condition=LedgerEntry.source == source, consistent_read=True)
    return next((entry.actor for entry in entries), None)


def due_holds(now_s: int, limit: int) -> Iterator[Reservation]:
    """Held reservations expired by `now_s`, shard by shard (at most `limit` per shard); each shard is
    queried when the caller reaches it, after it handled the previous shard's holds."""
    for shard in keys.hold_shards():
        yield from list(Reservation.by_expiry.query(shard, Reservation.expires_at <= now_s, limit=limit))


def active_holds(now_s: int, limit: int) -> list[Reservation]:
    """Held reservations not yet expired at `now_s` (expires_at > now_s), the latest-expiring (so, for one
    hold time, the newest) first: at most `limit` in all, read as `limit / shards` from each hold shard.
    Read from the expiry index, so eventually consistent: a hold shown may have been paid or released
    meanwhile, and whoever acts on one guards on its status (StockTransaction.release_hold)."""
    shards = keys.hold_shards()
    per_shard = max(1, limit // len(shards))
    holds = [hold for shard in shards
             for hold in Reservation.by_expiry.query(shard, Reservation.expires_at > now_s, limit=per_shard,
                                                     scan_index_forward=False)]
    return sorted(holds, key=lambda hold: (-int(hold.expires_at or 0), hold.reservation_id))[:limit]


# --- inbound events ------------------------------------------------------------------------------

def get_event(event_key: str) -> InboundEvent | None:
    try:
        return InboundEvent.get(event_key, consistent_read=True)
    except DoesNotExist:
        return None


def receipt_parts(warehouse_id: str, reference: str, parts: int) -> list[InboundEvent | None]:
    """The markers of a receipt's parts 0..parts-1 (None: not booked)."""
    return [get_event(keys.receipt_event(warehouse_id, reference, part)) for part in range(parts)]


def record_event(event: InboundEvent) -> bool:
    """Store an event that moves no stock (unmapped, ignored); False when it was already recorded."""
    return written(lambda: event.save(condition=InboundEvent.event_key.does_not_exist()))


def events_with_status(status: str, limit: int = 100) -> list[InboundEvent]:
    return list(InboundEvent.status_by_index.query(status, limit=limit, scan_index_forward=False))


def events_with_status_page(status: str, limit: int, cursor: str | None) -> paging.Page:
    """Inbound events with `status`, newest first, `limit` at a time."""
    return paging.query_page(InboundEvent, status, index=InboundEvent.status_by_index, limit=limit,
                             cursor=cursor, scan_index_forward=False)


def delete_catalog(pk: str, sk: str) -> None:
    CatalogItem(pk, sk).delete()

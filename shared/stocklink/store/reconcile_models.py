"""Reconciliation state: the pass lease, its cursors, dirty-SKU markers and pass reports.

Kept in the catalog table under its own key prefixes (every function involved already has the catalog:
channel_push writes dirty markers, staff_api reads reports), with typed pynamodb models:
  pk "RECON"            sk "LEASE"           the lease: owner + expires_at (ms); conditional writes only
  pk "RECON"            sk "STATE"           cursors (SKU slice, ledger sample), cycle figures, last pass
  pk "RECON_DIRTY#<n>"  sk <sku>             a SKU changed since it was last verified (n = crc32 % 4)
  pk "RECON_REPORT"     sk <started ms>      one report per pass, newest first; old ones pruned by the pass
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from stocklink.config import table_name
from stocklink.store import paging
from stocklink.store.keys import DIRTY_PREFIX, DIRTY_SHARDS  # noqa: F401 - still named here
from stocklink.store.keys import (FAILURE_PK, LEASE_SK, RECON_PK, REPORT_PK, STATE_SK, dirty_shard,
                                  dirty_shards, failure_time, report_sk)
from stocklink.store.keys import SKU as SKU_PK
from stocklink.store.models import CatalogItem, InboundEvent, StockItem, _Meta, update_only, written
from stocklink.store.sync_models import SyncFailure


class ReconItem(Model):
    class Meta(_Meta):
        table_name = table_name("catalog")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    owner = UnicodeAttribute(null=True)            # lease holder
    expires_at = NumberAttribute(null=True)        # lease expiry (ms)
    changed_at = NumberAttribute(null=True)        # dirty marker: last change seen (ms)
    data = JSONAttribute(null=True)
    updated_at = NumberAttribute(null=True)


MODELS = (ReconItem,)


# --- lease -------------------------------------------------------------------------------------------------

def acquire_lease(owner: str, now_ms: int, ttl_ms: int) -> bool:
    """Take the pass lease unless another owner holds an unexpired one (a crashed pass blocks at most ttl)."""
    item = ReconItem(RECON_PK, LEASE_SK, owner=owner, expires_at=now_ms + ttl_ms, updated_at=now_ms)
    return written(lambda: item.save(condition=ReconItem.pk.does_not_exist() | (ReconItem.expires_at < now_ms)
                                     | (ReconItem.owner == owner)))


def release_lease(owner: str) -> bool:
    return written(lambda: ReconItem(RECON_PK, LEASE_SK).delete(condition=ReconItem.owner == owner))


def lease() -> dict | None:
    try:
        item = ReconItem.get(RECON_PK, LEASE_SK, consistent_read=True)
    except DoesNotExist:
        return None
    return {"owner": item.owner, "expires_at": int(item.expires_at or 0)}


# --- state -------------------------------------------------------------------------------------------------

def load_state() -> dict:
    try:
        return dict(ReconItem.get(RECON_PK, STATE_SK, consistent_read=True).data or {})
    except DoesNotExist:
        return {}


def save_state(data: dict, now_ms: int) -> None:
    ReconItem(RECON_PK, STATE_SK, data=data, updated_at=now_ms).save()


# --- dirty markers -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DirtyMark:
    """A SKU's dirty marker as read: its last change (ms) and the hint the pass ranks it by."""
    changed_at: int
    hint: dict


def dirty_mark_keys(skus: Iterable[str]) -> list[tuple[str, str]]:
    """The markers' keys of `skus` (ReconItem), for a read batched with other items."""
    return [(dirty_shard(sku), sku) for sku in dict.fromkeys(skus)]


def dirty_marks_of(items: Iterable[ReconItem]) -> dict[str, DirtyMark]:
    """{sku: DirtyMark} of marker items read by their dirty_mark_keys."""
    return {item.sk: DirtyMark(int(item.changed_at), dict(item.data or {})) for item in items
            if item.changed_at is not None}


def mark_dirty(sku: str, now_ms: int, hint: dict | None = None) -> None:
    """One small unconditional update: the newest change wins; the pass deletes it only if unchanged since it
    read it and its cover (logic.sync.reconciliation.MARK_COVERS_MS) ended before the pass began."""
    actions = [ReconItem.changed_at.set(now_ms), ReconItem.updated_at.set(now_ms)]
    if hint:
        actions.append(ReconItem.data.set(hint))
    update_only(ReconItem(dirty_shard(sku), sku), actions)


def dirty_skus(limit: int = 5000) -> list[tuple[str, int, dict]]:
    """(sku, changed_at, hint) of every dirty SKU (bounded by `limit` per shard)."""
    out = []
    for shard in dirty_shards():
        for item in ReconItem.query(shard, limit=limit):
            out.append((item.sk, int(item.changed_at or 0), dict(item.data or {})))
    return out


def clear_dirty(sku: str, changed_at: int) -> bool:
    """Delete the marker unless the SKU changed again while it was being verified."""
    return written(lambda: ReconItem(dirty_shard(sku), sku).delete(condition=ReconItem.changed_at == changed_at))


# --- catalogue pages (the rotating verification slice, the ledger sample) ---------------------------------

def sku_page(after: str | None, limit: int) -> list[str]:
    """Master SKUs in key order after `after` (None: from the start)."""
    condition = CatalogItem.sk > after if after else None
    return [item.sk for item in CatalogItem.query(SKU_PK, condition, limit=limit,
                                                     attributes_to_get=["pk", "sk"])]


def stock_page(start_key: dict | None, limit: int) -> tuple[list[StockItem], dict | None]:
    """A page of stock items (consistent) continuing a stored scan cursor; the cursor is None at the end."""
    result = StockItem.scan(limit=limit, last_evaluated_key=start_key, consistent_read=True)
    items = list(result)
    return items, result.last_evaluated_key


def stock_item(sku: str, warehouse_id: str) -> StockItem | None:
    try:
        return StockItem.get(sku, warehouse_id, consistent_read=True)
    except DoesNotExist:
        return None


# --- failures and unmapped orders since a time -------------------------------------------------------------

def failures_since(since_ms: int, limit: int = 1000) -> list[dict]:
    return [f.data for f in SyncFailure.query(FAILURE_PK, SyncFailure.sk > failure_time(since_ms),
                                              limit=limit)]


def unmapped_since(since_iso: str, limit: int = 200) -> list[InboundEvent]:
    return list(InboundEvent.status_by_index.query("unmapped", InboundEvent.received_at > since_iso,
                                                   limit=limit))


# --- reports -----------------------------------------------------------------------------------------------

def save_report(started_ms: int, report: dict) -> None:
    ReconItem(REPORT_PK, report_sk(started_ms), data=report, updated_at=started_ms).save()


def reports(limit: int = 20) -> list[dict]:
    return [item.data for item in ReconItem.query(REPORT_PK, scan_index_forward=False, limit=limit)]


def reports_page(limit: int, cursor: str | None) -> paging.Page:
    """Pass reports, newest first, `limit` at a time."""
    page = paging.query_page(ReconItem, REPORT_PK, limit=limit, cursor=cursor, scan_index_forward=False)
    return paging.Page([item.data for item in page.items], page.next)


def prune_reports(before_ms: int, limit: int = 10) -> int:
    """Delete a few reports older than `before_ms` (each pass prunes a little: the history stays bounded)."""
    old = list(ReconItem.query(REPORT_PK, ReconItem.sk < report_sk(before_ms), limit=limit))
    for item in old:
        item.delete()
    return len(old)


"""Daily snapshots and their runs, in the `reports` table (keys: store.keys, "reports table"), and the
reads a snapshot run makes of the other tables. The only code that touches these items.

Why a table of its own: the rows are kept for a retention of their own (TTL `expires_at`, 400 days by
default) and grow by (SKUs x (warehouses + 1)) rows a day; the reports API reads this table and nothing
else (no stock, ledger or forecast access), and only the snapshot function writes it.
"""
from __future__ import annotations

from typing import Iterable, Iterator

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from stocklink.config import table_name
from stocklink.store.keys import (REPORT_PK, SNAP_DAY_PK, SNAP_RUN_PK, WAREHOUSE, report_sk, snapshot_pk)
from stocklink.store.models import CatalogItem, InboundEvent, StockItem, _Meta
from stocklink.store.reconcile_models import ReconItem

OVERSOLD = "oversold"          # the events table's status of an order the pool could not cover
RUN_TTL_S = 30 * 86_400


class ReportItem(Model):
    class Meta(_Meta):
        table_name = table_name("reports")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = JSONAttribute(null=True)
    expires_at = NumberAttribute(null=True)


MODELS = (ReportItem,)


# --- snapshot rows ---------------------------------------------------------------------------------------

def put_rows(rows: Iterable[tuple[str, str | None, str, dict]], expires_at_s: int) -> int:
    """Write (day, warehouse or None, sku, row) items, replacing what a run of the same day wrote."""
    n = 0
    with ReportItem.batch_write() as batch:
        for day, warehouse_id, sku, row in rows:
            batch.save(ReportItem(snapshot_pk(day, warehouse_id), sku, data=row, expires_at=expires_at_s))
            n += 1
    return n


def rows_of(day: str, keys: Iterable[tuple[str | None, str]]) -> dict[tuple[str | None, str], dict]:
    """Rows of `day` by (warehouse or None, sku); absent ones are left out."""
    wanted = {(snapshot_pk(day, wh), sku): (wh, sku) for wh, sku in keys}
    if not wanted:
        return {}
    return {wanted[(i.pk, i.sk)]: i.data or {} for i in ReportItem.batch_get(list(wanted))}


def day_partition(day: str, warehouse_id: str | None = None) -> dict[str, dict]:
    """Every SKU's row of `day` (over every warehouse, or in one), by SKU."""
    return {i.sk: i.data or {} for i in ReportItem.query(snapshot_pk(day, warehouse_id))}


# --- finished days ---------------------------------------------------------------------------------------

def put_day(day: str, data: dict, expires_at_s: int) -> None:
    ReportItem(SNAP_DAY_PK, day, data=data, expires_at=expires_at_s).save()


def days_between(first: str, last: str) -> list[tuple[str, dict]]:
    """Finished days from `first` to `last` (inclusive, YYYY-MM-DD), oldest first."""
    return [(i.sk, i.data or {}) for i in ReportItem.query(SNAP_DAY_PK, ReportItem.sk.between(first, last))]


def last_day_before(day: str) -> str | None:
    """The latest finished day before `day`, if any."""
    for item in ReportItem.query(SNAP_DAY_PK, ReportItem.sk < day, scan_index_forward=False, limit=1,
                                 consistent_read=True):
        return item.sk
    return None


# --- runs ------------------------------------------------------------------------------------------------

def get_run(run_id: str) -> dict | None:
    try:
        return ReportItem.get(SNAP_RUN_PK, run_id, consistent_read=True).data
    except DoesNotExist:
        return None


def put_run(run_id: str, data: dict, now_ms: int) -> None:
    ReportItem(SNAP_RUN_PK, run_id, data=data, expires_at=now_ms // 1000 + RUN_TTL_S).save()


# --- what a run reads elsewhere --------------------------------------------------------------------------

def warehouse_ids() -> list[str]:
    return sorted(item.sk for item in CatalogItem.query(WAREHOUSE, attributes_to_get=["pk", "sk"]))


def stock_of(skus: list[str], warehouse_ids: list[str]) -> dict[tuple[str, str], StockItem]:
    """Stock items of every (sku, warehouse) pair that has one (BatchGetItem, 100 keys a request)."""
    keys = [(sku, wh) for sku in skus for wh in warehouse_ids]
    return {(i.sku, i.warehouse_id): i for i in StockItem.batch_get(keys)} if keys else {}


def oversold_between(start_iso: str, end_iso: str) -> Iterator[InboundEvent]:
    """Order events recorded oversold in [start, end) (ISO times, as the events table stores them)."""
    for event in InboundEvent.status_by_index.query(OVERSOLD, InboundEvent.received_at >= start_iso):
        if event.received_at >= end_iso:
            return
        yield event


def reconciliation_between(start_ms: int, end_ms: int) -> Iterator[dict]:
    """Reconciliation pass reports started in [start, end) (kept 7 days by the pass)."""
    condition = ReconItem.sk.between(report_sk(start_ms), report_sk(end_ms - 1))
    for item in ReconItem.query(REPORT_PK, condition):
        yield item.data or {}

"""Forecasting items, all in the `forecast` table (pk, sk), and the only code that reads or writes them.

    SALES#<sku>               / <YYYY-MM-DD>   qty: net units sold that day (all warehouses, channels)
    SALESW#<sku>#<warehouse>  / <YYYY-MM-DD>   qty per warehouse
    SALESC#<sku>#<channel>    / <YYYY-MM-DD>   qty per channel
      (each counter also: lines, order lines paid that day; SALES / SALESW also stockout_at, the first
       time that day a stock.changed showed the SKU (in the warehouse) with nothing available)
    MARK#<ledger stream>      / <entry_id>     counted-once marker for one ledger entry (TTL)
    CURSOR#<ledger stream>    / -              last ledger entry id counted
    (suppliers, quotes, receipt history and each SKU's supplier choice: store.suppliers)
    FC#<sku>                  / latest         last forecast result (engine SkuResult.to_dict())
    PLAN                      / <sku>          its daily demand, safety stock, ABC class (the stock board)
    RUN                       / <run_id>       a forecast run: status, cursor, counts
    RUN                       / ~latest        id of the last finished run
    ABC#<run_id>              / <page no>      revenue per SKU of one catalog page (a run's first pass; TTL)
    GROUPS#<run_id>           / page-<no>#<part>, all#<part>: group statistics of a page of the first pass,
                                               and the catalogue's (blob: pooled.GroupStats, in parts; TTL)
                              / plan#<no>      SKUs forecast together because they choose with their group
    REPL#<run_id>             / <urgency key>  one replenishment suggestion (sorted by urgency)
"""
from __future__ import annotations

from typing import Iterable

from pynamodb.attributes import BinaryAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from stocklink.config import table_name
from stocklink.store import paging
from stocklink.store.models import connection_for, CatalogItem, LedgerEntry, StockItem, _Meta
from stocklink.store.keys import (LATEST, NO_SK, PLAN_PK, RESULT_SK, RUN_PK, SKU, abc_page_sk, abc_pk,
                                  cursor_pk, group_stats_pk, mark_pk, result_pk, sold_pk, suggestions_pk)
from stocklink.store.keys import ledger_stream, sales_pk, suggestion_sk  # noqa: F401 - logic names keys so

SOLD_TTL_S = 180 * 86_400     # paid orders cancelled later than this no longer reduce demand
MARKER_TTL_S = 14 * 86400
SUGGESTION_TTL_S = 30 * 86400


class ForecastItem(Model):
    class Meta(_Meta):
        table_name = table_name("forecast")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    qty = NumberAttribute(null=True)
    lines = NumberAttribute(null=True)          # counters: order lines paid that day
    stockout_at = NumberAttribute(null=True)    # counters: first time (ms) that day available was 0
    data = JSONAttribute(null=True)
    blob = BinaryAttribute(null=True, legacy_encoding=False)
    updated_at = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)


# --- sales counters ------------------------------------------------------------------------------

def add_sale_once(stream: str, entry_id: str, counters: list[tuple[str, str]], qty: float, now_ms: int,
                  sold: tuple[str, dict] | None = None, lines: int = 0) -> bool:
    """One transaction: the marker for (stream, entry_id) if absent, and ADD qty (and `lines`, order lines
    paid) on every (pk, day) counter.
    `sold`: (ledger source, what was counted) kept for SOLD_TTL_S, so that a cancellation of this paid
    order can take back exactly what was counted. False when the marker already existed (this ledger
    entry was counted before)."""
    try:
        with TransactWrite(connection=connection_for(ForecastItem)) as txn:
            txn.save(ForecastItem(mark_pk(stream), entry_id, updated_at=now_ms,
                                  expires_at=now_ms // 1000 + MARKER_TTL_S),
                     condition=ForecastItem.pk.does_not_exist())
            if sold is not None:
                txn.save(ForecastItem(sold_pk(stream), sold[0], data=sold[1], updated_at=now_ms,
                                      expires_at=now_ms // 1000 + SOLD_TTL_S))
            for pk, day in counters:
                actions = [ForecastItem.qty.add(qty), ForecastItem.updated_at.set(now_ms)]
                if lines:
                    actions.append(ForecastItem.lines.add(lines))
                txn.update(ForecastItem(pk, day), actions=actions)
    except TransactWriteError as exc:
        codes = [(r.code if r else None) for r in (exc.cancellation_reasons or [])]
        if codes and codes[0] == "ConditionalCheckFailed":
            return False
        raise
    return True


def sold_records(stream: str, sources: Iterable[str]) -> dict[str, dict]:
    """What was counted for each paid order (by ledger source) on this stream, where still kept."""
    keys = [(sold_pk(stream), s) for s in dict.fromkeys(sources)]
    return {item.sk: item.data or {} for item in ForecastItem.batch_get(keys)} if keys else {}


def counted_markers(stream: str, entry_ids: Iterable[str]) -> set[str]:
    keys = [(mark_pk(stream), e) for e in dict.fromkeys(entry_ids)]
    return {item.sk for item in ForecastItem.batch_get(keys)} if keys else set()


def get_cursor(stream: str) -> str | None:
    try:
        return (ForecastItem.get(cursor_pk(stream), NO_SK).data or {}).get("entry_id")
    except DoesNotExist:
        return None


def set_cursor(stream: str, entry_id: str, now_ms: int) -> None:
    """Last writer wins: a cursor moved back by a racing invocation only makes the next pass re-read
    entries whose markers already exist."""
    ForecastItem(cursor_pk(stream), NO_SK, data={"entry_id": entry_id}, updated_at=now_ms).save()


def ledger_entries_after(stream: str, after_entry_id: str | None) -> list[LedgerEntry]:
    cond = LedgerEntry.entry_id > after_entry_id if after_entry_id else None
    return list(LedgerEntry.query(stream, range_key_condition=cond, consistent_read=True))


def put_counters(values: dict[tuple[str, str], float], now_ms: int) -> int:
    """Batch-write counters (pk, day) → qty, replacing what was there (imports)."""
    with ForecastItem.batch_write() as batch:
        for (pk, day), qty in values.items():
            batch.save(ForecastItem(pk, day, qty=qty, updated_at=now_ms))
    return len(values)


def daily_sales(sku: str, first_day: str, last_day: str) -> list[tuple[str, float]]:
    return [(day, qty) for day, qty, _ in daily_counters(sku, first_day, last_day)]


def daily_counters(sku: str, first_day: str, last_day: str) -> list[tuple[str, float, bool]]:
    """(day, net units sold, out of stock at some moment of the day) of the SKU's counters (one Query)."""
    return [(i.sk, float(i.qty or 0), i.stockout_at is not None) for i in
            ForecastItem.query(sales_pk(sku), ForecastItem.sk.between(first_day, last_day))]


def warehouse_sales(pairs: Iterable[tuple[str, str]], first_day: str, last_day: str) -> dict[tuple[str, str], float]:
    """Units each (SKU, warehouse) fulfilled between the two days: the per-warehouse counters, which count
    where orders were actually allocated (one Query per pair)."""
    return {(sku, wh): sum(float(i.qty or 0) for i in ForecastItem.query(
                sales_pk(sku, wh), ForecastItem.sk.between(first_day, last_day)))
            for sku, wh in pairs}


def mark_stockout(sku: str, warehouse_id: str | None, day: str, at_ms: int) -> None:
    """Note that the SKU (in the warehouse, or over all of them) had nothing available on `day`: the first
    time is kept, so marking again changes nothing. One UpdateItem on the day's sales counter item."""
    item = ForecastItem(sales_pk(sku, warehouse_id=warehouse_id), day)
    item.update(actions=[ForecastItem.stockout_at.set(ForecastItem.stockout_at | at_ms)])


def day_counters(day: str, keys: Iterable[tuple[str, str | None]]) -> dict[tuple[str, str | None], dict]:
    """The day's counters of each (sku, warehouse or None for every warehouse): {qty, lines, stockout}.
    Absent counters are left out."""
    wanted = {(sales_pk(sku, warehouse_id=wh), day): (sku, wh) for sku, wh in keys}
    if not wanted:
        return {}
    return {wanted[(i.pk, i.sk)]: {"qty": float(i.qty or 0), "lines": float(i.lines or 0),
                                   "stockout": i.stockout_at is not None}
            for i in ForecastItem.batch_get(list(wanted), attributes_to_get=["pk", "sk", "qty", "lines",
                                                                              "stockout_at"])}


# --- catalog and stock reads for a run -----------------------------------------------------------

def catalog_sku_page(cursor: dict | None, limit: int) -> tuple[dict[str, dict], dict | None]:
    """One page of catalog SKUs and the key to continue from (None at the end)."""
    result = CatalogItem.query(SKU, limit=limit, last_evaluated_key=cursor)
    items = {i.sk: i.data for i in result}
    return items, result.last_evaluated_key


def stock_totals(sku: str) -> tuple[float, float, float]:
    """(available, in_transit, presold) over all warehouses."""
    available, in_transit, presold, _ = stock_facts(sku, first_stocked=False)
    return available, in_transit, presold


def stock_facts(sku: str, first_stocked: bool = True) -> tuple[float, float, float, int | None]:
    """(available, in_transit, presold) over all warehouses, and when the SKU was first stocked: the
    created_at (ms) of the oldest ledger entry of any of its warehouses (a receipt, an import, an adjustment;
    None: none). One Query for the warehouses plus one single-item Query per warehouse (entry ids sort by time)."""
    available = in_transit = presold = 0.0
    first = None
    for item in StockItem.query(sku):
        available += float(item.available or 0)
        in_transit += float(item.in_transit or 0)
        presold += float(item.presold or 0)
        if first_stocked:
            for entry in LedgerEntry.query(ledger_stream(sku, item.warehouse_id), limit=1):
                at = int(entry.created_at)
                first = at if first is None else min(first, at)
    return available, in_transit, presold, first


# --- forecast runs and results -------------------------------------------------------------------

def put_run(run_id: str, data: dict, now_ms: int) -> None:
    ForecastItem(RUN_PK, run_id, data=data, updated_at=now_ms).save()


def get_run(run_id: str) -> dict | None:
    try:
        return ForecastItem.get(RUN_PK, run_id, consistent_read=True).data
    except DoesNotExist:
        return None


def put_abc_page(run_id: str, page_no: int, revenue: dict[str, float], now_ms: int) -> None:
    """Idempotent: a page redone after an interruption overwrites its own item."""
    ForecastItem(abc_pk(run_id), abc_page_sk(page_no), data=revenue, updated_at=now_ms,
                 expires_at=now_ms // 1000 + SUGGESTION_TTL_S).save()


def abc_pages(run_id: str) -> Iterable[dict[str, float]]:
    for item in ForecastItem.query(abc_pk(run_id), consistent_read=True):
        yield item.data or {}


# A run's group statistics (forecasting.pooled.GroupStats as bytes) are stored in parts under the item size
# limit: GROUPS#<run> / page-<page no>#<part> per page of its first pass, all#<part> merged; and its plan of
# the pages forecasting the SKUs that choose with their group, GROUPS#<run> / plan#<page no> {skus: [...]}.
GROUP_STATS_PART = 300_000   # bytes per item: DynamoDB's item limit is 400 KB


def put_group_stats(run_id: str, name: str, blob: bytes, now_ms: int) -> None:
    """Idempotent: rewritten whole (a run redone after an interruption writes the same parts)."""
    parts = [blob[i:i + GROUP_STATS_PART] for i in range(0, len(blob), GROUP_STATS_PART)] or [b""]
    with ForecastItem.batch_write() as batch:
        for i, part in enumerate(parts):
            batch.save(ForecastItem(group_stats_pk(run_id), f"{name}#{i:04d}", blob=part or None,
                                    data={"parts": len(parts)}, updated_at=now_ms,
                                    expires_at=now_ms // 1000 + SUGGESTION_TTL_S))


def group_stats(run_id: str, prefix: str) -> dict[str, bytes]:
    """{name: blob} of the statistics stored under names starting with `prefix` (a name missing a part
    is left out)."""
    found: dict[str, list] = {}
    for item in ForecastItem.query(group_stats_pk(run_id), ForecastItem.sk.startswith(prefix),
                                   consistent_read=True):
        found.setdefault(item.sk.rsplit("#", 1)[0], []).append(item)
    return {name: b"".join(i.blob or b"" for i in items) for name, items in found.items()
            if len(items) == (items[0].data or {}).get("parts")}


def put_plan_pages(run_id: str, pages: list[list[str]], now_ms: int) -> None:
    with ForecastItem.batch_write() as batch:
        for i, skus in enumerate(pages):
            batch.save(ForecastItem(group_stats_pk(run_id), f"plan#{i:06d}", data={"skus": skus},
                                    updated_at=now_ms, expires_at=now_ms // 1000 + SUGGESTION_TTL_S))


def plan_pages(run_id: str) -> list[list[str]]:
    found = ForecastItem.query(group_stats_pk(run_id), ForecastItem.sk.startswith("plan#"), consistent_read=True)
    return [(item.data or {}).get("skus", []) for item in found]


def latest_run_id() -> str | None:
    data = get_run(LATEST)
    return data.get("run_id") if data else None


def set_latest_run(run_id: str, now_ms: int) -> None:
    put_run(LATEST, {"run_id": run_id}, now_ms)


def put_results(results: list[dict], suggestions: list[tuple[str, str, dict]], now_ms: int,
                plans: dict[str, dict] | None = None) -> None:
    """Per-SKU results, the run's suggestions (run_id, sort key, data) and each SKU's compact plan facts
    (the stock board's, under PLAN_PK), in batches of 25."""
    ttl = now_ms // 1000 + SUGGESTION_TTL_S
    with ForecastItem.batch_write() as batch:
        for r in results:
            batch.save(ForecastItem(result_pk(r["sku"]), RESULT_SK, data=r, updated_at=now_ms))
        for sku, facts in (plans or {}).items():
            batch.save(ForecastItem(PLAN_PK, sku, data=facts, updated_at=now_ms))
        for run_id, key, data in suggestions:
            batch.save(ForecastItem(suggestions_pk(run_id), key, data=data, updated_at=now_ms,
                                    expires_at=ttl))


def get_result(sku: str) -> dict | None:
    try:
        return ForecastItem.get(result_pk(sku), RESULT_SK).data
    except DoesNotExist:
        return None


def suggestions_page(run_id: str, limit: int, cursor: str | None) -> paging.Page:
    """The run's purchase suggestions in their sort key order, `limit` at a time (a cursor of an older
    run is refused)."""
    page = paging.query_page(ForecastItem, suggestions_pk(run_id), limit=limit, cursor=cursor)
    return paging.Page([item.data for item in page.items], page.next)

"""The reads behind the stock board and the warehouse summary: every SKU's counters, names and forecast facts
in a handful of requests, never a request per SKU and never the ledger.

  stock     Scan with a projection of the five counters (about 100 bytes an item: 10,000 SKUs x 2 warehouses
            is ~2 MB, two or three 1 MB pages), split into segments read side by side
  catalog   Query of the SKU partition (name, unit cost: one JSON document per SKU)
  forecast  Query of the PLAN partition: per SKU the last forecast run's daily demand, safety stock and ABC
            class in one small item (keys.PLAN_PK, written with the run's results), so the board never reads
            the full results (a forecast of 90 days per SKU under a partition of its own)
  catalog   BOARD_SETTINGS / global: the board's thresholds (cached per container, as other settings)

Reads are eventually consistent, and a container keeps what it read for READ_SECONDS: the next page, another
sort order or filter within that time costs no request (a board shows stock at most that old; a write in
another function is not seen sooner).
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator

from stocklink.domain.board import StockCounters
from stocklink.store import keys, purchasing
from stocklink.store.models import CatalogItem, StockItem, connection_for
from stocklink.store.repository import get_catalog, put_catalog
from stocklink.store.sales_models import ForecastItem
from stocklink.ttl_cache import TtlCache

SETTINGS_SECONDS = 10.0        # a changed threshold is seen by every container within this long
READ_SECONDS = 5.0             # the board's reads, kept per container (paging through them costs nothing)
STOCK_SEGMENTS = 4             # parallel scan segments: each reads its share of the table's 1 MB pages

_settings = TtlCache(SETTINGS_SECONDS)
_reads = TtlCache(READ_SECONDS, max_entries=8)
_pool: ThreadPoolExecutor | None = None


def _threads() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=STOCK_SEGMENTS + 2, thread_name_prefix="board-read")
    return _pool


def _client(model):
    return connection_for(model).client


def _pages(call: Callable[..., dict], **kwargs) -> Iterator[list[dict]]:
    """Every page of a Query or Scan (raw items)."""
    while True:
        answer = call(**kwargs)
        yield answer.get("Items", [])
        start = answer.get("LastEvaluatedKey")
        if not start:
            return
        kwargs["ExclusiveStartKey"] = start


def _int(item: dict, name: str) -> int:
    value = item.get(name)
    return int(value["N"]) if value else 0


def stock_counters(warehouse_id: str | None = None) -> list[StockCounters]:
    """The counters of every stock item (of one warehouse)."""
    kwargs: dict = {"TableName": StockItem.Meta.table_name,
                    "ProjectionExpression": "sku, warehouse_id, on_hand, reserved, available, in_transit, presold"}
    if warehouse_id is not None:
        kwargs.update(FilterExpression="warehouse_id = :w", ExpressionAttributeValues={":w": {"S": warehouse_id}})
    client = _client(StockItem)

    def segment(number: int) -> list[tuple]:
        out = []
        for items in _pages(client.scan, Segment=number, TotalSegments=STOCK_SEGMENTS, **kwargs):
            out.extend(StockCounters(i["sku"]["S"], i["warehouse_id"]["S"], _int(i, "on_hand"), _int(i, "reserved"),
                                     _int(i, "available"), _int(i, "in_transit"), _int(i, "presold"))
                       for i in items)
        return out

    return [row for part in _threads().map(segment, range(STOCK_SEGMENTS)) for row in part]


def sku_documents() -> dict[str, dict]:
    """Every catalogue SKU's document, by SKU."""
    client = _client(CatalogItem)
    out = {}
    for items in _pages(client.query, TableName=CatalogItem.Meta.table_name,
                        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": keys.SKU}},
                        ProjectionExpression="sk, #d", ExpressionAttributeNames={"#d": "data"}):
        for item in items:
            raw = item.get("data", {}).get("S")
            out[item["sk"]["S"]] = json.loads(raw) if raw else {}
    return out


def plan_facts() -> dict[str, dict]:
    """SKU -> the last forecast run's {d: daily demand, ss: safety stock, abc}."""
    client = _client(ForecastItem)
    out = {}
    for items in _pages(client.query, TableName=ForecastItem.Meta.table_name,
                        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": keys.PLAN_PK}},
                        ProjectionExpression="sk, #d", ExpressionAttributeNames={"#d": "data"}):
        for item in items:
            raw = item.get("data", {}).get("S")
            out[item["sk"]["S"]] = json.loads(raw) if raw else {}
    return out


def read_all(warehouse_id: str | None = None) -> tuple[list[StockCounters], dict[str, dict], dict[str, dict]]:
    """(stock counters, SKU documents, plan facts), the three reads sent side by side (kept READ_SECONDS)."""
    return _reads.get(warehouse_id, lambda: _read_all(warehouse_id))


def inbound() -> list[dict]:
    """Every open inbound line (purchasing's sparse index), kept READ_SECONDS like the board's other reads."""
    return _reads.get("inbound", purchasing.all_inbound)


def _read_all(warehouse_id: str | None) -> tuple[list[StockCounters], dict[str, dict], dict[str, dict]]:
    pool = _threads()
    docs = pool.submit(sku_documents)
    plans = pool.submit(plan_facts)
    counters = stock_counters(warehouse_id)
    return counters, docs.result(), plans.result()


# --- settings ------------------------------------------------------------------------------------------

def board_settings() -> dict | None:
    return _settings.get("global", lambda: get_catalog(keys.BOARD_SETTINGS, "global"))


def put_board_settings(data: dict, now_ms: int) -> dict | None:
    """Returns the settings they replaced (None if new)."""
    _settings.forget()
    return put_catalog(keys.BOARD_SETTINGS, "global", data, now_ms)


def forget_cached() -> None:
    _settings.forget()
    _reads.forget()

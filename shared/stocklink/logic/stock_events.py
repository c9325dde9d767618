"""stock.changed: after a committed change, the fresh counters of every touched SKU go on the bus.

A stock.changed that does not get on the bus (PutEvents failing) would leave every platform showing the
old number until the 10-minute verification slice reached the SKU. Its SKUs are marked dirty instead (the
reconciliation's outbox), so the next 30 s pass reads them back and pushes the right quantity.
"""
from __future__ import annotations

from typing import Iterable

from stocklink import bus, events
from stocklink.domain.stock import Deltas
from stocklink.observability import logger
from stocklink.store import reconcile_models, repository
from stocklink.time import now_ms

# The dirty marker's cause: reconciliation verifies these first, since no push is on its way for them.
PUBLISH_FAILED = "publish_failed"


def stock_snapshot(sku: str, items: list | None = None) -> dict:
    """The SKU's counters per warehouse and in total, from `items` (StockItem) or a fresh read."""
    items = repository.stock_items(sku) if items is None else items
    warehouses = [
        {"warehouse_id": i.warehouse_id, "on_hand": int(i.on_hand), "reserved": int(i.reserved),
         "available": int(i.available), "in_transit": int(i.in_transit or 0), "presold": int(i.presold or 0)}
        for i in items
    ]
    totals = {key: sum(w[key] for w in warehouses)
              for key in ("on_hand", "reserved", "available", "in_transit", "presold")}
    return {"sku": sku, "warehouses": warehouses, "totals": totals}


def snapshot_after(sku: str, items: list, moves: Iterable[tuple[str, Deltas]]) -> dict:
    """stock_snapshot of the items read before a transaction, with that transaction's own (warehouse, deltas)
    applied: the counters as it left them. Another change may have landed between the read and the write
    (the guard allowed both), so a total may be off by what that change moved; that change publishes its
    own event, and consumers that act on a quantity read it again (channel sync's guard, reconciliation)."""
    snapshot = stock_snapshot(sku, items)
    by_warehouse = {w["warehouse_id"]: w for w in snapshot["warehouses"]}
    for warehouse_id, deltas in moves:
        row = by_warehouse.get(warehouse_id)
        if row is not None:
            row["on_hand"] += deltas.on_hand
            row["reserved"] += deltas.reserved
            row["available"] += deltas.available
            row["presold"] += deltas.presold
    snapshot["totals"] = {key: sum(w[key] for w in snapshot["warehouses"])
                          for key in ("on_hand", "reserved", "available", "in_transit", "presold")}
    return snapshot


def publish_stock_changed(touched: Iterable[tuple[str, str]], cause: str, source: str,
                          snapshots: dict[str, dict] | None = None) -> None:
    """One event per touched (sku, warehouse), carrying that warehouse's and the SKU's totals: from
    `snapshots` by SKU (snapshot_after) where given, else read again."""
    touched = list(dict.fromkeys(touched))
    snapshots = snapshots or {}
    snapshots = {sku: snapshots.get(sku) or stock_snapshot(sku) for sku in dict.fromkeys(sku for sku, _ in touched)}
    details = []
    for sku, warehouse_id in touched:
        snapshot = snapshots[sku]
        row = next((w for w in snapshot["warehouses"] if w["warehouse_id"] == warehouse_id), None)
        if row is None:
            continue
        details.append({**row, "sku": sku, "total_available": snapshot["totals"]["available"],
                        "total_on_hand": snapshot["totals"]["on_hand"], "cause": cause, "source": source})
    if details:
        lost = bus.publish_returning_failed(events.STOCK_CHANGED, details)
        if lost:
            mark_unpublished(lost)


def mark_unpublished(lost: list[dict]) -> None:
    """Mark the SKUs of stock.changed events that never reached the bus dirty; never raises (the change is
    committed, and the 10-minute slice still reaches a SKU whose marker could not be written)."""
    newest = {detail["sku"]: detail for detail in lost}
    for sku, detail in newest.items():
        hint = {"cause": PUBLISH_FAILED, "change": detail.get("cause"),
                "total_available": detail.get("total_available")}
        try:
            reconcile_models.mark_dirty(sku, now_ms(), {k: v for k, v in hint.items() if v is not None})
        except Exception:  # noqa: BLE001 - see the docstring
            logger.exception("could not mark an unpublished SKU dirty", extra={"sku": sku})

"""stock.changed: after a committed change, the fresh counters of every touched SKU go on the bus."""
from __future__ import annotations

from typing import Iterable

from stocklink import bus, events
from stocklink.store import repository


def stock_snapshot(sku: str) -> dict:
    items = repository.stock_items(sku)
    warehouses = [
        {"warehouse_id": i.warehouse_id, "on_hand": int(i.on_hand), "reserved": int(i.reserved),
         "available": int(i.available), "in_transit": int(i.in_transit or 0)}
        for i in items
    ]
    totals = {key: sum(w[key] for w in warehouses) for key in ("on_hand", "reserved", "available", "in_transit")}
    return {"sku": sku, "warehouses": warehouses, "totals": totals}


def publish_stock_changed(touched: Iterable[tuple[str, str]], cause: str, source: str) -> None:
    """One event per touched (sku, warehouse), carrying that warehouse's and the SKU's totals."""
    touched = list(dict.fromkeys(touched))
    snapshots = {sku: stock_snapshot(sku) for sku in dict.fromkeys(sku for sku, _ in touched)}
    details = []
    for sku, warehouse_id in touched:
        snapshot = snapshots[sku]
        row = next((w for w in snapshot["warehouses"] if w["warehouse_id"] == warehouse_id), None)
        if row is None:
            continue
        details.append({**row, "sku": sku, "total_available": snapshot["totals"]["available"],
                        "total_on_hand": snapshot["totals"]["on_hand"], "cause": cause, "source": source})
    if details:
        bus.publish(events.STOCK_CHANGED, details)

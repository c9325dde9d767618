"""GET /ledger: a SKU's stock movements, oldest first, a page at a time."""
from __future__ import annotations

from stocklink.errors import ValidationFailed
from stocklink.logic.catalog import require_skus
from stocklink.logic.paging import PageRequest
from stocklink.store import repository


def ledger(sku: str, warehouse_id: str | None, page: PageRequest) -> dict:
    """One warehouse's entries, or every warehouse's merged in entry order; `next` continues the list."""
    if not sku:
        raise ValidationFailed("query parameter sku is required")
    require_skus([sku])
    warehouses = [warehouse_id] if warehouse_id else [i.warehouse_id for i in repository.stock_items(sku)]
    found = repository.ledger_page(sku, warehouses, page.limit, page.cursor)
    return {"sku": sku, "entries": [
        {"entry_id": e.entry_id, "sku": e.sku, "warehouse_id": e.warehouse_id, "movement": e.movement,
         "qty": int(e.qty), "on_hand_delta": int(e.on_hand_delta), "reserved_delta": int(e.reserved_delta),
         "available_delta": int(e.available_delta), "in_transit_delta": int(e.in_transit_delta or 0),
         "presold_delta": int(e.presold_delta or 0),
         "actor": e.actor, "reason": e.reason,
         "source": e.source, "created_at": int(e.created_at)}
        for e in found.items
    ], "next": found.next}

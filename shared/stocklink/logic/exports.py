"""The catalogue and stock as CSV, in the import's columns (stocklink.domain.catalog_sheet), so an exported
sheet imports back unchanged: GET /exports/catalog (fields and on-hand per warehouse) and GET /exports/stock
(sku, warehouse, on hand, reserved, available, in transit: one row per stock item; imported back, its
warehouse and qty columns are the counts). The ledger export is the paged GET /ledger per SKU (the CLI).

An answer is one Lambda response (at most 6 MB): a catalogue larger than that is exported a page of SKUs at a
time (`limit`, `cursor`; the CLI follows `next` from the X-Next-Cursor header)."""
from __future__ import annotations

from stocklink.domain import catalog_sheet as cs
from stocklink.store import catalog as catalog_store
from stocklink.store import imports as store
from stocklink.store import repository

STOCK_COLUMNS = ("sku", "warehouse", "qty", "reserved", "available", "in_transit")


def _warehouse_ids() -> list[str]:
    return sorted(catalog_store.warehouses())


def catalog_csv(limit: int, cursor: str | None, lang: str = "en") -> tuple[str, str | None]:
    """A page of SKUs in SKU order with their on-hand units per warehouse, and the next page's cursor."""
    warehouses = _warehouse_ids()
    page = catalog_store.skus_page(limit, cursor)
    rows: list[list] = [cs.header_line(lang, warehouses)]
    levels = {sku: {i.warehouse_id: int(i.on_hand or 0) for i in items}
              for sku, items in repository.stock_read([d["sku"] for d in page.items])[1].items()}
    for doc in page.items:
        rows.append(cs.sku_row(doc, warehouses, levels.get(doc["sku"], {})))
    return "\ufeff" + cs.to_csv(rows), page.next


def stock_csv() -> str:
    """Every stock item (one Scan), sorted by SKU and warehouse."""
    rows = [list(STOCK_COLUMNS)]
    for item in sorted(repository.scan_stock(), key=lambda i: (i.sku, i.warehouse_id)):
        rows.append([item.sku, item.warehouse_id, int(item.on_hand or 0), int(item.reserved or 0),
                     int(item.available or 0), int(item.in_transit or 0)])
    return "\ufeff" + cs.to_csv(rows)


def template_csv(lang: str) -> str:
    return cs.template(lang, _warehouse_ids())

"""Goods in, adjustments, the stock view staff read, the ledger replay (GET /ledger: logic.ledger_view)."""
from __future__ import annotations

from stocklink.domain.requests import AdjustmentIn, ReceiptIn
from stocklink.domain.stock import Movement
from stocklink.errors import InsufficientStock, ValidationFailed
from stocklink.logic.catalog import require_skus, require_warehouse
from stocklink.logic.stock_events import publish_stock_changed, stock_snapshot
from stocklink.store import repository
from stocklink.store.transactions import MAX_TRANSACTION_ITEMS, StockOp, StockTransaction, TransactionRefused
from stocklink.time import iso_now


# A receipt part is one transaction: its marker and, per SKU, a counter update and a ledger entry.
RECEIPT_PART_SKUS = (MAX_TRANSACTION_ITEMS - 1) // 2


def receive(receipt: ReceiptIn, *, actor: str, now_ms: int) -> dict:
    """Goods in. The receipt reference is the idempotency key: posting it twice adds stock once.

    A receipt of more SKUs than one transaction takes is booked in parts of RECEIPT_PART_SKUS, each with
    its own marker (reference + part): a retry after a part failed books only the parts still missing."""
    require_warehouse(receipt.warehouse_id)
    require_skus(line.sku for line in receipt.lines)
    totals: dict[str, int] = {}
    for line in receipt.lines:
        totals[line.sku] = totals.get(line.sku, 0) + line.qty
    outcome = {"warehouse_id": receipt.warehouse_id, "reference": receipt.reference,
               "lines": [{"sku": sku, "qty": qty} for sku, qty in totals.items()]}
    skus = list(totals)
    parts = [skus[start:start + RECEIPT_PART_SKUS] for start in range(0, len(skus), RECEIPT_PART_SKUS)]
    booked = repository.receipt_parts(receipt.warehouse_id, receipt.reference, len(parts))
    if any(marker is not None and not _same_receipt(marker, outcome) for marker in booked):
        raise _booked_with_other_lines(receipt)   # before any part is written
    source = f"receipt#{receipt.warehouse_id}#{receipt.reference}"
    applied = False
    for part, part_skus in enumerate(parts):
        if booked[part] is not None:
            continue
        txn = StockTransaction(actor=actor, source=source, reason=f"receipt {receipt.reference}", now_ms=now_ms)
        txn.put_receipt_marker(receipt.warehouse_id, receipt.reference, part, received_at=iso_now(now_ms),
                               outcome={**outcome, "part": part + 1, "parts": len(parts)})
        for sku in part_skus:
            txn.stock(StockOp(sku, receipt.warehouse_id, Movement.RECEIVE, totals[sku]))
        try:
            txn.commit()
        except TransactionRefused as refused:
            if not refused.duplicate:
                raise
            # booked meanwhile by a concurrent post of the same reference
            previous = repository.receipt_parts(receipt.warehouse_id, receipt.reference, part + 1)[part]
            if previous is not None and not _same_receipt(previous, outcome):
                raise _booked_with_other_lines(receipt) from refused
            continue
        publish_stock_changed(((sku, receipt.warehouse_id) for sku in part_skus), "receive", source)
        applied = True
    return {**outcome, "duplicate": not applied}


def _same_receipt(marker, outcome: dict) -> bool:
    stored = marker.outcome or {}
    return all(stored.get(name) == value for name, value in outcome.items())


def _booked_with_other_lines(receipt: ReceiptIn) -> ValidationFailed:
    return ValidationFailed(f"receipt {receipt.reference} was already booked with other lines",
                            reference=receipt.reference)


def adjust(adjustment: AdjustmentIn, *, actor: str, now_ms: int) -> dict:
    """Correct on-hand by a signed delta with a reason; never below what is reserved."""
    require_warehouse(adjustment.warehouse_id)
    require_skus([adjustment.sku])
    txn = StockTransaction(actor=actor, source=f"adjustment:{actor}", reason=adjustment.reason, now_ms=now_ms)
    txn.stock(StockOp(adjustment.sku, adjustment.warehouse_id, Movement.ADJUST, adjustment.delta))
    try:
        txn.commit()
    except TransactionRefused as refused:
        item = next((i for i in repository.stock_items(adjustment.sku)
                     if i.warehouse_id == adjustment.warehouse_id), None)
        available = int(item.available) if item else 0
        raise InsufficientStock(adjustment.sku, -adjustment.delta, available) from refused
    publish_stock_changed([(adjustment.sku, adjustment.warehouse_id)], "adjust", f"adjustment:{actor}")
    return stock_snapshot(adjustment.sku)


def stock_view(sku: str) -> dict:
    require_skus([sku])
    return stock_snapshot(sku)


def replay_ledger(sku: str, warehouse_id: str) -> dict:
    """Counters rebuilt from the ledger alone: must equal the stock item (the ledger invariant)."""
    totals = {"on_hand": 0, "reserved": 0, "available": 0, "in_transit": 0, "presold": 0}
    for entry in repository.ledger_entries(sku, warehouse_id):
        totals["on_hand"] += int(entry.on_hand_delta)
        totals["reserved"] += int(entry.reserved_delta)
        totals["available"] += int(entry.available_delta)
        totals["in_transit"] += int(entry.in_transit_delta or 0)
        totals["presold"] += int(entry.presold_delta or 0)
    return totals


# How each movement moves a stock item's pool of presold units that arrived (store.transactions, presale_arrived).
_PRESALE_ARRIVED_SIGN = {Movement.PRESALE_FILL.value: 1, Movement.PRESALE_SHIP.value: -1,
                         Movement.PRESALE_RELEASE_ARRIVED.value: -1}


def replay_presale_arrived(sku: str, warehouse_id: str) -> int:
    """The presold units that arrived and wait for their presale orders, rebuilt from the ledger's movements:
    must equal the stock item's presale_arrived."""
    return sum(_PRESALE_ARRIVED_SIGN.get(entry.movement, 0) * int(entry.qty)
               for entry in repository.ledger_entries(sku, warehouse_id))


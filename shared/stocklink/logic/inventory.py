"""Goods in, adjustments, the stock view staff read, the ledger replay (GET /ledger: logic.ledger_view)."""
from __future__ import annotations

from stocklink.domain.requests import AdjustmentIn, ReceiptIn
from stocklink.domain.stock import Movement
from stocklink.errors import InsufficientStock, ValidationFailed
from stocklink.logic.catalog import require_skus, require_warehouse
from stocklink.logic.stock_events import publish_stock_changed, stock_snapshot
from stocklink.store import repository
from stocklink.store.models import InboundEvent
from stocklink.store.transactions import StockOp, StockTransaction, TransactionRefused
from stocklink.time import iso_now


def receive(receipt: ReceiptIn, *, actor: str, now_ms: int) -> dict:
    """Goods in. The receipt reference is the idempotency key: posting it twice adds stock once."""
    require_warehouse(receipt.warehouse_id)
    require_skus(line.sku for line in receipt.lines)
    totals: dict[str, int] = {}
    for line in receipt.lines:
        totals[line.sku] = totals.get(line.sku, 0) + line.qty
    event_key = f"receipt#{receipt.warehouse_id}#{receipt.reference}"
    outcome = {"warehouse_id": receipt.warehouse_id, "reference": receipt.reference,
               "lines": [{"sku": sku, "qty": qty} for sku, qty in totals.items()]}
    txn = StockTransaction(actor=actor, source=event_key, reason=f"receipt {receipt.reference}", now_ms=now_ms)
    txn.put_marker(InboundEvent(event_key, kind="stock.receipt", status="applied", received_at=iso_now(now_ms),
                                outcome=outcome))
    for sku, qty in totals.items():
        txn.stock(StockOp(sku, receipt.warehouse_id, Movement.RECEIVE, qty))
    try:
        txn.commit()
    except TransactionRefused as refused:
        if refused.duplicate:
            previous = repository.get_event(event_key)
            if previous and previous.outcome != outcome:
                raise ValidationFailed(f"receipt {receipt.reference} was already booked with other lines",
                                       reference=receipt.reference) from refused
            return {**outcome, "duplicate": True}
        raise
    publish_stock_changed(((sku, receipt.warehouse_id) for sku in totals), "receive", event_key)
    return {**outcome, "duplicate": False}


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
    totals = {"on_hand": 0, "reserved": 0, "available": 0}
    for entry in repository.ledger_entries(sku, warehouse_id):
        totals["on_hand"] += int(entry.on_hand_delta)
        totals["reserved"] += int(entry.reserved_delta)
        totals["available"] += int(entry.available_delta)
    return totals


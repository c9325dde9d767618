"""The purchasing table: purchase orders, their receipt markers and the units on their way per SKU.

Keys (pk / sk):
  PO#<id> / PO              the purchase order: status, version, lines (JSON), history; list_key "PO"
  PO#<id> / RECEIPT#<ref>   a receipt booked against it (the idempotency marker, with what it booked)
  INBOUND#<sku> / <warehouse>#<source>   units of one PO line on their way to one warehouse, with the
                            ETA; list_key "INBOUND" while any are on the way (deleted when none are)
The sparse index by_list (list_key, list_sort) lists POs newest first and every open inbound line without
a scan. A PO changes only under a condition on its version, in the same transaction as the stock counters
and ledger entries that change with it (store.transactions.StockTransaction), so a PO, in_transit and the
ledger never disagree.
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from stocklink.config import table_name
from stocklink.store import paging
from stocklink.store.models import _Meta, is_conditional_failure
from stocklink.store.transactions import StockTransaction

PO_LIST = "PO"
INBOUND_LIST = "INBOUND"
RECEIPT_LABEL = "po-receipt"   # TransactionRefused.failed names these
PO_LABEL = "po"


class PurchasingListIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_list"
        projection = AllProjection()

    list_key = UnicodeAttribute(hash_key=True)
    list_sort = UnicodeAttribute(range_key=True)


class PurchasingItem(Model):
    class Meta(_Meta):
        table_name = table_name("purchasing")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = JSONAttribute(default=dict)
    status = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)
    qty = NumberAttribute(null=True)             # inbound: units still on their way
    list_key = UnicodeAttribute(null=True)
    list_sort = UnicodeAttribute(null=True)
    updated_at = NumberAttribute(null=True)
    by_list = PurchasingListIndex()


def _po_pk(po_id: str) -> str:
    return f"PO#{po_id}"


def _inbound_key(sku: str, warehouse_id: str, source: str) -> tuple[str, str]:
    return f"INBOUND#{sku}", f"{warehouse_id}#{source}"


# --- versioned documents: a PO (PO#<id> / PO) and a transfer (TR#<id> / TR, store/transfers.py) --------------

def get_document(pk: str, sk: str) -> tuple[dict, int] | None:
    """(document, version), strongly consistent: what a change is decided on."""
    try:
        item = PurchasingItem.get(pk, sk, consistent_read=True)
    except DoesNotExist:
        return None
    return {**item.data, "status": item.status}, int(item.version)


def create_document(pk: str, sk: str, list_key: str, doc_id: str, document: dict, now_ms: int) -> bool:
    """Write a new document, listed newest first under `list_key`; False when the id is taken (nothing written)."""
    item = PurchasingItem(pk, sk, data={k: v for k, v in document.items() if k != "status"},
                          status=document["status"], version=1, list_key=list_key,
                          list_sort=f"{now_ms:013d}#{doc_id}", updated_at=now_ms)
    try:
        item.save(condition=PurchasingItem.pk.does_not_exist())
    except PutError as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True


def include_document_change(txn: StockTransaction, label: str, pk: str, sk: str, document: dict, version: int,
                            now_ms: int) -> None:
    """The new document in `txn`, only if nobody changed it since `version` was read (TransactionRefused
    naming `label` otherwise: read again and decide again)."""
    txn.include_update(label, PurchasingItem(pk, sk), [
        PurchasingItem.data.set({k: v for k, v in document.items() if k != "status"}),
        PurchasingItem.status.set(document["status"]), PurchasingItem.version.set(version + 1),
        PurchasingItem.updated_at.set(now_ms),
    ], PurchasingItem.version == version)


def document_page(list_key: str, limit: int, cursor: str | None, status: str | None = None) -> paging.Page:
    """Documents of one list, newest first, optionally of one status."""
    keep = (lambda item: item.status == status) if status else None
    page = paging.query_page(PurchasingItem, list_key, limit=limit, cursor=cursor, index=PurchasingItem.by_list,
                             keep=keep, scan_index_forward=False)
    return paging.Page([{**item.data, "status": item.status} for item in page.items], page.next)


def get_po(po_id: str) -> tuple[dict, int] | None:
    return get_document(_po_pk(po_id), "PO")


def create_po(po_id: str, document: dict, now_ms: int) -> bool:
    return create_document(_po_pk(po_id), "PO", PO_LIST, po_id, document, now_ms)


def include_po_change(txn: StockTransaction, po_id: str, document: dict, version: int, now_ms: int) -> None:
    include_document_change(txn, PO_LABEL, _po_pk(po_id), "PO", document, version, now_ms)


def include_receipt_marker(txn: StockTransaction, po_id: str, reference: str, booked: dict, now_ms: int) -> None:
    """A receipt's idempotency marker: the transaction is refused (RECEIPT_LABEL) if the reference exists."""
    txn.include_put(RECEIPT_LABEL, PurchasingItem(_po_pk(po_id), f"RECEIPT#{reference}", data=booked,
                                                  updated_at=now_ms),
                    PurchasingItem.pk.does_not_exist())


def receipt_marker(po_id: str, reference: str) -> dict | None:
    try:
        return PurchasingItem.get(_po_pk(po_id), f"RECEIPT#{reference}", consistent_read=True).data
    except DoesNotExist:
        return None


def include_inbound(txn: StockTransaction, sku: str, warehouse_id: str, source: str, *, qty_before: int,
                    qty_after: int, eta: str | None, detail: dict, now_ms: int) -> None:
    """Units of `source` on their way to `warehouse_id` go from qty_before to qty_after (0: gone), guarded
    on qty_before so two receipts of one line cannot both count the same units."""
    pk, sk = _inbound_key(sku, warehouse_id, source)
    guard = (PurchasingItem.pk.does_not_exist() | (PurchasingItem.qty == 0) if qty_before == 0
             else PurchasingItem.qty == qty_before)
    label = f"inbound:{sku}:{warehouse_id}:{source}"
    if qty_after == 0:
        txn.include_update(label, PurchasingItem(pk, sk), [PurchasingItem.qty.set(0),
                                                           PurchasingItem.list_key.remove(),
                                                           PurchasingItem.updated_at.set(now_ms)], guard)
        return
    txn.include_put(label, PurchasingItem(pk, sk, qty=qty_after, list_key=INBOUND_LIST,
                                          list_sort=f"{eta or '9999-12-31'}#{sku}#{warehouse_id}#{source}",
                                          data={**detail, "sku": sku, "warehouse_id": warehouse_id,
                                                "source": source, "eta": eta},
                                          updated_at=now_ms), guard)


def inbound_for(sku: str) -> list[dict]:
    """The SKU's units on their way: {sku, warehouse_id, source, eta, qty, ...} (one Query)."""
    return [{**item.data, "qty": int(item.qty)} for item in PurchasingItem.query(f"INBOUND#{sku}")
            if item.qty and int(item.qty) > 0]


def all_inbound() -> list[dict]:
    """Every open inbound line, soonest ETA first (the sparse index: no scan)."""
    return [{**item.data, "qty": int(item.qty)} for item in PurchasingItem.by_list.query(INBOUND_LIST)
            if item.qty and int(item.qty) > 0]


def po_page(limit: int, cursor: str | None, status: str | None = None) -> paging.Page:
    return document_page(PO_LIST, limit, cursor, status)


def open_pos() -> list[dict]:
    """Every PO not yet final (for the late-PO check and the replenishment's on-order figures)."""
    final = {"received", "cancelled", "closed"}
    return [{**item.data, "status": item.status}
            for item in PurchasingItem.by_list.query(PO_LIST) if item.status not in final]

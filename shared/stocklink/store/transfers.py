"""Transfer orders and the lanes between warehouses, in the purchasing table (store/purchasing.py's model).

Keys (pk / sk):
  TR#<id> / TR              a transfer order: status, version, lines, history; list_key "TR"
  LANE / <from>#<to>        a lane: transit days and cost per unit
Units on their way are purchasing's INBOUND items (source tr#<id>#<line>), written by the same transaction
as the counters, so planning sees a transfer's arrival like a shipment's.
"""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PutError

from stocklink.store import paging
from stocklink.store.models import is_conditional_failure
from stocklink.store.purchasing import PurchasingItem
from stocklink.store.transactions import StockTransaction

TR_LIST = "TR"
TR_LABEL = "transfer"
LANE_PK = "LANE"


def _pk(transfer_id: str) -> str:
    return f"TR#{transfer_id}"


def get_transfer(transfer_id: str) -> tuple[dict, int] | None:
    try:
        item = PurchasingItem.get(_pk(transfer_id), "TR", consistent_read=True)
    except DoesNotExist:
        return None
    return {**item.data, "status": item.status}, int(item.version)


def create_transfer(transfer_id: str, document: dict, now_ms: int) -> bool:
    item = PurchasingItem(_pk(transfer_id), "TR", data={k: v for k, v in document.items() if k != "status"},
                          status=document["status"], version=1, list_key=TR_LIST,
                          list_sort=f"{now_ms:013d}#{transfer_id}", updated_at=now_ms)
    try:
        item.save(condition=PurchasingItem.pk.does_not_exist())
    except PutError as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True


def include_transfer_change(txn: StockTransaction, transfer_id: str, document: dict, version: int,
                            now_ms: int) -> None:
    """The transfer's new document in `txn`, only if unchanged since `version` (else TransactionRefused
    naming TR_LABEL)."""
    txn.include_update(TR_LABEL, PurchasingItem(_pk(transfer_id), "TR"), [
        PurchasingItem.data.set({k: v for k, v in document.items() if k != "status"}),
        PurchasingItem.status.set(document["status"]), PurchasingItem.version.set(version + 1),
        PurchasingItem.updated_at.set(now_ms),
    ], PurchasingItem.version == version)


def transfer_page(limit: int, cursor: str | None, status: str | None = None) -> paging.Page:
    keep = (lambda item: item.status == status) if status else None
    page = paging.query_page(PurchasingItem, TR_LIST, limit=limit, cursor=cursor, index=PurchasingItem.by_list,
                             keep=keep, scan_index_forward=False)
    return paging.Page([{**item.data, "status": item.status} for item in page.items], page.next)


def put_lane(from_warehouse: str, to_warehouse: str, data: dict, now_ms: int) -> None:
    PurchasingItem(LANE_PK, f"{from_warehouse}#{to_warehouse}", data=data, updated_at=now_ms).save()


def lanes() -> dict[tuple[str, str], dict]:
    return {tuple(item.sk.split("#", 1)): item.data for item in PurchasingItem.query(LANE_PK)}

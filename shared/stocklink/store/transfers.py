"""Transfer orders and the lanes between warehouses, in the purchasing table (store/purchasing.py's model).

Keys (pk / sk):
  TR#<id> / TR              a transfer order: status, version, lines, history; list_key "TR"
  LANE / <from>#<to>        a lane: transit days and cost per unit
Units on their way are purchasing's INBOUND items (source tr#<id>#<line>), written by the same transaction
as the counters, so planning sees a transfer's arrival like a shipment's.
"""
from __future__ import annotations

from stocklink.store import paging
from stocklink.store.purchasing import (
    PurchasingItem, create_document, document_page, get_document, include_document_change,
)
from stocklink.store.transactions import StockTransaction

TR_LIST = "TR"
TR_LABEL = "transfer"
LANE_PK = "LANE"


def _pk(transfer_id: str) -> str:
    return f"TR#{transfer_id}"


def get_transfer(transfer_id: str) -> tuple[dict, int] | None:
    return get_document(_pk(transfer_id), "TR")


def create_transfer(transfer_id: str, document: dict, now_ms: int) -> bool:
    return create_document(_pk(transfer_id), "TR", TR_LIST, transfer_id, document, now_ms)


def include_transfer_change(txn: StockTransaction, transfer_id: str, document: dict, version: int,
                            now_ms: int) -> None:
    include_document_change(txn, TR_LABEL, _pk(transfer_id), "TR", document, version, now_ms)


def transfer_page(limit: int, cursor: str | None, status: str | None = None) -> paging.Page:
    return document_page(TR_LIST, limit, cursor, status)


def put_lane(from_warehouse: str, to_warehouse: str, data: dict, now_ms: int) -> None:
    PurchasingItem(LANE_PK, f"{from_warehouse}#{to_warehouse}", data=data, updated_at=now_ms).save()


def lanes() -> dict[tuple[str, str], dict]:
    return {tuple(item.sk.split("#", 1)): item.data for item in PurchasingItem.query(LANE_PK)}

"""Returns racing on DynamoDB Local: however many messages announce returns of one shipped order, and
however they interleave, the order's shipped units come back exactly once (the return count's condition
in each restock transaction, not a read, decides)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from stocklink.channels.base import OrderEvent, OrderEventKind, OrderLine
from stocklink.domain.requests import ReceiptIn, SkuIn, WarehouseIn
from stocklink.logic import catalog, inventory
from stocklink.logic.orders import apply_order_event
from stocklink.store import repository
from stocklink.time import now_ms

SKU = "RET-1"


def _event(kind: OrderEventKind, qty: int, delivery: str = "-") -> OrderEvent:
    return OrderEvent("lazada", "shop-1", "O-1", kind, (OrderLine(SKU, qty),), delivery, paid=True)


def test_racing_returns_of_one_order_restock_what_it_shipped_once(local_tables):
    now = now_ms()
    catalog.put_sku(SKU, SkuIn(name="Returned tee"), now)
    for priority, (warehouse_id, qty) in enumerate({"wh-a": 2, "wh-b": 5}.items()):
        catalog.put_warehouse(warehouse_id, WarehouseIn(name=warehouse_id, priority=priority), now)
        inventory.receive(ReceiptIn(warehouse_id=warehouse_id, reference=f"PO-{warehouse_id}",
                                    lines=[{"sku": SKU, "qty": qty}]), actor="test", now_ms=now)
    apply_order_event(_event(OrderEventKind.CREATED, 3), now)    # 2 from wh-a, 1 from wh-b
    apply_order_event(_event(OrderEventKind.SHIPPED, 3), now)
    shipped = {i.warehouse_id: int(i.on_hand) for i in repository.stock_items(SKU)}
    assert shipped == {"wh-a": 0, "wh-b": 4}

    # 16 announcements (refunds, reverse pushes, status pushes) of 1 or 2 units each, at once.
    announcements = [_event(OrderEventKind.RETURNED, 1 + i % 2, f"return-{i}") for i in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda e: apply_order_event(e, now_ms()), announcements))

    restocked = sum(r["qty"] for o in outcomes for r in o.get("returned", []))
    assert restocked == 3
    after = {i.warehouse_id: int(i.on_hand) for i in repository.stock_items(SKU)}
    assert after == {"wh-a": 2, "wh-b": 5}        # each unit back where it shipped from
    for item in repository.stock_items(SKU):
        assert inventory.replay_ledger(SKU, item.warehouse_id) == {
            "on_hand": item.on_hand, "reserved": item.reserved, "available": item.available,
            "in_transit": item.in_transit, "presold": item.presold}

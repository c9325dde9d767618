"""A return never restocks more than its order shipped, whatever announces it (logic/orders on moto): each
allocation counts what came back under a DynamoDB condition in the restock's own transaction."""
from __future__ import annotations

import pytest

from stocklink.channels.base import OrderEvent, OrderEventKind, OrderLine

SKU = "TEE-RED-M"     # 3 in wh-a, 3 in wh-b (the `stocked` fixture)
NOW = 1_780_000_000_000


def event(kind: OrderEventKind, qty: int = 2, order: str = "O-1", delivery: str = "d", platform: str = "lazada"):
    return OrderEvent(platform, "shop-1", order, kind, (OrderLine(SKU, qty),), delivery, paid=True)


def apply(e: OrderEvent) -> dict:
    from stocklink.logic.orders import apply_order_event
    return apply_order_event(e, NOW)


def on_hand(staff) -> dict[str, int]:
    return {w["warehouse_id"]: w["on_hand"] for w in staff.get(f"/skus/{SKU}/stock").body["warehouses"]}


def ship(qty: int = 2, order: str = "O-1") -> None:
    assert apply(event(OrderEventKind.CREATED, qty, order))["status"] == "applied"
    assert apply(event(OrderEventKind.SHIPPED, qty, order))["status"] == "applied"


def test_one_return_announced_three_ways_restocks_once(stocked):
    ship(qty=1)
    before = on_hand(stocked)
    outcomes = [apply(event(OrderEventKind.RETURNED, 1, delivery=d))
                for d in ("reverse-5", "item-returned-at-2", "shipped-back-at-3")]
    assert [o["status"] for o in outcomes] == ["applied", "skipped", "skipped"]
    assert outcomes[1]["reason"] == "every shipped unit is back already"
    assert sum(on_hand(stocked).values()) == sum(before.values()) + 1


def test_a_return_larger_than_shipped_is_capped_at_what_shipped(stocked):
    ship(qty=2)
    before = on_hand(stocked)
    outcome = apply(event(OrderEventKind.RETURNED, 5, delivery="r1"))
    assert outcome["status"] == "applied"
    assert outcome["returned"] == [{"sku": SKU, "warehouse_id": "wh-a", "qty": 2}]
    assert outcome["not_restocked"] == [{"sku": SKU, "qty": 3}]
    assert on_hand(stocked) == {**before, "wh-a": before["wh-a"] + 2}
    # A second refund for the same order finds no room left.
    assert apply(event(OrderEventKind.RETURNED, 1, delivery="r2"))["status"] == "skipped"
    assert on_hand(stocked) == {**before, "wh-a": before["wh-a"] + 2}


def test_partial_returns_add_up_to_what_shipped(stocked):
    ship(qty=2)
    before = on_hand(stocked)
    assert apply(event(OrderEventKind.RETURNED, 1, delivery="r1"))["returned"][0]["qty"] == 1
    second = apply(event(OrderEventKind.RETURNED, 2, delivery="r2"))
    assert (second["returned"][0]["qty"], second["not_restocked"]) == (1, [{"sku": SKU, "qty": 1}])
    assert sum(on_hand(stocked).values()) == sum(before.values()) + 2


@pytest.mark.parametrize("steps", [[], [OrderEventKind.CREATED], [OrderEventKind.CREATED, OrderEventKind.CANCELLED]])
def test_a_return_of_an_order_not_seen_shipping_restocks_nothing(stocked, steps):
    for kind in steps:
        apply(event(kind))
    before = on_hand(stocked)
    outcome = apply(event(OrderEventKind.RETURNED, 2, delivery="r1"))
    assert (outcome["status"], outcome["reason"]) == ("skipped", "no shipment of this order is known")
    assert on_hand(stocked) == before
    listed = stocked.get("/events", query={"status": "skipped"}).body["events"]
    assert any(e["outcome"].get("reason") == "no shipment of this order is known" for e in listed)


def test_the_store_refuses_a_count_beyond_what_shipped_even_from_a_stale_plan(stocked):
    # Two returns planned from the same read: the second write finds the room taken and is refused.
    from stocklink.domain.stock import Movement
    from stocklink.store.transactions import StockOp, StockTransaction, TransactionRefused

    ship(qty=1)
    rid = "lazada:shop-1:O-1"
    before = on_hand(stocked)
    for attempt in range(2):
        txn = StockTransaction(actor="test", source=f"r{attempt}", reason="return", now_ms=NOW)
        txn.count_returned(rid, [(0, 1, 1)])
        txn.stock(StockOp(SKU, "wh-a", Movement.RETURN, 1))
        if attempt == 0:
            txn.commit()
        else:
            with pytest.raises(TransactionRefused) as refused:
                txn.commit()
            assert refused.value.returns_changed
    assert sum(on_hand(stocked).values()) == sum(before.values()) + 1

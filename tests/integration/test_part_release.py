"""A part cancellation before shipment (logic/orders on moto): only the cancelled units of a reserved order go
back to the pool, once, in one transaction with the reservation shrunk under a condition on it as read; the
rest still ships; after shipment it moves nothing; the ledger replays exactly."""
from __future__ import annotations

import pytest

from tests.integration.test_presale import shipped  # noqa: F401 - fixture

from stocklink.channels.base import OrderEvent, OrderEventKind, OrderLine

SKU = "TEE-RED-M"     # 3 in wh-a (first), 3 in wh-b (the `stocked` fixture)
NOW = 1_780_000_000_000


def event(kind: OrderEventKind, qty: int, delivery: str = "d", order: str = "O-1") -> OrderEvent:
    return OrderEvent("lazada", "shop-1", order, kind, (OrderLine(SKU, qty),), delivery, paid=True)


def apply(e: OrderEvent, now_ms: int = NOW) -> dict:
    from stocklink.logic.orders import apply_order_event
    return apply_order_event(e, now_ms)


def counters(staff) -> dict[str, tuple[int, int, int]]:
    """warehouse -> (on_hand, reserved, available)"""
    return {w["warehouse_id"]: (w["on_hand"], w["reserved"], w["available"])
            for w in staff.get(f"/skus/{SKU}/stock").body["warehouses"]}


def reservation(order: str = "O-1"):
    from stocklink.store import repository
    return repository.get_reservation(f"lazada:shop-1:{order}")


def assert_ledger_replays() -> None:
    from stocklink.logic import inventory
    from stocklink.store import repository
    for item in repository.stock_items(SKU):
        assert inventory.replay_ledger(SKU, item.warehouse_id) == {
            "on_hand": int(item.on_hand), "reserved": int(item.reserved), "available": int(item.available),
            "in_transit": int(item.in_transit or 0), "presold": int(item.presold or 0)}


def test_only_the_refunded_units_come_back_once_and_the_rest_ships(stocked):
    assert apply(event(OrderEventKind.PAID, 5))["status"] == "applied"      # wh-a 3, wh-b 2
    assert counters(stocked) == {"wh-a": (3, 3, 0), "wh-b": (3, 2, 1)}

    outcome = apply(event(OrderEventKind.PART_CANCELLED, 3, delivery="refund-1"))
    assert outcome["status"] == "applied" and outcome["duplicate"] is False
    assert outcome["released"] == [{"sku": SKU, "warehouse_id": "wh-a", "qty": 3}]
    assert counters(stocked) == {"wh-a": (3, 0, 3), "wh-b": (3, 2, 1)}
    held = reservation()
    assert held.status == "committed"
    assert [(a.warehouse_id, int(a.qty)) for a in held.allocations] == [("wh-b", 2)]
    assert [(line.sku, int(line.qty)) for line in held.lines] == [(SKU, 2)]

    # The same refund read again (an overlapping poll window): its marker makes it a duplicate.
    again = apply(event(OrderEventKind.PART_CANCELLED, 3, delivery="refund-1"), NOW + 1)
    assert again["duplicate"] is True
    assert counters(stocked) == {"wh-a": (3, 0, 3), "wh-b": (3, 2, 1)}

    assert apply(event(OrderEventKind.SHIPPED, 5), NOW + 2)["status"] == "applied"   # ships what is left
    assert counters(stocked) == {"wh-a": (3, 0, 3), "wh-b": (1, 0, 1)}
    assert_ledger_replays()


def test_two_refunds_that_take_everything_release_the_order_and_extra_units_are_never_released(stocked):
    apply(event(OrderEventKind.PAID, 2))                                        # wh-a 2
    first = apply(event(OrderEventKind.PART_CANCELLED, 1, delivery="refund-1"))
    assert first["released"] == [{"sku": SKU, "warehouse_id": "wh-a", "qty": 1}]
    last = apply(event(OrderEventKind.PART_CANCELLED, 4, delivery="refund-2"), NOW + 1)
    assert (last["status"], last["action"], last["reservation_status"]) == ("applied", "release", "released")
    assert counters(stocked) == {"wh-a": (3, 0, 3), "wh-b": (3, 0, 3)}
    late = apply(event(OrderEventKind.PART_CANCELLED, 1, delivery="refund-3"), NOW + 2)
    assert late["status"] == "skipped" and "released" in late["reason"]
    assert counters(stocked) == {"wh-a": (3, 0, 3), "wh-b": (3, 0, 3)}
    assert_ledger_replays()


@pytest.mark.parametrize("steps, reason", [
    ([OrderEventKind.PAID, OrderEventKind.SHIPPED], "a refund after shipment restocks only as a return"),
    ([], "no reservation for order"),
])
def test_a_part_cancellation_of_an_order_not_reserved_moves_nothing(stocked, steps, reason):
    for step in steps:
        apply(event(step, 2))
    before = counters(stocked)
    outcome = apply(event(OrderEventKind.PART_CANCELLED, 1, delivery="refund-1"), NOW + 5)
    assert outcome["status"] == "skipped" and reason in outcome["reason"]
    assert counters(stocked) == before


def test_the_store_refuses_a_part_release_planned_from_a_stale_read(stocked):
    """Two refunds planned from the same read: the second finds the reservation changed and writes nothing."""
    from stocklink.domain.stock import Movement
    from stocklink.store.models import AllocationMap, LineMap
    from stocklink.store.transactions import StockOp, StockTransaction, TransactionRefused

    apply(event(OrderEventKind.PAID, 3))
    stale = reservation()

    def release_one(now_ms: int) -> None:
        txn = StockTransaction(actor="test", source="test", reason="part", now_ms=now_ms)
        txn.shrink_reservation(stale, [AllocationMap(sku=SKU, warehouse_id="wh-a", qty=2)], [LineMap(sku=SKU, qty=2)])
        txn.stock(StockOp(SKU, "wh-a", Movement.RELEASE, 1))
        txn.commit()

    release_one(NOW + 1)
    with pytest.raises(TransactionRefused) as refused:
        release_one(NOW + 2)
    assert refused.value.reservation_refused
    assert counters(stocked)["wh-a"] == (3, 2, 1)
    assert_ledger_replays()


def test_concurrent_part_cancellations_are_each_applied_once(stocked):
    """Refunds of one order applied at once: each re-reads after a refusal, none takes another's units."""
    from concurrent.futures import ThreadPoolExecutor

    apply(event(OrderEventKind.PAID, 6))                                        # wh-a 3, wh-b 3
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda i: apply(event(OrderEventKind.PART_CANCELLED, 1, delivery=f"r{i}"),
                                                 NOW + 1 + i), range(4)))
    assert [o["status"] for o in outcomes] == ["applied"] * 4
    assert sum(int(a.qty) for a in reservation().allocations) == 2
    assert sum(c[1] for c in counters(stocked).values()) == 2
    assert_ledger_replays()


def test_presold_units_go_back_first_as_presale_room(shipped):
    """A presale order (units sold against stock on its way) refunded in part: its presold units go back as
    presale room first, then units on hand; presold and presale_arrived replay from the ledger."""
    from stocklink.domain.stock import Line, ReservationStatus
    from stocklink.logic import inventory, reservations
    from stocklink.logic.reservations import ReservationRequest
    from stocklink.store import repository
    from tests.integration.test_presale import WITHIN_3_DAYS

    rid = "lazada:shop-1:O-9"
    request = ReservationRequest(reservation_id=rid, channel="lazada:shop-1", lines=(Line(SKU, 8),), fingerprint=rid,
                                 source="lazada:shop-1", hold_seconds=900, owner="lazada:shop-1")
    reservations.reserve(request, actor="lazada:shop-1", now_ms=NOW, status=ReservationStatus.COMMITTED,
                         presale=WITHIN_3_DAYS)
    presold = sum(int(i.presold or 0) for i in repository.stock_items(SKU))
    assert presold == 2                                                         # 6 on hand + 2 on their way

    outcome = apply(event(OrderEventKind.PART_CANCELLED, 3, delivery="refund-1", order="O-9"), NOW + 1)
    assert outcome["status"] == "applied"
    items = repository.stock_items(SKU)
    assert sum(int(i.presold or 0) for i in items) == 0                         # the presold units first
    assert sum(int(i.reserved) for i in items) == 5                             # then one unit on hand
    assert sum(int(a.presold or 0) for a in reservation("O-9").allocations) == 0
    for item in items:
        assert inventory.replay_ledger(SKU, item.warehouse_id) == {
            k: int(getattr(item, k) or 0) for k in ("on_hand", "reserved", "available", "in_transit", "presold")}
        assert inventory.replay_presale_arrived(SKU, item.warehouse_id) == int(item.presale_arrived or 0)


def test_a_part_release_planned_from_a_stale_read_reads_again_and_takes_only_what_is_left(stocked, monkeypatch):
    """Another refund of the order lands between this one's read and its write: the write is refused, the
    order read again, and only units still held are released (never one twice)."""
    from stocklink.logic import orders
    from stocklink.store import repository

    apply(event(OrderEventKind.PAID, 3))                                        # wh-a 3
    stale = reservation()
    apply(event(OrderEventKind.PART_CANCELLED, 2, delivery="refund-1"), NOW + 1)
    reads, fresh = [], repository.get_reservation

    def read_once_stale(rid):
        reads.append(rid)
        return stale if len(reads) == 1 else fresh(rid)

    monkeypatch.setattr(orders.repository, "get_reservation", read_once_stale)
    outcome = apply(event(OrderEventKind.PART_CANCELLED, 2, delivery="refund-2"), NOW + 2)
    monkeypatch.undo()
    assert len(reads) >= 2                                      # refused once, then read again
    # read again: 1 unit left, the refund of 2 takes it and the order is released whole
    assert (outcome["status"], outcome["reservation_status"]) == ("applied", "released")
    assert counters(stocked)["wh-a"] == (3, 0, 3)
    assert_ledger_replays()

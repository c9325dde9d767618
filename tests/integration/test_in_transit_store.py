"""In-transit stock in the store (moto): units on their way count in in_transit, arrive into on_hand, and
are dropped (rejected, lost, cancelled) from in_transit only; every change has its ledger entry and the
ledger replays the counters exactly. The guards refuse arriving more than is on the way and moving units
out that are reserved."""
import pytest

from stocklink.domain.stock import Movement
from stocklink.logic import inventory
from stocklink.store import repository
from stocklink.store.transactions import StockOp, StockTransaction, TransactionRefused
from stocklink.time import now_ms

SKU = "TEE-RED-M"


def _counters(wh):
    item = next(i for i in repository.stock_items(SKU) if i.warehouse_id == wh)
    return int(item.on_hand), int(item.reserved), int(item.available), int(item.in_transit)


def _apply(*ops, source="test"):
    txn = StockTransaction(actor="buyer", source=source, reason="test", now_ms=now_ms())
    for op in ops:
        txn.stock(op)
    txn.commit()


def _replays(wh):
    on_hand, reserved, available, in_transit = _counters(wh)
    assert inventory.replay_ledger(SKU, wh) == {"on_hand": on_hand, "reserved": reserved, "available": available,
                                                "in_transit": in_transit, "presold": 0}


def test_units_on_the_way_arrive_or_drop_and_the_ledger_replays(stocked):
    _apply(StockOp(SKU, "wh-a", Movement.TRANSIT_IN, 10))
    assert _counters("wh-a") == (3, 0, 3, 10)
    _apply(StockOp(SKU, "wh-a", Movement.TRANSIT_ARRIVE, 6), StockOp(SKU, "wh-a", Movement.TRANSIT_DROP, 1))
    assert _counters("wh-a") == (9, 0, 9, 3)
    entries = [e for e in repository.ledger_entries(SKU, "wh-a") if e.movement.startswith("transit")]
    assert sorted((e.movement, int(e.in_transit_delta), int(e.on_hand_delta)) for e in entries) == [
        ("transit_arrive", -6, 6), ("transit_drop", -1, 0), ("transit_in", 10, 0)]
    _replays("wh-a")


def test_arriving_more_than_is_on_the_way_is_refused_and_writes_nothing(stocked):
    _apply(StockOp(SKU, "wh-a", Movement.TRANSIT_IN, 2))
    before = len(repository.ledger_entries(SKU, "wh-a"))
    with pytest.raises(TransactionRefused):
        _apply(StockOp(SKU, "wh-a", Movement.TRANSIT_ARRIVE, 2), StockOp(SKU, "wh-a", Movement.TRANSIT_DROP, 1))
    assert _counters("wh-a") == (3, 0, 3, 2)
    assert len(repository.ledger_entries(SKU, "wh-a")) == before


def test_a_transfer_moves_only_unreserved_units(stocked, storefront):
    answer = storefront.post("/reservations", {"reservation_id": "web-1", "channel": "web",
                                               "lines": [{"sku": SKU, "qty": 2}]})
    assert answer.status == 201, answer.body
    assert _counters("wh-a") == (3, 2, 1, 0)
    with pytest.raises(TransactionRefused):   # 2 reserved of 3: only 1 may leave
        _apply(StockOp(SKU, "wh-a", Movement.TRANSFER_OUT, 2), StockOp(SKU, "wh-b", Movement.TRANSIT_IN, 2))
    assert (_counters("wh-a"), _counters("wh-b")) == ((3, 2, 1, 0), (3, 0, 3, 0))
    _apply(StockOp(SKU, "wh-a", Movement.TRANSFER_OUT, 1), StockOp(SKU, "wh-b", Movement.TRANSIT_IN, 1))
    assert (_counters("wh-a"), _counters("wh-b")) == ((2, 2, 0, 0), (3, 0, 3, 1))
    _apply(StockOp(SKU, "wh-b", Movement.TRANSIT_ARRIVE, 1))
    assert _counters("wh-b") == (4, 0, 4, 0)
    _replays("wh-a")
    _replays("wh-b")


def test_units_on_their_way_to_a_new_warehouse_create_its_stock_item_with_every_counter(stocked, staff):
    staff.put("/warehouses/wh-c", {"name": "Yiwu C", "region": "cn-east", "priority": 3})
    _apply(StockOp(SKU, "wh-c", Movement.TRANSIT_IN, 5))
    item = next(i for i in repository.stock_items(SKU) if i.warehouse_id == "wh-c")
    assert item.attribute_values.keys() >= {"on_hand", "reserved", "available", "in_transit"}
    assert _counters("wh-c") == (0, 0, 0, 5)
    _replays("wh-c")

"""200 buyers race for 120 units on DynamoDB Local: the conditional writes must never oversell."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from stocklink.domain.requests import ReceiptIn, ReservationIn, SkuIn, WarehouseIn
from stocklink.errors import InsufficientStock
from stocklink.logic import catalog, inventory, storefront
from stocklink.store import repository
from stocklink.time import now_ms


def _seed(warehouses: dict[str, int]):
    now = now_ms()
    catalog.put_sku("HOT-1", SkuIn(name="Best-seller"), now)
    for priority, (warehouse_id, qty) in enumerate(warehouses.items()):
        catalog.put_warehouse(warehouse_id, WarehouseIn(name=warehouse_id, priority=priority), now)
        inventory.receive(ReceiptIn(warehouse_id=warehouse_id, reference=f"PO-{warehouse_id}",
                                    lines=[{"sku": "HOT-1", "qty": qty}]), actor="test", now_ms=now)


def _race(buyers: int, threads: int, qty: int = 1):
    def buy(i: int):
        try:
            status, body = storefront.hold(ReservationIn(reservation_id=f"buyer-{i}", channel="web",
                                                         lines=[{"sku": "HOT-1", "qty": qty}]),
                                           actor="web", now_ms=now_ms())
            return status, body
        except InsufficientStock as refused:
            return 409, refused.body()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(buy, range(buyers)))


def _assert_ledger_reproduces_stock(sku: str):
    items = repository.stock_items(sku)
    assert items
    for item in items:
        replayed = inventory.replay_ledger(sku, item.warehouse_id)
        assert replayed == {"on_hand": item.on_hand, "reserved": item.reserved, "available": item.available,
                            "in_transit": item.in_transit, "presold": item.presold}


def test_200_concurrent_holds_against_120_units(local_tables):
    _seed({"wh-a": 120})
    results = _race(buyers=200, threads=32)
    held = [body for status, body in results if status == 201]
    refused = [body for status, body in results if status == 409]
    assert len(held) == 120 and len(refused) == 80
    assert all(body["error"] == "insufficient_stock" and body["sku"] == "HOT-1" for body in refused)
    item = repository.stock_items("HOT-1")[0]
    assert (item.on_hand, item.reserved, item.available) == (120, 120, 0)
    _assert_ledger_reproduces_stock("HOT-1")


def test_concurrent_holds_split_over_warehouses_never_oversell(local_tables):
    _seed({"wh-a": 7, "wh-b": 5, "wh-c": 11})
    results = _race(buyers=40, threads=16, qty=2)
    held = [body for status, body in results if status == 201]
    assert len(held) == 11  # 23 units, 2 per buyer: 11 holds, 1 unit left
    assert sum(a["qty"] for body in held for a in body["allocations"]) == 22
    items = {i.warehouse_id: i for i in repository.stock_items("HOT-1")}
    assert sum(i.available for i in items.values()) == 1
    assert all(i.available >= 0 and i.reserved + i.available == i.on_hand for i in items.values())
    _assert_ledger_reproduces_stock("HOT-1")

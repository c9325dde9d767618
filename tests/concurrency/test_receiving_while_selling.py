"""Receiving a purchase order while the same SKU sells, on DynamoDB Local: concurrent receipts of one PO
(some posted twice) and buyers' holds interleave freely; no unit is lost or counted twice, every receipt
is booked once, and the ledger replays every counter, in_transit included."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from stocklink.domain.purchase_requests import PoReceiptIn, PoShipIn, PoStatusIn, PurchaseOrderIn
from stocklink.domain.requests import ReceiptIn, ReservationIn, SkuIn, WarehouseIn
from stocklink.errors import InsufficientStock
from stocklink.logic import catalog, inventory, purchasing, storefront
from stocklink.store import purchasing as purchasing_store
from stocklink.store import repository
from stocklink.time import now_ms
from tests.purchasing_support import make_supplier

SKU = "HOT-PO"


def test_receipts_and_holds_racing_on_one_sku_lose_nothing(local_tables):
    now = now_ms()
    catalog.put_sku(SKU, SkuIn(name="Best-seller"), now)
    catalog.put_warehouse("wh-a", WarehouseIn(name="A", priority=1), now)
    make_supplier("acme")
    inventory.receive(ReceiptIn(warehouse_id="wh-a", reference="OPENING", lines=[{"sku": SKU, "qty": 20}]),
                      actor="test", now_ms=now)
    purchasing.create(PurchaseOrderIn.model_validate({"po_id": "PO-R", "supplier_id": "acme", "warehouse_id": "wh-a",
                                                      "lines": [{"sku": SKU, "qty": 100}]}), actor="b", now_ms=now)
    purchasing.change_status("PO-R", PoStatusIn(status="ordered"), actor="b", now_ms=now)
    purchasing.ship("PO-R", PoShipIn(eta="2026-12-20"), actor="b", now_ms=now)

    receipts = [PoReceiptIn.model_validate({"reference": f"GRN-{i}", "lines": [{"line": 1, "received": 10}]})
                for i in range(10)]
    work = [("receive", r) for r in receipts] + [("receive", r) for r in receipts[:4]] + \
           [("hold", i) for i in range(60)]
    assert len(work) == 74
    work = [work[(i * 31) % len(work)] for i in range(len(work))]   # interleaved (31 is coprime to 74)

    def run(job):
        kind, arg = job
        if kind == "receive":
            status, _ = purchasing.receive("PO-R", arg, actor="staff", now_ms=now_ms())
            return kind, status
        try:
            status, _ = storefront.hold(ReservationIn(reservation_id=f"buyer-{arg}", channel="web",
                                                      lines=[{"sku": SKU, "qty": 1}]), actor="web", now_ms=now_ms())
            return kind, status
        except InsufficientStock:
            return kind, 409

    assert len({str(job) for job in work}) == 70     # every job still there after the shuffle
    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(run, work))

    receipt_statuses = sorted(s for k, s in outcomes if k == "receive")
    assert receipt_statuses.count(201) == 10 and receipt_statuses.count(200) == 4
    held = sum(1 for k, s in outcomes if k == "hold" and s == 201)
    item = next(i for i in repository.stock_items(SKU) if i.warehouse_id == "wh-a")
    assert (int(item.on_hand), int(item.in_transit)) == (120, 0)
    assert int(item.reserved) == held and int(item.available) == 120 - held
    assert inventory.replay_ledger(SKU, "wh-a") == {"on_hand": 120, "reserved": held, "available": 120 - held,
                                                    "in_transit": 0, "presold": 0}
    po = purchasing.get("PO-R")
    assert po["status"] == "received" and po["lines"][0]["received"] == 100
    assert purchasing_store.inbound_for(SKU) == []

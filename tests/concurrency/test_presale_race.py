"""Presale orders racing on DynamoDB Local: concurrent orders of a presale channel, and receipts of the purchase
order they presell, interleave freely; the orders never take more than the units on hand plus those due within
the window, presold never exceeds what is on its way, and the ledger replays every counter, presold included.
Then every order ships while the last units arrive: a presale order ships only out of the units that arrived
for presale orders (two racing for the same arrived units: one ships, the other is refused until more come)."""
from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from stocklink.domain.presale import PresaleOrder
from stocklink.domain.purchase_requests import PoReceiptIn, PoShipIn, PoStatusIn, PurchaseOrderIn
from stocklink.domain.requests import ReceiptIn, SkuIn, WarehouseIn
from stocklink.domain.stock import Line, ReservationAction, ReservationStatus
from stocklink.errors import InsufficientStock, PresaleNotArrived
from stocklink.logic import catalog, inventory, purchasing, reservations
from stocklink.logic.reservations import ReservationRequest
from stocklink.store import repository
from stocklink.time import now_ms
from tests.purchasing_support import make_supplier

SKU = "HOT-PRESALE"
ON_HAND, SOON, LATER = 5, 20, 10
ORDERS = 40


def test_presale_orders_never_take_more_than_the_room_while_units_arrive(local_tables):
    now = now_ms()
    today = dt.datetime.fromtimestamp(now / 1000, dt.UTC).date()
    catalog.put_sku(SKU, SkuIn(name="Pre-order hit"), now)
    catalog.put_warehouse("wh-a", WarehouseIn(name="A", priority=1), now)
    make_supplier("acme")
    inventory.receive(ReceiptIn(warehouse_id="wh-a", reference="OPENING", lines=[{"sku": SKU, "qty": ON_HAND}]),
                      actor="test", now_ms=now)
    for po_id, qty, days in (("PO-SOON", SOON, 2), ("PO-LATER", LATER, 40)):
        purchasing.create(PurchaseOrderIn.model_validate({"po_id": po_id, "supplier_id": "acme", "warehouse_id": "wh-a",
                                                          "lines": [{"sku": SKU, "qty": qty}]}), actor="b", now_ms=now)
        purchasing.change_status(po_id, PoStatusIn(status="ordered"), actor="b", now_ms=now)
        purchasing.ship(po_id, PoShipIn(eta=(today + dt.timedelta(days=days)).isoformat()), actor="b", now_ms=now)
    presale = PresaleOrder(today + dt.timedelta(days=7))          # PO-SOON is due within it, PO-LATER is not

    work = [("order", i) for i in range(ORDERS)] + [("receive", i) for i in range(3)]
    work = [work[(i * 17) % len(work)] for i in range(len(work))]  # interleaved (17 is coprime to 43)
    assert len({str(job) for job in work}) == len(work)

    def run(job):
        kind, n = job
        if kind == "receive":
            receipt = PoReceiptIn.model_validate({"reference": f"GRN-{n}", "lines": [{"line": 1, "received": 4}]})
            return kind, purchasing.receive("PO-SOON", receipt, actor="staff", now_ms=now_ms())[0]
        request = ReservationRequest(reservation_id=f"pre-{n}", channel="tiktok:s1", lines=(Line(SKU, 1),),
                                     fingerprint=f"pre-{n}", source="tiktok:s1", hold_seconds=900, owner="tiktok:s1")
        try:
            reservations.reserve(request, actor="tiktok:s1", now_ms=now_ms(), status=ReservationStatus.COMMITTED,
                                 presale=presale)
            return kind, 201
        except InsufficientStock:
            return kind, 409

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(run, work))

    assert sorted(s for k, s in outcomes if k == "receive") == [201, 201, 201]
    sold = sum(1 for k, s in outcomes if k == "order" and s == 201)
    assert sold == ON_HAND + SOON                    # every unit due within the window sold, none beyond it
    item = next(i for i in repository.stock_items(SKU) if i.warehouse_id == "wh-a")
    counters = {k: int(getattr(item, k)) for k in ("on_hand", "reserved", "available", "in_transit", "presold")}
    arrived = 3 * 4
    assert counters == {"on_hand": ON_HAND + arrived, "reserved": ON_HAND + arrived, "available": 0,
                        "in_transit": SOON + LATER - arrived, "presold": SOON - arrived}
    # every order's units are reserved on hand or presold, each presold one backed by a unit due in the window
    held = [repository.get_reservation(f"pre-{n}") for n in range(ORDERS)]
    assert sum(int(a.qty) for r in held if r is not None for a in r.allocations) == \
        counters["reserved"] + counters["presold"]
    assert counters["presold"] <= SOON - arrived
    assert inventory.replay_ledger(SKU, "wh-a") == counters

    _ship_while_the_last_units_arrive(held, now)


def _ship_while_the_last_units_arrive(held: list, now: int) -> None:
    sold = [r for r in held if r is not None]
    work = [("ship", r.reservation_id) for r in sold] + [("receive", f"GRN-{n}") for n in (3, 4)]
    work = [work[(i * 7) % len(work)] for i in range(len(work))]  # interleaved (7 is coprime to 27)
    assert len(set(work)) == len(sold) + 2

    def run(job):
        kind, name = job
        if kind == "receive":
            receipt = PoReceiptIn.model_validate({"reference": name, "lines": [{"line": 1, "received": 4}]})
            return kind, name, purchasing.receive("PO-SOON", receipt, actor="staff", now_ms=now_ms())[0]
        try:
            reservations.transition(name, ReservationAction.SHIP, actor="staff", now_ms=now_ms())
            return kind, name, 200
        except PresaleNotArrived:
            return kind, name, 409

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(run, work))

    item = next(i for i in repository.stock_items(SKU) if i.warehouse_id == "wh-a")
    presold_of = {r.reservation_id: sum(int(a.presold or 0) for a in r.allocations) for r in sold}
    shipped = [name for kind, name, status in outcomes if kind == "ship" and status == 200]
    fills = sum(int(e.qty) for e in repository.ledger_entries(SKU, "wh-a") if e.movement == "presale_fill")
    # the pool of arrived units: every fill in, every shipped presale order's units out, never below zero
    assert int(item.presale_arrived) == fills - sum(presold_of[name] for name in shipped) >= 0
    assert int(item.presale_arrived) == inventory.replay_presale_arrived(SKU, "wh-a")
    refused = [name for kind, name, status in outcomes if kind == "ship" and status == 409]
    assert all(presold_of[name] > 0 for name in refused)          # only presale orders ever wait
    for name in refused:                                           # every unit has arrived by now
        reservations.transition(name, ReservationAction.SHIP, actor="staff", now_ms=now_ms())
    item = next(i for i in repository.stock_items(SKU) if i.warehouse_id == "wh-a")
    counters = {k: int(getattr(item, k)) for k in ("on_hand", "reserved", "available", "in_transit", "presold")}
    assert counters == {"on_hand": 0, "reserved": 0, "available": 0, "in_transit": LATER, "presold": 0}
    assert int(item.presale_arrived) == 0 and inventory.replay_ledger(SKU, "wh-a") == counters

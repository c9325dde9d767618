"""First paid wins under concurrency, on DynamoDB Local: paid orders of several channels race for units that
unpaid holds have, while some holds are paid, cancelled or paid by their platform at the same moment.
Whatever the interleaving: no unit is allocated twice, every hold is either intact (its units counted) or
released (its units not counted), never both, a paid reservation is never released, and the ledger replays."""
from __future__ import annotations

import random
import threading
import time

import pytest

from stocklink.channels.base import OrderEvent, OrderEventKind, OrderLine
from stocklink.domain.requests import ReceiptIn, ReservationIn, SkuIn, WarehouseIn
from stocklink.domain.stock import ReservationAction
from stocklink.errors import InvalidTransition
from stocklink.logic import catalog, inventory, orders, storefront
from stocklink.logic.reservations import transition
from stocklink.store import repository
from stocklink.time import now_ms

SKU, CASE = "LAST-1", "CASE-1"
STOCK = {"wh-a": 8, "wh-b": 4}


def _order(platform, shop, order_id, *, paid, kind=OrderEventKind.CREATED, qty=2):
    return OrderEvent(platform, shop, str(order_id), kind, (OrderLine("listing", qty, seller_sku=SKU),),
                      delivery_id=f"d-{order_id}-{kind.value}", paid=paid)


def _seed() -> tuple[list[str], list[str]]:
    """12 units of SKU, every one of them held, one unit per hold: storefront holds web-0..5 (web-1 also
    holds a CASE) and unpaid TikTok orders t-0..5. Returns (storefront hold ids, tiktok reservation ids)."""
    t = now_ms()
    catalog.put_sku(SKU, SkuIn(name="last units"), t)
    catalog.put_sku(CASE, SkuIn(name="case"), t)
    for priority, (warehouse_id, qty) in enumerate(STOCK.items()):
        catalog.put_warehouse(warehouse_id, WarehouseIn(name=warehouse_id, priority=priority), t)
        inventory.receive(ReceiptIn(warehouse_id=warehouse_id, reference=f"PO-{warehouse_id}",
                                    lines=[{"sku": SKU, "qty": qty}, {"sku": CASE, "qty": 10}]), actor="test", now_ms=t)
    web, tiktok = [], []
    for i in range(6):
        extra = [{"sku": CASE, "qty": 1}] if i == 1 else []
        storefront.hold(ReservationIn(reservation_id=f"web-{i}", channel="web",
                                      lines=[{"sku": SKU, "qty": 1}, *extra]), actor="web", now_ms=now_ms())
        web.append(f"web-{i}")
        outcome = orders.apply_order_event(_order("tiktok", "tt", f"t-{i}", paid=False, qty=1), now_ms())
        assert outcome["reservation_status"] == "held", outcome
        tiktok.append(f"tiktok:tt:t-{i}")
    assert sum(i.available for i in repository.stock_items(SKU)) == 0
    return web, tiktok


def _race(tasks: dict[str, callable]) -> dict[str, object]:
    barrier = threading.Barrier(len(tasks))
    results: dict[str, object] = {}

    def go(name, task):
        barrier.wait()
        try:
            results[name] = task()
        except BaseException as exc:  # noqa: BLE001 - checked below
            results[name] = exc

    threads = [threading.Thread(target=go, args=item) for item in tasks.items()]
    for th in threads:
        th.start()
    for th in threads:
        th.join(180)
    assert len(results) == len(tasks), "a racer did not finish"
    return results


def _later(seed: int, task):
    """The task after a jitter of up to 0.4 s, so hold payments land among the paid orders' transactions."""
    delay = random.Random(seed).uniform(0, 0.4)
    return lambda: (time.sleep(delay), task())[1]


def _commit(rid):
    try:
        return transition(rid, ReservationAction.COMMIT, actor="web", now_ms=now_ms()).status
    except InvalidTransition as refused:       # preempted before the buyer paid: the hold is gone
        return f"refused:{refused.details.get('status')}"


@pytest.mark.parametrize("seed", [1, 2])
def test_paid_orders_racing_for_held_units_never_allocate_a_unit_twice(local_tables, seed):
    published = local_tables
    web, tiktok = _seed()
    paid = [("shopify", "s1", n) for n in range(1, 5)] + [("shopify", "s2", n) for n in range(5, 8)] + \
           [("tiktok", "tt", "t-9")]
    tasks = {f"paid:{p}:{s}:{o}": (lambda p=p, s=s, o=o: orders.apply_order_event(_order(p, s, o, paid=True),
                                                                                 now_ms()))
             for p, s, o in paid}
    tasks.update({f"commit:{rid}": _later(seed * 100 + n, lambda rid=rid: _commit(rid))
                  for n, rid in enumerate(("web-0", "web-3", "web-5"))})
    tasks["cancel:web-1"] = _later(seed * 100 + 9, lambda: transition(
        "web-1", ReservationAction.RELEASE, actor="web", now_ms=now_ms(), reason="storefront release").status)
    tasks.update({f"tiktok-paid:t-{i}": _later(seed * 100 + 10 + i, lambda i=i: orders.apply_order_event(
        _order("tiktok", "tt", f"t-{i}", paid=True, kind=OrderEventKind.PAID, qty=1), now_ms())) for i in (0, 2, 4)})

    results = _race(tasks)
    errors = {name: r for name, r in results.items() if isinstance(r, BaseException)}
    assert not errors, errors

    # every paid order is either committed or recorded as an oversell, never skipped or lost
    for name, outcome in results.items():
        if name.startswith(("paid:", "tiktok-paid:")):
            assert outcome["status"] in ("applied", "oversold"), (name, outcome)
            assert outcome["duplicate"] is False

    paid_ids = [f"{p}:{s}:{o}" for p, s, o in paid]
    reservations = {rid: repository.get_reservation(rid) for rid in web + tiktok + paid_ids}
    live = {rid: r for rid, r in reservations.items() if r is not None and r.status in ("held", "committed")}

    # counters: never below zero, never more allocated than on hand, exactly the live reservations' units
    for sku in (SKU, CASE):
        for item in repository.stock_items(sku):
            assert item.available >= 0 and item.reserved + item.available == item.on_hand
            counted = sum(int(a.qty) for r in live.values() for a in r.allocations
                          if (a.sku, a.warehouse_id) == (sku, item.warehouse_id))
            assert counted == item.reserved, (sku, item.warehouse_id, counted, item.reserved)
            assert inventory.replay_ledger(sku, item.warehouse_id) == {
                "on_hand": item.on_hand, "reserved": item.reserved, "available": item.available,
                "in_transit": item.in_transit, "presold": item.presold}
    assert sum(item.on_hand for item in repository.stock_items(SKU)) == sum(STOCK.values())

    # every hold is intact or released, and released ones are accounted for
    records = {e.reservation_id: e for e in repository.events_with_status("preempted", 500)}

    def paid_again_after_preemption(rid: str) -> bool:
        """A TikTok hold taken by another paid order, whose own payment then found free units (a cancelled
        hold's) and reserved them anew: committed, and its preemption record rightly stays."""
        name = f"tiktok-paid:{rid.rsplit(':', 1)[1]}"
        return name in results and results[name]["status"] == "applied" and reservations[rid].status == "committed"

    for rid in web + tiktok:
        hold = reservations[rid]
        assert hold.status in ("held", "committed", "released"), (rid, hold.status)
        preempted = hold.status == "released" and (hold.status_reason or "").startswith("preempted by paid order")
        if rid in records:
            assert preempted or paid_again_after_preemption(rid), (rid, hold.status, hold.status_reason)
        else:
            assert not preempted, (rid, hold.status_reason)
    for rid, record in records.items():
        taker = reservations[record.outcome["by_reservation_id"]]
        assert taker.status == "committed"                               # the paid order that took it
        assert record.outcome["channel"] != record.outcome["by_channel"]  # never its own channel
        assert reservations[rid].status == "released" or paid_again_after_preemption(rid)
    assert sorted(d["reservation_id"] for t, d in published if t == "reservation.preempted") == sorted(records)

    # a hold the buyer managed to pay stays paid: a paid reservation is never preempted
    for rid in ("web-0", "web-3", "web-5"):
        if results[f"commit:{rid}"] == "committed":
            assert reservations[rid].status == "committed"
        else:
            assert results[f"commit:{rid}"] == "refused:released" and rid in records
    for name in ("tiktok-paid:t-0", "tiktok-paid:t-2", "tiktok-paid:t-4"):
        rid = f"tiktok:tt:{name.rsplit(':', 1)[1]}"
        if results[name]["status"] == "applied":
            assert reservations[rid].status == "committed"
    for rid in paid_ids:
        assert reservations[rid].status in ("committed", "oversold")
        if reservations[rid].status == "committed":
            assert sum(int(a.qty) for a in reservations[rid].allocations) == 2

    # the race did what it is about: demand (8 paid orders of 2 + 6 payments of holds of 1) beyond the 12 units
    assert records, "no hold was preempted"
    assert any(r["status"] == "oversold" for n, r in results.items() if n.startswith("paid:"))
    assert sum(int(a.qty) for r in live.values() if r.status == "committed" for a in r.allocations
               if a.sku == SKU) <= sum(STOCK.values())

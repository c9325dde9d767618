"""A storefront token's open-hold count under races, on DynamoDB Local with 40 % of transactions cancelled
as conflicts (tests/transaction_conflicts.py): exactly the limit is held, every other hold is refused with
429 and writes nothing, and the count follows the holds as they end, however they end (expiry sweep,
commit, release, staff action, a paid order taking them), whichever of two racing ends wins."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from stocklink.channels.base import OrderEvent, OrderEventKind, OrderLine
from stocklink.domain.requests import ReceiptIn, ReservationIn, SkuIn, StaffActionIn, WarehouseIn
from stocklink.domain.stock import ReservationAction, ReservationStatus
from stocklink.errors import StockLinkError
from stocklink.logic import catalog, inventory, orders, reservations, storefront
from stocklink.store import repository
from stocklink.time import now_ms
from tests.transaction_conflicts import ConflictInjector

LIMIT = 20


def _outcome(call) -> str:
    """What one racing action ended with: done, or the refusal's code (losing a race is a 409). A 503 (busy:
    nothing written) is sent again, as a client or platform does."""
    for _ in range(10):
        try:
            call()
            return "done"
        except StockLinkError as exc:
            if exc.status != 503:
                return exc.code
        time.sleep(0.5)
    return "busy"


def test_concurrent_holds_of_one_token_stop_exactly_at_its_limit(local_tables, monkeypatch):
    t = now_ms()
    catalog.put_sku("S-1", SkuIn(name="s"), t)
    catalog.put_warehouse("wh-a", WarehouseIn(name="A"), t)
    inventory.receive(ReceiptIn(warehouse_id="wh-a", reference="PO-1", lines=[{"sku": "S-1", "qty": 500}]),
                      actor="test", now_ms=t)
    ConflictInjector(0.4).install(monkeypatch)
    limits = storefront.HoldLimits(max_open_holds=LIMIT)

    def hold(i: int) -> str:
        return _outcome(lambda: storefront.hold(
            ReservationIn(reservation_id=f"h-{i}", channel="web", lines=[{"sku": "S-1", "qty": 1}]),
            actor="front", now_ms=now_ms(), limits=limits))

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(hold, range(60)))
    assert answers.count("done") == LIMIT and answers.count("too_many_requests") == 60 - LIMIT
    assert repository.open_holds("front") == LIMIT
    (item,) = repository.stock_items("S-1")
    assert (int(item.reserved), int(item.available)) == (LIMIT, 500 - LIMIT)

    held = [f"h-{i}" for i, answer in enumerate(answers) if answer == "done"]
    with ThreadPoolExecutor(max_workers=16) as pool:
        released = list(pool.map(lambda rid: _outcome(lambda: storefront.move(
            rid, ReservationAction.RELEASE, actor="front", now_ms=now_ms())), held[:5]))
    assert released == ["done"] * 5
    assert repository.open_holds("front") == LIMIT - 5


def _held_by(owner: str, ids: list[str]) -> int:
    return sum(1 for rid in ids if (r := repository.get_reservation(rid)) is not None
               and r.status == ReservationStatus.HELD.value and r.owner == owner)


def test_the_count_stays_exact_when_expiry_commit_release_staff_and_preemption_race(local_tables, monkeypatch):
    """40 holds of one token, each raced by two ways of ending it: the sweep and a release (expired holds), a
    commit and a release, a staff release and a commit, a paid order taking holds and a commit. Whatever
    wins, each hold is uncounted exactly once: the count ends at 0 and the token can then open exactly its
    limit again."""
    t = now_ms()
    catalog.put_warehouse("wh-a", WarehouseIn(name="A"), t)
    for sku, units in (("S-1", 30), ("S-2", 10)):   # S-2: only the holds paid orders race for
        catalog.put_sku(sku, SkuIn(name=sku), t)
        inventory.receive(ReceiptIn(warehouse_id="wh-a", reference=f"PO-{sku}", lines=[{"sku": sku, "qty": units}]),
                          actor="test", now_ms=t)
    limits = storefront.HoldLimits(max_open_holds=40)
    ids = [f"h-{i}" for i in range(40)]
    for i, rid in enumerate(ids):    # h-0..h-9 expire at once; every unit is then held
        storefront.hold(ReservationIn(reservation_id=rid, channel="web",
                                      lines=[{"sku": "S-1" if i < 30 else "S-2", "qty": 1}],
                                      hold_seconds=1 if i < 10 else 600), actor="front", now_ms=now_ms(),
                        limits=limits)
    assert repository.open_holds("front") == 40
    time.sleep(2.1)
    injector = ConflictInjector(0.4).install(monkeypatch)

    def move(rid: str, action: ReservationAction):
        return lambda: storefront.move(rid, action, actor="front", now_ms=now_ms())

    def staff_release(rid: str):
        return lambda: storefront.staff_action(rid, StaffActionIn(action="release", reason="phoned, cancelled"),
                                               actor="alice", now_ms=now_ms())

    def paid_order(n: int):
        event = OrderEvent("shopify", "shop-1", str(n), OrderEventKind.CREATED,
                           (OrderLine("l", 1, seller_sku="S-2"),), delivery_id=f"d-{n}", paid=True)
        return lambda: orders.apply_order_event(event, now_ms())

    # The paid orders start first: half of their holds' commits race them, half come last (taken by then).
    racers = [paid_order(i) for i in range(30, 40)] + [move(rid, ReservationAction.COMMIT) for rid in ids[30:35]]
    for i, rid in enumerate(ids[:30]):
        if i < 10:
            racers += [lambda: reservations.release_expired(now_ms()), move(rid, ReservationAction.RELEASE)]
        elif i < 20:
            racers += [move(rid, ReservationAction.COMMIT), move(rid, ReservationAction.RELEASE)]
        else:
            racers += [staff_release(rid), move(rid, ReservationAction.COMMIT)]
    racers += [move(rid, ReservationAction.COMMIT) for rid in ids[35:]]
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(_outcome, racers))
    assert set(outcomes) <= {"done", "invalid_transition"}, outcomes
    assert _held_by("front", ids) == 0
    preempted = [r for r in ids[30:] if repository.get_reservation(r).status_reason.startswith("preempted")]
    assert preempted, "no paid order took a hold: the preemption path was not exercised"
    assert repository.open_holds("front") == 0
    for sku in ("S-1", "S-2"):
        (item,) = repository.stock_items(sku)
        assert inventory.replay_ledger(sku, "wh-a") == {
            "on_hand": item.on_hand, "reserved": item.reserved, "available": item.available,
            "in_transit": item.in_transit, "presold": item.presold}

    # exact, not merely non-negative: with 0 counted the token opens exactly its limit again
    injector.rate = 0      # the restock is set-up, not part of the race
    inventory.receive(ReceiptIn(warehouse_id="wh-a", reference="PO-2", lines=[{"sku": "S-1", "qty": 100}]),
                      actor="test", now_ms=now_ms())
    injector.rate = 0.4

    def hold_again(i: int) -> str:
        return _outcome(lambda: storefront.hold(
            ReservationIn(reservation_id=f"again-{i}", channel="web", lines=[{"sku": "S-1", "qty": 1}]),
            actor="front", now_ms=now_ms(), limits=limits))

    with ThreadPoolExecutor(max_workers=16) as pool:
        again = list(pool.map(hold_again, range(50)))
    assert (again.count("done"), again.count("too_many_requests")) == (40, 10)
    assert repository.open_holds("front") == 40

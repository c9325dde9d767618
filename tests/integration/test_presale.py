"""Presale (预售) on moto: orders of a presale channel presell units on their way within its window, each presold
unit backed by one unit in transit; the receipt turns them into reserved units on hand in its own transaction;
a drop that presold units depend on is refused; a presale order ships only out of the units that arrived for
presale orders (a platform's ship event before that is recorded for a person); the ledger replays exactly."""
import datetime as dt

import pytest

from stocklink.domain.presale import PresaleOrder
from stocklink.domain.purchase_requests import PoReceiptIn, PoShipIn, PoStatusIn, PurchaseOrderIn
from stocklink.domain.stock import Line, ReservationAction, ReservationStatus
from stocklink.errors import InsufficientStock, PresaleNotArrived, PresoldInTransit
from stocklink.logic import inventory, purchasing, reservations
from stocklink.logic.reservations import ReservationRequest
from stocklink.store import repository
from tests.purchasing_support import make_supplier

SKU = "TEE-RED-M"
NOW = 1_796_000_000_000                       # 2026-11-30
TODAY = dt.date(2026, 11, 30)
WITHIN_3_DAYS = PresaleOrder(TODAY + dt.timedelta(days=3))


@pytest.fixture
def shipped(stocked):
    """wh-a: 3 on hand; PO-1 ships 5 to wh-a due in 2 days, PO-2 ships 4 due in 20 days."""
    make_supplier("acme")
    for po_id, qty, eta in (("PO-1", 5, "2026-12-02"), ("PO-2", 4, "2026-12-20")):
        purchasing.create(PurchaseOrderIn.model_validate({"po_id": po_id, "supplier_id": "acme", "warehouse_id": "wh-a",
                                                          "lines": [{"sku": SKU, "qty": qty, "unit_price": 6.5}]}),
                          actor="buyer", now_ms=NOW)
        purchasing.change_status(po_id, PoStatusIn(status="ordered"), actor="buyer", now_ms=NOW)
        purchasing.ship(po_id, PoShipIn(eta=eta), actor="buyer", now_ms=NOW)
    return stocked


def _request(rid, qty, source="shopify:acme"):
    return ReservationRequest(reservation_id=rid, channel=source, lines=(Line(SKU, qty),), fingerprint=rid,
                              source=source, hold_seconds=900, owner=source)


def _reserve(rid, qty, presale=WITHIN_3_DAYS, status=ReservationStatus.COMMITTED):
    return reservations.reserve(_request(rid, qty), actor="shopify:acme", now_ms=NOW, status=status,
                                presale=presale).reservation


def _item(wh="wh-a"):
    return next(i for i in repository.stock_items(SKU) if i.warehouse_id == wh)


def _counters(wh="wh-a"):
    item = _item(wh)
    return {k: int(getattr(item, k)) for k in ("on_hand", "reserved", "available", "in_transit", "presold")}


def _replays():
    for item in repository.stock_items(SKU):
        assert inventory.replay_ledger(SKU, item.warehouse_id) == {
            k: int(getattr(item, k)) for k in ("on_hand", "reserved", "available", "in_transit", "presold")}
        assert inventory.replay_presale_arrived(SKU, item.warehouse_id) == int(item.presale_arrived or 0)


def _receive(reference, qty, now_ms=NOW + 1):
    purchasing.receive("PO-1", PoReceiptIn.model_validate({"reference": reference, "lines": [
        {"line": 1, "received": qty}]}), actor="staff", now_ms=now_ms)


def _ship(rid, now_ms=NOW + 10):
    return reservations.transition(rid, ReservationAction.SHIP, actor="staff", now_ms=now_ms)


def test_an_order_short_of_available_presells_the_shortfall_within_the_window(shipped):
    held = _reserve("o-1", 9)          # 6 available (3 + 3) + 3 of the 5 due in 2 days
    assert sorted((a.warehouse_id, int(a.qty), int(a.presold or 0)) for a in held.allocations) == [
        ("wh-a", 6, 3), ("wh-b", 3, 0)]
    assert _counters() == {"on_hand": 3, "reserved": 3, "available": 0, "in_transit": 9, "presold": 3}
    _replays()


def test_units_beyond_the_window_are_never_presold(shipped):
    _reserve("o-1", 6 + 5)              # everything available and all 5 due within 3 days
    with pytest.raises(InsufficientStock):
        _reserve("o-2", 1)              # the 4 due in 20 days stay out of a 3-day window
    assert _counters()["presold"] == 5
    _reserve("o-3", 2, presale=PresaleOrder(TODAY + dt.timedelta(days=30)))   # a 30-day window sells them
    assert _counters()["presold"] == 7
    _replays()


def test_without_presale_an_order_never_touches_units_on_their_way(shipped):
    with pytest.raises(InsufficientStock):
        _reserve("o-1", 7, presale=None)
    assert _counters()["presold"] == 0


def test_room_first_presells_before_taking_units_on_hand(shipped):
    held = _reserve("o-1", 2, presale=PresaleOrder(WITHIN_3_DAYS.horizon, room_first=True))
    assert [(a.warehouse_id, int(a.qty), int(a.presold)) for a in held.allocations] == [("wh-a", 2, 2)]
    assert _counters()["available"] == 3


def test_the_receipt_turns_presold_units_into_reserved_units_on_hand(shipped):
    _reserve("o-1", 6 + 4)              # 4 presold against PO-1's 5
    purchasing.receive("PO-1", PoReceiptIn.model_validate({"reference": "R-1", "lines": [{"line": 1, "received": 3}]}),
                       actor="staff", now_ms=NOW + 1)
    # 3 arrived: all taken by the presale order, none available
    assert _counters() == {"on_hand": 6, "reserved": 6, "available": 0, "in_transit": 6, "presold": 1}
    purchasing.receive("PO-1", PoReceiptIn.model_validate({"reference": "R-2", "lines": [{"line": 1, "received": 2}]}),
                       actor="staff", now_ms=NOW + 2)
    assert _counters() == {"on_hand": 8, "reserved": 7, "available": 1, "in_transit": 4, "presold": 0}
    fills = [e for e in repository.ledger_entries(SKU, "wh-a") if e.movement == "presale_fill"]
    assert [(int(e.qty), e.source) for e in fills] == [(3, "po#PO-1#1"), (1, "po#PO-1#1")]
    _replays()
    # the order ships as any other: its units are reserved on hand now
    reservations.transition("o-1", ReservationAction.SHIP, actor="staff", now_ms=NOW + 3)
    assert _counters() == {"on_hand": 1, "reserved": 0, "available": 1, "in_transit": 4, "presold": 0}
    _replays()


def test_dropping_units_presold_units_depend_on_is_refused_and_writes_nothing(shipped):
    _reserve("o-1", 6 + 5)                  # 5 presold of the 9 on their way
    before = _counters()
    with pytest.raises(PresoldInTransit) as refused:
        purchasing.receive("PO-1", PoReceiptIn.model_validate({"reference": "R-1", "lines": [
            {"line": 1, "rejected": 5, "reject_reason": "crushed"}]}), actor="staff", now_ms=NOW + 1)
    assert refused.value.status == 409 and refused.value.details["unbacked"] == 1     # 5 presold, 4 left coming
    assert _counters() == before
    assert purchasing.get("PO-1")["lines"][0]["rejected"] == 0
    # rejecting 1 of them leaves 8 on their way for the 5 presold: allowed
    purchasing.receive("PO-1", PoReceiptIn.model_validate({"reference": "R-2", "lines": [
        {"line": 1, "rejected": 1, "reject_reason": "crushed"}]}), actor="staff", now_ms=NOW + 1)
    assert _counters()["in_transit"] == 8
    _replays()


def test_closing_a_po_whose_units_are_presold_is_refused(shipped):
    _reserve("o-1", 6 + 5)                                   # 5 presold: PO-2's 4 alone cannot back them
    with pytest.raises(PresoldInTransit):
        purchasing.change_status("PO-1", PoStatusIn(status="closed"), actor="buyer", now_ms=NOW + 1)
    assert purchasing.get("PO-1")["status"] == "shipped" and _counters()["in_transit"] == 9
    reservations.transition("o-1", ReservationAction.RELEASE, actor="staff", now_ms=NOW + 2)
    purchasing.change_status("PO-1", PoStatusIn(status="closed"), actor="buyer", now_ms=NOW + 3)
    assert _counters() == {"on_hand": 3, "reserved": 0, "available": 3, "in_transit": 4, "presold": 0}
    _replays()


def test_a_release_gives_presold_units_back_as_room_and_arrived_ones_back_on_hand(shipped):
    _reserve("o-1", 6 + 4)
    purchasing.receive("PO-1", PoReceiptIn.model_validate({"reference": "R-1", "lines": [{"line": 1, "received": 3}]}),
                       actor="staff", now_ms=NOW + 1)
    assert _counters()["presold"] == 1
    reservations.transition("o-1", ReservationAction.RELEASE, actor="staff", now_ms=NOW + 2)
    # 1 still on its way goes back to presale room; the 3 + 3 on hand in wh-a become available again
    assert _counters() == {"on_hand": 6, "reserved": 0, "available": 6, "in_transit": 6, "presold": 0}
    assert _counters("wh-b")["available"] == 3
    _replays()


def test_an_expired_presale_hold_is_released_by_the_sweep(shipped):
    _reserve("o-1", 7, status=ReservationStatus.HELD)
    assert _counters()["presold"] == 1
    released = reservations.release_expired(NOW + 901_000)
    assert released == ["o-1"]
    assert _counters()["presold"] == 0 and _counters()["available"] == 3
    _replays()


def test_a_picked_transfer_presold_units_depend_on_cannot_be_cancelled_but_its_receipt_fills_them(stocked):
    from stocklink.domain.purchase_requests import TransferActionIn, TransferIn, TransferReceiveIn
    from stocklink.logic import transfers

    transfers.create(TransferIn.model_validate({"transfer_id": "TR-1", "from_warehouse": "wh-b", "to_warehouse": "wh-a",
                                                "lines": [{"sku": SKU, "qty": 3}]}), actor="staff", now_ms=NOW)
    transfers.pick("TR-1", TransferActionIn(), actor="staff", now_ms=NOW)      # due in the lane's default days
    _reserve("o-1", 3 + 2, presale=PresaleOrder(TODAY + dt.timedelta(days=30)))
    with pytest.raises(PresoldInTransit):
        transfers.cancel("TR-1", TransferActionIn(), actor="staff", now_ms=NOW + 1)
    assert transfers.get("TR-1")["status"] == "picked"
    transfers.receive("TR-1", TransferReceiveIn.model_validate({"lines": [{"line": 1, "received": 3}]}),
                      actor="staff", now_ms=NOW + 2)
    assert _counters() == {"on_hand": 6, "reserved": 5, "available": 1, "in_transit": 0, "presold": 0}
    _replays()


def test_a_presale_order_ships_only_once_its_presold_units_arrived_and_a_refusal_writes_nothing(shipped):
    _reserve("o-1", 6 + 4)                               # 4 presold against PO-1's 5
    before, entries = _counters(), len(repository.ledger_entries(SKU, "wh-a"))
    with pytest.raises(PresaleNotArrived) as refused:
        _ship("o-1")
    assert refused.value.status == 409 and refused.value.code == "presale_not_arrived"
    assert refused.value.details["not_arrived"] == 4 and refused.value.details["warehouse_id"] == "wh-a"
    assert _counters() == before and len(repository.ledger_entries(SKU, "wh-a")) == entries
    assert repository.get_reservation("o-1").status == "committed"
    _receive("R-1", 3)
    with pytest.raises(PresaleNotArrived) as refused:    # 3 of the 4 arrived: still not the whole order
        _ship("o-1")
    assert refused.value.details["not_arrived"] == 1 and int(_item().presale_arrived) == 3
    _receive("R-2", 2)
    assert _ship("o-1").status == "shipped"
    assert _counters() == {"on_hand": 1, "reserved": 0, "available": 1, "in_transit": 4, "presold": 0}
    assert int(_item().presale_arrived) == 0
    ships = [(e.movement, int(e.qty)) for e in repository.ledger_entries(SKU, "wh-a") if "ship" in e.movement]
    assert sorted(ships) == [("presale_ship", 4), ("ship", 3)]     # wh-a: the 4 arrived and its 3 on hand
    _replays()


def test_arrived_units_go_to_the_presale_order_shipped_first_never_to_another_orders_units(shipped):
    _reserve("o-shelf", 6, presale=None)                 # every unit on hand, no presale
    _reserve("o-1", 2)
    _reserve("o-2", 2)                                   # 4 presold against PO-1's 5
    _receive("R-1", 2)                                   # 2 arrive: for either presale order
    assert _ship("o-2").status == "shipped"             # packed first, takes them
    with pytest.raises(PresaleNotArrived):
        _ship("o-1")                                     # the shelf's 3 at wh-a are o-shelf's
    assert _ship("o-shelf").status == "shipped"
    assert _counters() == {"on_hand": 0, "reserved": 0, "available": 0, "in_transit": 7, "presold": 2}
    reservations.transition("o-1", ReservationAction.RELEASE, actor="staff", now_ms=NOW + 20)
    assert _counters()["presold"] == 0 and int(_item().presale_arrived) == 0
    _replays()


def test_a_platform_ship_event_before_arrival_is_recorded_for_a_person_and_never_lost(shipped, monkeypatch):
    from stocklink.channels.base import OrderEvent, OrderEventKind, OrderLine
    from stocklink.logic import orders

    rid = "shopify:acme:1001"
    reservations.reserve(_request(rid, 6 + 1), actor="shopify:acme", now_ms=NOW,
                         status=ReservationStatus.COMMITTED, presale=WITHIN_3_DAYS)
    published = []
    monkeypatch.setattr(orders.bus, "publish", lambda kind, details: published.append((kind, details)))
    event = OrderEvent("shopify", "acme", "1001", OrderEventKind.SHIPPED, (OrderLine("v-1", 7),), "d-ship-1")
    before = _counters()
    outcome = orders.apply_order_event(event, NOW + 5)
    assert outcome["status"] == "needs_attention" and "presale_not_arrived" in outcome["reason"]
    assert _counters() == before and repository.get_reservation(rid).status == "committed"
    recorded = repository.get_event(event.event_key)
    assert recorded.status_index == "needs_attention" and recorded.detail["lines"] == [{"sku": SKU, "qty": 7}]
    assert [(kind, details[0]["reservation_id"]) for kind, details in published] == [
        ("order.needs_attention", rid)]
    again = OrderEvent("shopify", "acme", "1001", OrderEventKind.SHIPPED, (OrderLine("v-1", 7),), "d-ship-2")
    assert orders.apply_order_event(again, NOW + 6)["duplicate"] is True      # a redelivery changes nothing
    _receive("R-1", 1)                                   # the person ships it once the unit is received
    assert _ship(rid).status == "shipped"
    _replays()


def test_a_paid_presale_order_released_after_part_arrived_takes_its_whole_sale_back(shipped):
    from stocklink.logic import sales_history
    from stocklink.time import now_ms
    from tests.integration.test_forecasting_service import counter

    later = now_ms()                                     # after the fixture's opening receipts (the stream's cursor)
    _reserve("o-1", 6 + 4)                               # paid: wh-a 3 on hand + 4 presold
    wh_a = sales_history.counters_for(SKU, "wh-a", None, sales_history.day_of(NOW))[1]
    sales_history.count_stream(SKU, "wh-a", later)
    assert counter(*wh_a) == 7
    _receive("R-1", 3, now_ms=later + 1)
    reservations.transition("o-1", ReservationAction.RELEASE, actor="staff", now_ms=later + 2)
    released = sorted((e.movement, int(e.qty)) for e in repository.ledger_entries(SKU, "wh-a")
                      if e.movement.startswith(("release", "presale_release")))
    assert released == [("presale_release", 1), ("presale_release_arrived", 3), ("release", 3)]
    sales_history.count_stream(SKU, "wh-a", later + 3)
    assert counter(*wh_a) == 0                           # each of the three releases takes its units back
    _replays()

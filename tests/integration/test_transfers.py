"""Transfers on moto: lanes, each step's counters and ledger (replayed exactly), reserved units that stay,
short receipts with a reason, cancel after pick, and the suggestion that prevents a projected stock-out
from where orders were actually fulfilled."""
import datetime as dt

import pytest

from stocklink.domain.purchase_requests import LaneIn, TransferActionIn, TransferIn, TransferReceiveIn
from stocklink.errors import InsufficientStock, InvalidTransition, NotFound, ValidationFailed
from stocklink.logic import inventory, transfers
from stocklink.store import purchasing as inbound_store
from stocklink.store import repository

SKU = "TEE-RED-M"
NOW = 1_796_000_000_000


def _counters(wh, sku=SKU):
    item = next(i for i in repository.stock_items(sku) if i.warehouse_id == wh)
    return int(item.on_hand), int(item.reserved), int(item.available), int(item.in_transit)


def _replays(*warehouses):
    for wh in warehouses:
        on_hand, reserved, available, in_transit = _counters(wh)
        assert inventory.replay_ledger(SKU, wh) == {"on_hand": on_hand, "reserved": reserved,
                                                    "available": available, "in_transit": in_transit, "presold": 0}


def _transfer(qty=2, transfer_id="TR-1"):
    return transfers.create(TransferIn.model_validate({"transfer_id": transfer_id, "from_warehouse": "wh-b",
                                                       "to_warehouse": "wh-a", "lines": [{"sku": SKU, "qty": qty}]}),
                            actor="staff-1", now_ms=NOW)


def test_pick_then_receive_moves_units_through_transit_with_the_lanes_eta(stocked):
    transfers.put_lane("wh-b", "wh-a", LaneIn(transit_days=3, cost_per_unit=0.5), NOW)
    assert transfers.list_lanes()["lanes"][0]["transit_days"] == 3
    draft = _transfer()
    assert (draft["status"], draft["transit_days"], draft["cost_per_unit"]) == ("draft", 3, 0.5)
    picked = transfers.pick("TR-1", TransferActionIn(), actor="staff-1", now_ms=NOW)
    assert picked["status"] == "picked" and picked["eta"] == "2026-12-03"        # NOW is 2026-11-30
    assert (_counters("wh-b"), _counters("wh-a")) == ((1, 0, 1, 0), (3, 0, 3, 2))
    assert [(i["warehouse_id"], i["qty"], i["kind"]) for i in inbound_store.inbound_for(SKU)] == [
        ("wh-a", 2, "transfer")]
    done = transfers.receive("TR-1", TransferReceiveIn(), actor="staff-2", now_ms=NOW + 1)
    assert done["status"] == "received" and done["lines"][0]["received"] == 2
    assert (_counters("wh-b"), _counters("wh-a")) == ((1, 0, 1, 0), (5, 0, 5, 0))
    assert inbound_store.inbound_for(SKU) == []
    movements = sorted(e.movement for w in ("wh-a", "wh-b") for e in repository.ledger_entries(SKU, w)
                       if e.source == "tr#TR-1#1")
    assert movements == ["transfer_out", "transit_arrive", "transit_in"]
    _replays("wh-a", "wh-b")


def test_a_short_receipt_records_the_loss_and_its_reason(stocked):
    _transfer(qty=3)
    transfers.pick("TR-1", TransferActionIn(), actor="s", now_ms=NOW)
    with pytest.raises(ValidationFailed):       # short without a reason
        transfers.receive("TR-1", TransferReceiveIn.model_validate({"lines": [{"line": 1, "received": 2}]}),
                          actor="s", now_ms=NOW)
    assert _counters("wh-a") == (3, 0, 3, 3)     # nothing written
    transfers.receive("TR-1", TransferReceiveIn.model_validate(
        {"lines": [{"line": 1, "received": 2, "loss_reason": "carton damaged"}]}), actor="s", now_ms=NOW)
    assert _counters("wh-a") == (5, 0, 5, 0) and _counters("wh-b") == (0, 0, 0, 0)
    assert any(e.reason == "lost in transfer: carton damaged" for e in repository.ledger_entries(SKU, "wh-a"))
    _replays("wh-a", "wh-b")


def test_reserved_units_stay_and_the_pick_is_refused_whole(stocked, storefront):
    _transfer(qty=2)
    # two of wh-b's three units held by a buyer: wh-a first (priority), so hold 5 to reach into wh-b
    assert storefront.post("/reservations", {"reservation_id": "web-1", "channel": "web",
                                             "lines": [{"sku": SKU, "qty": 5}]}).status == 201
    with pytest.raises(InsufficientStock) as refused:
        transfers.pick("TR-1", TransferActionIn(), actor="s", now_ms=NOW)
    assert refused.value.available == 1
    assert (_counters("wh-b"), _counters("wh-a")) == ((3, 2, 1, 0), (3, 3, 0, 0))
    assert transfers.get("TR-1")["status"] == "draft"


def test_cancel_after_pick_puts_units_back_where_they_left(stocked):
    _transfer()
    transfers.pick("TR-1", TransferActionIn(), actor="s", now_ms=NOW)
    cancelled = transfers.cancel("TR-1", TransferActionIn(note="truck cancelled"), actor="s", now_ms=NOW)
    assert cancelled["status"] == "cancelled" and cancelled["history"][-1]["note"] == "truck cancelled"
    assert (_counters("wh-b"), _counters("wh-a")) == ((3, 0, 3, 0), (3, 0, 3, 0))
    assert inbound_store.all_inbound() == []
    with pytest.raises(InvalidTransition):
        transfers.receive("TR-1", TransferReceiveIn(), actor="s", now_ms=NOW)
    _replays("wh-a", "wh-b")


def test_bad_transfers_are_refused_and_nothing_written(stocked):
    for body in ({"from_warehouse": "wh-a", "to_warehouse": "wh-a"}, {"from_warehouse": "nowhere", "to_warehouse": "wh-a"}):
        with pytest.raises((ValidationFailed, NotFound)):
            transfers.create(TransferIn.model_validate({**body, "transfer_id": "TR-X", "lines": [{"sku": SKU, "qty": 1}]}),
                             actor="s", now_ms=NOW)
    with pytest.raises(NotFound):
        transfers.pick("TR-X", TransferActionIn(), actor="s", now_ms=NOW)


def test_a_suggestion_moves_stock_to_the_warehouse_that_runs_out_from_where_orders_shipped(stocked):
    from stocklink.store.sales_models import put_counters
    from stocklink.store.keys import sales_pk
    staff = stocked
    staff.post("/stock/receipts", {"warehouse_id": "wh-b", "lines": [{"sku": SKU, "qty": 297}], "reference": "BIG"})
    today = dt.date(2026, 12, 7)
    days = [(today - dt.timedelta(days=d)).isoformat() for d in range(0, 28)]
    # wh-a fulfilled 2 a day (3 left: 1.5 days), wh-b 1 a day (300 left: 300 days)
    put_counters({**{(sales_pk(SKU, "wh-a"), d): 2 for d in days}, **{(sales_pk(SKU, "wh-b"), d): 1 for d in days}},
                 NOW)
    transfers.put_lane("wh-b", "wh-a", LaneIn(transit_days=2, cost_per_unit=0.4), NOW)
    found = transfers.suggestions({}, today)["suggestions"]
    assert [(s["from_warehouse"], s["to_warehouse"], s["qty"]) for s in found] == [("wh-b", "wh-a", 15)]   # 2 x 9 - 3
    assert found[0]["prevents_stockout_on"] == "2026-12-08" and found[0]["total_cost"] == 6.0
    keeping_more = transfers.suggestions({"donor_days": "295"}, today)["suggestions"]
    assert [s["qty"] for s in keeping_more] == [5]     # wh-b keeps 295 days of its own sales
    for bad in ("many", "00000000000", "nan", "-1"):       # the last two parse, but are no number of days
        with pytest.raises(ValidationFailed):
            transfers.suggestions({"donor_days": bad}, today)

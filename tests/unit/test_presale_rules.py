"""Presale rules (domain/presale.py and the display side of domain/allocation.py): the room of a window, the plan
that presells a shortfall, what an arrival fills and a release gives back, and what a presale listing shows."""
import datetime as dt

import pytest

from stocklink.domain.allocation import AllocationSettings, Component, ListingRef, plan_displays, presale_rooms
from stocklink.domain.presale import (IncomingStock, PresaleSettings, fill_on_arrival, plan_presale, release_split,
                                      not_arrived, shortfall_after_drop, unsold_arrivals)
from stocklink.domain.stock import Line, WarehouseStock, movement_deltas, Movement
from stocklink.errors import InsufficientStock

TODAY = dt.date(2026, 11, 30)
SOON, LATER = dt.date(2026, 12, 2), dt.date(2026, 12, 20)
INCOMING = IncomingStock(in_transit=9, presold=2, arrivals=((SOON, 5), (LATER, 4)))


def test_the_room_counts_units_due_within_the_window_less_every_unit_presold():
    assert INCOMING.room(TODAY + dt.timedelta(days=3)) == 5 - 2
    assert INCOMING.room(TODAY + dt.timedelta(days=30)) == 9 - 2
    assert INCOMING.room(None) == 0                                   # presale off
    assert IncomingStock(9, 8, ((SOON, 5), (LATER, 4))).room(SOON) == 0   # never negative
    assert IncomingStock(3, 0, ((SOON, 5),)).room(SOON) == 3          # never beyond in_transit
    assert IncomingStock(5, 0, ((None, 5),)).room(LATER) == 0         # no ETA: never sold before it arrives


def test_the_setting_is_off_by_default_and_validated():
    assert PresaleSettings().enabled is False and PresaleSettings().horizon(TODAY) is None
    assert PresaleSettings(True, 3).horizon(TODAY) == dt.date(2026, 12, 3)
    with pytest.raises(ValueError):
        PresaleSettings(True, -1)
    settings = AllocationSettings.from_dict({"rule": "shared", "presale": {"enabled": True, "within_days": 5}})
    assert settings.presale == PresaleSettings(True, 5)
    assert AllocationSettings.from_dict(settings.to_dict()) == settings
    assert AllocationSettings.from_dict({"rule": "shared"}).presale.enabled is False   # stored before presale


def test_a_plan_takes_available_first_and_presells_only_the_shortfall():
    stock = {"A": [WarehouseStock("wh-a", 2, 1), WarehouseStock("wh-b", 1, 2)]}
    incoming = {"A": {"wh-a": IncomingStock(5, 0, ((SOON, 5),))}}
    plan = plan_presale([Line("A", 5)], stock, incoming, SOON)
    assert [(a.warehouse_id, a.qty, a.presold) for a in plan] == [("wh-a", 4, 2), ("wh-b", 1, 0)]
    first = plan_presale([Line("A", 5)], stock, incoming, SOON, room_first=True)
    assert [(a.warehouse_id, a.qty, a.presold) for a in first] == [("wh-a", 5, 5)]
    with pytest.raises(InsufficientStock) as short:
        plan_presale([Line("A", 9)], stock, incoming, SOON)
    assert short.value.available == 3 + 5


def test_a_warehouse_with_only_units_on_their_way_is_planned_too():
    plan = plan_presale([Line("A", 2)], {"A": []}, {"A": {"wh-c": IncomingStock(4, 1, ((SOON, 4),))}}, SOON)
    assert [(a.warehouse_id, a.qty, a.presold) for a in plan] == [("wh-c", 2, 2)]


def test_arrivals_fill_presold_units_and_a_release_gives_back_what_is_still_presold():
    assert fill_on_arrival(presold=4, arriving=3) == 3 and fill_on_arrival(presold=1, arriving=3) == 1
    assert release_split(allocation_presold=4, item_presold=1) == 1     # 3 arrived: released on hand
    assert release_split(allocation_presold=2, item_presold=7) == 2
    assert shortfall_after_drop(in_transit=9, presold=5, leaving=5) == 1
    assert shortfall_after_drop(in_transit=9, presold=5, leaving=5, filled=5) == 0
    assert shortfall_after_drop(in_transit=9, presold=5, leaving=4) == 0


def test_presale_movements_keep_available_equal_to_on_hand_less_reserved():
    for movement in (Movement.PRESELL, Movement.PRESALE_RELEASE, Movement.PRESALE_FILL):
        d = movement_deltas(movement, 3)
        assert d.available == d.on_hand - d.reserved
    assert movement_deltas(Movement.PRESALE_FILL, 3).presold == -3 and movement_deltas(Movement.PRESELL, 3).presold == 3


def test_a_presale_listing_shows_available_plus_the_room_of_its_window():
    listings = [ListingRef("shopify#s1", "L1", (Component("A"),)), ListingRef("tiktok#s1", "L2", (Component("A"),)),
                ListingRef("lazada#s1", "L3", (Component("A", 2),))]
    settings = {"shopify#s1": AllocationSettings(presale=PresaleSettings(True, 3)),
                "tiktok#s1": AllocationSettings(buffer=1),
                "lazada#s1": AllocationSettings(presale=PresaleSettings(True, 30))}
    incoming = {"A": {"wh-a": INCOMING}}
    rooms = presale_rooms(settings, ["A"], settings, incoming, TODAY)
    assert rooms == {("shopify#s1", "A"): 3, ("lazada#s1", "A"): 7}
    shown = {d.channel: d.quantity for d in plan_displays(listings, settings, {"A": {"wh-a": 4}}, presale_room=rooms)}
    assert shown == {"shopify#s1": 4 + 3, "tiktok#s1": 4 - 1, "lazada#s1": (4 + 7) // 2}


def test_presale_room_on_top_of_a_quota_and_within_the_channels_warehouses():
    settings = {"q#1": AllocationSettings(rule="quota", ratio=0.5, presale=PresaleSettings(True, 3),
                                          warehouses=("wh-b",))}
    rooms = presale_rooms(settings, ["A"], settings, {"A": {"wh-a": INCOMING}, }, TODAY)
    assert rooms == {}                                     # its warehouse has nothing on its way
    rooms = presale_rooms(settings, ["A"], settings, {"A": {"wh-b": INCOMING}}, TODAY)
    shown = plan_displays([ListingRef("q#1", "L", (Component("A"),))], settings, {"A": {"wh-b": 4}},
                          presale_room=rooms)
    assert shown[0].quantity == 2 + 3


def test_at_risk_the_room_goes_to_presale_channels_only_and_others_never_spend_it():
    from stocklink.domain.last_units import ChannelDemand, RiskPolicy, plan_moves, split_by_demand

    on_hand, room = 4, 3
    channels = [ChannelDemand("presale", 0.0, 0, pool=on_hand + room, presale=True),
                ChannelDemand("fast", 2.0, 0, pool=on_hand), ChannelDemand("slow", 1.0, 0, pool=on_hand)]
    targets = split_by_demand(on_hand + room, channels, presale_room=room)
    assert sum(targets.values()) <= on_hand + room
    assert targets["fast"] + targets["slow"] <= on_hand and targets["presale"] >= room
    moves = plan_moves(on_hand + room, channels, RiskPolicy(absolute_refill_s=100), presale_room=room)
    assert moves["fast"] + moves["slow"] <= on_hand and sum(moves.values()) <= on_hand + room
    # a non-presale channel never raises into the room, even with the presale channel showing nothing
    quiet = [ChannelDemand("presale", 0.0, 0, pool=on_hand + room, presale=True),
             ChannelDemand("fast", 5.0, on_hand, pool=on_hand)]
    assert plan_moves(on_hand + room, quiet, RiskPolicy(absolute_refill_s=100), presale_room=room)["fast"] == on_hand


def test_unsold_arrivals_leave_out_the_presold_units_from_the_earliest_arrivals():
    undated = None
    arrivals = [(LATER, 4), (undated, 3), (SOON, 5)]
    assert unsold_arrivals(arrivals, 0) == [(SOON, 5), (LATER, 4), (undated, 3)]
    assert unsold_arrivals(arrivals, 7) == [(LATER, 2), (undated, 3)]     # the 5 due soon, then 2 of the later 4
    assert unsold_arrivals(arrivals, 10) == [(undated, 2)]                # lines short of presold: undated ones last
    assert unsold_arrivals(arrivals, 20) == []


def test_a_presale_order_ships_only_out_of_the_units_that_arrived_for_presale_orders():
    assert not_arrived(allocation_presold=4, item_arrived=0) == 4
    assert not_arrived(allocation_presold=4, item_arrived=3) == 1
    assert not_arrived(allocation_presold=4, item_arrived=9) == 0        # arrived for any presale order of the item
    assert not_arrived(allocation_presold=0, item_arrived=0) == 0        # nothing presold: ships as any order
    # shipping or releasing arrived presale units moves the counters as a ship or a release does
    assert movement_deltas(Movement.PRESALE_SHIP, 3) == movement_deltas(Movement.SHIP, 3)
    assert movement_deltas(Movement.PRESALE_RELEASE_ARRIVED, 3) == movement_deltas(Movement.RELEASE, 3)

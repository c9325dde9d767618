"""Presale (预售): a channel may sell units still on their way that arrive within N days. Pure: no I/O, no clock.

A stock item's `presold` units are sold against its `in_transit` ones, each backed by exactly one unit on its
way (presold <= in_transit, guarded by store.transactions). A channel with presale on may sell, per warehouse,
the *presale room* of its window: the units arriving by `today + within_days` (inbound lines with an ETA),
never more than in_transit, less every unit presold already (by any channel: presold units are assumed to be
the earliest arriving ones, so a short window never counts units a longer one took).

When the pool is short, a presale order takes what `available` has and the shortfall from the room
(`plan_presale`); while its SKU is at risk (the last-units guard splits it) it takes the room first, so the
on-hand units stay for the channels that cannot sell incoming stock (see domain/last_units.py). On arrival
presold units become reserved on-hand units in the receipt's own transaction (`fill_on_arrival`); a release
gives back presold units first (`release_split`).

Shipping before arrival. Presold units are counted per stock item, not per order: a receipt does not know, and
does not write, which presale orders its units are for. So the arrived units form one pool per stock item,
`presale_arrived` (reserved on hand for the item's presale orders), and a presale order may ship once the pool
holds its presold units: whichever presale order is packed first takes them, as on a warehouse floor (the
oldest order is not favoured; a seller who wants that ships in order). Until then shipping it is refused
(`not_arrived`, a 409 presale_not_arrived, nothing written), as it would ship another order's units on hand.
The pool is sound: it equals the presold units of open presale orders less the presold ones still on their
way, so the orders that stay open always account for every unit still coming; a release takes its units from
what is still on its way first (`release_split`) and the rest out of the pool. The guard is the ship
transaction's own condition (`presale_arrived >= presold units shipped`), never a read.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping, Sequence

from stocklink.domain.stock import Allocation, Line, WarehouseStock, merge_lines
from stocklink.errors import InsufficientStock

MAX_WITHIN_DAYS = 365


@dataclass(frozen=True)
class PresaleSettings:
    """A channel's presale setting (part of its allocation settings): off by default."""
    enabled: bool = False
    within_days: int = 7

    def __post_init__(self):
        if not 0 <= self.within_days <= MAX_WITHIN_DAYS:
            raise ValueError(f"presale within_days must be between 0 and {MAX_WITHIN_DAYS}")

    @staticmethod
    def from_dict(data: Mapping | None) -> "PresaleSettings":
        if not data:
            return PresaleSettings()
        return PresaleSettings(bool(data.get("enabled", False)), int(data.get("within_days", 7)))

    def to_dict(self) -> dict:
        return {"enabled": self.enabled, "within_days": self.within_days}

    def horizon(self, today: dt.date) -> dt.date | None:
        """The last ETA this channel may sell (None: presale off)."""
        return today + dt.timedelta(days=self.within_days) if self.enabled else None


@dataclass(frozen=True)
class IncomingStock:
    """One stock item's units on their way as read: in_transit and presold counters, and the inbound lines
    (ETA, units) they are made of. A line without an ETA is never sold before it arrives."""
    in_transit: int = 0
    presold: int = 0
    arrivals: tuple[tuple[dt.date | None, int], ...] = ()

    def backing(self, horizon: dt.date | None) -> int:
        """Units on their way that arrive by `horizon` (never more than in_transit)."""
        if horizon is None:
            return 0
        due = sum(max(0, qty) for eta, qty in self.arrivals if eta is not None and eta <= horizon)
        return max(0, min(due, self.in_transit))

    def room(self, horizon: dt.date | None) -> int:
        """Units a channel with this horizon may still presell here."""
        return max(0, self.backing(horizon) - max(0, self.presold))


def room_by_warehouse(incoming: Mapping[str, IncomingStock], horizon: dt.date | None,
                      warehouses: Sequence[str] | None = None) -> dict[str, int]:
    return {w: stock.room(horizon) for w, stock in incoming.items() if warehouses is None or w in warehouses}


def plan_presale(lines: Sequence[Line], stock: Mapping[str, list[WarehouseStock]],
                 incoming: Mapping[str, Mapping[str, IncomingStock]], horizon: dt.date,
                 *, room_first: bool = False) -> list[Allocation]:
    """Split each line over available units and presale room: available first (warehouses in priority order,
    as plan_allocations), then the room of the same warehouses; with `room_first` the other way round.
    InsufficientStock (naming available + room) when even both cannot cover a line."""
    plan: list[Allocation] = []
    for line in merge_lines(list(lines)):
        warehouses = sorted(stock.get(line.sku, []), key=lambda w: (w.priority, w.warehouse_id))
        rooms = {w: s.room(horizon) for w, s in incoming.get(line.sku, {}).items()}
        order = [w.warehouse_id for w in warehouses] + sorted(set(rooms) - {w.warehouse_id for w in warehouses})
        free = {w.warehouse_id: max(0, w.available) for w in warehouses}
        taken: dict[str, list[int]] = {}            # warehouse -> [reserved, presold]
        remaining = line.qty
        sources = (("room", "available") if room_first else ("available", "room"))
        for source in sources:
            for w in order:
                have = rooms.get(w, 0) if source == "room" else free.get(w, 0)
                take = min(remaining, have)
                if take > 0:
                    taken.setdefault(w, [0, 0])[1 if source == "room" else 0] += take
                    remaining -= take
        if remaining:
            raise InsufficientStock(line.sku, line.qty, sum(free.values()) + sum(rooms.values()))
        plan += [Allocation(line.sku, w, reserved + presold, presold)
                 for w in order if w in taken for reserved, presold in [taken[w]]]
    return plan


def unsold_arrivals(arrivals: Sequence[tuple[dt.date | None, int]], presold: int
                    ) -> list[tuple[dt.date | None, int]]:
    """A stock item's arrivals (ETA, units) less its `presold` units: those are sold already, so they never
    stretch a cover or put off a stock-out. Presold units are the earliest arriving ones (as `room` counts
    them), then, should the lines no longer account for them, the undated ones. Earliest first."""
    left = max(0, presold)
    out = []
    for eta, qty in sorted(arrivals, key=lambda a: (a[0] is None, a[0] or dt.date.max)):
        taken = min(left, max(0, qty))
        left -= taken
        if qty - taken > 0:
            out.append((eta, qty - taken))
    return out


def fill_on_arrival(presold: int, arriving: int) -> int:
    """Arriving units that presale orders take at once (they become reserved on hand, never available)."""
    return max(0, min(presold, arriving))


def release_split(allocation_presold: int, item_presold: int) -> int:
    """Of a released allocation's presold units, how many go back as presale room (the rest arrived already
    and are released on hand). Presold units are counted per stock item, not per order: any of its presale
    orders may be the one whose units arrived."""
    return max(0, min(allocation_presold, item_presold))


def not_arrived(allocation_presold: int, item_arrived: int) -> int:
    """Of an allocation's presold units, how many the stock item's pool of arrived ones cannot yet ship
    (0: it may ship)."""
    return max(0, allocation_presold - max(0, item_arrived))


def shortfall_after_drop(in_transit: int, presold: int, leaving: int, filled: int = 0) -> int:
    """Presold units a change would leave without a unit on its way behind them (0: the change may go):
    `leaving` units leave in_transit, `filled` presold ones of them are taken by their orders on arrival."""
    return max(0, (presold - filled) - (in_transit - leaving))


@dataclass(frozen=True)
class PresaleOrder:
    """How one order may presell: its channel's horizon, and whether the room goes first (SKU at risk)."""
    horizon: dt.date
    room_first: bool = False

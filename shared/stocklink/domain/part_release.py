"""Which reserved units go back when some lines of an order are cancelled or refunded before it ships.

A platform may refund one line (or a few units of it) of an order StockLink has reserved, held or paid, and
the rest of the order still ships (Taobao refunds one sub-order, Pinduoduo a share of an order's goods). Only
those units are released: each cancelled SKU is taken off the order's allocations of that SKU, presold units
first (they are not on hand yet: the units that stay reserved are the ones on the shelf, so the rest of the
order can ship sooner), each allocation at most what it holds; what no allocation holds any more (released
before, or never reserved) is named, never released twice. The store guards the plan against the
reservation as read (StockTransaction.shrink_reservation), so two part releases applied at once cannot both
take the same units.
"""
from __future__ import annotations

from dataclasses import dataclass

from stocklink.domain.stock import Line


@dataclass(frozen=True)
class HeldAllocation:
    """One allocation of a reserved (held or committed) order, as read."""

    index: int           # its position in the reservation's allocations (the store guards it by index)
    sku: str
    warehouse_id: str
    qty: int             # units it holds
    presold: int = 0     # of qty, units sold against stock in transit (domain/presale.py)


@dataclass(frozen=True)
class Release:
    """Units of one allocation going back to the pool: `presold` of them out of its presold units."""

    allocation: HeldAllocation
    qty: int
    presold: int = 0

    @property
    def on_hand(self) -> int:
        return self.qty - self.presold


@dataclass(frozen=True)
class PartReleasePlan:
    releases: tuple[Release, ...]
    not_held: tuple[Line, ...]         # cancelled beyond what the order still holds, per SKU

    def releases_everything(self, held: list[HeldAllocation]) -> bool:
        """True when the plan leaves the order nothing reserved (the whole order is released)."""
        taken = {r.allocation.index: r.qty for r in self.releases}
        return all(taken.get(a.index, 0) >= a.qty for a in held)


def plan_part_release(held: list[HeldAllocation], cancelled: list[Line]) -> PartReleasePlan:
    """Release each cancelled SKU from the order's allocations of it, presold units first, each allocation
    up to what it holds; the excess is named."""
    left_in = {a.index: a.qty for a in held}
    presold_in = {a.index: a.presold for a in held}
    taken: dict[int, list[int]] = {}                    # index -> [qty, presold]
    excess: dict[str, int] = {}
    for line in cancelled:
        left = line.qty
        for presold_pass in (True, False):
            for allocation in held:
                if allocation.sku != line.sku or left == 0:
                    continue
                room = presold_in[allocation.index] if presold_pass \
                    else left_in[allocation.index] - presold_in[allocation.index]
                take = min(left, room)
                if not take:
                    continue
                left_in[allocation.index] -= take
                if presold_pass:
                    presold_in[allocation.index] -= take
                counts = taken.setdefault(allocation.index, [0, 0])
                counts[0] += take
                counts[1] += take if presold_pass else 0
                left -= take
        if left:
            excess[line.sku] = excess.get(line.sku, 0) + left
    by_index = {a.index: a for a in held}
    return PartReleasePlan(tuple(Release(by_index[i], qty, presold) for i, (qty, presold) in sorted(taken.items())),
                           tuple(Line(sku, qty) for sku, qty in excess.items()))


def remaining_lines(lines: list[Line], released: list[Line]) -> list[Line]:
    """The order's lines once `released` units are gone (per SKU, in order; a line left with nothing is
    dropped): what the reservation records as ordered afterwards."""
    gone: dict[str, int] = {}
    for line in released:
        gone[line.sku] = gone.get(line.sku, 0) + line.qty
    out = []
    for line in lines:
        take = min(line.qty, gone.get(line.sku, 0))
        gone[line.sku] = gone.get(line.sku, 0) - take
        if line.qty - take:
            out.append(Line(line.sku, line.qty - take))
    return out

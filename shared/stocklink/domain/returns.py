"""How many returned units go back on the shelf: never more than the order shipped, whatever announces them.

A platform may announce one return several times, under different ids (Lazada pushes the reverse order and
the item status; Shopify a refund per restocked line), or announce more than it shipped (a broken or forged
payload). Each unit an order shipped can come back once: the plan restocks at most what each of the order's
allocations shipped and has not had back yet, into the warehouse it shipped from, and names the rest. The
store guards the same bound with a condition (StockTransaction.count_returned), so two returns applied at
once cannot both take the last room.
"""
from __future__ import annotations

from dataclasses import dataclass

from stocklink.domain.stock import Line


@dataclass(frozen=True)
class ShippedAllocation:
    """What one allocation of a shipped order sent out, and how much of it came back already."""

    index: int           # its position in the reservation's allocations (the store addresses it by index)
    sku: str
    warehouse_id: str
    qty: int             # units shipped from this warehouse
    returned: int = 0    # units restocked from returns so far

    @property
    def room(self) -> int:
        return max(0, self.qty - self.returned)


@dataclass(frozen=True)
class Restock:
    """Units of one allocation going back on hand in its warehouse."""

    allocation: ShippedAllocation
    qty: int


@dataclass(frozen=True)
class ReturnPlan:
    restock: tuple[Restock, ...]
    not_restocked: tuple[Line, ...]   # announced beyond what shipped and is not back yet, per SKU


def plan_return(shipped: list[ShippedAllocation], returned: list[Line]) -> ReturnPlan:
    """Restock each returned SKU into its allocations in order, each up to its room; the excess is named."""
    room = {a.index: a.room for a in shipped}
    restock: dict[int, int] = {}
    excess: dict[str, int] = {}
    for line in returned:
        left = line.qty
        for allocation in shipped:
            if allocation.sku != line.sku or left == 0:
                continue
            take = min(left, room[allocation.index])
            if take:
                room[allocation.index] -= take
                restock[allocation.index] = restock.get(allocation.index, 0) + take
                left -= take
        if left:
            excess[line.sku] = excess.get(line.sku, 0) + left
    by_index = {a.index: a for a in shipped}
    return ReturnPlan(tuple(Restock(by_index[i], qty) for i, qty in sorted(restock.items())),
                      tuple(Line(sku, qty) for sku, qty in excess.items()))

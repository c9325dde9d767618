"""First paid wins, the pure rule: which unpaid holds a paid order the pool cannot cover may take.

A paid order takes units of unpaid holds of *other* channels, the most recently created hold first, and
just enough of them: every hold it takes is released whole (it is an order that can no longer be filled),
so it takes no hold it does not need. Paid (committed) reservations, expired holds and holds of the order's
own channel are never taken. No I/O: logic reads the holds and writes the release in the paid order's own
guarded transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from stocklink.domain.stock import ReservationStatus


@dataclass(frozen=True)
class Hold:
    """A reservation as the rule sees it."""

    reservation_id: str
    channel: str
    status: ReservationStatus
    created_at: int                 # epoch ms
    expires_at: int | None          # epoch s (holds only)
    units: Mapping[str, int]        # sku -> units it reserves, over all warehouses
    allocations: int                # its (sku, warehouse) allocations
    counted: bool = False           # among its storefront owner's open holds (one more item to update)

    @property
    def transaction_items(self) -> int:
        """What releasing it adds to a transaction: its status update and its preemption record, its
        owner's open-hold count if it is counted, and per allocation a ledger entry and at most one counter
        update."""
        return 2 + int(self.counted) + 2 * self.allocations


def takeable(hold: Hold, *, channel: str, now_s: int) -> bool:
    """An unpaid hold of another channel whose time is not up. (An expired hold already reads as released;
    the sweep gives its units back.)"""
    return (hold.status is ReservationStatus.HELD and hold.expires_at is not None and hold.expires_at > now_s
            and hold.channel != channel)


def choose_holds(short: Mapping[str, int], holds: Iterable[Hold], *, channel: str, now_s: int,
                 budget: int) -> list[Hold] | None:
    """The holds a paid order of `channel` takes to cover `short` (sku -> units missing), newest first.

    Only holds carrying units of a SKU still short are taken, while their transaction items fit in
    `budget` (a hold that does not fit is passed over for an older one). A hold that a later one made
    unnecessary is given back, so no hold is released for nothing. None when the takeable holds cannot
    cover the shortfall: the order is an oversell.
    """
    remaining = {sku: n for sku, n in short.items() if n > 0}
    if not remaining:
        return []
    candidates = sorted((h for h in holds if takeable(h, channel=channel, now_s=now_s)),
                        key=lambda h: (-h.created_at, h.reservation_id))
    chosen: list[Hold] = []
    for hold in candidates:
        if not any(hold.units.get(sku, 0) > 0 for sku in remaining) or hold.transaction_items > budget:
            continue
        chosen.append(hold)
        budget -= hold.transaction_items
        remaining = {sku: n - hold.units.get(sku, 0) for sku, n in remaining.items()
                     if n - hold.units.get(sku, 0) > 0}
        if not remaining:
            return _without_unneeded(chosen, short)
    return None


def covers(holds: Iterable[Hold], short: Mapping[str, int]) -> bool:
    holds = list(holds)
    return all(sum(h.units.get(sku, 0) for h in holds) >= n for sku, n in short.items())


def _without_unneeded(chosen: list[Hold], short: Mapping[str, int]) -> list[Hold]:
    """Give back, newest first, every hold the others cover the shortfall without."""
    kept = list(chosen)
    for hold in chosen:
        rest = [h for h in kept if h is not hold]
        if covers(rest, short):
            kept = rest
    return kept

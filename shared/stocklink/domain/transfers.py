"""Transfers between warehouses as pure rules: the transfer order's states, what receiving it does, and the
suggestions that move stock from a warehouse with plenty to one about to run out.

A transfer's units go: picked at the source (on hand leaves it: transfer_out; only unreserved units) →
in transit to the destination → received there (transit_arrive), short units recorded as lost with a
reason (transit_drop), or the whole transfer cancelled (units back on hand at the source: transfer_back).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum

from stocklink.errors import InvalidTransition, ValidationFailed


class TransferStatus(StrEnum):
    DRAFT = "draft"
    PICKED = "picked"          # left the source, on its way
    RECEIVED = "received"
    CANCELLED = "cancelled"


_NEXT = {
    TransferStatus.DRAFT: frozenset({TransferStatus.PICKED, TransferStatus.CANCELLED}),
    TransferStatus.PICKED: frozenset({TransferStatus.RECEIVED, TransferStatus.CANCELLED}),
    TransferStatus.RECEIVED: frozenset(),
    TransferStatus.CANCELLED: frozenset(),
}


def check_transition(current: TransferStatus, target: TransferStatus) -> None:
    if target not in _NEXT[current]:
        allowed = ", ".join(sorted(_NEXT[current])) or "none (final)"
        raise InvalidTransition(f"a {current} transfer cannot become {target}; allowed: {allowed}",
                                status=str(current), requested=str(target))


@dataclass(frozen=True)
class TransferLine:
    line: int
    sku: str
    qty: int


@dataclass(frozen=True)
class LineArrival:
    line: int
    sku: str
    received: int
    lost: int
    loss_reason: str | None


def arrivals(lines: list[TransferLine], counted: dict[int, tuple[int, str | None]]) -> list[LineArrival]:
    """What receiving does per line: `counted` line → (received, loss reason); a line not counted arrived in
    full. Receiving more than was picked is refused; fewer needs a loss reason (the rest is lost)."""
    by_line = {line.line: line for line in lines}
    unknown = sorted(set(counted) - set(by_line))
    if unknown:
        raise ValidationFailed(f"no such line(s) on this transfer: {unknown}", lines=unknown)
    plan = []
    for line in lines:
        received, reason = counted.get(line.line, (line.qty, None))
        if received > line.qty:
            raise ValidationFailed(f"line {line.line} ({line.sku}): receiving {received}, {line.qty} were picked",
                                   line=line.line, picked=line.qty)
        lost = line.qty - received
        if lost and not (reason or "").strip():
            raise ValidationFailed(f"line {line.line} ({line.sku}): {lost} short; say why (loss_reason)",
                                   line=line.line, short=lost)
        plan.append(LineArrival(line.line, line.sku, received, lost, reason if lost else None))
    return plan


# --- suggestions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarehousePosition:
    """One SKU in one warehouse: what it can sell and how fast it sells there (units/day, from the orders
    that warehouse fulfilled). Of the units on their way, the presold ones are sold already (presale)."""

    warehouse_id: str
    available: int
    in_transit: int
    daily_demand: float
    presold: int = 0

    @property
    def incoming(self) -> int:
        """Units on their way that will still be there to sell: in transit less presold."""
        return max(0, self.in_transit - self.presold)


@dataclass(frozen=True)
class Lane:
    from_warehouse: str
    to_warehouse: str
    transit_days: float
    cost_per_unit: float | None = None


DEFAULT_TRANSIT_DAYS = 2.0


@dataclass(frozen=True)
class TransferSuggestion:
    sku: str
    from_warehouse: str
    to_warehouse: str
    qty: int
    transit_days: float
    cost_per_unit: float | None
    stockout_date: str              # when the destination runs out without the transfer
    days_of_cover_before: float
    days_of_cover_after: float
    donor_days_of_cover_after: float
    lane_configured: bool

    def as_dict(self) -> dict:
        total = None if self.cost_per_unit is None else round(self.cost_per_unit * self.qty, 2)
        return {"sku": self.sku, "from_warehouse": self.from_warehouse, "to_warehouse": self.to_warehouse,
                "qty": self.qty, "transit_days": self.transit_days, "cost_per_unit": self.cost_per_unit,
                "total_cost": total, "prevents_stockout_on": self.stockout_date,
                "days_of_cover_before": round(self.days_of_cover_before, 1),
                "days_of_cover_after": round(self.days_of_cover_after, 1),
                # a donor that sells nothing keeps endless cover: null, as JSON has no infinity
                "donor_days_of_cover_after": (round(self.donor_days_of_cover_after, 1)
                                              if math.isfinite(self.donor_days_of_cover_after) else None),
                "lane_configured": self.lane_configured}


def suggest(sku: str, positions: list[WarehousePosition], lanes: dict[tuple[str, str], Lane], *, lead_time_days: float,
            donor_min_days: float, today: dt.date) -> list[TransferSuggestion]:
    """"Move X from B to A" for one SKU: A runs out within the lead time (its available plus what is on its
    way and not presold, over its own daily demand), B keeps more than `donor_min_days` of cover. X brings A
    to cover the lead time plus the transit, never takes B below `donor_min_days`, and goes over the cheapest
    lane (then the fastest); donors are used richest first until A is covered."""
    def cover(p: WarehousePosition, extra: int = 0) -> float:
        return math.inf if p.daily_demand <= 0 else (p.available + p.incoming + extra) / p.daily_demand

    short = sorted((p for p in positions if p.daily_demand > 0 and cover(p) < lead_time_days), key=cover)
    spare = {p.warehouse_id: p.available - math.ceil(p.daily_demand * donor_min_days) for p in positions
             if cover(p) > donor_min_days and p.available > 0}
    by_id = {p.warehouse_id: p for p in positions}
    found = []
    for needy in short:
        def lane_for(donor: str) -> Lane:
            return lanes.get((donor, needy.warehouse_id)) or Lane(donor, needy.warehouse_id, DEFAULT_TRANSIT_DAYS)

        donors = sorted((w for w, units in spare.items() if units > 0 and w != needy.warehouse_id),
                        key=lambda w: (-spare[w], _cost_key(lane_for(w)), w))
        moved = 0
        for donor in donors:
            lane = lane_for(donor)
            target = needy.daily_demand * (lead_time_days + lane.transit_days)
            need = math.ceil(target - (needy.available + needy.incoming + moved))
            qty = min(need, spare[donor])
            if qty <= 0:
                break
            spare[donor] -= qty
            before = cover(needy, moved)
            moved += qty
            giver = by_id[donor]
            found.append(TransferSuggestion(
                sku, donor, needy.warehouse_id, qty, lane.transit_days, lane.cost_per_unit,
                (today + dt.timedelta(days=math.floor(cover(needy)))).isoformat(), before, cover(needy, moved),
                (giver.available - qty) / giver.daily_demand if giver.daily_demand > 0 else math.inf,
                (donor, needy.warehouse_id) in lanes))
    return found


def _cost_key(lane: Lane) -> tuple:
    return (lane.cost_per_unit if lane.cost_per_unit is not None else math.inf, lane.transit_days)

"""Pure stock rules: how a request is split over warehouses, what each movement does to the counters,
and which reservation transitions are allowed. No I/O here: the store applies these as guarded writes.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum

from stocklink.errors import InsufficientStock, InvalidTransition, TooLargeForOneTransaction


class Movement(StrEnum):
    RECEIVE = "receive"
    RESERVE = "reserve"
    RELEASE = "release"
    COMMIT = "commit"
    SHIP = "ship"
    RETURN = "return"
    ADJUST = "adjust"
    # Stock on its way to a warehouse (a purchase order shipped, a transfer picked) and what becomes of it.
    TRANSIT_IN = "transit_in"            # expected: in_transit rises
    TRANSIT_ARRIVE = "transit_arrive"    # received: leaves in_transit, joins on_hand
    TRANSIT_DROP = "transit_drop"        # rejected, lost on the way or cancelled: leaves in_transit only
    TRANSFER_OUT = "transfer_out"        # picked for another warehouse: leaves on_hand (never reserved units)
    TRANSFER_BACK = "transfer_back"      # a picked transfer cancelled: back on hand where it left
    # Presale (预售): units sold against stock in transit, each backed by one unit on its way (presold <= in_transit).
    PRESELL = "presell"                  # sold before arrival: presold rises
    PRESALE_RELEASE = "presale_release"  # a presale order released before its units arrived: presold falls
    PRESALE_FILL = "presale_fill"        # arrived units taken by presale orders: presold → reserved on hand
    PRESALE_SHIP = "presale_ship"        # a presale order's presold units shipped, out of the arrived ones
    PRESALE_RELEASE_ARRIVED = "presale_release_arrived"  # a presale order released after its units arrived


@dataclass(frozen=True)
class Deltas:
    on_hand: int = 0
    reserved: int = 0
    available: int = 0
    in_transit: int = 0
    presold: int = 0


def movement_deltas(movement: Movement, qty: int) -> Deltas:
    """Counter changes for one movement of `qty` (positive, except ADJUST which is signed).

    `available` is stored (= on_hand - reserved) because DynamoDB conditions cannot compare two
    attributes; every movement keeps the identity true by changing it together with the others.
    """
    match movement:
        case Movement.RECEIVE | Movement.RETURN | Movement.ADJUST | Movement.TRANSFER_BACK:
            return Deltas(on_hand=qty, available=qty)
        case Movement.TRANSFER_OUT:
            return Deltas(on_hand=-qty, available=-qty)
        case Movement.TRANSIT_IN:
            return Deltas(in_transit=qty)
        case Movement.TRANSIT_ARRIVE:
            return Deltas(on_hand=qty, available=qty, in_transit=-qty)
        case Movement.TRANSIT_DROP:
            return Deltas(in_transit=-qty)
        case Movement.RESERVE:
            return Deltas(reserved=qty, available=-qty)
        case Movement.RELEASE | Movement.PRESALE_RELEASE_ARRIVED:
            return Deltas(reserved=-qty, available=qty)
        case Movement.SHIP | Movement.PRESALE_SHIP:
            return Deltas(on_hand=-qty, reserved=-qty)
        case Movement.COMMIT:
            return Deltas()
        case Movement.PRESELL:
            return Deltas(presold=qty)
        case Movement.PRESALE_RELEASE:
            return Deltas(presold=-qty)
        case Movement.PRESALE_FILL:
            return Deltas(reserved=qty, available=-qty, presold=-qty)
    raise ValueError(movement)


@dataclass(frozen=True)
class Line:
    sku: str
    qty: int


@dataclass(frozen=True)
class WarehouseStock:
    """What one warehouse shows for one SKU at read time (a planning hint, never a write basis)."""

    warehouse_id: str
    available: int
    priority: int = 100


@dataclass(frozen=True)
class Allocation:
    sku: str
    warehouse_id: str
    qty: int
    presold: int = 0     # of qty, units sold against stock in transit (domain/presale.py)

    def as_dict(self) -> dict:
        out = {"sku": self.sku, "warehouse_id": self.warehouse_id, "qty": self.qty}
        return {**out, "presold": self.presold} if self.presold else out


def merge_lines(lines: list[Line]) -> list[Line]:
    """One line per SKU, order of first appearance kept: a transaction may touch an item only once."""
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.sku] = totals.get(line.sku, 0) + line.qty
    return [Line(sku, qty) for sku, qty in totals.items()]


def plan_allocations(lines: list[Line], stock: dict[str, list[WarehouseStock]],
                     max_allocations: int | None = None) -> list[Allocation]:
    """Split each line over warehouses in priority order (lower number first, then id).

    A line takes what the first warehouse has and the rest from the next, so 5 against 3 + 3 succeeds.
    Raises InsufficientStock for the first SKU the pool cannot cover; the plan is only a proposal that
    the guarded transaction confirms or refuses.

    `max_allocations`: the (SKU, warehouse) pairs one transaction can take. A priority plan above it is
    replaced by the plan with the fewest splits (a warehouse that covers a line alone, else the largest
    first); TooLargeForOneTransaction when even that needs more.
    """
    plan = _plan(lines, stock, _by_priority)
    if max_allocations is None or len(plan) <= max_allocations:
        return plan
    compact = _plan(lines, stock, _fewest_splits)
    if len(compact) > max_allocations:
        raise TooLargeForOneTransaction(
            f"this request draws on {len(compact)} (SKU, warehouse) stock items; one transaction takes at most "
            f"{max_allocations}: split it into smaller requests", needed=len(compact), limit=max_allocations)
    return compact


def _by_priority(line: Line, warehouse: WarehouseStock) -> tuple:
    return (warehouse.priority, warehouse.warehouse_id)


def _fewest_splits(line: Line, warehouse: WarehouseStock) -> tuple:
    if warehouse.available >= line.qty:
        return (0, warehouse.priority, warehouse.warehouse_id)
    return (1, -warehouse.available, warehouse.priority, warehouse.warehouse_id)


def _plan(lines: list[Line], stock: dict[str, list[WarehouseStock]], order) -> list[Allocation]:
    plan: list[Allocation] = []
    for line in merge_lines(lines):
        warehouses = sorted(stock.get(line.sku, []), key=lambda w: order(line, w))
        remaining = line.qty
        for warehouse in warehouses:
            take = min(remaining, max(warehouse.available, 0))
            if take > 0:
                plan.append(Allocation(line.sku, warehouse.warehouse_id, take))
                remaining -= take
            if remaining == 0:
                break
        if remaining:
            available = sum(max(w.available, 0) for w in warehouses)
            raise InsufficientStock(line.sku, line.qty, available)
    return plan


def shortfalls(lines: list[Line], stock: dict[str, list[WarehouseStock]]) -> list[dict]:
    """Per SKU what an order lacks: recorded with an oversell so staff see exactly what is missing."""
    result = []
    for line in merge_lines(lines):
        available = sum(max(w.available, 0) for w in stock.get(line.sku, []))
        if available < line.qty:
            result.append({"sku": line.sku, "requested": line.qty, "available": available,
                           "shortfall": line.qty - available})
    return result


class ReservationStatus(StrEnum):
    HELD = "held"            # stock reserved, awaiting payment; expires
    COMMITTED = "committed"  # paid: stays reserved until shipped, never expires
    SHIPPED = "shipped"      # stock left the warehouse
    RELEASED = "released"    # stock returned to the pool (cancelled or expired)
    OVERSOLD = "oversold"    # a platform order the pool could not cover; no stock moved


class ReservationAction(StrEnum):
    COMMIT = "commit"
    RELEASE = "release"
    SHIP = "ship"


_TRANSITIONS: dict[tuple[ReservationStatus, ReservationAction], ReservationStatus] = {
    (ReservationStatus.HELD, ReservationAction.COMMIT): ReservationStatus.COMMITTED,
    (ReservationStatus.HELD, ReservationAction.RELEASE): ReservationStatus.RELEASED,
    (ReservationStatus.HELD, ReservationAction.SHIP): ReservationStatus.SHIPPED,
    (ReservationStatus.COMMITTED, ReservationAction.RELEASE): ReservationStatus.RELEASED,
    (ReservationStatus.COMMITTED, ReservationAction.SHIP): ReservationStatus.SHIPPED,
}

# The stock movement each transition writes to the ledger.
TRANSITION_MOVEMENT = {
    ReservationAction.COMMIT: Movement.COMMIT,
    ReservationAction.RELEASE: Movement.RELEASE,
    ReservationAction.SHIP: Movement.SHIP,
}


def effective_status(status: ReservationStatus, expires_at: int | None, now: int) -> ReservationStatus:
    """An expired hold counts as released when read, even before the sweep releases it for real."""
    if status is ReservationStatus.HELD and expires_at is not None and expires_at <= now:
        return ReservationStatus.RELEASED
    return status


def next_status(status: ReservationStatus, action: ReservationAction, *, expired: bool) -> ReservationStatus:
    """The state a reservation moves to, or InvalidTransition. Committing an expired hold is refused:
    the buyer's hold time is over and the stock is already promised back to the pool."""
    if status is ReservationStatus.HELD and expired and action is not ReservationAction.RELEASE:
        raise InvalidTransition(f"hold expired; cannot {action.value}", status="expired")
    target = _TRANSITIONS.get((status, action))
    if target is None:
        raise InvalidTransition(f"cannot {action.value} a {status.value} reservation", status=status.value)
    return target


def is_same_transition_done(status: ReservationStatus, action: ReservationAction) -> bool:
    """A retried commit/release/ship that already happened answers success with no second effect."""
    return (action, status) in {
        (ReservationAction.COMMIT, ReservationStatus.COMMITTED),
        (ReservationAction.RELEASE, ReservationStatus.RELEASED),
        (ReservationAction.SHIP, ReservationStatus.SHIPPED),
    }


def request_fingerprint(payload: dict) -> str:
    """Stable hash of a request body: the same id with a different body is an idempotency conflict."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()

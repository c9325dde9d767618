"""Purchase orders as pure rules: the states a PO moves through, what shipping and receiving do to each line,
and what a receipt may not do. No I/O: logic/purchasing.py reads the PO, asks these functions what to write,
and store/purchasing.py writes it in one guarded transaction.

A line's units go: ordered → shipped (on their way: the destination warehouse's in_transit) → received
(on hand) or rejected (recorded with a reason, never on hand). Units still on their way are
`shipped - received - rejected`; closing a PO drops them from in_transit with the reason "closed short".
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from stocklink.errors import InvalidTransition, ValidationFailed


class PoStatus(StrEnum):
    DRAFT = "draft"
    ORDERED = "ordered"
    PAID = "paid"
    PRODUCING = "producing"
    SHIPPED = "shipped"          # on its way; receipts may be partial
    RECEIVED = "received"        # every shipped unit received or rejected
    CANCELLED = "cancelled"      # before anything shipped
    CLOSED = "closed"            # shipped, and whatever did not arrive will not


# Where a status may go by a staff action (receiving moves shipped → received by itself).
_NEXT: dict[PoStatus, frozenset[PoStatus]] = {
    PoStatus.DRAFT: frozenset({PoStatus.ORDERED, PoStatus.CANCELLED}),
    PoStatus.ORDERED: frozenset({PoStatus.PAID, PoStatus.PRODUCING, PoStatus.SHIPPED, PoStatus.CANCELLED}),
    PoStatus.PAID: frozenset({PoStatus.PRODUCING, PoStatus.SHIPPED, PoStatus.CANCELLED}),
    PoStatus.PRODUCING: frozenset({PoStatus.SHIPPED, PoStatus.CANCELLED}),
    PoStatus.SHIPPED: frozenset({PoStatus.CLOSED}),
    PoStatus.RECEIVED: frozenset(),
    PoStatus.CANCELLED: frozenset(),
    PoStatus.CLOSED: frozenset(),
}
OPEN = frozenset({PoStatus.DRAFT, PoStatus.ORDERED, PoStatus.PAID, PoStatus.PRODUCING, PoStatus.SHIPPED})
EDITABLE = frozenset({PoStatus.DRAFT})


def check_transition(current: PoStatus, target: PoStatus) -> None:
    if target not in _NEXT[current]:
        allowed = ", ".join(sorted(_NEXT[current])) or "none (final)"
        raise InvalidTransition(f"a {current} purchase order cannot become {target}; allowed: {allowed}",
                                status=str(current), requested=str(target))


@dataclass(frozen=True)
class PoLine:
    line: int                    # 1-based, stable: ledger entries and receipts name it
    sku: str
    qty: int
    unit_price: float | None = None
    promised_date: str | None = None   # ISO date the supplier promised delivery
    shipped: int = 0
    received: int = 0
    rejected: int = 0

    @property
    def on_the_way(self) -> int:
        return max(0, self.shipped - self.received - self.rejected)


@dataclass(frozen=True)
class LineShipment:
    line: int
    sku: str
    qty: int


def shipment(lines: list[PoLine], shipped: dict[int, int] | None) -> list[LineShipment]:
    """What shipping moves into in_transit: each line's ordered quantity, or the quantity given for it
    (a short shipment; 0 ships nothing of that line). More than ordered is refused."""
    by_line = {line.line: line for line in lines}
    unknown = sorted(set(shipped or {}) - set(by_line))
    if unknown:
        raise ValidationFailed(f"no such line(s) on this purchase order: {unknown}", lines=unknown)
    result = []
    for line in lines:
        qty = line.qty if shipped is None or line.line not in shipped else shipped[line.line]
        if qty > line.qty:
            raise ValidationFailed(f"line {line.line} ({line.sku}): shipping {qty} of {line.qty} ordered",
                                   line=line.line, ordered=line.qty, shipped=qty)
        if qty > 0:
            result.append(LineShipment(line.line, line.sku, qty))
    if not result:
        raise ValidationFailed("a shipment must ship at least one unit")
    return result


@dataclass(frozen=True)
class ReceiptLine:
    line: int
    received: int = 0
    rejected: int = 0
    reject_reason: str | None = None


@dataclass(frozen=True)
class LineReceipt:
    """What one receipt line does: `arrived` leave in_transit into on hand, `extra` go on hand beyond what
    was on its way (an accepted over-receipt), `rejected` leave in_transit and never reach on hand."""

    line: int
    sku: str
    arrived: int
    extra: int
    rejected: int
    reject_reason: str | None

    @property
    def from_transit(self) -> int:
        return self.arrived + self.rejected


def receipt(lines: list[PoLine], received: list[ReceiptLine], *, accept_over_receipt: bool) -> list[LineReceipt]:
    """Plan a receipt against what is on its way. Refused (nothing written): unknown or repeated lines, a
    line with nothing counted, rejected units without a reason, rejected units beyond what is on the way,
    and received units beyond it unless the over-receipt is explicitly accepted."""
    by_line = {line.line: line for line in lines}
    seen: set[int] = set()
    plan = []
    for counted in received:
        line = by_line.get(counted.line)
        if line is None:
            raise ValidationFailed(f"no line {counted.line} on this purchase order", line=counted.line)
        if counted.line in seen:
            raise ValidationFailed(f"line {counted.line} is counted twice in one receipt", line=counted.line)
        seen.add(counted.line)
        if counted.received + counted.rejected <= 0:
            raise ValidationFailed(f"line {counted.line}: nothing received or rejected", line=counted.line)
        if counted.rejected and not (counted.reject_reason or "").strip():
            raise ValidationFailed(f"line {counted.line}: rejected units need a reason", line=counted.line)
        on_the_way = line.on_the_way
        if counted.rejected > on_the_way:
            raise ValidationFailed(f"line {counted.line} ({line.sku}): rejecting {counted.rejected}, only "
                                   f"{on_the_way} on the way", line=counted.line, on_the_way=on_the_way)
        room = on_the_way - counted.rejected
        extra = max(0, counted.received - room)
        if extra and not accept_over_receipt:
            raise ValidationFailed(
                f"line {counted.line} ({line.sku}): receiving {counted.received} + rejecting {counted.rejected}, "
                f"only {on_the_way} on the way; send accept_over_receipt: true to take the extra {extra} on hand",
                line=counted.line, on_the_way=on_the_way, over=extra)
        plan.append(LineReceipt(counted.line, line.sku, counted.received - extra, extra, counted.rejected,
                                counted.reject_reason if counted.rejected else None))
    return plan


def after_receipt(lines: list[PoLine], plan: list[LineReceipt]) -> tuple[list[PoLine], PoStatus]:
    """The lines once the receipt is booked, and the PO's status: received when nothing is on its way and
    every line shipped in full (a short-shipped line keeps the PO open until it is closed)."""
    by_line = {p.line: p for p in plan}
    updated = []
    for line in lines:
        p = by_line.get(line.line)
        if p is not None:
            line = PoLine(line.line, line.sku, line.qty, line.unit_price, line.promised_date, line.shipped,
                          line.received + p.arrived + p.extra, line.rejected + p.rejected)
        updated.append(line)
    done = all(line.on_the_way == 0 and line.shipped >= line.qty for line in updated)
    return updated, PoStatus.RECEIVED if done else PoStatus.SHIPPED


def is_late(status: PoStatus, lines: list[PoLine], today: dt.date) -> list[int]:
    """Lines past their promised date with units not yet received (of POs ordered and still open: a draft
    promises nothing yet)."""
    if status not in OPEN or status is PoStatus.DRAFT:
        return []
    return [line.line for line in lines
            if line.promised_date and dt.date.fromisoformat(line.promised_date) < today
            and line.received + line.rejected < line.qty]

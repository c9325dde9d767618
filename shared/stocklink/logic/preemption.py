"""First paid wins: a paid platform order the pool cannot cover takes unpaid holds of other channels.

domain/preemption chooses the holds (newest first, other channels only, just enough). They are released
whole in the paid order's own transaction, with everything else that order writes: its committed
reservation and guarded counters, the ledger entries of both sides, the order event's idempotency marker,
and one record per preempted hold (listed by GET /events?status=preempted). Each release is guarded on
the hold still being held, so a hold paid meanwhile refuses the whole transaction and no unit is ever
allocated twice: the order tries again from fresh reads without that hold, until the fresh reads show no
choice of holds covers it (the oversell path) or the time budget runs out (errors.Busy: the platform
delivers the webhook again; a lost race is never recorded as an oversell). Paid reservations are never
taken: only holds carry an expiry, and only the expiry index is read.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stocklink import bus, events, time_budget
from stocklink.domain.preemption import Hold, choose_holds
from stocklink.domain.stock import (
    Line,
    Movement,
    ReservationStatus,
    WarehouseStock,
    merge_lines,
    plan_allocations,
    shortfalls,
)
from stocklink.errors import Busy, InsufficientStock, InvalidTransition
from stocklink.logic.reservations import (
    DuplicateEvent,
    ReservationRequest,
    ReserveResult,
    counts_toward_open_holds,
    max_allocations,
    new_reservation,
    publish_committed,
    replay,
)
from stocklink.logic.stock_events import publish_stock_changed
from stocklink.observability import logger, metrics
from stocklink.store import repository
from stocklink.store.models import InboundEvent, Reservation
from stocklink.store.transactions import MAX_TRANSACTION_ITEMS, StockOp, StockTransaction, TransactionRefused
from stocklink.time import iso_now

if TYPE_CHECKING:
    from stocklink.store.sync_models import ShownNote

HOLDS_EXAMINED = 400    # active holds read per attempt, latest expiry (newest) first


@dataclass(frozen=True)
class OrderRef:
    """The paid platform order, as it is named in the preempted hold's reason."""
    platform: str
    shop: str
    order_id: str

    def __str__(self) -> str:
        return f"{self.platform}/{self.shop}/{self.order_id}"


@dataclass(frozen=True)
class Taken:
    result: ReserveResult
    preempted: tuple[Reservation, ...]   # the holds released for it (none when the pool sufficed after all)


def commit_taking_holds(request: ReservationRequest, order: OrderRef, *, actor: str, now_ms: int,
                        marker: InboundEvent | None,
                        replaces: ReservationStatus | None = None,
                        shown: ShownNote | None = None) -> Taken | None:
    """Commit the paid order `request`, taking unpaid holds of other channels for what the pool lacks.

    None when no choice of holds covers it (or its transaction would exceed DynamoDB's item limit): the
    caller records the oversell. errors.Busy when the chosen holds or the stock kept changing under it
    until the time budget ran out. The marker's outcome names the holds taken, so a replayed webhook
    answers them too. `shown`: the order's note of what its listings may still sell, written with it."""
    lines = merge_lines(list(request.lines))
    skus = [line.sku for line in lines]
    outcome = dict(marker.outcome or {}) if marker is not None else {}
    changed: set[str] = set()      # holds an earlier attempt found paid or released: not taken again
    until, attempt = time_budget.deadline(), 0
    while True:
        levels = repository.stock_levels(skus)
        short = {s["sku"]: s["shortfall"] for s in shortfalls(lines, levels)}
        holds = _holds_to_take(request, lines, levels, short, changed, now_ms)
        if holds is None:
            return None
        try:
            plan = plan_allocations(lines, _with_released(levels, holds),
                                    max_allocations(ReservationStatus.COMMITTED))
        except InsufficientStock:
            return None
        reservation = new_reservation(request, plan, ReservationStatus.COMMITTED, now_ms)
        txn = StockTransaction(actor=actor, source=f"{request.source}:{request.reservation_id}", reason=None,
                               now_ms=now_ms)
        reason = f"preempted by paid order {order}"
        for hold in holds:   # releases first: the paid order's guards then count the units they free
            txn.release_hold(hold, reason)
            if counts_toward_open_holds(hold):
                txn.uncount_open_hold(hold.owner)
            txn.record_preemption(
                hold.reservation_id, kind=events.RESERVATION_PREEMPTED, received_at=iso_now(now_ms),
                platform=order.platform, shop=order.shop, order_id=order.order_id,
                outcome={**_preempted(hold, reservation, now_ms), "reason": reason,
                         "allocations": _allocations(hold)},
                detail={"hold_source": hold.source, "hold_created_at": int(hold.created_at),
                        "order_lines": [{"sku": line.sku, "qty": line.qty} for line in lines],
                        "shortfall": [{"sku": sku, "shortfall": n} for sku, n in short.items()]})
        txn.put_reservation(reservation, replaces=replaces)
        if marker is not None:
            marker.outcome = {**outcome, "preempted": [h.reservation_id for h in holds]} if holds else outcome
            txn.put_marker(marker)
        for allocation in plan:
            txn.stock(StockOp(allocation.sku, allocation.warehouse_id, Movement.RESERVE, allocation.qty))
            txn.stock(StockOp(allocation.sku, allocation.warehouse_id, Movement.COMMIT, allocation.qty))
        if txn.size > MAX_TRANSACTION_ITEMS:
            return None
        if shown is not None:
            txn.note_shown(shown)
        try:
            txn.commit()
        except TransactionRefused as refused:
            if refused.duplicate:
                raise DuplicateEvent(marker.event_key) from refused
            if refused.reservation_refused:
                existing = repository.get_reservation(request.reservation_id)
                if existing is None:
                    continue
                if replaces is not None:
                    raise InvalidTransition(f"reservation is {existing.status}", status=existing.status)
                return Taken(replay(existing, request), ())
            changed.update(refused.holds_changed)
            # a hold was paid or released, or stock moved: read again and choose again
            if not time_budget.wait_before_retry(attempt, until):
                logger.warning("holds kept changing under a paid order; it is answered busy",
                               extra={"reservation_id": request.reservation_id, "changed": sorted(changed)})
                raise Busy("stock is busy: the holds this paid order takes kept changing; deliver it again",
                           retry_after_s=time_budget.RETRY_AFTER_S) from refused
            attempt += 1
            continue
        _published(reservation, plan, holds, request, now_ms)
        return Taken(ReserveResult(reservation, replayed=False), tuple(holds))


def _holds_to_take(request: ReservationRequest, lines: list[Line], levels: dict[str, list[WarehouseStock]],
                   short: dict[str, int], changed: set[str], now_ms: int) -> list[Reservation] | None:
    """The store's holds the rule picks for `short` ([] when nothing is short), None when none will do."""
    if not short:
        return []
    # a presale hold is never taken: its presold units are on their way, not units a paid order could ship
    found = {r.reservation_id: r for r in repository.active_holds(now_ms // 1000, HOLDS_EXAMINED)
             if r.reservation_id not in changed and r.reservation_id != request.reservation_id
             and not any(a.presold for a in r.allocations)}
    skus = {line.sku for line in lines}
    # Upper bound of the paid order's own items: its reservation and marker, and per warehouse it could
    # draw from (with stock now, or units of a hold) a counter update and its reserve and commit entries.
    sources = {(sku, w.warehouse_id) for sku, ws in levels.items() for w in ws if w.available > 0}
    sources |= {(a.sku, a.warehouse_id) for r in found.values() for a in r.allocations if a.sku in skus}
    budget = MAX_TRANSACTION_ITEMS - 2 - 3 * len(sources)
    chosen = choose_holds(short, [_as_hold(r) for r in found.values()], channel=request.channel,
                          now_s=now_ms // 1000, budget=budget)
    return None if chosen is None else [found[h.reservation_id] for h in chosen]


def _as_hold(reservation: Reservation) -> Hold:
    units: Counter[str] = Counter()
    for allocation in reservation.allocations:
        units[allocation.sku] += int(allocation.qty)
    return Hold(reservation.reservation_id, reservation.channel, ReservationStatus(reservation.status),
                int(reservation.created_at),
                int(reservation.expires_at) if reservation.expires_at is not None else None,
                dict(units), allocations=len(reservation.allocations),
                counted=counts_toward_open_holds(reservation))


def _with_released(levels: dict[str, list[WarehouseStock]],
                   holds: list[Reservation]) -> dict[str, list[WarehouseStock]]:
    """What each warehouse would have once the holds are released (the plan the transaction confirms)."""
    freed: Counter[tuple[str, str]] = Counter()
    for hold in holds:
        for allocation in hold.allocations:
            freed[(allocation.sku, allocation.warehouse_id)] += int(allocation.qty)
    after = {}
    for sku, warehouses in levels.items():
        known = {w.warehouse_id for w in warehouses}
        after[sku] = [WarehouseStock(w.warehouse_id, w.available + freed[(sku, w.warehouse_id)], w.priority)
                      for w in warehouses]
        after[sku] += [WarehouseStock(wid, qty) for (s, wid), qty in freed.items()
                       if s == sku and wid not in known]
    return after


def _allocations(reservation: Reservation) -> list[dict]:
    return [{"sku": a.sku, "warehouse_id": a.warehouse_id, "qty": int(a.qty)}
            for a in reservation.allocations]


def _preempted(hold: Reservation, by: Reservation, now_ms: int) -> events.ReservationPreempted:
    return {"reservation_id": hold.reservation_id, "channel": hold.channel,
            "by_reservation_id": by.reservation_id, "by_channel": by.channel,
            "lines": [{"sku": line.sku, "qty": int(line.qty)} for line in hold.lines], "preempted_at": now_ms}


def _published(reservation: Reservation, plan, holds: list[Reservation], request: ReservationRequest,
               now_ms: int) -> None:
    """stock.changed for every stock item the transaction touched (the pushes to every listing of those
    SKUs, the preempted holds' platforms included), reservation.preempted per hold, reservation.committed."""
    touched = {(a.sku, a.warehouse_id) for a in plan}
    publish_stock_changed(((a.sku, a.warehouse_id) for a in plan), "reserve", request.source)
    for hold in holds:
        freed = [(a.sku, a.warehouse_id) for a in hold.allocations if (a.sku, a.warehouse_id) not in touched]
        touched.update(freed)
        publish_stock_changed(freed, "release", hold.source)
    if holds:
        bus.publish(events.RESERVATION_PREEMPTED, [_preempted(hold, reservation, now_ms) for hold in holds])
        metrics.add_metric(name="HoldPreempted", unit="Count", value=len(holds))
        logger.warning("unpaid holds preempted by a paid order", extra={
            "reservation_id": reservation.reservation_id, "preempted": [h.reservation_id for h in holds]})
    publish_committed(reservation, now_ms)

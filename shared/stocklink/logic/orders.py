"""Platform order events (already verified and normalized by an adapter) applied to the stock pool.

Each business event has exactly one effect: its idempotency marker is written in the same transaction as
the stock change, so a redelivered webhook finds the marker and changes nothing. An order that takes units
(or a cancellation that gives them back) also changes what its listings may still sell (logic/sync/shown):
that note is written in the same transaction too, so it happens exactly once with the order, at no extra
request (apart, after it, only when the transaction has no room left for it).
"""
from __future__ import annotations

from stocklink import bus, events
from stocklink.channels.base import OrderEvent, OrderEventKind
from stocklink.config import settings
from stocklink.domain.part_release import HeldAllocation, plan_part_release, remaining_lines
from stocklink.domain.presale import release_split
from stocklink.domain.returns import ShippedAllocation, plan_return
from stocklink.domain.stock import (
    Line,
    Movement,
    ReservationAction,
    ReservationStatus,
    merge_lines,
    request_fingerprint,
)
from stocklink.errors import (InsufficientStock, InvalidTransition, NotFound, PresaleNotArrived,
                              TooLargeForOneTransaction)
from stocklink.logic import preemption, presale, reservations
from stocklink.logic.catalog import resolve_order_lines
from stocklink.logic.reservations import DuplicateEvent, ReservationRequest
from stocklink.logic.stock_events import publish_stock_changed
from stocklink.logic.sync import shown
from stocklink.observability import logger, metrics
from stocklink.store import repository
from stocklink.store.models import AllocationMap, InboundEvent, LineMap
from stocklink.store.sync_models import ShownNote
from stocklink.store.transactions import (
    PREEMPTED,
    StockOp,
    StockTransaction,
    TransactionRefused,
)
from stocklink.time import iso_now

# An order event StockLink could not apply (an order that does not fit in one transaction, a presale order
# shipped before its units arrived): nothing moved, its lines kept on its record, an alert raised; answered
# 200 so the platform stops redelivering it.
NEEDS_ATTENTION = "needs_attention"
# Statuses that need a person: kept in the sparse status index so GET /events?status=… finds them.
# (Order events are recorded as unmapped, oversold, skipped or needs_attention; a preempted hold has its
# own record.)
ATTENTION = {"unmapped", "oversold", "skipped", NEEDS_ATTENTION, PREEMPTED}


def reservation_id_for(event: OrderEvent) -> str:
    return f"{event.platform}:{event.shop}:{event.order_id}"


def apply_order_event(event: OrderEvent, now_ms: int) -> dict:
    """Apply one order event; returns its outcome (also stored on the marker for replays)."""
    previous = repository.get_event(event.event_key)
    if previous is not None:
        return {**(previous.outcome or {}), "duplicate": True}
    note = shown.order_note(event, now_ms)
    try:
        outcome = _apply(event, now_ms, note)
    except DuplicateEvent:
        previous = repository.get_event(event.event_key)
        return {**((previous.outcome if previous else None) or {}), "duplicate": True}
    metrics.add_metric(name=f"OrderEvent_{outcome['status']}", unit="Count", value=1)
    outcome = {**outcome, "duplicate": False}
    if not note.written:        # no transaction of this outcome carried it, or one had no room for it
        shown.note_order(event, outcome, now_ms)
    return outcome


def _marker(event: OrderEvent, status: str, now_ms: int, outcome: dict, detail: dict | None = None) -> InboundEvent:
    return InboundEvent(
        event.event_key,
        kind=f"order.{event.kind.value}",
        status=status,
        status_index=status if status in ATTENTION else None,
        received_at=iso_now(now_ms),
        platform=event.platform,
        shop=event.shop,
        order_id=event.order_id,
        reservation_id=reservation_id_for(event),
        detail=detail,
        outcome={"status": status, **outcome},
    )


def _record(event: OrderEvent, status: str, now_ms: int, outcome: dict, detail: dict | None = None,
            note: ShownNote | None = None) -> dict:
    reservations.record_marker(_marker(event, status, now_ms, outcome, detail), note)
    return {"status": status, **outcome}


def _apply(event: OrderEvent, now_ms: int, note: ShownNote) -> dict:
    """`note` goes only to the transactions of outcomes that take units or give them back (shown_change)."""
    if event.kind in (OrderEventKind.CREATED, OrderEventKind.PAID):
        return _hold_or_commit(event, now_ms, note)
    if event.kind is OrderEventKind.CANCELLED:
        return _move(event, ReservationAction.RELEASE, now_ms, note=note)
    if event.kind is OrderEventKind.SHIPPED:
        return _move(event, ReservationAction.SHIP, now_ms)
    if event.kind is OrderEventKind.PART_CANCELLED:
        return _release_part(event, now_ms, note)
    return _restock_return(event, now_ms)


def _shop(event: OrderEvent) -> str:
    """The source and owner of the shop's reservations."""
    return f"{event.platform}:{event.shop}"


def _hold_or_commit(event: OrderEvent, now_ms: int, note: ShownNote) -> dict:
    rid = reservation_id_for(event)
    wants_commit = event.kind is OrderEventKind.PAID or event.paid
    if not wants_commit:
        # A new unpaid order's reservation does not exist yet: it is not read first. Its transaction's
        # condition says if it does (a redelivery under another id, a paid event first), and then the
        # order is decided below from the reservation found.
        resolution = resolve_order_lines(event.platform, event.shop, event.lines)
        if resolution.lines and not resolution.unmapped:
            try:
                return _reserve_order(event, now_ms, resolution, note, existing=None, wants_commit=False,
                                      if_exists="raise")
            except reservations.ReservationExists:
                pass
    existing = repository.get_reservation(rid)
    if existing is not None and existing.source != _shop(event):
        # Made by someone else under the order's id (a storefront, before such ids were refused): the
        # order cannot be reserved under it, and that reservation is not the order's to change.
        resolution = resolve_order_lines(event.platform, event.shop, event.lines)
        return _needs_attention(event, resolution.lines, now_ms,
                                f"reservation {rid} was made by {existing.source}, not by this shop", note)
    if existing is not None:
        status = ReservationStatus(existing.status)
        if wants_commit and status is ReservationStatus.HELD:
            # The platform has the money: commit even a hold past its time, the stock is still reserved.
            try:
                return _move(event, ReservationAction.COMMIT, now_ms, allow_expired=True,
                             raise_if_released=True)
            except _ReleasedMeanwhile:
                # Taken by a paid order (or released) since we read it: paid like any released order below.
                status = ReservationStatus.RELEASED
        if not (wants_commit and status is ReservationStatus.RELEASED):
            return _record(event, "applied", now_ms, {"reservation_id": rid, "reservation_status": status.value,
                                                      "note": "no change needed"})
    resolution = resolve_order_lines(event.platform, event.shop, event.lines)
    if resolution.unmapped or not resolution.lines:
        logger.warning("order with unmapped lines", extra={"event_key": event.event_key})
        outcome = _record(event, "unmapped", now_ms, {"reservation_id": rid, "unmapped": resolution.unmapped},
                          detail={"lines": [l.__dict__ for l in event.lines]})
        bus.publish(events.ORDER_UNMAPPED, [{"platform": event.platform, "shop": event.shop,
                                          "order_id": event.order_id, "unmapped": resolution.unmapped}])
        return outcome
    return _reserve_order(event, now_ms, resolution, note, existing=existing, wants_commit=wants_commit)


def _reserve_order(event: OrderEvent, now_ms: int, resolution, note: ShownNote, *, existing, wants_commit: bool,
                   if_exists: str = "replay") -> dict:
    """Reserve (held, or committed when paid) the order's resolved lines; `existing` is its released
    reservation to replace, or None for a new one (if it turns out to exist: recorded as applied, or
    ReservationExists with if_exists="raise")."""
    rid = reservation_id_for(event)
    target = ReservationStatus.COMMITTED if wants_commit else ReservationStatus.HELD
    skus = len(merge_lines(resolution.lines))
    if skus > reservations.max_allocations(target):
        return _needs_attention(event, resolution.lines, now_ms,
                                f"{skus} SKUs: one {target.value} reservation takes at most "
                                f"{reservations.max_allocations(target)} (one DynamoDB transaction)", note)
    request = ReservationRequest(
        reservation_id=rid, channel=f"{event.platform}:{event.shop}", lines=tuple(resolution.lines),
        fingerprint=request_fingerprint({"lines": [l.__dict__ for l in resolution.lines]}),
        source=_shop(event), hold_seconds=settings().default_hold_seconds, owner=_shop(event),
    )
    outcome_base = {"reservation_id": rid}
    marker = _marker(event, "applied", now_ms, {**outcome_base, "reservation_status": target.value})
    replaces = ReservationStatus.RELEASED if existing is not None else None
    preempted: list[str] = []
    try:
        result = reservations.reserve(request, actor=f"{event.platform}:{event.shop}", now_ms=now_ms,
                                      status=target, marker=marker, replaces=replaces, if_exists=if_exists,
                                      shown=note, presale=_presale(event, resolution.lines, now_ms))
    except TooLargeForOneTransaction as too_large:
        return _needs_attention(event, resolution.lines, now_ms, too_large.message, note)
    except InsufficientStock:
        if not wants_commit:
            return _oversold(event, request, now_ms, note)
        # First paid wins: the paid order may take unpaid holds of other channels (logic/preemption).
        try:
            taken = preemption.commit_taking_holds(
                request, preemption.OrderRef(event.platform, event.shop, event.order_id),
                actor=f"{event.platform}:{event.shop}", now_ms=now_ms, marker=marker, replaces=replaces,
                shown=note)
        except TooLargeForOneTransaction as too_large:
            return _needs_attention(event, resolution.lines, now_ms, too_large.message, note)
        if taken is None:
            return _oversold(event, request, now_ms, note)
        result, preempted = taken.result, [hold.reservation_id for hold in taken.preempted]
    if result.replayed:  # the reservation exists already (created by a concurrent delivery)
        return _record(event, "applied", now_ms, {**outcome_base, "reservation_status": result.reservation.status})
    outcome = {"status": "applied", **outcome_base, "reservation_status": target.value,
               "allocations": [{"sku": a.sku, "warehouse_id": a.warehouse_id, "qty": int(a.qty),
                                **({"presold": int(a.presold)} if a.presold else {})}
                               for a in result.reservation.allocations]}
    return {**outcome, "preempted": preempted} if preempted else outcome


def _presale(event: OrderEvent, lines: list[Line], now_ms: int):
    """How the order may presell incoming stock (None unless its shop has presale on: domain/presale.py)."""
    settings = presale.channel_settings(event.platform, event.shop)
    return presale.order_presale(settings, [line.sku for line in lines], now_ms)


def _oversold(event: OrderEvent, request: ReservationRequest, now_ms: int, note: ShownNote) -> dict:
    shortfall = reservations.shortfalls_for(request)
    marker = _marker(event, "oversold", now_ms, {"reservation_id": request.reservation_id, "shortfall": shortfall})
    try:
        reservations.record_oversell(request, now_ms=now_ms, marker=marker, shortfall=shortfall, shown=note)
    except InvalidTransition:
        # The order exists in another state (e.g. released after expiry and now paid): keep the record.
        reservations.record_marker(marker, note)
    logger.error("oversell", extra={"event_key": event.event_key, "shortfall": shortfall})
    metrics.add_metric(name="Oversell", unit="Count", value=1)
    bus.publish(events.ORDER_OVERSOLD, [{"platform": event.platform, "shop": event.shop,
                                      "order_id": event.order_id, "reservation_id": request.reservation_id,
                                      "shortfall": shortfall}])
    return {"status": "oversold", "reservation_id": request.reservation_id, "shortfall": shortfall}


def _needs_attention(event: OrderEvent, lines: list[Line], now_ms: int, reason: str, note: ShownNote) -> dict:
    """Record an order that cannot be applied: its lines kept on the record, nothing reserved, an alert
    raised (order.needs_attention); the platform is answered 200, as redelivering cannot help."""
    rid = reservation_id_for(event)
    master_lines = [{"sku": line.sku, "qty": line.qty} for line in merge_lines(lines)]
    outcome = _record(event, NEEDS_ATTENTION, now_ms, {"reservation_id": rid, "reason": reason},
                      detail={"lines": master_lines, "order_lines": [l.__dict__ for l in event.lines],
                              "paid": event.kind is OrderEventKind.PAID or event.paid}, note=note)
    logger.error("order needs attention", extra={"event_key": event.event_key, "reason": reason})
    metrics.add_metric(name="OrderNeedsAttention", unit="Count", value=1)
    bus.publish(events.ORDER_NEEDS_ATTENTION, [{"platform": event.platform, "shop": event.shop,
                                                "order_id": event.order_id, "reservation_id": rid,
                                                "kind": event.kind.value, "reason": reason,
                                                "lines": master_lines}])
    return outcome


class _ReleasedMeanwhile(Exception):
    """The reservation _move was to commit has been released since the caller read it."""


def _move(event: OrderEvent, action: ReservationAction, now_ms: int, allow_expired: bool = False,
          raise_if_released: bool = False, note: ShownNote | None = None) -> dict:
    rid = reservation_id_for(event)
    marker = _marker(event, "applied", now_ms, {"reservation_id": rid, "action": action.value})
    try:
        reservation = reservations.transition(rid, action, actor=_shop(event), now_ms=now_ms, marker=marker,
                                              allow_expired=allow_expired, reason=f"platform {event.kind.value}",
                                              source=_shop(event), shown=note)
    except NotFound:
        return _record(event, "skipped", now_ms, {"reservation_id": rid, "reason": "no reservation for order"})
    except InvalidTransition as exc:
        if raise_if_released and exc.details.get("status") == ReservationStatus.RELEASED.value:
            raise _ReleasedMeanwhile(rid) from exc
        return _record(event, "skipped", now_ms, {"reservation_id": rid, "reason": exc.message})
    except PresaleNotArrived as exc:
        # the platform says it shipped units StockLink has not received: never lost, recorded for a person
        # (an alert), nothing moved; staff ship the order once the goods are received
        reservation = repository.get_reservation(rid)
        lines = [Line(line.sku, int(line.qty)) for line in (reservation.lines if reservation else [])]
        return _needs_attention(event, lines, now_ms, f"{exc.code}: {exc.message}", None)
    return {"status": "applied", "reservation_id": rid, "action": action.value,
            "reservation_status": reservation.status}


# Another return of the same order counted units between our read and our write: plan again from a fresh
# read, a few times, before letting the platform redeliver (an unhandled refusal answers 5xx).
RETURN_ATTEMPTS = 5


def _restock_return(event: OrderEvent, now_ms: int) -> dict:
    """Returned units go back on hand in the warehouse they shipped from, never more than the order shipped:
    each allocation of a shipped order counts what came back (domain/returns.py), under a condition in the
    same transaction as the restock. Units announced beyond that, or for an order not shipped, are named
    in the outcome; a return that restocks nothing is recorded as skipped, for a person."""
    rid = reservation_id_for(event)
    resolution = resolve_order_lines(event.platform, event.shop, event.lines)
    if not resolution.lines:
        return _record(event, "unmapped" if resolution.unmapped else "applied", now_ms,
                       {"reservation_id": rid, "unmapped": resolution.unmapped, "note": "nothing restocked"})
    for attempt in range(RETURN_ATTEMPTS):
        reservation = repository.get_reservation(rid)
        plan = plan_return(_shipped_allocations(reservation, _shop(event)), merge_lines(resolution.lines))
        not_restocked = [{"sku": line.sku, "qty": line.qty} for line in plan.not_restocked]
        if not plan.restock:
            shipped = bool(_shipped_allocations(reservation, _shop(event)))
            reason = "every shipped unit is back already" if shipped else "no shipment of this order is known"
            logger.warning("return restocks nothing", extra={"event_key": event.event_key, "reason": reason})
            return _record(event, "skipped", now_ms, {"reservation_id": rid, "reason": reason,
                                                      "not_restocked": not_restocked})
        returned = [{"sku": r.allocation.sku, "warehouse_id": r.allocation.warehouse_id, "qty": r.qty}
                    for r in plan.restock]
        outcome = {"reservation_id": rid, "returned": returned}
        if not_restocked:
            logger.warning("return larger than what shipped", extra={"event_key": event.event_key,
                                                                     "not_restocked": not_restocked})
            outcome["not_restocked"] = not_restocked
        marker = _marker(event, "applied", now_ms, outcome)
        txn = StockTransaction(actor=f"{event.platform}:{event.shop}", source=event.event_key, reason="return",
                               now_ms=now_ms)
        txn.put_marker(marker)
        txn.count_returned(rid, [(r.allocation.index, r.allocation.qty, r.qty) for r in plan.restock])
        for r in plan.restock:
            txn.stock(StockOp(r.allocation.sku, r.allocation.warehouse_id, Movement.RETURN, r.qty))
        try:
            txn.commit()
        except TransactionRefused as refused:
            if refused.duplicate:
                raise DuplicateEvent(event.event_key) from refused
            if refused.returns_changed and attempt + 1 < RETURN_ATTEMPTS:
                continue
            raise
        publish_stock_changed(((r.allocation.sku, r.allocation.warehouse_id) for r in plan.restock), "return",
                              event.event_key)
        return marker.outcome
    raise AssertionError("unreachable: the last attempt returns or raises")


# Another change of the order (a part release, its payment, its shipment) or of a presold stock item came
# between our read and our write: read again and plan again, a few times, before letting the platform deliver
# it again.
PART_RELEASE_ATTEMPTS = 5


def _release_part(event: OrderEvent, now_ms: int, note: ShownNote) -> dict:
    """Some lines (or units) of a reserved order cancelled before shipment: exactly those units go back to
    the pool (domain/part_release), the rest stays reserved and ships, in one transaction with the marker and
    the reservation shrunk under a condition on it as read. When nothing would be left the order is released
    whole, as a cancellation. Units the order no longer holds are named, never released twice; an order not
    reserved (shipped already, released, oversold or unknown) moves nothing and is recorded as skipped."""
    rid = reservation_id_for(event)
    resolution = resolve_order_lines(event.platform, event.shop, event.lines)
    if not resolution.lines:
        return _record(event, "unmapped" if resolution.unmapped else "applied", now_ms,
                       {"reservation_id": rid, "unmapped": resolution.unmapped, "note": "nothing released"})
    cancelled = merge_lines(resolution.lines)
    for attempt in range(PART_RELEASE_ATTEMPTS):
        reservation = repository.get_reservation(rid)
        if reservation is None or reservation.source != _shop(event):
            return _record(event, "skipped", now_ms, {"reservation_id": rid, "reason": "no reservation for order"})
        status = ReservationStatus(reservation.status)
        if status not in (ReservationStatus.HELD, ReservationStatus.COMMITTED):
            reason = (f"the order is {status.value}: a refund after shipment restocks only as a return"
                      if status is ReservationStatus.SHIPPED else f"the order is {status.value}: nothing reserved")
            return _record(event, "skipped", now_ms, {"reservation_id": rid, "reason": reason})
        held = [HeldAllocation(i, a.sku, a.warehouse_id, int(a.qty), int(a.presold or 0))
                for i, a in enumerate(reservation.allocations)]
        plan = plan_part_release(held, cancelled)
        not_held = [{"sku": line.sku, "qty": line.qty} for line in plan.not_held]
        if not plan.releases:
            return _record(event, "skipped", now_ms, {"reservation_id": rid, "not_released": not_held,
                                                      "reason": "the order holds none of these units any more"})
        if plan.releases_everything(held):
            return _move(event, ReservationAction.RELEASE, now_ms, note=note)
        released = [{"sku": r.allocation.sku, "warehouse_id": r.allocation.warehouse_id, "qty": r.qty}
                    for r in plan.releases]
        outcome = {"reservation_id": rid, "released": released, "reservation_status": status.value}
        if not_held:
            outcome["not_released"] = not_held
        txn = StockTransaction(actor=_shop(event), source=f"{reservation.source}:{rid}",
                               reason=f"platform {event.kind.value}", now_ms=now_ms)
        txn.put_marker(_marker(event, "applied", now_ms, outcome))
        txn.shrink_reservation(reservation, *_shrunk(reservation, plan))
        for op in _part_release_ops(plan):
            txn.stock(op)
        txn.note_shown(note)
        try:
            txn.commit()
        except TransactionRefused as refused:
            if refused.duplicate:
                raise DuplicateEvent(event.event_key) from refused
            if attempt + 1 < PART_RELEASE_ATTEMPTS:
                continue    # the reservation or a presold item changed since the read: decide again
            raise
        publish_stock_changed(((r.allocation.sku, r.allocation.warehouse_id) for r in plan.releases),
                              "release", reservation.source)
        return {"status": "applied", **outcome}
    raise AssertionError("unreachable: the last attempt returns or raises")


def _shrunk(reservation, plan) -> tuple[list[AllocationMap], list[LineMap]]:
    """The reservation's allocations and lines once the plan's units are released (an emptied allocation
    is dropped: it would ship nothing)."""
    by_index = {r.allocation.index: r for r in plan.releases}
    allocations = []
    for index, a in enumerate(reservation.allocations):
        release = by_index.get(index)
        qty = int(a.qty) - (release.qty if release else 0)
        presold = int(a.presold or 0) - (release.presold if release else 0)
        if qty:
            allocations.append(AllocationMap(sku=a.sku, warehouse_id=a.warehouse_id, qty=qty, presold=presold or None))
    released = [Line(r.allocation.sku, r.qty) for r in plan.releases]
    lines = remaining_lines([Line(line.sku, int(line.qty)) for line in reservation.lines], released)
    return allocations, [LineMap(sku=line.sku, qty=line.qty) for line in lines]


def _part_release_ops(plan) -> list[StockOp]:
    """The movements of a part release: units on hand back to available; presold units back as presale
    room while their stock item still counts them presold, else (arrived meanwhile) out of the arrived ones,
    as a whole release does (logic/reservations._transition_ops, domain/presale.release_split)."""
    items = {(i.sku, i.warehouse_id): i
             for sku in {r.allocation.sku for r in plan.releases if r.presold} for i in repository.stock_items(sku)}
    ops = []
    for r in plan.releases:
        a = r.allocation
        item = items.get((a.sku, a.warehouse_id))
        back = release_split(r.presold, int(item.presold or 0) if item else 0)
        ops += [StockOp(a.sku, a.warehouse_id, movement, qty) for movement, qty in (
            (Movement.RELEASE, r.on_hand), (Movement.PRESALE_RELEASE_ARRIVED, r.presold - back),
            (Movement.PRESALE_RELEASE, back)) if qty]
    return ops


def _shipped_allocations(reservation, shop: str) -> list[ShippedAllocation]:
    """What the order shipped, per allocation; nothing unless StockLink saw the shop's own reservation ship
    (a bounded number of allocations: the restock's transaction fits as the shipment's did)."""
    if reservation is None or reservation.status != ReservationStatus.SHIPPED.value or reservation.source != shop:
        return []
    return [ShippedAllocation(i, a.sku, a.warehouse_id, int(a.qty), int(a.returned or 0))
            for i, a in enumerate(reservation.allocations)]

"""Reservations: hold → commit → ship, or release. Each step is one guarded transaction.

Every reservation records its source ("storefront" or "<platform>:<shop>") and its owner (the storefront
token's principal, or the platform shop): callers decide who may move it (logic.storefront for tokens,
logic.orders for webhooks); a storefront owner's open holds are counted, under its limit, in the same
transactions that open and end them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from stocklink.domain.presale import PresaleOrder, not_arrived, plan_presale, release_split
from stocklink.domain.stock import (
    TRANSITION_MOVEMENT,
    Allocation,
    Line,
    Movement,
    ReservationAction,
    ReservationStatus,
    effective_status,
    is_same_transition_done,
    merge_lines,
    movement_deltas,
    next_status,
    plan_allocations,
    shortfalls,
)
from stocklink import bus, events, time_budget
from stocklink.errors import (Busy, IdempotencyConflict, InsufficientStock, InvalidTransition, NotFound,
                              PresaleNotArrived, TooLargeForOneTransaction, TooManyRequests)
from stocklink.logic import presale as presale_reads
from stocklink.logic.stock_events import publish_stock_changed, snapshot_after
from stocklink.store import repository
from stocklink.store.models import AllocationMap, InboundEvent, LineMap, Reservation
from stocklink.store.transactions import (MAX_TRANSACTION_ITEMS, StockOp, StockTransaction, TransactionRefused,
                                          moved)

if TYPE_CHECKING:   # a platform order's note; the storefront's functions never import the sync models
    from stocklink.store.sync_models import ShownNote

# A reservation is one transaction: the reservation item, one more fixed item (a platform order's event
# marker, or a storefront owner's open-hold count) and per allocation (SKU x warehouse) its counter update
# and reserve ledger entry, plus a commit ledger entry when it is reserved already paid.
_FIXED_ITEMS = 2


def max_allocations(status: ReservationStatus) -> int:
    """The (SKU, warehouse) allocations one reservation can hold: 49 for a hold, 32 reserved paid."""
    per_allocation = 3 if status is ReservationStatus.COMMITTED else 2
    return (MAX_TRANSACTION_ITEMS - _FIXED_ITEMS) // per_allocation


_TRANSITION_ATTEMPTS = 6   # reads of a reservation whose status keeps changing before the caller is told
STOREFRONT = "storefront"  # the source of every reservation made through the storefront API


@dataclass(frozen=True)
class ReservationRequest:
    reservation_id: str
    channel: str
    lines: tuple[Line, ...]
    fingerprint: str
    source: str              # "storefront" or "<platform>:<shop>"
    hold_seconds: int
    owner: str | None = None  # the storefront token's principal, or "<platform>:<shop>"


@dataclass(frozen=True)
class ReserveResult:
    reservation: Reservation
    replayed: bool           # True when an identical earlier request already made it


class DuplicateEvent(Exception):
    """The idempotency marker already exists: this business event had its effect before."""


class ReservationExists(Exception):
    """reserve(if_exists="raise") found the reservation made already (`existing`)."""

    def __init__(self, existing: Reservation):
        super().__init__(existing.reservation_id)
        self.existing = existing


def reserve(request: ReservationRequest, *, actor: str, now_ms: int,
            status: ReservationStatus = ReservationStatus.HELD, marker: InboundEvent | None = None,
            replaces: ReservationStatus | None = None, if_exists: str = "replay",
            open_holds_limit: int | None = None, shown: ShownNote | None = None,
            presale: PresaleOrder | None = None) -> ReserveResult:
    """Reserve every line or nothing. `replaces`: overwrite an existing reservation in that status
    (a paid platform order re-reserving after its hold was released). A storefront hold with an
    owner counts toward its owner's open holds, refused (TooManyRequests) at `open_holds_limit` if given.
    `shown`: a platform order's note of what its listings may still sell, written with its transaction.
    `presale`: the order's channel may presell units on their way within its horizon (domain/presale.py): the
    shortfall of available (all of it first, while the SKU is at risk) is presold, each presold unit guarded
    against the stock item as read here (store.transactions.read_transit).
    TooLargeForOneTransaction (nothing written) when it would draw on more stock items than fit.

    The reservation is not looked up first (a new one is the common case): the transaction's condition
    refuses it if it exists, and only then is it read, to replay it (if_exists="replay") or to hand it to
    the caller (if_exists="raise": ReservationExists). A plan that cannot be made (short, too large) is
    also checked against an existing reservation, which a replay answers whatever the pool holds now."""
    lines = merge_lines(list(request.lines))
    skus = [line.sku for line in lines]
    until, attempt = time_budget.deadline(), 0
    while True:
        # From consistent reads: InsufficientStock here is the pool's real state, never a lost race.
        levels, items = repository.stock_read(skus)
        incoming: dict = {}
        try:
            plan, incoming = _plan(lines, levels, items, status, presale)
        except (InsufficientStock, TooLargeForOneTransaction):
            found = _existing_answer(request, if_exists) if replaces is None else None
            if found is not None:
                return found
            raise
        reservation = new_reservation(request, plan, status, now_ms)
        txn = StockTransaction(actor=actor, source=request.source + ":" + request.reservation_id,
                               reason=None, now_ms=now_ms)
        txn.put_reservation(reservation, replaces=replaces)
        if marker is not None:
            txn.put_marker(marker)
        if counts_toward_open_holds(reservation):   # counted whatever the limit: its end uncounts it
            txn.count_open_hold(reservation.owner, open_holds_limit)
        for allocation in plan:
            if allocation.qty - allocation.presold:
                txn.stock(StockOp(allocation.sku, allocation.warehouse_id, Movement.RESERVE,
                                  allocation.qty - allocation.presold))
            if allocation.presold:
                item = next(i for i in items[allocation.sku] if i.warehouse_id == allocation.warehouse_id)
                txn.read_transit(item, backing=incoming[allocation.sku][allocation.warehouse_id].backing(presale.horizon))
                txn.stock(StockOp(allocation.sku, allocation.warehouse_id, Movement.PRESELL, allocation.presold))
            if status is ReservationStatus.COMMITTED:
                txn.stock(StockOp(allocation.sku, allocation.warehouse_id, Movement.COMMIT, allocation.qty))
        if shown is not None:
            txn.note_shown(shown)
        try:
            txn.commit()
        except TransactionRefused as refused:
            if refused.duplicate:
                raise DuplicateEvent(marker.event_key) from refused
            if refused.reservation_refused:   # before the open-hold count: a replay is answered as one
                existing = repository.get_reservation(request.reservation_id)
                if existing is not None:
                    if replaces is not None:
                        raise InvalidTransition(f"reservation is {existing.status}", status=existing.status)
                    if if_exists == "raise":
                        raise ReservationExists(existing) from refused
                    return replay(existing, request)
                # the replaced item changed status under us: plan again
            if refused.open_holds_full:
                raise TooManyRequests(
                    f"{request.owner} has {open_holds_limit} open holds, its limit: commit or release some, or "
                    f"let them expire", limit=open_holds_limit) from refused
            # A warehouse's guard failed: another change took units since the read. Read again and plan
            # again: either this plan wins next time or the fresh read shows the pool really short.
            if not time_budget.wait_before_retry(attempt, until):
                raise Busy("stock is busy: other orders kept taking the units this plan counted on; send the "
                           "same request again", retry_after_s=time_budget.RETRY_AFTER_S) from refused
            attempt += 1
            continue
        publish_stock_changed(((a.sku, a.warehouse_id) for a in plan), "reserve", request.source,
                              snapshots=_snapshots_after(items, plan, status))
        if status is ReservationStatus.COMMITTED:
            publish_committed(reservation, now_ms)
        return ReserveResult(reservation, replayed=False)


def _plan(lines: list[Line], levels: dict, items: dict, status: ReservationStatus,
          presale: PresaleOrder | None) -> tuple[list[Allocation], dict]:
    """The allocations from the stock read, and (presale) what is on its way, read after it. Available only
    unless the order may presell; then the presale plan when available falls short, or always while the
    room goes first."""
    limit = max_allocations(status)
    if presale is None:
        return plan_allocations(lines, levels, limit), {}
    if not presale.room_first:
        try:
            return plan_allocations(lines, levels, limit), {}
        except InsufficientStock:
            pass
    incoming = presale_reads.incoming([line.sku for line in lines], items)
    plan = plan_presale(lines, levels, incoming, presale.horizon, room_first=presale.room_first)
    # a presold allocation writes one ledger entry more than max_allocations counts on
    per_allocation = 4 if status is ReservationStatus.COMMITTED else 3
    if len(plan) > (MAX_TRANSACTION_ITEMS - _FIXED_ITEMS) // per_allocation:
        raise TooLargeForOneTransaction(
            f"this presale draws on {len(plan)} (SKU, warehouse) stock items, more than one transaction takes: "
            f"split it into smaller requests", needed=len(plan), limit=limit)
    return plan, incoming


def _existing_answer(request: ReservationRequest, if_exists: str) -> ReserveResult | None:
    """A plan could not be made: the replay if the reservation exists (or ReservationExists), else None."""
    existing = repository.get_reservation(request.reservation_id)
    if existing is None:
        return None
    if if_exists == "raise":
        raise ReservationExists(existing)
    return replay(existing, request)


def _snapshots_after(items: dict[str, list], plan: list[Allocation], status: ReservationStatus) -> dict[str, dict]:
    """The counters this reservation's transaction left, from the read its plan was made from."""
    return {sku: snapshot_after(sku, sku_items, [(a.warehouse_id, movement_deltas(Movement.RESERVE, a.qty - a.presold))
                                                 for a in plan if a.sku == sku]
                                + [(a.warehouse_id, movement_deltas(Movement.PRESELL, a.presold))
                                   for a in plan if a.sku == sku and a.presold])
            for sku, sku_items in items.items()}


def record_oversell(request: ReservationRequest, *, now_ms: int, marker: InboundEvent | None,
                    shortfall: list[dict], shown: ShownNote | None = None) -> Reservation:
    """Keep a platform order the pool could not cover: lines and shortfall recorded, ledger untouched
    (`shown`: as reserve's)."""
    reservation = Reservation(
        request.reservation_id, channel=request.channel, status=ReservationStatus.OVERSOLD.value,
        lines=[LineMap(sku=line.sku, qty=line.qty) for line in request.lines], allocations=[],
        request_hash=request.fingerprint, source=request.source, owner=request.owner, created_at=now_ms,
        updated_at=now_ms, status_reason="insufficient stock", shortfall=shortfall,
    )
    txn = StockTransaction(actor="system", source=request.source, reason=None, now_ms=now_ms)
    txn.put_reservation(reservation)
    if marker is not None:
        txn.put_marker(marker)
    if shown is not None:
        txn.note_shown(shown)
    try:
        txn.commit()
    except TransactionRefused as refused:
        if refused.duplicate:
            raise DuplicateEvent(marker.event_key) from refused
        raise InvalidTransition("reservation already exists", status="exists") from refused
    return reservation


def transition(reservation_id: str, action: ReservationAction, *, actor: str, now_ms: int,
               marker: InboundEvent | None = None, allow_expired: bool = False,
               only_if_expired: bool = False, reason: str | None = None, source: str | None = None,
               staff_action: dict | None = None, current: Reservation | None = None,
               shown: ShownNote | None = None) -> Reservation:
    """Move a reservation along; a repeated action that already happened returns it unchanged.

    `only_if_expired` is the sweep's guard: it releases a hold only while it is still held and expired,
    so a hold committed in the meantime is left alone. `source`: move it only if it is that source's
    (NotFound otherwise, as for a missing one). `staff_action` ({by, action, reason, at}) is recorded on it.
    `current`: the reservation as the caller just read it, decided on without reading it again (the
    transaction's status condition still guards it; a refusal reads it afresh). The reservation returned
    is the one read with this transaction's changes applied (store.transactions.moved), not read back.
    `shown`: a platform order's note of what its listings may still sell, written with the marker.
    """
    for _attempt in range(_TRANSITION_ATTEMPTS):
        reservation, current = current or repository.get_reservation(reservation_id), None
        if reservation is None or (source is not None and reservation.source != source):
            raise NotFound(f"reservation {reservation_id} not found")
        status = ReservationStatus(reservation.status)
        now_s = now_ms // 1000
        expired = status is ReservationStatus.HELD and reservation.expires_at is not None \
            and reservation.expires_at <= now_s
        if only_if_expired and not expired:
            return reservation
        if is_same_transition_done(status, action):
            if marker is not None:
                record_marker(marker, shown)
            return reservation
        target = next_status(status, action, expired=expired and not allow_expired)
        txn = StockTransaction(actor=actor, source=f"{reservation.source}:{reservation_id}", reason=reason,
                               now_ms=now_ms)
        txn.move_reservation(reservation_id, status, target, reason, staff_action)
        if marker is not None:
            txn.put_marker(marker)
        if shown is not None:
            txn.note_shown(shown)
        if counts_toward_open_holds(reservation):
            txn.uncount_open_hold(reservation.owner)
        movement = TRANSITION_MOVEMENT[action]
        for op in _transition_ops(reservation, movement):
            txn.stock(op)
        try:
            txn.commit()
        except TransactionRefused as refused:
            if refused.duplicate:
                raise DuplicateEvent(marker.event_key) from refused
            continue  # status changed under us: read again and decide again
        if movement is not Movement.COMMIT:
            publish_stock_changed(((a.sku, a.warehouse_id) for a in reservation.allocations),
                                  action.value, reservation.source)
        else:
            publish_committed(reservation, now_ms)
        return moved(reservation, target, now_ms, reason, staff_action)
    raise InvalidTransition(f"reservation {reservation_id} kept changing; try again", status="busy")


def _transition_ops(reservation: Reservation, movement: Movement) -> list[StockOp]:
    """The stock movements of a transition. A presale allocation's presold units ship out of the units that
    arrived for presale orders (PRESALE_SHIP; PresaleNotArrived while the stock item's pool of them is short).
    A release gives an allocation's presold units back as presale room while its stock item still counts them
    presold, the arrived rest back on hand out of that pool (domain/presale.release_split); the guards of the
    movements refuse what the item no longer allows, and the transition is decided again."""
    presold = {(a.sku, a.warehouse_id): int(a.presold or 0) for a in reservation.allocations if a.presold}
    if movement not in (Movement.RELEASE, Movement.SHIP) or not presold:
        return [StockOp(a.sku, a.warehouse_id, movement, int(a.qty)) for a in reservation.allocations]
    read = {(i.sku, i.warehouse_id): i for sku in {sku for sku, _ in presold} for i in repository.stock_items(sku)}
    ops = []
    for a in reservation.allocations:
        key, qty = (a.sku, a.warehouse_id), int(a.qty)
        item = read.get(key)
        if movement is Movement.SHIP:
            _refuse_unless_arrived(reservation, a.sku, a.warehouse_id, presold.get(key, 0), item)
            ops += [StockOp(a.sku, a.warehouse_id, m, n) for m, n in (
                (Movement.SHIP, qty - presold.get(key, 0)), (Movement.PRESALE_SHIP, presold.get(key, 0))) if n]
            continue
        back = release_split(presold.get(key, 0), int(item.presold or 0) if item else 0)
        arrived = presold.get(key, 0) - back
        ops += [StockOp(a.sku, a.warehouse_id, m, n) for m, n in (
            (Movement.RELEASE, qty - presold.get(key, 0)), (Movement.PRESALE_RELEASE_ARRIVED, arrived),
            (Movement.PRESALE_RELEASE, back)) if n]
    return ops


def _refuse_unless_arrived(reservation: Reservation, sku: str, warehouse_id: str, presold: int, item) -> None:
    """PresaleNotArrived when the stock item as read has too few arrived presale units for this allocation
    (the ship transaction's guard decides; this read only names what is missing)."""
    missing = not_arrived(presold, int(item.presale_arrived or 0) if item else 0)
    if missing:
        raise PresaleNotArrived(
            f"{reservation.reservation_id}: {presold} units of {sku} at {warehouse_id} were sold before they "
            f"arrived and {missing} of them have not arrived yet; ship it once the goods are received",
            reservation_id=reservation.reservation_id, sku=sku, warehouse_id=warehouse_id, presold=presold,
            not_arrived=missing)


def publish_committed(reservation: Reservation, now_ms: int) -> None:
    """reservation.committed: demand happens at payment. sales_aggregate counts it from the commit
    ledger entries of the allocated (sku, warehouse) streams (exactly once); a lost event is caught up by
    the next one on the same stream."""
    bus.publish(events.RESERVATION_COMMITTED, [{
        "reservation_id": reservation.reservation_id, "source": reservation.source,
        "channel": reservation.channel, "committed_at": now_ms,
        "lines": [{"sku": line.sku, "qty": int(line.qty)} for line in reservation.lines],
        "allocations": [{"sku": a.sku, "warehouse_id": a.warehouse_id, "qty": int(a.qty)}
                        for a in reservation.allocations]}])


def release_expired(now_ms: int, limit: int = 200) -> list[str]:
    """Release holds whose time is up. Each release is its own guarded transaction."""
    released = []
    for hold in repository.due_holds(now_ms // 1000, limit):
        try:
            result = transition(hold.reservation_id, ReservationAction.RELEASE, actor="expiry-sweep",
                                now_ms=now_ms, only_if_expired=True, reason="hold expired")
        except Busy:
            continue   # still expired at the next pass, which releases it then
        if result.status == ReservationStatus.RELEASED.value:
            released.append(hold.reservation_id)
    return released


def counts_toward_open_holds(reservation: Reservation) -> bool:
    """A storefront hold with a recorded owner is counted among its owner's open holds until it ends.
    (Holds written before owners were recorded were never counted.)"""
    return (reservation.status == ReservationStatus.HELD.value and reservation.source == STOREFRONT
            and reservation.owner is not None)


def owner_of(reservation: Reservation) -> str | None:
    """Whose reservation it is. One written before owners were recorded: a platform order's is its
    source's; a storefront one's is the actor of its own reserve ledger entry (first allocation's stream,
    the reservation's creation millisecond, source storefront:<id>), None when there is none."""
    if reservation.owner is not None:
        return reservation.owner
    if reservation.source != STOREFRONT:
        return reservation.source
    if not reservation.allocations:
        return None
    first = reservation.allocations[0]
    return repository.ledger_actor(first.sku, first.warehouse_id, int(reservation.created_at),
                                   f"{STOREFRONT}:{reservation.reservation_id}")


def view(reservation: Reservation, now_ms: int) -> dict:
    status = effective_status(ReservationStatus(reservation.status), reservation.expires_at, now_ms // 1000)
    body = {
        "reservation_id": reservation.reservation_id,
        "channel": reservation.channel,
        "status": status.value,
        "lines": [{"sku": line.sku, "qty": int(line.qty)} for line in reservation.lines],
        "allocations": [{"sku": a.sku, "warehouse_id": a.warehouse_id, "qty": int(a.qty),
                         **({"presold": int(a.presold)} if a.presold else {})}
                        for a in reservation.allocations],
        "created_at": reservation.created_at,
    }
    if reservation.expires_at is not None:
        body["expires_at"] = int(reservation.expires_at)
    if status is ReservationStatus.RELEASED and reservation.status == ReservationStatus.HELD.value:
        body["status_reason"] = "hold expired"
    elif reservation.status_reason:
        body["status_reason"] = reservation.status_reason
    if reservation.shortfall:
        body["shortfall"] = reservation.shortfall
    return body


def staff_view(reservation: Reservation, now_ms: int) -> dict:
    """view() plus whose it is and what staff did to it."""
    return {**view(reservation, now_ms), "source": reservation.source, "owner": owner_of(reservation),
            "staff_actions": [{"by": a.by, "action": a.action, "reason": a.reason, "at": int(a.at)}
                              for a in reservation.staff_actions or []]}


def new_reservation(request: ReservationRequest, plan: list[Allocation], status: ReservationStatus,
                    now_ms: int) -> Reservation:
    """Only a hold expires (txn.put_reservation files it in the expiry index)."""
    held = status is ReservationStatus.HELD
    return Reservation(
        request.reservation_id,
        channel=request.channel,
        status=status.value,
        lines=[LineMap(sku=line.sku, qty=line.qty) for line in request.lines],
        allocations=[AllocationMap(sku=a.sku, warehouse_id=a.warehouse_id, qty=a.qty, presold=a.presold or None)
                     for a in plan],
        request_hash=request.fingerprint,
        source=request.source,
        owner=request.owner,
        created_at=now_ms,
        updated_at=now_ms,
        expires_at=(now_ms // 1000 + request.hold_seconds) if held else None,
    )


def replay(existing: Reservation, request: ReservationRequest) -> ReserveResult:
    """The answer to a request whose reservation exists already: the same request of the same owner
    replays it. Anyone else's is a conflict, answered as a different request would be (the reservation
    itself is never shown to them)."""
    same_owner = existing.source == request.source and (request.owner is None
                                                         or owner_of(existing) == request.owner)
    if existing.request_hash != request.fingerprint or not same_owner:
        raise IdempotencyConflict(
            f"reservation {request.reservation_id} exists with a different request")
    return ReserveResult(existing, replayed=True)


def record_marker(marker: InboundEvent, shown: ShownNote | None = None) -> None:
    """Record a business event that changes no stock (DuplicateEvent if it was recorded before): its marker
    alone, or with a platform order's note of what its listings may still sell in one transaction."""
    if shown is None or not shown.changes:
        if not repository.record_event(marker):
            raise DuplicateEvent(marker.event_key)
        return
    txn = StockTransaction(actor="system", source=marker.event_key, reason=None, now_ms=shown.now_ms)
    txn.put_marker(marker)
    txn.note_shown(shown)
    try:
        txn.commit()
    except TransactionRefused as refused:
        if refused.duplicate:
            raise DuplicateEvent(marker.event_key) from refused
        raise


def shortfalls_for(request: ReservationRequest) -> list[dict]:
    lines = merge_lines(list(request.lines))
    return shortfalls(lines, repository.stock_levels([line.sku for line in lines]))

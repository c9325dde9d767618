"""Guarded stock transactions: the only code that changes stock counters.

Every change is one TransactWriteItems holding the guarded counter update(s), their ledger entries and
whatever marker/reservation item makes the change idempotent. Nothing reads a counter to write it back.
The conditions live here, named by what they guard (put_marker, put_reservation, move_reservation,
shrink_reservation, release_hold, record_preemption, count_returned, stock): callers decide what to write and
what a refusal means (TransactionRefused.duplicate / .reservation_refused / .holds_changed / .returns_changed).

A transaction DynamoDB cancels as a conflict (another transaction was writing one of its items) or as
throttled wrote nothing and is sent again, unchanged, after a jittered exponential backoff, for as long as
the invocation's time budget allows (stocklink.time_budget); then errors.Busy (a retryable 503). Only a
failed condition is the caller's to interpret: the cancellation reasons tell the two apart.

Presale (预售): `presold` units of a stock item are sold against its `in_transit` units, and presold <= in_transit
always (each presold unit backed by one unit on its way). A change that shrinks that backing (a presell, an
arrival or drop of units on their way) is guarded against the item as the caller read it (read_transit):
presold may be at most the backing it counted on after the change, and no unit may have left in_transit since
the read (`transit_settled`, the count of units that ever left, is unchanged). Without a read such a change is
only allowed while nothing is presold. Presold units that arrived are counted apart in `presale_arrived` (a
share of `reserved`, not a ledger counter: the ledger's presale_fill, presale_ship and presale_release_arrived
entries rebuild it): a presale order's presold units ship (PRESALE_SHIP) or go back on hand
(PRESALE_RELEASE_ARRIVED) only out of them, guarded `presale_arrived >= qty` like any counter.

DynamoDB lets a transaction touch an item once, so the movements of one stock item (a hold released and
the same units reserved again by the order that took them) become one counter update whose guard is the
conjunction of each movement's guard as if they ran in the order given; each keeps its own ledger entry.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.transactions import TransactWrite

from stocklink import time_budget
from stocklink.domain.stock import Movement, ReservationStatus, movement_deltas
from stocklink.errors import Busy
from stocklink.observability import logger
from stocklink.store import keys
from stocklink.store.models import (
    AllocationMap,
    InboundEvent,
    LedgerEntry,
    LineMap,
    OpenHolds,
    Reservation,
    StaffActionMap,
    StockItem,
    connection_for,
)

MAX_TRANSACTION_ITEMS = 100
# Cancellation reasons that say nothing about the items' state: the same transaction may simply be sent again.
RETRYABLE_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
# Labels of the items a refusal is reported by (TransactionRefused.failed).
MARKER = "marker"
RESERVATION = "reservation"
HOLD = "hold:"              # + reservation id: a hold released by release_hold
PREEMPTION = "preemption:"  # + reservation id: its record_preemption
OPEN_HOLDS = "open_holds:"  # + owner: count_open_hold's guard (the owner's limit)
RETURNS = "returns:"        # + reservation id: its count_returned
# The events-table status (and status-index value) of a preemption record.
PREEMPTED = "preempted"


@dataclass(frozen=True)
class StockOp:
    sku: str
    warehouse_id: str
    movement: Movement
    qty: int   # positive; signed only for ADJUST

    @property
    def label(self) -> str:
        return f"stock:{self.sku}:{self.warehouse_id}"


class TransactionRefused(Exception):
    """The transaction was cancelled: `failed` names the labelled items whose condition failed."""

    def __init__(self, failed: list[str], codes: list[str]):
        super().__init__(f"transaction refused on {failed or codes}")
        self.failed = failed
        self.codes = codes

    @property
    def conflict(self) -> bool:
        """DynamoDB cancelled it because another transaction was writing one of its items (or throttled
        it), and no condition failed: the same transaction may be sent again."""
        return not self.failed and any(code in RETRYABLE_REASONS for code in self.codes)

    @property
    def duplicate(self) -> bool:
        """The idempotency marker (put_marker) exists already: the business event had its effect before."""
        return MARKER in self.failed

    @property
    def reservation_refused(self) -> bool:
        """The reservation was not in the state put_reservation / move_reservation required."""
        return RESERVATION in self.failed

    @property
    def open_holds_full(self) -> bool:
        """count_open_hold found the owner at its limit of open holds."""
        return any(label.startswith(OPEN_HOLDS) for label in self.failed)

    @property
    def returns_changed(self) -> bool:
        """count_returned found the order no longer shipped, or other returns counted meanwhile: plan again."""
        return any(label.startswith(RETURNS) for label in self.failed)

    @property
    def holds_changed(self) -> list[str]:
        """Ids of the holds release_hold found no longer held (paid, released or expired meanwhile)."""
        return [label[len(HOLD):] for label in self.failed if label.startswith(HOLD)]


class TransactionTooLarge(ValueError):
    """More items than one TransactWriteItems takes. Callers bound what they write (a hold's lines, a
    receipt's parts, a platform order that cannot fit is recorded for a person), so this is a bug."""

    def __init__(self, size: int):
        super().__init__(f"transaction of {size} items exceeds {MAX_TRANSACTION_ITEMS}")
        self.size = size


@dataclass
class StockTransaction:
    """Collects the items of one TransactWriteItems and maps cancellation reasons back to labels."""

    actor: str
    source: str
    reason: str | None
    now_ms: int
    _puts: list[tuple[str, object, Condition | None]] = field(default_factory=list)
    _updates: list[tuple[str, object, list, Condition | None]] = field(default_factory=list)
    _counter_moves: dict[tuple[str, str], list[StockOp]] = field(default_factory=dict)
    _open_hold_moves: dict[str, tuple[int, int | None]] = field(default_factory=dict)  # owner -> (delta, limit)
    _shown_notes: list = field(default_factory=list)   # store.sync_models.ShownNote, written if there is room
    _transit_reads: dict[tuple[str, str], tuple[int, int, int]] = field(default_factory=dict)

    def _put(self, label: str, item, condition: Condition | None = None) -> None:
        self._puts.append((label, item, condition))

    def _update(self, label: str, item, actions: list, condition: Condition | None = None) -> None:
        self._updates.append((label, item, actions, condition))

    def include_put(self, label: str, item, condition: Condition | None = None) -> None:
        """Another store module's item written with this transaction (its keys and guard are that module's)."""
        self._put(label, item, condition)

    def include_update(self, label: str, item, actions: list, condition: Condition | None = None) -> None:
        self._update(label, item, actions, condition)

    def put_marker(self, event: InboundEvent) -> None:
        """The business event's idempotency marker, written only if it is new: a replay is refused
        (TransactionRefused.duplicate) and the transaction changes nothing."""
        self._put(MARKER, event, InboundEvent.event_key.does_not_exist())

    def put_receipt_marker(self, warehouse_id: str, reference: str, part: int, *, received_at: str,
                           outcome: dict) -> None:
        """The marker of one part of a goods receipt (put_marker's guard: a part booked before refuses the
        transaction as TransactionRefused.duplicate)."""
        self.put_marker(InboundEvent(keys.receipt_event(warehouse_id, reference, part), kind="stock.receipt",
                                     status="applied", received_at=received_at, outcome=outcome))

    def put_reservation(self, reservation: Reservation, replaces: ReservationStatus | None = None) -> None:
        """Write a new reservation; with `replaces`, overwrite an existing one only while it is in that status.
        Refused (TransactionRefused.reservation_refused) otherwise. A held reservation (one with an expiry)
        is given its hold shard here: the key under which the expiry index lists it."""
        if reservation.expires_at is not None:
            reservation.hold_shard = keys.hold_shard(reservation.reservation_id)
        condition = (Reservation.reservation_id.does_not_exist() if replaces is None
                     else Reservation.status == replaces.value)
        self._put(RESERVATION, reservation, condition)

    def move_reservation(self, reservation_id: str, current: ReservationStatus, target: ReservationStatus,
                         reason: str | None = None, staff_action: dict | None = None) -> None:
        """Move a reservation from `current` to `target` (with `reason`, if any), only while it is still
        `current`: refused (TransactionRefused.reservation_refused) when it changed under the caller. It
        leaves the expiry index (no expiry, no hold shard) whatever the target. `staff_action` ({by, action,
        reason, at}) is appended to the reservation's record of staff actions."""
        actions = [Reservation.status.set(target.value), Reservation.updated_at.set(self.now_ms),
                   Reservation.expires_at.remove(), Reservation.hold_shard.remove()]
        if reason:
            actions.append(Reservation.status_reason.set(reason))
        if staff_action:
            actions.append(Reservation.staff_actions.set(
                (Reservation.staff_actions | []).append([StaffActionMap(**staff_action)])))
        self._update(RESERVATION, Reservation(reservation_id), actions, Reservation.status == current.value)

    def release_hold(self, hold: Reservation, reason: str) -> None:
        """Release another order's hold whole, taken by the order this transaction writes: held → released
        with `reason`, only while it is still held (refused as TransactionRefused.holds_changed when it was
        paid, released or expired meanwhile), and every unit of it back to the pool (a release movement per
        allocation, ledger source the hold's own). Call it before the taking order's stock movements: a
        released unit's guard then lets the same transaction reserve it again."""
        actions = [Reservation.status.set(ReservationStatus.RELEASED.value),
                   Reservation.updated_at.set(self.now_ms), Reservation.expires_at.remove(),
                   Reservation.hold_shard.remove(), Reservation.status_reason.set(reason)]
        self._update(HOLD + hold.reservation_id, Reservation(hold.reservation_id), actions,
                     Reservation.status == ReservationStatus.HELD.value)
        for allocation in hold.allocations:
            op = StockOp(allocation.sku, allocation.warehouse_id, Movement.RELEASE, int(allocation.qty))
            self.stock(op, source=f"{hold.source}:{hold.reservation_id}", reason=reason)

    def note_shown(self, note) -> None:
        """An order's note of what its listings may still sell (store.sync_models.ShownNote: one unguarded
        update per listing), written with this transaction when it has room for it after everything else
        (the note never counts in `size`, so it never makes a transaction too large); `note.written` says,
        once the transaction committed, whether it was."""
        self._shown_notes.append(note)

    def read_transit(self, item: StockItem, backing: int | None = None) -> None:
        """The stock item as the caller read it, for the presale guard (module docstring): `backing` is how
        many of its in_transit units may back presold ones (default all; a presale window counts fewer)."""
        in_transit = int(item.in_transit or 0)
        self._transit_reads[(item.sku, item.warehouse_id)] = (
            in_transit, int(item.transit_settled or 0), in_transit if backing is None else min(backing, in_transit))

    def read_items(self) -> set[str]:
        """Labels of the stock items registered with read_transit (a refusal naming one: read and decide again)."""
        return {StockOp(sku, warehouse_id, Movement.ADJUST, 0).label for sku, warehouse_id in self._transit_reads}

    def count_open_hold(self, owner: str, limit: int | None) -> None:
        """One more open hold for `owner`, only while it has fewer than `limit` (if any): refused
        (TransactionRefused.open_holds_full) at the limit."""
        delta, _ = self._open_hold_moves.get(owner, (0, None))
        self._open_hold_moves[owner] = (delta + 1, limit)

    def uncount_open_hold(self, owner: str) -> None:
        """One open hold of `owner` fewer (its hold was committed, shipped or released). Unguarded: a hold
        always ends, whatever the count says."""
        delta, limit = self._open_hold_moves.get(owner, (0, None))
        self._open_hold_moves[owner] = (delta - 1, limit)

    def record_preemption(self, hold_id: str, *, kind: str, received_at: str, platform: str, shop: str,
                          order_id: str, outcome: dict, detail: dict) -> None:
        """The record of a hold taken by a paid order (the order's platform, shop and id), keyed by the hold
        (a hold is taken once) and listed under the status index as `preempted`."""
        record = InboundEvent(
            keys.preemption_event(hold_id), kind=kind, status=PREEMPTED, status_index=PREEMPTED,
            received_at=received_at, platform=platform, shop=shop, order_id=order_id, reservation_id=hold_id,
            detail=detail, outcome={"status": PREEMPTED, **outcome})
        self._put(PREEMPTION + hold_id, record, InboundEvent.event_key.does_not_exist())

    def count_returned(self, reservation_id: str, restocks: list[tuple[int, int, int]]) -> None:
        """Count returned units on a shipped order's allocations: `restocks` holds (allocation index, units
        shipped from it, units now coming back). Each allocation's count rises only while it stays within
        what it shipped (returned <= shipped - units before the write), and only while the order is still
        shipped; otherwise the transaction is refused (TransactionRefused.returns_changed)."""
        allocations = Path(Reservation.allocations)
        actions = [Reservation.updated_at.set(self.now_ms)]
        condition = Reservation.status == ReservationStatus.SHIPPED.value
        for index, shipped, qty in restocks:
            if not 0 < qty <= shipped:
                raise ValueError(f"allocation {index}: cannot count {qty} returned of {shipped} shipped")
            returned = allocations[index]["returned"]
            actions.append(returned.set((returned | 0) + qty))
            condition &= allocations[index]["qty"] == shipped
            condition &= returned.does_not_exist() | (returned <= shipped - qty)
        self._update(RETURNS + reservation_id, Reservation(reservation_id), actions, condition)

    def shrink_reservation(self, reservation: Reservation, allocations: list[AllocationMap],
                           lines: list[LineMap]) -> None:
        """Some units of a reserved order released (domain/part_release): its allocations and lines become
        `allocations` / `lines`, only while it is still in the status and holds exactly the allocations it
        was read with (each one's qty, and no more of them): refused (TransactionRefused.reservation_refused)
        when another change came first, so two part releases never take the same units."""
        held = Path(Reservation.allocations)
        actions = [Reservation.allocations.set(allocations), Reservation.lines.set(lines),
                   Reservation.updated_at.set(self.now_ms)]
        condition = (Reservation.status == reservation.status) & held[len(reservation.allocations)].does_not_exist()
        for index, allocation in enumerate(reservation.allocations):
            condition &= held[index]["qty"] == int(allocation.qty)
        self._update(RESERVATION, Reservation(reservation.reservation_id), actions, condition)

    def stock(self, op: StockOp, *, source: str | None = None, reason: str | None = None) -> None:
        """Guarded counter update plus its ledger entry (its source and reason: the transaction's unless
        given). Movements of one stock item are merged into one update at commit (module docstring)."""
        deltas = movement_deltas(op.movement, op.qty)
        # A commit moves no counter: only its ledger entry is written, sparing the hot stock item a write.
        if any((deltas.on_hand, deltas.reserved, deltas.available, deltas.in_transit, deltas.presold)):
            self._counter_moves.setdefault((op.sku, op.warehouse_id), []).append(op)
        self._put(f"ledger:{op.sku}:{op.warehouse_id}", LedgerEntry(
            keys.ledger_stream(op.sku, op.warehouse_id),
            keys.ledger_entry_id(self.now_ms),
            sku=op.sku,
            warehouse_id=op.warehouse_id,
            movement=op.movement.value,
            qty=op.qty,
            on_hand_delta=deltas.on_hand,
            reserved_delta=deltas.reserved,
            available_delta=deltas.available,
            in_transit_delta=deltas.in_transit,
            presold_delta=deltas.presold,
            actor=self.actor,
            reason=self.reason if reason is None else reason,
            source=self.source if source is None else source,
            created_at=self.now_ms,
        ))

    def _counter_updates(self) -> list[tuple[str, object, list, Condition | None]]:
        """One guarded update per stock item: the summed deltas, and every movement's guard shifted by the
        deltas of the movements before it (what the counter would be when that movement ran)."""
        updates = []
        for ops in self._counter_moves.values():
            first = ops[0]
            total = dict.fromkeys(_GUARDED, 0)
            floors: dict[str, int] = {}
            for op in ops:
                for counter, minimum in _guard(op).items():
                    need = minimum - total[counter]
                    floors[counter] = max(floors.get(counter, need), need)
                deltas = _deltas(op)
                total = {name: total[name] + deltas[name] for name in _GUARDED}
            actions = [StockItem.version.add(1), StockItem.updated_at.set(self.now_ms)]
            actions += [_GUARDED[name].set((_GUARDED[name] | 0) + delta)
                        for name, delta in total.items() if delta]
            if any(op.movement in _MAY_CREATE for op in ops):
                # the first movement of a new SKU x warehouse creates its item: every counter must exist
                actions += [_COUNTERS[name].set(_COUNTERS[name] | 0) for name in _COUNTERS if not total[name]]
            settled = sum(max(0, -movement_deltas(op.movement, op.qty).in_transit) for op in ops)
            if settled:
                actions.append(StockItem.transit_settled.set((StockItem.transit_settled | 0) + settled))
            checks = [_GUARDED[counter] >= minimum for counter, minimum in floors.items()]
            checks += self._presale_checks(ops, total)
            condition = None
            for check in checks:
                condition = check if condition is None else condition & check
            updates.append((first.label, StockItem(first.sku, first.warehouse_id), actions, condition))
        return updates

    def _presale_checks(self, ops: list[StockOp], total: dict[str, int]) -> list[Condition]:
        """The presale guard of one stock item (module docstring): none while its changes leave the backing
        of presold units as it is or larger."""
        if total["in_transit"] - total["presold"] >= 0 and not any(op.movement is Movement.PRESELL for op in ops):
            return []
        first = ops[0]
        read = self._transit_reads.get((first.sku, first.warehouse_id))
        if read is None:
            if any(op.movement is Movement.PRESELL for op in ops):
                raise ValueError(f"a presell of {first.label} needs the item as read (read_transit)")
            # nothing presold may depend on the units leaving
            return [StockItem.presold.does_not_exist() | (StockItem.presold <= -total["presold"])]
        in_transit, settled, backing = read
        ceiling = backing + total["in_transit"] - total["presold"]
        cap = StockItem.presold <= ceiling
        checks = [cap if ceiling < 0 else StockItem.presold.does_not_exist() | cap]
        checks.append(StockItem.transit_settled.does_not_exist() | (StockItem.transit_settled == 0) if settled == 0
                      else StockItem.transit_settled == settled)
        return checks

    def _open_hold_updates(self) -> list[tuple[str, object, list, Condition | None]]:
        """One update per owner: the summed change, guarded by the limit when it adds a hold."""
        updates = []
        for owner, (delta, limit) in self._open_hold_moves.items():
            if delta == 0:
                continue
            condition = None
            if delta > 0 and limit is not None:
                condition = OpenHolds.open_holds.does_not_exist() | (OpenHolds.open_holds <= limit - delta)
            updates.append((OPEN_HOLDS + owner, OpenHolds(keys.open_holds(owner)),
                            [OpenHolds.open_holds.add(delta)], condition))
        return updates

    @property
    def size(self) -> int:
        return len(self._puts) + len(self._updates) + len(self._counter_moves) + len(self._open_hold_moves)

    def commit(self) -> None:
        """Write every item or none. TransactionRefused when a condition failed; errors.Busy when conflicts
        outlasted the time budget (nothing written either way)."""
        if self.size > MAX_TRANSACTION_ITEMS:
            raise TransactionTooLarge(self.size)
        notes = [(f"shown:{item.sk}", item, actions, None)
                 for note in self._shown_notes for item, actions in note.updates()]
        if self.size + len(notes) > MAX_TRANSACTION_ITEMS:
            notes = []     # no room: the caller writes them apart
        updates = self._updates + self._open_hold_updates() + self._counter_updates() + notes
        until = time_budget.deadline()
        attempt = 0
        while True:
            try:
                _transact_write(self._puts, updates)
                for note in self._shown_notes:
                    note.written = bool(notes) or not note.changes
                return
            except TransactionRefused as refused:
                if not refused.conflict:
                    raise
                if not time_budget.wait_before_retry(attempt, until):
                    logger.warning("transaction still in conflict when its time budget ran out",
                                   extra={"source": self.source, "attempts": attempt + 1, "codes": refused.codes})
                    raise Busy("stock is busy: the change kept colliding with other changes and was not made; "
                               "send the same request again", retry_after_s=time_budget.RETRY_AFTER_S) from refused
                attempt += 1


def _transact_write(puts: list[tuple[str, object, Condition | None]],
                    updates: list[tuple[str, object, list, Condition | None]]) -> None:
    """The one TransactWriteItems call; a cancellation becomes TransactionRefused naming the labelled items
    whose condition failed, with every item's cancellation code."""
    labels = [p[0] for p in puts] + [u[0] for u in updates]
    try:
        with TransactWrite(connection=connection_for(StockItem)) as txn:
            for _, item, condition in puts:
                txn.save(item, condition=condition)
            for _, item, actions, condition in updates:
                txn.update(item, actions=actions, condition=condition)
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        if not reasons:
            raise
        codes = [(r.code if r else "None") for r in reasons]
        failed = [label for label, code in zip(labels, codes) if code == "ConditionalCheckFailed"]
        raise TransactionRefused(failed, codes) from exc


_MAY_CREATE = frozenset({Movement.RECEIVE, Movement.RETURN, Movement.TRANSIT_IN, Movement.TRANSFER_BACK})
_COUNTERS = {"on_hand": StockItem.on_hand, "reserved": StockItem.reserved, "available": StockItem.available,
             "in_transit": StockItem.in_transit, "presold": StockItem.presold}
# the ledger's counters and presale_arrived, the share of reserved that presold units which arrived hold
_GUARDED = {**_COUNTERS, "presale_arrived": StockItem.presale_arrived}
_ARRIVED_SIGN = {Movement.PRESALE_FILL: 1, Movement.PRESALE_SHIP: -1, Movement.PRESALE_RELEASE_ARRIVED: -1}


def _deltas(op: StockOp) -> dict[str, int]:
    """What one movement does to each guarded counter (the ledger's five, and presale_arrived)."""
    deltas = movement_deltas(op.movement, op.qty)
    return {**{name: getattr(deltas, name) for name in _COUNTERS},
            "presale_arrived": _ARRIVED_SIGN.get(op.movement, 0) * op.qty}


def _guard(op: StockOp) -> dict[str, int]:
    """What keeps the counters honest for this movement: counter → the least it must hold beforehand."""
    match op.movement:
        case Movement.RESERVE:
            return {"available": op.qty}
        case Movement.RELEASE:
            return {"reserved": op.qty}
        case Movement.SHIP:
            return {"reserved": op.qty, "on_hand": op.qty}
        case Movement.PRESALE_SHIP:
            # a presale order ships only units that arrived for presale orders, never another order's
            return {"reserved": op.qty, "on_hand": op.qty, "presale_arrived": op.qty}
        case Movement.PRESALE_RELEASE_ARRIVED:
            return {"reserved": op.qty, "presale_arrived": op.qty}
        case Movement.ADJUST if op.qty < 0:
            # on_hand may not drop below reserved, i.e. available may not go negative
            return {"available": -op.qty}
        case Movement.TRANSFER_OUT:
            # only unreserved units leave: a held or sold unit stays for its order
            return {"available": op.qty}
        case Movement.TRANSIT_ARRIVE | Movement.TRANSIT_DROP:
            return {"in_transit": op.qty}
        case Movement.PRESALE_RELEASE | Movement.PRESALE_FILL:
            return {"presold": op.qty}
    return {}




def moved(reservation: Reservation, target: ReservationStatus, now_ms: int, reason: str | None = None,
          staff_action: dict | None = None) -> Reservation:
    """`reservation` as StockTransaction.move_reservation (same arguments) leaves it once committed, without
    reading it back: the update is made only while the status is the one read, so nothing else changed."""
    after = Reservation.from_raw_data(reservation.serialize())
    after.status, after.updated_at, after.expires_at, after.hold_shard = target.value, now_ms, None, None
    if reason:
        after.status_reason = reason
    if staff_action:
        after.staff_actions = [*(after.staff_actions or []), StaffActionMap(**staff_action)]
    return after

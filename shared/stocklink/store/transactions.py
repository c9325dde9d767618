"""Guarded stock transactions: the only code that changes stock counters.

Every change is one TransactWriteItems holding the guarded counter update(s), their ledger entries and
whatever marker/reservation item makes the change idempotent. Nothing reads a counter to write it back.
The conditions live here, named by what they guard (put_marker, put_reservation, move_reservation, stock):
callers decide what to write and what a refusal means (TransactionRefused.duplicate / .reservation_refused).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from stocklink.domain.stock import Movement, ReservationStatus, movement_deltas
from stocklink.store import keys
from stocklink.store.models import connection_for, InboundEvent, LedgerEntry, Reservation, StockItem

MAX_TRANSACTION_ITEMS = 100
# Labels of the items a refusal is reported by (TransactionRefused.failed).
MARKER = "marker"
RESERVATION = "reservation"


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
        """DynamoDB refused because another transaction touched an item at the same time: retry."""
        return not self.failed and "TransactionConflict" in self.codes

    @property
    def duplicate(self) -> bool:
        """The idempotency marker (put_marker) exists already: the business event had its effect before."""
        return MARKER in self.failed

    @property
    def reservation_refused(self) -> bool:
        """The reservation was not in the state put_reservation / move_reservation required."""
        return RESERVATION in self.failed


@dataclass
class StockTransaction:
    """Collects the items of one TransactWriteItems and maps cancellation reasons back to labels."""

    actor: str
    source: str
    reason: str | None
    now_ms: int
    _puts: list[tuple[str, object, Condition | None]] = field(default_factory=list)
    _updates: list[tuple[str, object, list, Condition | None]] = field(default_factory=list)

    def _put(self, label: str, item, condition: Condition | None = None) -> None:
        self._puts.append((label, item, condition))

    def _update(self, label: str, item, actions: list, condition: Condition | None = None) -> None:
        self._updates.append((label, item, actions, condition))

    def put_marker(self, event: InboundEvent) -> None:
        """The business event's idempotency marker, written only if it is new: a replay is refused
        (TransactionRefused.duplicate) and the transaction changes nothing."""
        self._put(MARKER, event, InboundEvent.event_key.does_not_exist())

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
                         reason: str | None = None) -> None:
        """Move a reservation from `current` to `target` (with `reason`, if any), only while it is still
        `current`: refused (TransactionRefused.reservation_refused) when it changed under the caller. It
        leaves the expiry index (no expiry, no hold shard) whatever the target."""
        actions = [Reservation.status.set(target.value), Reservation.updated_at.set(self.now_ms),
                   Reservation.expires_at.remove(), Reservation.hold_shard.remove()]
        if reason:
            actions.append(Reservation.status_reason.set(reason))
        self._update(RESERVATION, Reservation(reservation_id), actions, Reservation.status == current.value)

    def stock(self, op: StockOp) -> None:
        """Guarded counter update plus its ledger entry."""
        deltas = movement_deltas(op.movement, op.qty)
        counter_changes = [(StockItem.on_hand, deltas.on_hand), (StockItem.reserved, deltas.reserved),
                           (StockItem.available, deltas.available)]
        # A commit moves no counter: only its ledger entry is written, sparing the hot stock item a write.
        if any(delta for _, delta in counter_changes):
            actions = [StockItem.version.add(1), StockItem.updated_at.set(self.now_ms)]
            actions += [attr.set((attr | 0) + delta) for attr, delta in counter_changes if delta]
            if op.movement in (Movement.RECEIVE, Movement.RETURN):
                actions.append(StockItem.in_transit.set(StockItem.in_transit | 0))
            self._update(op.label, StockItem(op.sku, op.warehouse_id), actions, _guard(op))
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
            actor=self.actor,
            reason=self.reason,
            source=self.source,
            created_at=self.now_ms,
        ))

    @property
    def size(self) -> int:
        return len(self._puts) + len(self._updates)

    def commit(self) -> None:
        if self.size > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"transaction of {self.size} items exceeds {MAX_TRANSACTION_ITEMS}")
        labels = [p[0] for p in self._puts] + [u[0] for u in self._updates]
        try:
            with TransactWrite(connection=connection_for(StockItem)) as txn:
                for _, item, condition in self._puts:
                    txn.save(item, condition=condition)
                for _, item, actions, condition in self._updates:
                    txn.update(item, actions=actions, condition=condition)
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            codes = [(r.code if r else "None") for r in reasons]
            failed = [label for label, code in zip(labels, codes) if code == "ConditionalCheckFailed"]
            if not reasons:
                raise
            raise TransactionRefused(failed, codes) from exc


def _guard(op: StockOp) -> Condition | None:
    """The condition that keeps the counters honest for this movement."""
    match op.movement:
        case Movement.RESERVE:
            return StockItem.available >= op.qty
        case Movement.RELEASE:
            return StockItem.reserved >= op.qty
        case Movement.SHIP:
            return (StockItem.reserved >= op.qty) & (StockItem.on_hand >= op.qty)
        case Movement.ADJUST if op.qty < 0:
            # on_hand may not drop below reserved, i.e. available may not go negative
            return StockItem.available >= -op.qty
    return None



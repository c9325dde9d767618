"""Transaction conflicts as real DynamoDB reports them, injected around the store's TransactWriteItems call.

DynamoDB cancels a transaction that touches an item another transaction is writing
(TransactionCanceledException, cancellation reason TransactionConflict on that item, None on the others);
neither moto nor DynamoDB Local ever does. The injector cancels a chosen share of calls that way before they
reach the database, so a cancelled transaction writes nothing, as on DynamoDB."""
from __future__ import annotations

import random
import threading

from pynamodb.connection.base import Connection
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError


def conflict_error(item_count: int, conflicting: int = -1) -> TransactWriteError:
    reasons: list[CancellationReason | None] = [None] * item_count
    reasons[conflicting] = CancellationReason(code="TransactionConflict",
                                              message="Transaction is ongoing for the item")
    listed = ", ".join(r.code if r else "None" for r in reasons)
    cause = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException",
                   "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons "
                              f"[{listed}]"}},
        "TransactWriteItems", cancellation_reasons=reasons)
    return TransactWriteError("Failed to write transaction items", cause)


class ConflictInjector:
    """Cancels TransactWriteItems calls as conflicts: each with probability `rate`; or in bursts, the first
    `burst_share` of every `burst_period` consecutive calls of each thread (on DynamoDB a conflict lasts
    while the other transaction is in flight, so a caller sending again at once meets it again, several
    times in a row; counted in calls, not seconds, so the share cancelled does not depend on how fast a
    loaded machine runs); or the first `first` calls; or every call while `always`. The first `pass_first`
    calls always go through."""

    def __init__(self, rate: float = 0.0, *, burst_share: float = 0.0, burst_period: int = 20,
                 first: int = 0, always: bool = False, pass_first: int = 0, seed: int = 14):
        self.rate, self.first, self.always, self.pass_first = rate, first, always, pass_first
        self.burst_share, self.burst_period = burst_share, burst_period
        self.rng, self.lock = random.Random(seed), threading.Lock()
        self.calls = self.injected = self.threads = 0
        self.per_thread = threading.local()
        self.real = Connection.transact_write_items

    def _in_burst(self) -> bool:
        """Called under the lock. Threads start at points spread evenly over the cycle, so threads making
        only a few calls each are, together, cancelled the share."""
        if not hasattr(self.per_thread, "calls"):
            self.threads += 1
            self.per_thread.calls = (self.threads * 7) % self.burst_period   # 7: coprime to the period of 20
        position = self.per_thread.calls
        self.per_thread.calls = position + 1
        return position % self.burst_period < self.burst_share * self.burst_period

    def install(self, monkeypatch) -> "ConflictInjector":
        injector = self
        monkeypatch.setattr(Connection, "transact_write_items",
                            lambda self, *args, **kwargs: injector(self, *args, **kwargs))
        return self

    def __call__(self, connection, condition_check_items, delete_items, put_items, update_items, **kwargs):
        with self.lock:
            self.calls += 1
            cancel = self.calls > self.pass_first and (
                self.always or self.calls <= self.pass_first + self.first
                or (self.rate and self.rng.random() < self.rate) or (self.burst_share and self._in_burst()))
            self.injected += bool(cancel)
        if not cancel:
            return self.real(connection, condition_check_items, delete_items, put_items, update_items, **kwargs)
        count = len(condition_check_items) + len(delete_items) + len(put_items) + len(update_items)
        with self.lock:
            conflicting = self.rng.randrange(count)
        raise conflict_error(count, conflicting)

"""The runtime's own side of moto's SQS: receive, acknowledge and return messages by calling moto's SQS
backend in this process rather than through boto3 and HTTP.

The queues stay moto's (functions send to them, the alert tick reads their DLQ depth, moto's redrive moves
a message to the DLQ after maxReceiveCount receives, visibility timeouts and delays are moto's), so the
semantics are moto's own; only the runtime's pollers skip the request signing, the HTTP round trip, the
XML/JSON encoding and botocore's parsing. Measured with `tests/bench/cpu_per_order.py`, those round trips
were most of the runtime process's CPU per reservation. ThreadedMotoServer serves from the same global
backends in this process (as `mock_aws` does in tests), so both see the same queues.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from infra.local.workers import ACCOUNT_ID, REGION


@dataclass(frozen=True)
class Received:
    """One received message, with what an SQS event record needs."""
    message_id: str
    receipt_handle: str
    body: str


def queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


class MotoQueues:
    def __init__(self, account_id: str = ACCOUNT_ID, region: str = REGION):
        from moto.sqs.models import sqs_backends

        self._backend = sqs_backends[account_id][region]
        # moto's receive_message checks a message's visibility and then marks it received without a lock:
        # two pollers of one queue could both take the same message. A lock per queue keeps it SQS-like.
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _lock(self, name: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(name, threading.Lock())

    def _receive(self, name: str, n: int) -> list:
        queue = self._backend.get_queue(name)
        with self._lock(name):
            return self._backend.receive_message(name, min(10, n), 0, int(queue.visibility_timeout))

    def receive(self, url: str, n: int, wait_s: float, stop: threading.Event) -> list[Received]:
        """Up to min(n, 10) messages; waits up to wait_s for the first (moto's long poll wakes on a send)."""
        name = queue_name(url)
        try:
            messages = self._receive(name, n)
            if not messages and wait_s > 0 and not stop.is_set():
                self._backend.get_queue(name).wait_for_messages(wait_s)
                messages = self._receive(name, n)
        except Exception:  # noqa: BLE001 - moto resetting, or a queue gone: pause as a failed poll would
            stop.wait(0.2)
            return []
        return [Received(m.id, m.receipt_handle, m.body) for m in messages]

    def receive_batch(self, url: str, batch_size: int, window_s: float, wait_s: float,
                      stop: threading.Event) -> list[Received]:
        """What Lambda's SQS event source hands one invocation: once a record is in, up to batch_size records
        gathered for at most window_s (no window: what one receive returns, so the record goes at once).
        Between receives it sleeps on moto's queue condition, woken by the next send, not on a timer."""
        msgs = self.receive(url, batch_size, wait_s, stop)
        deadline = time.monotonic() + window_s
        while msgs and len(msgs) < batch_size and not stop.is_set():
            more = self.receive(url, batch_size - len(msgs), 0, stop)
            if more:
                msgs += more
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.wait(url, min(left, 1.0))   # bounded: a stop is seen within a second
        return msgs

    def wait(self, url: str, timeout: float) -> None:
        """Until a message is visible in the queue or timeout seconds have passed."""
        try:
            self._backend.get_queue(queue_name(url)).wait_for_messages(timeout)
        except Exception:  # noqa: BLE001 - the queue is gone: the caller's next receive finds out
            pass

    def delete(self, url: str, receipt_handles: list[str]) -> int:
        """Deletes each message; returns how many were deleted (an expired handle is not)."""
        name, deleted = queue_name(url), 0
        for handle in receipt_handles:
            try:
                self._backend.delete_message(name, handle)
                deleted += 1
            except Exception:  # noqa: BLE001 - stale handle: the message comes back, as in SQS
                pass
        return deleted

    def retry_later(self, url: str, receipt_handles: list[str], after_s: int) -> None:
        """Makes each message visible again after after_s seconds (ChangeMessageVisibility)."""
        name = queue_name(url)
        for handle in receipt_handles:
            try:
                self._backend.change_message_visibility(name, handle, after_s)
            except Exception:  # noqa: BLE001 - stale handle: it is visible again already
                pass

    def depth(self, url: str) -> int:
        """ApproximateNumberOfMessages: the visible messages."""
        return len(self._backend.get_queue(queue_name(url)).messages)

"""How long one invocation may keep retrying, and the jittered exponential backoff that spends it.

A handler calls `start(context)` with its Lambda context: retries then stop in time to answer. Without one
(scripts, tests, worker threads the context does not reach) a retry loop gets DEFAULT_S from its start.
"""
from __future__ import annotations

import random
import time
from contextvars import ContextVar
from typing import Iterator

DEFAULT_S = 5.0          # budget of a retry loop when no Lambda context said how long is left
ANSWER_RESERVE_S = 1.0   # kept back from Lambda's remaining time: answering and publishing come after
BACKOFF_BASE_S = 0.02    # first wait's ceiling; each retry doubles it ...
BACKOFF_CAP_S = 0.5      # ... up to this
RETRY_AFTER_S = 1        # what a caller is told to wait when the budget ran out

_invocation_deadline: ContextVar[float | None] = ContextVar("stocklink_invocation_deadline", default=None)


def start(context) -> None:
    """Bound this invocation's retries by the Lambda's remaining time (none known: the default cap)."""
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if remaining_ms is None:
        _invocation_deadline.set(None)
        return
    _invocation_deadline.set(time.monotonic() + max(remaining_ms() / 1000 - ANSWER_RESERVE_S, 0.0))


def deadline() -> float:
    """The monotonic time a retry loop starting now must stop by."""
    invocation = _invocation_deadline.get()
    return invocation if invocation is not None else time.monotonic() + DEFAULT_S


def backoff_s(attempt: int, rng: random.Random | None = None) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2^attempt)], so racing writers spread out."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2 ** min(attempt, 16)))
    return (rng or random).uniform(0, ceiling)


def wait_before_retry(attempt: int, until: float) -> bool:
    """Sleep the backoff of `attempt` if it ends before `until`; False (no sleep) when it would not."""
    pause = backoff_s(attempt)
    if time.monotonic() + pause >= until:
        return False
    time.sleep(pause)
    return True


def attempts() -> Iterator[int]:
    """Attempt numbers for a read-decide-write loop that lost a race and decides again: the first at once,
    each next one after wait_before_retry, until the budget from deadline() is spent."""
    until = deadline()
    attempt = 0
    while True:
        yield attempt
        if not wait_before_retry(attempt, until):
            return
        attempt += 1

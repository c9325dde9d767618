"""The local runtime's pool of free containers: callers waiting for one are served in the order they came,
and a freed container goes to the longest waiting caller, never to one arriving at that moment."""
from __future__ import annotations

import threading
import time

from infra.local.workers import _FreeContainers


def _wait_until(condition, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _caller(free: _FreeContainers, name: str, got: list) -> threading.Thread:
    thread = threading.Thread(target=lambda: got.append((name, free.get())), daemon=True)
    thread.start()
    return thread


def test_the_container_freed_last_is_lent_first():
    free = _FreeContainers()
    for container in ("c1", "c2", "c3"):
        free.put(container)
    assert [free.get(), free.get(), free.get()] == ["c3", "c2", "c1"]


def test_waiting_callers_get_freed_containers_in_the_order_they_came():
    free = _FreeContainers()
    got: list = []
    waiting = []
    for name in ("first", "second", "third"):
        waiting.append(_caller(free, name, got))
        _wait_until(lambda n=len(waiting): len(free._waiting) == n)
    for container in ("c1", "c2", "c3"):
        free.put(container)
    for thread in waiting:
        thread.join(5)
    assert sorted(got) == [("first", "c1"), ("second", "c2"), ("third", "c3")]


def test_a_caller_arriving_as_a_container_is_freed_waits_behind_those_already_waiting():
    free = _FreeContainers()
    got: list = []
    early = _caller(free, "early", got)
    _wait_until(lambda: len(free._waiting) == 1)
    free.put("c1")                          # handed to the early caller, even before it wakes up
    late = _caller(free, "late", got)       # arrives right then: it does not take c1
    early.join(5)
    _wait_until(lambda: len(free._waiting) == 1)
    assert got == [("early", "c1")]
    free.put("c1")
    late.join(5)
    assert got == [("early", "c1"), ("late", "c1")]

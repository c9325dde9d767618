"""Waiting for something the system does in the background (a push, an alert, a run): polled until it is true,
with a bound on the wait that is a safety net, never an assertion on speed."""
from __future__ import annotations

import time

import pytest


def wait_for(predicate, what: str = "the condition", timeout: float = 60.0, every: float = 0.2):
    """predicate()'s first truthy value, polled every `every` seconds; the test fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}")

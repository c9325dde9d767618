"""Where alerting meets time and the network: the chat fan-out's clock, sleep and HTTP transport, and the
monotonic clock of its subscription cache. A test replaces them here, in one place; callers look them up
at call time (never bind them as defaults), so a replacement takes effect everywhere."""
from __future__ import annotations

import time

from stocklink import outbound
from stocklink.alerts.chat import HttpRequest


def send(request: HttpRequest) -> outbound.Response:
    """The project's one outbound transport: a network failure is status 0, never an exception."""
    return outbound.send(request)


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def clock_ms() -> int:
    """Wall clock, epoch milliseconds: chat signatures carry it."""
    return int(time.time() * 1000)


def monotonic() -> float:
    return time.monotonic()

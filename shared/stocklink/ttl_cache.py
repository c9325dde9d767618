"""Per-container memory of slow-changing values (configuration, subscriptions, warehouse priorities): one
small thread-safe cache, so each caller states only what it keeps and for how long."""
from __future__ import annotations

import threading
import time
from typing import Callable, Hashable, TypeVar

T = TypeVar("T")


class TtlCache:
    """load() at most once per `seconds` per key; `clock` is monotonic seconds (a test seam)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds, self.clock = seconds, clock
        self._values: dict[Hashable, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], T], keep_none: bool = True) -> T:
        """The value loaded less than `seconds` ago, else load() now (None is remembered only if keep_none)."""
        now = self.clock()
        with self._lock:
            hit = self._values.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]  # type: ignore[return-value]
        value = load()
        if value is not None or keep_none:
            with self._lock:
                self._values[key] = (now, value)
        return value

    def forget(self, key: Hashable | None = None) -> None:
        with self._lock:
            if key is None:
                self._values.clear()
            else:
                self._values.pop(key, None)

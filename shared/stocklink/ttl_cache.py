"""Per-container memory of slow-changing values (configuration, subscriptions, warehouse priorities, API
token lookups): one small thread-safe cache, so each caller states only what it keeps and for how long."""
from __future__ import annotations

import threading
import time
from typing import Callable, Hashable, TypeVar

T = TypeVar("T")


class TtlCache:
    """load() at most once per `seconds` per key; `clock` is monotonic seconds (a test seam).

    `max_entries` bounds the memory when keys come from outside (a flood of made-up tokens): past it, the
    oldest entries are dropped first."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic, max_entries: int | None = None):
        self.seconds, self.clock, self.max_entries = seconds, clock, max_entries
        self._values: dict[Hashable, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], T], keep_none: bool = True,
            none_seconds: float | None = None) -> T:
        """The value loaded less than `seconds` ago, else load() now. None is remembered only if keep_none,
        and then for `none_seconds` when given (a miss may be kept briefly while a hit is kept longer)."""
        now = self.clock()
        with self._lock:
            hit = self._values.get(key)
        if hit is not None:
            limit = self.seconds if hit[1] is not None or none_seconds is None else none_seconds
            if now - hit[0] < limit:
                return hit[1]  # type: ignore[return-value]
        value = load()
        if value is not None or (keep_none and none_seconds != 0):
            with self._lock:
                self._store(key, now, value)
        return value

    def get_many(self, keys: list[Hashable], load: Callable[[list], dict], none_seconds: float | None = None) -> dict:
        """get() for many keys with one load(missing keys) -> {key: value} (a key it leaves out is None):
        one batch read for whatever is not fresh. None is kept for `none_seconds` (0: not kept)."""
        now, found, missing = self.clock(), {}, []
        with self._lock:
            for key in keys:
                hit = self._values.get(key)
                limit = self.seconds if hit is None or hit[1] is not None or none_seconds is None else none_seconds
                if hit is not None and now - hit[0] < limit:
                    found[key] = hit[1]
                else:
                    missing.append(key)
        if missing:
            loaded = load(missing)
            with self._lock:
                for key in missing:
                    found[key] = value = loaded.get(key)
                    if value is not None or none_seconds != 0:
                        self._store(key, now, value)
        return found

    def _store(self, key: Hashable, now: float, value: object) -> None:
        self._values.pop(key, None)          # re-inserted last: dicts keep insertion order
        self._values[key] = (now, value)
        while self.max_entries is not None and len(self._values) > self.max_entries:
            self._values.pop(next(iter(self._values)))

    def forget(self, key: Hashable | None = None) -> None:
        with self._lock:
            if key is None:
                self._values.clear()
            else:
                self._values.pop(key, None)

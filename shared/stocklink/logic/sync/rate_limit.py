"""Platform call rates: every call to a shop (pushes, corrections, reconciliation's read-backs) takes its
slot from the shop's limiter, shared by every container through DynamoDB."""
from __future__ import annotations

import math
import threading
from typing import Callable

from stocklink.logic.sync import config, seams
from stocklink.observability import logger
from stocklink.store import sync_models

MAX_TOKEN_WAIT_S = 20.0       # beyond this the push is attempted anyway (the platform's 429 is retried)
# Shared call windows hold the fewest whole calls that last at least this long at the shop's rate. A caller
# finding a window full waits for the next one, so the window bounds that wait: at 2 calls/s, 1 s windows of
# 2 calls made WooCommerce's p99 1.0 s at 5 orders/s, 500 ms windows of 1 call 0.64–0.8 s (sync_latency
# --rate 5). Finer windows cost a conditional write per full window skipped; 100 ms measured worse.
MIN_WINDOW_MS = 500
MAX_WINDOWS_AHEAD = 50        # full windows tried before the push is attempted anyway (429s are retried)


class TokenBucket:
    """Per shop and per container (a Lambda container handles one event at a time)."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] | None = None):
        self.rate, self.capacity = max(rate, 0.001), max(1, burst)
        self.clock = clock or (lambda: seams.clock())
        self.tokens = float(self.capacity)
        self.at = self.clock()
        self.lock = threading.Lock()

    def wait_time(self) -> float:
        """Take one token; returns how long the caller must wait before using it."""
        with self.lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
            self.at = now
            self.tokens -= 1
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def acquire(self) -> float:
        delay = min(self.wait_time(), MAX_TOKEN_WAIT_S)
        if delay > 0:
            seams.sleep(delay)
        return delay


class ShopRateLimit:
    """A shop's call rate shared by every container, counted with one conditional write per call in
    DynamoDB (sync_models.take_call_slot). Lambda runs several containers at once (the queue's max
    concurrency), and a bucket per container would let them together exceed the platform's documented
    limit. Time is cut into windows of at least MIN_WINDOW_MS holding whole calls at exactly the rate. A
    full window makes the caller take a slot in a later one and wait for it; if the count cannot be reached
    the container's own bucket paces instead."""

    def __init__(self, platform: str, shop: str, rate: float, burst: int):
        self.platform, self.shop, self.rate = platform, shop, rate
        rate = max(rate, 0.001)
        # the fewest whole calls whose window is at least MIN_WINDOW_MS long, at exactly `rate`
        self.per_window = max(1, math.ceil(rate * MIN_WINDOW_MS / 1000 - 1e-9))
        self.window_ms = math.ceil(self.per_window * 1000 / rate - 1e-9)   # rounded up: never above rate
        self.fallback = TokenBucket(rate, burst)
        self.known_full = -1          # windows up to this index are full (skip them next time)
        self.found_full = -1          # ... of which the last one found full when trying it (another took it)
        self.lock = threading.Lock()

    def _key(self, index: int) -> str:
        return sync_models.call_window(self.window_ms, index)

    def wait_time(self) -> float:
        """Take one call slot; returns how long the caller must wait before using it."""
        return self.take()[0]

    def looks_full(self) -> bool:
        """Whether this container last found the current window full: then another container is most
        likely waiting for the shop's next call already (a hint, no request)."""
        with self.lock:
            return self.found_full >= int(seams.wall() * 1000 // self.window_ms)

    def take(self) -> tuple[float, str | None]:
        """(wait before using the slot, its window; None when paced by the container's own bucket)."""
        now_ms = seams.wall() * 1000
        with self.lock:
            index = max(int(now_ms // self.window_ms), self.known_full + 1)
        try:
            for _ in range(MAX_WINDOWS_AHEAD):
                if self._take_in(index):
                    return max(0.0, (index * self.window_ms - now_ms) / 1000), self._key(index)
                index += 1
            return MAX_TOKEN_WAIT_S, None
        except Exception:  # noqa: BLE001 - pacing must not stop a push; the platform's 429 is retried
            logger.exception("shared rate limit unavailable; pacing per container",
                             extra={"platform": self.platform, "shop": self.shop})
            return self.fallback.wait_time(), None

    def take_now(self) -> bool | None:
        """A slot in the current window if it has one (one conditional write): True, False when it is full,
        None when the count cannot be reached (take one the usual way). For calls that yield to pushes
        (reconciliation's read-backs of changed SKUs) instead of queueing ahead of them."""
        index = int(seams.wall() * 1000 // self.window_ms)
        with self.lock:
            if self.known_full >= index:
                return False
        try:
            return self._take_in(index)
        except Exception:  # noqa: BLE001 - the caller takes a slot the usual way
            logger.exception("shared rate limit unavailable", extra={"platform": self.platform, "shop": self.shop})
            return None

    def _take_in(self, index: int) -> bool:
        """One conditional write for a slot in window `index`; what it tells is remembered: a window this call
        filled or found full is skipped next time, and one found full (another container's) looks full."""
        calls = sync_models.take_call_slot(self.platform, self.shop, self._key(index), self.per_window,
                                           index * self.window_ms // 1000 + sync_models.CALL_WINDOW_KEEP_S)
        with self.lock:
            if calls is None or calls >= self.per_window:
                self.known_full = max(self.known_full, index)
            if calls is None:
                self.found_full = max(self.found_full, index)
        return calls is not None

    def give_back(self, window: str) -> None:
        try:
            sync_models.release_call_slot(self.platform, self.shop, window)
        except Exception:  # noqa: BLE001 - a slot lost for one window, nothing more
            logger.exception("could not give a call slot back", extra={"platform": self.platform, "shop": self.shop})
            return
        # the window has room again: this container's next take tries it instead of skipping it (a skipped
        # window with demand waiting is a second-long gap in the shop's calls)
        index = sync_models.call_window_index(window)
        with self.lock:
            if self.known_full >= index:
                self.known_full = index - 1

    def acquire(self) -> float:
        delay = min(self.wait_time(), MAX_TOKEN_WAIT_S)
        if delay > 0:
            seams.sleep(delay)
        return delay


_limiters: dict[str, ShopRateLimit | TokenBucket] = {}
_limiter_rates: dict[str, float] = {}        # the rate each limiter was built with (rebuilt when it changes)
_limiters_lock = threading.Lock()


def forget_limiters() -> None:
    with _limiters_lock:
        _limiters.clear()
        _limiter_rates.clear()


def shop_limiter(platform: str, shop: str, adapter) -> ShopRateLimit | TokenBucket:
    """The shop's limiter, at its own max_calls_per_second if set (re-read every CONFIG_CACHE_S), else at
    the platform's documented rate. Every call to the shop takes its slot here: pushes, corrections and
    reconciliation's read-backs."""
    key = f"{platform}#{shop}"
    try:
        rate = config.shop_call_rate(platform, shop) or adapter.rate_per_second
    except Exception:  # noqa: BLE001 - the platform default is always a safe rate
        logger.exception("could not read the shop's call rate", extra={"platform": platform, "shop": shop})
        rate = adapter.rate_per_second
    with _limiters_lock:     # shops are pushed from worker threads: one limiter per shop, never two
        if key not in _limiters or _limiter_rates.get(key, rate) != rate:
            _limiters[key] = ShopRateLimit(platform, shop, rate, max(adapter.burst, int(rate)))
            _limiter_rates[key] = rate
        return _limiters[key]

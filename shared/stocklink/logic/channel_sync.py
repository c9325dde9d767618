"""Channel sync: from a stock change to every affected listing's quantity on its platform.

One event (stock.changed for a SKU, or order.oversold) → the listings showing the SKU (reverse index in
the catalog) → per shop, once a rate-limit token is in hand, the *current* stock is read and every
listing's display quantity computed (stocklink.domain.allocation) → only values that differ from what the
listing last showed are claimed and pushed, batched per shop through the platform's adapter, with
retries (429/5xx, backoff + jitter) → what still fails is recorded as a sync failure and reported to the
caller (the handler raises, so Lambda retries the event and then dead-letters it).

Coalescing: quantities are computed from stock read at push time, not from the event. A burst of N
orders produces N events, but every event that finds the listing already showing the current number
pushes nothing; waiting for a token while the burst goes on makes later reads skip more.

Parallel shops: the shops of one event are pushed from a small thread pool (PUSH_WORKERS), each with its
own token bucket and retries, so a slow or rate-limited shop does not hold up the others.

Merging under rate limits: when a shop's call window is full, the first container that must wait
announces it in the shop's mailbox; others hand it their SKUs instead of queueing calls of their own, and
after its wait it pushes them all from stock read then, in one call (sync_models.hand_over / collect).
"""
from __future__ import annotations

import math
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Annotated, Callable, Iterable, Mapping
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from stocklink.channels.http import send  # a module name here so tests and benchmarks can swap the transport
from stocklink.channels.base import HttpCall, StockPush
from stocklink.domain.allocation import (
    AllocationSettings,
    Component,
    ListingRef,
    dynamic_buffer,
    plan_displays,
)
from stocklink.errors import NotFound, ValidationFailed
from stocklink.observability import logger
from stocklink.store import repository, sync_models
from stocklink.store.keys import ALLOCATION, SHOP, SKU_LISTINGS, listing_pk


MAX_ATTEMPTS = 4              # first call + 3 retries
BACKOFF_BASE_S = 0.2
BACKOFF_CAP_S = 5.0
MAX_TOKEN_WAIT_S = 20.0       # beyond this the push is attempted anyway (the platform's 429 is retried)
VELOCITY_WINDOW_MS = 300_000  # sales counted over the last 5 minutes
PUSH_WORKERS = 8              # shops of one event pushed at once (each keeps its own bucket and retries)
SNAPSHOT_MAX_AGE_MS = 250     # a shop starting later than this after the event's stock read reads again
IO_WORKERS = 16               # concurrent requests of the shops' threads (DynamoDB bookkeeping, platform calls)
LATENCY_FLUSH_S = 10.0        # a container writes a shop's push-latency samples at most this often
# Shared call windows hold the fewest whole calls that last at least this long at the shop's rate. A caller
# finding a window full waits for the next one, so the window bounds that wait: at 2 calls/s, 1 s windows of
# 2 calls made WooCommerce's p99 1.0 s at 5 orders/s, 500 ms windows of 1 call 0.64–0.8 s (sync_latency
# --rate 5). Finer windows cost a conditional write per full window skipped; 100 ms measured worse.
MIN_WINDOW_MS = 500
MAX_WINDOWS_AHEAD = 50        # full windows tried before the push is attempted anyway (429s are retried)
CONFIG_CACHE_S = 30.0         # shop records and "is any buffer dynamic" kept per container this long
_sleep: Callable[[float], None] = time.sleep
_clock: Callable[[], float] = time.monotonic
_wall: Callable[[], float] = time.time     # shared rate-limit windows are epoch time (same in every container)


# --- allocation settings (catalog) -------------------------------------------------------------------------

class AllocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: Annotated[str, Field(pattern="^(shared|quota|fixed)$")] = "shared"
    buffer: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    buffer_mode: Annotated[str, Field(pattern="^(static|dynamic)$")] = "static"
    ratio: Annotated[float, Field(ge=0, le=1)] = 1.0
    minimum: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    fixed: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    min_display: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    max_display: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    sellout_threshold: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    sync: bool = True
    warehouses: list[str] | None = None


def put_allocation(platform: str, shop: str, body: AllocationIn, now_ms: int) -> dict:
    if repository.get_catalog(SHOP, f"{platform}#{shop}") is None:
        raise NotFound(f"shop {platform}/{shop} not found")
    try:
        settings = AllocationSettings.from_dict(body.model_dump())
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    data = {"platform": platform, "shop": shop, **settings.to_dict()}
    repository.put_catalog(ALLOCATION, f"{platform}#{shop}", data, now_ms)
    _cache.clear()
    return data


def get_allocation(platform: str, shop: str) -> dict:
    if repository.get_catalog(SHOP, f"{platform}#{shop}") is None:
        raise NotFound(f"shop {platform}/{shop} not found")
    data = repository.get_catalog(ALLOCATION, f"{platform}#{shop}")
    return {"platform": platform, "shop": shop, **AllocationSettings.from_dict(data).to_dict()}


def _settings(channels: Iterable[str]) -> dict[str, AllocationSettings]:
    stored = repository.batch_get_catalog(ALLOCATION, channels)
    return {ch: AllocationSettings.from_dict(stored.get(ch)) for ch in channels}


# --- per-container caches of slow-changing configuration ------------------------------------------------------

_cache: dict[str, tuple[float, object]] = {}
_cache_lock = threading.Lock()


def _cached(key: str, load: Callable[[], object], keep_none: bool = True):
    """load() at most every CONFIG_CACHE_S per container (the shop's secrets are cached as long already)."""
    now = _clock()
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and now - hit[0] < CONFIG_CACHE_S:
        return hit[1]
    value = load()
    if value is not None or keep_none:
        with _cache_lock:
            _cache[key] = (now, value)
    return value


def reset_caches() -> None:
    """Forget what this container cached (tests start each case as a fresh container)."""
    with _cache_lock:
        _cache.clear()
        _latency_pending.clear()
    with _buckets_lock:
        _buckets.clear()
        _bucket_rates.clear()


def _shop_credentials(platform: str, shop: str) -> dict | None:
    from stocklink.logic.catalog import shop_credentials

    # an unknown shop is not remembered: it may be created a moment later
    return _cached(f"shop#{platform}#{shop}", lambda: shop_credentials(platform, shop), keep_none=False)


def _any_dynamic_buffer() -> bool:
    """Whether some shop uses the dynamic buffer: only then is sales velocity worth two requests per SKU."""
    return bool(_cached("dynamic", lambda: any(
        (data or {}).get("buffer_mode") == "dynamic" for data in repository.list_catalog(ALLOCATION).values())))


# --- rate limiting -----------------------------------------------------------------------------------------

class TokenBucket:
    """Per shop and per container (a Lambda container handles one event at a time)."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] | None = None):
        self.rate, self.capacity = max(rate, 0.001), max(1, burst)
        self.clock = clock or (lambda: _clock())
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
            _sleep(delay)
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
        self.known_full = -1          # windows up to this index were found full (skip them next time)
        self.lock = threading.Lock()

    def _key(self, index: int) -> str:
        return f"{self.window_ms}ms#{index:014d}"

    def wait_time(self) -> float:
        """Take one call slot; returns how long the caller must wait before using it."""
        return self.take()[0]

    def looks_full(self) -> bool:
        """Whether this container last found the current window full: then another container is most
        likely waiting for the shop's next call already (a hint, no request)."""
        with self.lock:
            return self.known_full >= int(_wall() * 1000 // self.window_ms)

    def take(self) -> tuple[float, str | None]:
        """(wait before using the slot, its window; None when paced by the container's own bucket)."""
        now_ms = _wall() * 1000
        with self.lock:
            index = max(int(now_ms // self.window_ms), self.known_full + 1)
        try:
            for _ in range(MAX_WINDOWS_AHEAD):
                start_ms = index * self.window_ms
                if sync_models.take_call_slot(self.platform, self.shop, self._key(index), self.per_window,
                                              int(start_ms // 1000) + sync_models.CALL_WINDOW_KEEP_S):
                    return max(0.0, (start_ms - now_ms) / 1000), self._key(index)
                with self.lock:
                    self.known_full = max(self.known_full, index)
                index += 1
            return MAX_TOKEN_WAIT_S, None
        except Exception:  # noqa: BLE001 - pacing must not stop a push; the platform's 429 is retried
            logger.exception("shared rate limit unavailable; pacing per container",
                             extra={"platform": self.platform, "shop": self.shop})
            return self.fallback.wait_time(), None

    def give_back(self, window: str) -> None:
        try:
            sync_models.release_call_slot(self.platform, self.shop, window)
        except Exception:  # noqa: BLE001 - a slot lost for one window, nothing more
            logger.exception("could not give a call slot back", extra={"platform": self.platform, "shop": self.shop})

    def acquire(self) -> float:
        delay = min(self.wait_time(), MAX_TOKEN_WAIT_S)
        if delay > 0:
            _sleep(delay)
        return delay


_buckets: dict[str, ShopRateLimit | TokenBucket] = {}
_bucket_rates: dict[str, float] = {}        # the rate each limiter was built with (rebuilt when it changes)
_buckets_lock = threading.Lock()


def shop_limiter(platform: str, shop: str, adapter) -> ShopRateLimit | TokenBucket:
    """The shop's limiter, at its own max_calls_per_second if set (re-read every CONFIG_CACHE_S), else at
    the platform's documented rate. Every call to the shop takes its slot here: pushes, corrections and
    reconciliation's read-backs."""
    key = f"{platform}#{shop}"
    try:
        rate = _cached(f"rate#{key}", lambda: _shop_call_rate(platform, shop)) or adapter.rate_per_second
    except Exception:  # noqa: BLE001 - the platform default is always a safe rate
        logger.exception("could not read the shop's call rate", extra={"platform": platform, "shop": shop})
        rate = adapter.rate_per_second
    with _buckets_lock:     # shops are pushed from worker threads: one limiter per shop, never two
        if key not in _buckets or _bucket_rates.get(key, rate) != rate:
            _buckets[key] = ShopRateLimit(platform, shop, rate, max(adapter.burst, int(rate)))
            _bucket_rates[key] = rate
        return _buckets[key]


def _shop_call_rate(platform: str, shop: str) -> float | None:
    from stocklink.logic.catalog import shop_call_rate

    return shop_call_rate(platform, shop)


# --- HTTP ----------------------------------------------------------------------------------------------------

def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Full jitter: uniform(0, min(cap, base × 2^attempt)), never less than the platform's Retry-After."""
    delay = random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2 ** attempt)))
    return max(delay, min(retry_after or 0.0, BACKOFF_CAP_S))


@dataclass
class CallOutcome:
    ok: bool
    attempts: int
    error: str = ""
    failed_listings: tuple[str, ...] = ()


def push_with_retry(adapter, build: Callable[[], HttpCall], bucket: TokenBucket | None = None) -> CallOutcome:
    """Send a freshly built (re-signed) call until OK, a permanent error, or MAX_ATTEMPTS."""
    from stocklink.channels._common import Outcome

    error = ""
    for attempt in range(MAX_ATTEMPTS):
        if attempt and bucket is not None:
            bucket.acquire()
        status, headers, body = send(build())
        if status == 0:
            result, error = None, f"network error: {body.decode(errors='replace')[:200]}"
        else:
            result = adapter.classify_response(status, body, headers)
            if result.outcome is Outcome.OK:
                return CallOutcome(True, attempt + 1, failed_listings=tuple(result.failed_listings))
            error = f"HTTP {status} {result.code} {result.message}".strip()
            if result.outcome is Outcome.PERMANENT:
                return CallOutcome(False, attempt + 1, error)
        if attempt + 1 < MAX_ATTEMPTS:
            _sleep(backoff_delay(attempt, result.retry_after if result else None))
    return CallOutcome(False, MAX_ATTEMPTS, error)


# --- the sync ------------------------------------------------------------------------------------------------

@dataclass
class SyncReport:
    listings: int = 0
    pushed: int = 0
    unchanged: int = 0          # coalesced: the listing already shows the current number
    superseded: int = 0         # a newer computation claimed the listing
    sync_off: int = 0
    failed: int = 0
    handed_over: int = 0        # listings left to another container already waiting for the shop's call
    repushed: int = 0           # listings pushed again after losing a race (see _repush_raced)
    raced_left: int = 0         # listings that lost the race again: the next change or reconciliation fixes them
    calls: int = 0
    attempts: int = 0
    failures: list[dict] = field(default_factory=list)
    pushed_values: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def merge(self, other: "SyncReport") -> None:
        for name in ("pushed", "unchanged", "superseded", "sync_off", "failed", "handed_over", "repushed",
                     "raced_left", "calls", "attempts"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures.extend(other.failures)
        self.pushed_values.update(other.pushed_values)


def _listings_for(skus: Iterable[str]) -> list[ListingRef]:
    return _listings_and_settings(skus)[0]


def _listings_and_settings(skus: Iterable[str], with_settings: bool = False
                           ) -> tuple[list[ListingRef], dict[str, AllocationSettings]]:
    """The listings showing `skus` and (with_settings) their shops' allocation settings, read in one
    BatchGetItem for every shop instead of one per shop."""
    refs: dict[tuple[str, str], set[str]] = {}
    for by_sku in _each_sku(lambda sku: repository.list_catalog(SKU_LISTINGS + sku), list(dict.fromkeys(skus))):
        for ref in by_sku.values():
            refs.setdefault((ref["platform"], ref["shop"]), set()).add(ref["listing_id"])
    channels = [f"{platform}#{shop}" for platform, shop in sorted(refs)]
    keys = [(listing_pk(platform, shop), lid) for (platform, shop), ids in sorted(refs.items()) for lid in sorted(ids)]
    found = repository.batch_get_catalog_keys([*keys, *((ALLOCATION, ch) for ch in channels if with_settings)])
    out = []
    for (platform, shop), ids in sorted(refs.items()):
        for lid in sorted(ids):
            data = found.get((listing_pk(platform, shop), lid))
            if data is None:
                continue
            out.append(ListingRef(f"{platform}#{shop}", lid,
                                  tuple(Component(c["sku"], int(c.get("qty", 1))) for c in data["components"]),
                                  dict(data.get("platform_ids") or {})))
    settings = {ch: AllocationSettings.from_dict(found.get((ALLOCATION, ch))) for ch in channels
                if any(l.channel == ch for l in out)} if with_settings else {}
    return out, settings


def _available(skus: Iterable[str]) -> dict[str, dict[str, int]]:
    skus = list(dict.fromkeys(skus))
    return dict(zip(skus, _each_sku(lambda sku: {i.warehouse_id: int(i.available) for i in repository.stock_items(sku)},
                                    skus)))


def _each_sku(read: Callable[[str], object], skus: list[str]) -> list:
    """read(sku) for every SKU of `skus` (distinct), in order. A read per SKU is one Query (stock items, or
    the listings showing it); several are sent at once, so a push after a wait with five handed-over SKUs
    costs one round trip for each kind of read instead of five."""
    if len(skus) <= 1:
        return [read(sku) for sku in skus]
    return list(_io().map(read, skus))


def _p99(samples: list[int]) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))] / 1000.0


def _rates(data: dict, now_ms: int) -> dict[str, float]:
    """Units/s sold per channel over the window, from the stored sales log."""
    out: dict[str, float] = {}
    for channel, sales in (data.get("sales") or {}).items():
        units = sum(u for at, u in sales if now_ms - at <= VELOCITY_WINDOW_MS)
        out[channel] = units / (VELOCITY_WINDOW_MS / 1000.0)
    return out


def note_sales(sku: str, details: list[Mapping], now_ms: int) -> None:
    """Learn sales velocity per channel from a SKU's stock.changed details, oldest first: a drop in total
    available caused by a channel's order (source "platform:shop") counts as that channel's sale. One read
    and one write per SKU, however many changes a batch holds."""
    details = [d for d in details if d.get("total_available") is not None]
    if not details:
        return
    data = sync_models.velocity(sku)
    for detail in details:
        total = int(detail["total_available"])
        last = data.get("last_total")
        source = str(detail.get("source") or "")
        data["last_total"] = total
        if last is not None and total < int(last) and ":" in source and detail.get("cause") == "reserve":
            channel = source.replace(":", "#", 1)
            sales = [s for s in (data.get("sales") or {}).get(channel, []) if now_ms - s[0] <= VELOCITY_WINDOW_MS]
            sales.append([now_ms, int(last) - total])
            data.setdefault("sales", {})[channel] = sales[-200:]
    sync_models.save_velocity(sku, data, now_ms)


def _dynamic_buffers(listings: list[ListingRef], settings: Mapping[str, AllocationSettings],
                     now_ms: int) -> dict[tuple[str, str], int]:
    dynamic = {ch for ch, s in settings.items() if s.buffer_mode == "dynamic"}
    if not dynamic:
        return {}
    skus = {c.sku for l in listings if l.channel in dynamic for c in l.components}
    rates = {sku: _rates(data, now_ms) for sku, data in sync_models.velocities(skus).items()}
    out = {}
    for channel in dynamic:
        platform, shop = channel.split("#", 1)
        p99 = _p99(sync_models.latency_samples(platform, shop))
        for sku in skus:
            others = sum(r for ch, r in rates.get(sku, {}).items() if ch != channel)
            out[(channel, sku)] = dynamic_buffer(others, p99)
    return out


def listings_for(skus: Iterable[str]) -> list[ListingRef]:
    """Every listing showing one of `skus` (reconciliation reads these back)."""
    return _listings_for(skus)


def compute_displays(listings: list[ListingRef], now_ms: int):
    """What each listing should show now, as sync_skus computes it: (plan, available by SKU and warehouse,
    settings by channel). Reconciliation compares read-back quantities with this plan."""
    channels = sorted({l.channel for l in listings})
    settings = _settings(channels)
    available = _available(sorted({c.sku for l in listings for c in l.components}))
    plan = plan_displays(listings, settings, available, extra_buffer=_dynamic_buffers(listings, settings, now_ms))
    return plan, available, settings


def push_corrections(platform: str, shop: str, pushes: list[StockPush], now_ms: Callable[[], int],
                     read_at: int) -> SyncReport:
    """Push corrected quantities for listings found drifted, with the same claim / retry / failure
    bookkeeping as sync_skus (a newer computation that claimed a listing wins)."""
    from stocklink.channels.registry import adapter_for

    report = SyncReport()
    adapter = adapter_for(platform)
    credentials = _shop_credentials(platform, shop)
    if credentials is None:
        _fail(report, platform, shop, [p.listing_id for p in pushes], "shop credentials missing", now_ms())
        return report
    claimed = []
    for push in pushes:
        if sync_models.claim(platform, shop, push.listing_id, push.quantity, read_at):
            claimed.append(push)
        else:
            report.superseded += 1
    if claimed:
        limiter = shop_limiter(platform, shop, adapter)
        limiter.acquire()       # _push_shop sends its first call on a slot its caller took
        # a correction that loses a race to a live push is left to it (and to the next pass)
        report.raced_left += len(_push_shop(report, adapter, credentials, limiter,
                                            platform, shop, claimed, now_ms, None, read_at))
    return report


def _mark_dirty(sku: str, now: int, detail: Mapping) -> None:
    """Tell reconciliation this SKU changed (it verifies changed SKUs first); never fails the push."""
    try:
        from stocklink.store import reconcile_models

        hint = {k: detail[k] for k in ("total_available", "cause") if detail.get(k) is not None}
        reconcile_models.mark_dirty(sku, now, hint)
    except Exception:  # noqa: BLE001 - the rotating verification slice still reaches the SKU
        logger.exception("could not mark SKU dirty for reconciliation")


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """Kept for the container's life: its threads (and their DynamoDB sessions) serve every invocation."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _warm_once()
            _executor = ThreadPoolExecutor(max_workers=PUSH_WORKERS, thread_name_prefix="channel-push")
        return _executor


_io_executor: ThreadPoolExecutor | None = None


def _io() -> ThreadPoolExecutor:
    """Independent requests sent at once: a shop's platform calls and their bookkeeping, per-SKU reads.
    Separate from _pool(): shop threads wait on these, and tasks here never submit further work."""
    global _io_executor
    with _executor_lock:
        if _io_executor is None:
            _warm_once()
            _io_executor = ThreadPoolExecutor(max_workers=IO_WORKERS, thread_name_prefix="channel-push-io")
        return _io_executor


def sync_skus(skus: Iterable[str], now_ms: Callable[[], int], *, zero_skus: Iterable[str] = (),
              event_ms: int | None = None) -> SyncReport:
    """Bring every listing that shows one of `skus` to its current display quantity.

    `zero_skus`: push 0 for listings containing them (an oversell: stop selling everywhere at once).
    `event_ms`: when the stock change happened, for the push-latency samples behind the dynamic buffer.
    Shops are pushed in parallel (PUSH_WORKERS threads); a shop that has to wait for a rate-limit token
    hands its SKUs to a container already waiting, or waits itself (see the module docstring).
    """
    zero = set(zero_skus)
    report = SyncReport()
    event_skus = list(dict.fromkeys([*skus, *zero]))
    listings, settings = _listings_and_settings(event_skus, with_settings=True)
    report.listings = len(listings)
    if not listings:
        return report
    channels = sorted({l.channel for l in listings})
    # One stock read and one read of every shop's last pushes for the shops' first look (they start
    # together); a shop that waits for a token, or starts late, reads again itself.
    snapshot = _compute(listings, settings, now_ms)
    first_states = sync_models.shops_listing_states(
        {tuple(ch.split("#", 1)): [l.listing_id for l in listings if l.channel == ch] for ch in channels})

    def one(channel: str) -> SyncReport:
        return _sync_shop(channel, listings, settings, zero, now_ms, event_ms, snapshot,
                          first_states.get(tuple(channel.split("#", 1))))

    if len(channels) == 1 or PUSH_WORKERS <= 1:
        results = [one(ch) for ch in channels]
    else:
        futures = [_pool().submit(one, ch) for ch in channels]
        wait(futures)
        errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:     # every other shop has finished (and recorded) its push; fail the event as before
            raise errors[0]
        results = [f.result() for f in futures]
    for result in results:
        report.merge(result)
    if report.failures:
        components = {(l.channel, l.listing_id): sorted({c.sku for c in l.components}) for l in listings}
        for failure in report.failures:
            failure.setdefault("skus", components.get((f"{failure['platform']}#{failure['shop']}",
                                                       failure["listing_id"]), []))
    return report


def _compute(listings: list[ListingRef], settings: Mapping[str, AllocationSettings],
             now_ms: Callable[[], int]) -> tuple[int, list]:
    """(read time, plan) from stock read now; the read time is taken first, so claims stay conservative."""
    read_at = now_ms()
    available = _available(sorted({c.sku for l in listings for c in l.components}))
    return read_at, plan_displays(listings, settings, available,
                                  extra_buffer=_dynamic_buffers(listings, settings, read_at))


def _unchanged(state, qty: int) -> bool:
    return state is not None and state.status == "pushed" and state.pushed_qty == qty \
        and (state.computed_qty is None or state.computed_qty == qty)


def _sync_shop(channel: str, listings: list[ListingRef], settings: Mapping[str, AllocationSettings],
               zero: set, now_ms: Callable[[], int], event_ms: int | None,
               snapshot: tuple[int, list] | None = None, first_states: Mapping | None = None) -> SyncReport:
    from stocklink.channels.registry import UnknownPlatform, adapter_for

    report = SyncReport()
    platform, shop = channel.split("#", 1)
    mine = [l for l in listings if l.channel == channel]
    try:
        adapter = adapter_for(platform)
    except UnknownPlatform:
        return report   # e.g. the storefront: it reserves synchronously, nothing to push
    credentials = _shop_credentials(platform, shop)
    if credentials is None:
        _fail(report, platform, shop, [l.listing_id for l in mine], "shop credentials missing", now_ms())
        return report
    bucket = shop_limiter(platform, shop, adapter)
    if snapshot is None or now_ms() - snapshot[0] > SNAPSHOT_MAX_AGE_MS:
        snapshot, first_states = _compute(listings, settings, now_ms), None
    read_at, plan = snapshot
    wanted = {d.listing_id: d for d in plan if d.channel == channel}
    states = first_states if first_states is not None else sync_models.listing_states(platform, shop, wanted)
    owed_wanted: dict = {}
    # A rate-limit token only when this shop has something to push: an event whose listings already
    # show the current numbers makes no platform call, so it must neither wait for a token nor use one
    # up (that debt delayed every later push of the shop by seconds in a burst).
    owed: list[ListingRef] = []   # this shop's listings of SKUs other containers handed over to this call
    if _needs_push(mine, wanted, states, zero):
        shared = isinstance(bucket, ShopRateLimit)
        my_skus = {c.sku for l in mine for c in l.components}
        may_hand_over = shared and not (zero & my_skus)     # an oversell's zero is never handed over
        # While the shop's windows are full, hand the SKUs to the container already waiting for its next
        # call before taking a slot: a slot taken only to be given back costs two writes, and other
        # containers that saw it taken skip its window as full, so the shop's call budget went unused.
        if may_hand_over and bucket.looks_full() and _hand_over(platform, shop, my_skus):
            report.handed_over += len(mine)
            return report
        delay, window = bucket.take() if shared else (bucket.wait_time(), None)
        delay = min(delay, MAX_TOKEN_WAIT_S)
        # The shop's window is full. If another container is already waiting for its next call, hand it
        # these SKUs (it reads stock after its wait, so it pushes their newest numbers) and give the slot
        # back, instead of queueing a call of our own behind it. An oversell's zero is never handed over.
        if delay > 0 and window is not None and may_hand_over and _hand_over(platform, shop, my_skus):
            bucket.give_back(window)
            report.handed_over += len(mine)
            return report
        if delay > 0:
            started = _clock()
            owner = _await_slot(platform, shop, delay) if shared else None
            left = delay - (_clock() - started)
            if left > 0:
                _sleep(left)
            handed = _collect(platform, shop, owner) - my_skus if owner else set()
            # every listing of the handed SKUs (other shops' too: the allocation looks at all of them), with
            # their shops' allocation settings
            handed_listings, handed_settings = (_listings_and_settings(sorted(handed), with_settings=True)
                                                if handed else ([], {}))
            known = {(m.channel, m.listing_id) for m in listings}
            union = listings + [l for l in handed_listings if (l.channel, l.listing_id) not in known]
            mine_ids = {l.listing_id for l in mine}
            owed = [l for l in handed_listings if l.channel == channel and l.listing_id not in mine_ids]
            # The sync states are read while the stock is read again after the wait (the value pushed is
            # the freshest there is).
            states_read = _io().submit(sync_models.listing_states, platform, shop,
                                       [*mine_ids, *(l.listing_id for l in owed)])
            read_at = now_ms()       # taken before the read: claims never rank this value as newer than it is
            available = _available(sorted({c.sku for l in union for c in l.components}))
            plan = plan_displays(listings, settings, available,
                                 extra_buffer=_dynamic_buffers(listings, settings, read_at))
            wanted = {d.listing_id: d for d in plan if d.channel == channel}
            if owed:
                # Handed listings are computed with every listing of their SKUs, as their own event would.
                union_settings = {**handed_settings, **settings}
                union_plan = plan_displays(union, union_settings, available,
                                           extra_buffer=_dynamic_buffers(union, union_settings, read_at))
                owed_wanted = {d.listing_id: d for d in union_plan
                               if d.channel == channel and d.listing_id not in wanted}
            states = states_read.result()
    candidates: list[StockPush] = []
    for listing, display in [*((l, wanted[l.listing_id]) for l in mine),
                             *((l, owed_wanted[l.listing_id]) for l in owed)]:
        qty = _target_qty(listing, display.quantity, zero)
        if qty is None:
            report.sync_off += 1
            sync_models.record_sync_off(platform, shop, listing.listing_id, read_at)
            continue
        if _unchanged(states.get(listing.listing_id), qty):
            report.unchanged += 1
            continue
        candidates.append(StockPush(listing.listing_id, qty, listing.platform_ids))
    # One conditional write per listing (a newer computation may hold it), sent as one transaction.
    won = sync_models.claim_many(platform, shop, [(p.listing_id, p.quantity) for p in candidates], read_at)
    pushes = [push for push in candidates if push.listing_id in won]
    lost = [push.listing_id for push in candidates if push.listing_id not in won]
    # refused because an older push of the listing may still be landing: pushed once it has landed
    waiting = sync_models.blocked(platform, shop, lost, read_at) if lost else set()
    report.superseded += len(lost) - len(waiting)
    raced = _push_shop(report, adapter, credentials, bucket, platform, shop, pushes, now_ms, event_ms,
                       read_at) if pushes else []
    if raced or waiting:
        refs = {l.listing_id: l for l in [*mine, *owed]}
        _repush_raced(report, adapter, credentials, bucket, platform, shop, raced, refs, zero, now_ms,
                      waiting=sorted(waiting))
    return report


def _hand_over(platform: str, shop: str, skus: set[str]) -> bool:
    try:
        return sync_models.hand_over(platform, shop, sorted(skus), int(_wall() * 1000))
    except Exception:  # noqa: BLE001 - an optimisation: push them ourselves
        logger.exception("could not hand SKUs over", extra={"platform": platform, "shop": shop})
        return False


def _await_slot(platform: str, shop: str, delay_s: float) -> str | None:
    """Announce the wait so that others can hand their SKUs to this call; the attempt id, or None."""
    owner = uuid.uuid4().hex
    now = _wall()
    try:
        ok = sync_models.await_slot(platform, shop, owner, int((now + delay_s) * 1000), int(now * 1000))
        return owner if ok else None
    except Exception:  # noqa: BLE001 - an optimisation: nobody hands over, each pushes its own
        logger.exception("could not announce the wait", extra={"platform": platform, "shop": shop})
        return None


def _collect(platform: str, shop: str, owner: str) -> set[str]:
    try:
        return sync_models.collect(platform, shop, owner)
    except Exception:  # noqa: BLE001 - the SKUs stay in the mailbox for the next waiter; dirty for reconcile
        logger.exception("could not collect handed-over SKUs", extra={"platform": platform, "shop": shop})
        return set()


def _target_qty(listing: ListingRef, computed: int | None, zero: set) -> int | None:
    """What to push: the computed display, 0 for a listing holding an oversold SKU, None when sync is off."""
    if computed is None:
        return None
    return 0 if zero & {c.sku for c in listing.components} else computed


def _needs_push(mine: list[ListingRef], wanted: Mapping, states: Mapping, zero: set) -> bool:
    """Whether any of a shop's listings would be pushed (the same test as _sync_shop's loop)."""
    for listing in mine:
        qty = _target_qty(listing, wanted[listing.listing_id].quantity, zero)
        if qty is not None and not _unchanged(states.get(listing.listing_id), qty):
            return True
    return False


def _call_group(adapter, credentials, push: StockPush) -> tuple[str, str]:
    """Which request a listing's update lands in (per product for TikTok/Shopee, one endpoint for others)."""
    calls = adapter.build_stock_updates(credentials, [push])
    return (calls[0].method, urlsplit(calls[0].url).path) if calls else ("", "")


def _push_shop(report: SyncReport, adapter, credentials, bucket: TokenBucket, platform: str, shop: str,
               pushes: list[StockPush], now_ms: Callable[[], int], event_ms: int | None,
               claimed_at: int | None = None) -> list[StockPush]:
    """Send the pushes (claimed with read time `claimed_at`) and record them: the pushes that lost a race
    (sync_models.record_pushed_many), for the caller to push again."""
    groups: dict[tuple[str, str], list[StockPush]] = {}
    for push in pushes:
        try:
            groups.setdefault(_call_group(adapter, credentials, push), []).append(push)
        except ValueError as exc:   # listing lacks a platform id, or a bad quantity: the call can't be built
            _fail(report, platform, shop, [push.listing_id], str(exc), now_ms())
    def send_batch(batch: list[StockPush]) -> tuple[dict[str, str], int, int, int]:
        """(failed listing -> error, calls, attempts, finished at) for one batch's request(s)."""
        n_calls = len(adapter.build_stock_updates(credentials, batch))
        failed: dict[str, str] = {}
        attempts = 0
        for index in range(n_calls):
            outcome = push_with_retry(adapter, lambda: adapter.build_stock_updates(credentials, batch)[index],
                                      bucket)
            attempts += outcome.attempts
            if not outcome.ok:
                failed.update({p.listing_id: outcome.error for p in batch})
            for lid in outcome.failed_listings:
                failed[str(lid)] = "refused by the platform inside an accepted batch"
        return failed, n_calls, attempts, now_ms()

    # Requests of different products (TikTok, Shopee) or beyond one batch go out together, each once its
    # rate-limit token is in hand (the first uses the token the caller took).
    batches = [group[start:start + adapter.batch_size]
               for group in groups.values() for start in range(0, len(group), adapter.batch_size)]
    sent = []
    for i, batch in enumerate(batches):
        if i:
            bucket.acquire()
        sent.append((batch, _io().submit(send_batch, batch)))
    latencies = []
    raced: list[StockPush] = []
    for batch, future in sent:
        batch_failed, n_calls, attempts, done = future.result()
        report.calls += n_calls
        report.attempts += attempts
        ok = [push for push in batch if push.listing_id not in batch_failed]
        recorded = sync_models.record_pushed_many(platform, shop, [(p.listing_id, p.quantity) for p in ok], done,
                                                  claimed_at)
        raced += [push for push in ok if push.listing_id not in recorded]
        for push in batch:
            if push.listing_id in batch_failed:
                _fail(report, platform, shop, [push.listing_id], batch_failed[push.listing_id], done,
                      quantity=push.quantity)
        for push in ok:
            report.pushed += 1
            report.pushed_values[f"{platform}#{shop}#{push.listing_id}"] = push.quantity
        if event_ms is not None and ok:
            latencies.append(max(0, done - event_ms))
    if latencies:
        _note_latencies(platform, shop, latencies, now_ms())
    return raced


LANDING_WAIT_S = 5.0     # how long a push waits for an older push of the same listing to land
LANDING_POLL_S = 0.05


def _repush_raced(report: SyncReport, adapter, credentials, bucket, platform: str, shop: str,
                  raced: list[StockPush], refs: Mapping[str, ListingRef], zero: set,
                  now_ms: Callable[[], int], waiting: list[str] = ()) -> None:
    """Push again, from stock read now, the listings whose push lost a race and those whose claim waited.

    `waiting`: listings another container was pushing when we claimed (sync_models.claim refuses a second
    push while one may still be landing, since two calls can land in either order). Once that push has
    landed, each is pushed if the number it shows is not the current one.
    `raced`: pushes recorded as lost (a newer computation claimed the listing while our call was in flight:
    only possible once a push outlives INFLIGHT_MS); if ours landed last the platform shows our older number,
    so each whose number differs from the current one is pushed once more.
    A listing that loses again is left to the next change of its SKU or to reconciliation (raced_left)."""
    channel = f"{platform}#{shop}"
    sent = {p.listing_id: p.quantity for p in raced}
    pending = [lid for lid in waiting if lid not in sent]
    deadline = _clock() + LANDING_WAIT_S
    while pending and _clock() < deadline:
        pending = sorted(sync_models.in_flight(platform, shop, pending))
        if pending:
            _sleep(LANDING_POLL_S)
    landed = [lid for lid in waiting if lid not in sent and lid not in pending]
    report.raced_left += len(pending)
    if not sent and not landed:
        return
    skus = sorted({c.sku for lid in [*sent, *landed] for c in refs[lid].components})
    listings, settings = _listings_and_settings(skus, with_settings=True)
    read_at, plan = _compute(listings, settings, now_ms)
    states = sync_models.listing_states(platform, shop, landed) if landed else {}
    again = []
    for listing, display in zip(listings, plan):
        if listing.channel != channel or (listing.listing_id not in sent and listing.listing_id not in landed):
            continue
        qty = _target_qty(listing, display.quantity, zero)
        if qty is None:
            continue
        if listing.listing_id in sent and qty == sent[listing.listing_id]:
            continue
        if listing.listing_id in landed and _unchanged(states.get(listing.listing_id), qty):
            continue
        again.append(StockPush(listing.listing_id, qty, listing.platform_ids))
    won = sync_models.claim_many(platform, shop, [(p.listing_id, p.quantity) for p in again], read_at)
    report.raced_left += len(again) - len(won)
    again = [p for p in again if p.listing_id in won]
    if not again:
        return
    _sleep(min(bucket.wait_time(), MAX_TOKEN_WAIT_S))
    report.repushed += len(again)
    report.raced_left += len(_push_shop(report, adapter, credentials, bucket, platform, shop, again, now_ms, None,
                                        read_at))


_latency_pending: dict[str, tuple[float, list[int]]] = {}   # shop -> (last written, samples not written yet)


def _note_latencies(platform: str, shop: str, latencies: list[int], at_ms: int) -> None:
    """Push-latency samples (for the dynamic buffer's p99), written at most every LATENCY_FLUSH_S per shop
    and container: during a sale that is one read and one write per shop every 10 s instead of per push."""
    key, now = f"{platform}#{shop}", _clock()
    with _cache_lock:
        written, pending = _latency_pending.get(key, (None, []))
        pending = pending + list(latencies)
        due = written is None or now - written >= LATENCY_FLUSH_S
        _latency_pending[key] = (now if due else written, [] if due else pending)
    if due:
        try:
            sync_models.add_latency_samples(platform, shop, pending, at_ms)
        except Exception:  # noqa: BLE001 - a statistic; never fail a push over it
            logger.exception("could not store push latency")


def _fail(report: SyncReport, platform: str, shop: str, listing_ids: list[str], error: str, at_ms: int,
          quantity: int | None = None) -> None:
    for lid in listing_ids:
        report.failed += 1
        failure = {"platform": platform, "shop": shop, "listing_id": lid, "error": error, "quantity": quantity}
        report.failures.append(failure)
        sync_models.record_listing_failed(platform, shop, lid, error, at_ms)
        sync_models.record_failure(platform, shop, lid, {"error": error, "quantity": quantity}, at_ms)
    logger.warning("channel sync failed", extra={"platform": platform, "shop": shop, "listings": listing_ids,
                                                 "error": error})


# --- events ----------------------------------------------------------------------------------------------------

def _event_ms(event: Mapping) -> int | None:
    from datetime import datetime

    value = event.get("time")
    if not value:
        return None
    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def handle_event(event: Mapping, now_ms: Callable[[], int]) -> SyncReport:
    """An EventBridge event: stock.changed → sync that SKU; order.oversold → push 0 for the short SKUs."""
    return handle_events([event], now_ms).report


@dataclass
class BatchResult:
    report: SyncReport
    failed_events: list[int]        # positions of the events whose SKUs still have unpushed listings


_warmed = False


def _warm_once() -> None:
    """Build this container's AWS clients before the shop threads need them all at once (every function
    that reaches _pool() or _io(), reconciliation and the staff API included, before their first thread)."""
    global _warmed
    if not _warmed:
        from stocklink.store.models import warm_clients

        warm_clients()
        _warmed = True


def handle_events(events: list[Mapping], now_ms: Callable[[], int]) -> BatchResult:
    """A batch of EventBridge events (stock.changed, order.oversold), merged into one sync.

    Every listing is pushed at most once for the whole batch, with the stock read at push time, so a burst
    of N changes to a SKU costs one push per listing instead of N. An oversell's zero holds unless the batch
    also has a later stock.changed for that SKU (the same order the events would have been applied in one
    by one). Events whose SKUs have a listing that could not be pushed are returned as failed, so that only
    they are retried and, in the end, dead-lettered."""
    _warm_once()
    changed: dict[str, list[Mapping]] = {}      # sku -> stock.changed details, oldest first
    changed_at: dict[str, int] = {}
    oversold_at: dict[str, int] = {}
    skus_of: list[set[str]] = []
    event_times: list[int] = []
    for event in events:
        detail_type, detail = event.get("detail-type"), event.get("detail") or {}
        at = _event_ms(event)
        if at is not None:
            event_times.append(at)
        mine: set[str] = set()
        if detail_type == "stock.changed" and detail.get("sku"):
            sku = str(detail["sku"])
            changed.setdefault(sku, []).append(detail)
            changed_at[sku] = max(changed_at.get(sku, -1), at if at is not None else -1)
            mine.add(sku)
        elif detail_type == "order.oversold":
            for short in detail.get("shortfall") or []:
                if isinstance(short, dict) and short.get("sku"):
                    sku = str(short["sku"])
                    oversold_at[sku] = max(oversold_at.get(sku, -1), at if at is not None else -1)
                    mine.add(sku)
        else:
            logger.info("ignoring event", extra={"detail_type": detail_type})
        skus_of.append(mine)
    zero = [sku for sku, at in oversold_at.items() if changed_at.get(sku, -1) <= at]

    def dirty_markers() -> None:
        """Reconciliation's dirty markers: needed soon, not by this push."""
        for sku, details in changed.items():
            _mark_dirty(sku, now_ms(), details[-1])
        for sku in zero:
            _mark_dirty(sku, now_ms(), {"cause": "oversold", "total_available": 0})

    to_sync = [sku for sku in changed if sku not in zero] + [sku for sku in oversold_at if sku not in zero]
    if not to_sync and not zero:
        return BatchResult(SyncReport(), [])
    background = _io().submit(dirty_markers)
    try:
        track_velocity = _any_dynamic_buffer()
    except Exception:  # noqa: BLE001 - velocity is an estimate; never fail the push over it
        logger.exception("could not read allocation modes")
        track_velocity = False
    if track_velocity:      # before the sync: this batch's sales count in the buffers it computes
        for sku, details in changed.items():
            try:
                note_sales(sku, details, now_ms())
            except Exception:  # noqa: BLE001 - velocity is an estimate; never fail the push over it
                logger.exception("could not update sales velocity")
    try:
        report = sync_skus(to_sync, now_ms, zero_skus=zero, event_ms=min(event_times) if event_times else None)
    finally:
        background.result()
    failed_skus = {sku for failure in report.failures for sku in failure.get("skus", ())}
    return BatchResult(report, [i for i, mine in enumerate(skus_of) if mine & failed_skus])


# --- views -------------------------------------------------------------------------------------------------------

def sku_channels(sku: str, now_ms: int) -> dict:
    """Each listing of the SKU: the quantity it should show now, what it last showed and when."""
    listings, settings = _listings_and_settings([sku], with_settings=True)
    plan = plan_displays(listings, settings, _available({c.sku for l in listings for c in l.components}),
                         extra_buffer=_dynamic_buffers(listings, settings, now_ms))
    ids: dict[tuple[str, str], list[str]] = {}
    for listing in listings:
        ids.setdefault(tuple(listing.channel.split("#", 1)), []).append(listing.listing_id)
    states = sync_models.shops_listing_states(ids)              # one read for every shop's listings
    out = []
    for listing, display in zip(listings, plan):
        platform, shop = listing.channel.split("#", 1)
        state = states[(platform, shop)].get(listing.listing_id)
        out.append({
            "platform": platform, "shop": shop, "listing_id": listing.listing_id,
            "components": [{"sku": c.sku, "qty": c.qty} for c in listing.components],
            "rule": settings[listing.channel].rule, "sync": settings[listing.channel].sync,
            "computed_qty": display.quantity,
            "pushed_qty": None if state is None or state.pushed_qty is None else int(state.pushed_qty),
            "pushed_at": None if state is None or state.pushed_at is None else int(state.pushed_at),
            "status": None if state is None else state.status,
            "error": None if state is None else state.error,
            "in_sync": state is not None and state.pushed_qty is not None
            and int(state.pushed_qty) == display.quantity,
        })
    return {"sku": sku, "listings": out}


def sync_failures(limit: str | int | None = None) -> dict:
    try:
        n = max(1, min(500, int(limit or 100)))
    except ValueError:
        raise ValidationFailed("limit must be an integer") from None
    return {"failures": sync_models.recent_failures(n)}

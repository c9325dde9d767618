"""Reconciliation: read back what every platform shows, compare with what StockLink computes, fix drift.

The pure part (top of the module) decides: the order dirty SKUs are verified in, how large the rotating
verification slice is, how many read-back calls a shop may take per pass, and what a read-back means
(drift, and the anomalies: a listing above what the pool allows, a listing lower than the other platforms
without cause). `Verifier` does the I/O for a chunk of SKUs: read back through each shop's adapter
(batched by the adapter, paced within the shop's rate limit), compute the expected quantities exactly as
channel sync does (displays.compute_displays, after the read-back so stock is the fresher side), and
push corrections through channel sync (claim → push with retries → sync state / failures recorded).

A platform answering 429/5xx/timeouts stops that shop for the rest of the pass, never the pass: its
listings are reported as unreachable and their SKUs stay (or become) dirty, so the next pass retries them.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

from stocklink.channels.base import HttpCall, PayloadInvalid, StockPush
from stocklink.domain.allocation import AllocationSettings, ListingRef, bundle_units, pool
from stocklink.logic.stock_events import PUBLISH_FAILED
from stocklink.logic.sync import displays, seams
from stocklink.logic.sync.deliver import push_corrections
from stocklink.logic.sync.rate_limit import TokenBucket, shop_limiter
from stocklink.outbound_policy import OutboundRefused, error_text
from stocklink.store import last_units_models, sync_models
from stocklink.time import now_ms as wall_ms

DEFAULT_VERIFY_EVERY_S = 600     # every listing is read back at least this often
PASS_INTERVAL_S = 30
READ_SHARE = 0.5                 # share of a shop's call rate reads may use in a pass (pushes keep the rest)
READ_WINDOW_S = 15.0             # seconds of a pass that reads may fill at that share
MIN_SLICE = 10                   # SKUs per pass in the rotating slice, at least
SLICE_SAFETY = 1.2               # slice = remaining / passes left × this, so the cycle ends in time
UNKNOWN_COUNT_SLICE = 2000       # first cycle (SKU count not yet learned): rate limits and budget bound it
CHUNK = 100                      # SKUs verified together: one read-back call per shop on batch APIs (Woo/TikTok 100)
LOW_STOCK = 5                    # dirty SKUs at or below this total available are verified first
REPEATED_FAILURES = 3            # push failures of one listing within FAILURE_WINDOW_MS → anomaly
FAILURE_WINDOW_MS = 600_000
# A dirty marker covers the SKU's changes made up to this long after it was written: a push within that time
# does not write it again (one write per SKU per burst, not per change), and a pass clears it only once that
# time is over before the pass began (what it read back then is newer than every change the marker covered).
MARK_COVERS_MS = 10_000
SALE_CAUSES = {"reserve", "commit", "ship", "oversold"}
URGENT_CAUSES = {"oversold", PUBLISH_FAILED}


# --- pure decisions ---------------------------------------------------------------------------------------

def priority(hint: Mapping, changed_at: int) -> tuple:
    """Low stock and changes whose stock.changed was lost (no push is on its way) first, then SKUs that
    just sold, then the rest; oldest change first within a class."""
    total = hint.get("total_available")
    if hint.get("cause") in URGENT_CAUSES or (total is not None and int(total) <= LOW_STOCK):
        rank = 0
    elif hint.get("cause") in SALE_CAUSES:
        rank = 1
    else:
        rank = 2
    return (rank, changed_at)


def mark_covers(mark, hint: Mapping, now_ms: int) -> bool:
    """Whether a SKU's dirty marker (store.reconcile_models.DirtyMark, None when absent) already covers a change
    with `hint` made at `now_ms`: written less than MARK_COVERS_MS before and ranked at least as urgent (a change
    that makes the SKU more urgent, its stock falling to LOW_STOCK say, is written at once)."""
    return mark is not None and now_ms < mark.changed_at + MARK_COVERS_MS and \
        priority(mark.hint, 0)[0] <= priority(hint, 0)[0]


def cover_ended_before(changed_at: int, started_ms: int) -> bool:
    """Whether a marker last changed at `changed_at` stopped covering changes before `started_ms`."""
    return changed_at + MARK_COVERS_MS <= started_ms


def read_allowance(rate_per_second: float) -> int:
    """Read-back calls one shop may take in one pass."""
    return max(1, math.floor(rate_per_second * READ_SHARE * READ_WINDOW_S))


def slice_size(state: Mapping, now_ms: int, verify_every_s: int, *, interval_s: int = PASS_INTERVAL_S,
               min_slice: int = MIN_SLICE) -> int:
    """SKUs the rotating slice should verify this pass so the cycle ends within verify_every_s.

    Sized from the SKU count learned in the previous cycle: what is left of this cycle spread over the
    passes left before its deadline. Before the first cycle ends the count is unknown: the slice is then
    as large as the shops' rate limits and the pass budget allow (they cut it, and the cursor resumes).
    """
    count = state.get("sku_count")
    if count is None:
        return UNKNOWN_COUNT_SLICE
    started = int(state.get("cycle_started_at") or now_ms)
    left_ms = started + verify_every_s * 1000 - now_ms
    passes_left = max(1, left_ms // (interval_s * 1000))
    remaining = int(count) - int(state.get("cycle_done") or 0)
    if remaining <= 0:   # the catalogue grew since the count was learned: keep the steady cadence
        return max(min_slice, math.ceil(int(count) * interval_s / verify_every_s * SLICE_SAFETY))
    return max(min_slice, math.ceil(remaining / passes_left * SLICE_SAFETY))


@dataclass(frozen=True)
class Check:
    """One listing's read-back against its computed quantity."""
    channel: str                 # platform#shop
    listing_id: str
    skus: tuple[str, ...]
    shown: int
    expected: int
    really: int                  # what the pool truly allows (bundle sets over the channel's warehouses)

    @property
    def drift(self) -> bool:
        return self.shown != self.expected


def judge(checks: Sequence[Check]) -> list[dict]:
    """Anomalies among read-backs: above the pool (oversell risk), or lower than the other platforms show
    for the same SKU while StockLink's own allocation says it should show more (no cause)."""
    anomalies = []
    by_sku: dict[str, list[Check]] = {}
    for c in checks:
        if len(c.skus) == 1:
            by_sku.setdefault(c.skus[0], []).append(c)
    for c in checks:
        if c.shown > c.really:
            anomalies.append(_anomaly("over_pool", c, severity="red",
                                      description=f"platform shows {c.shown}, the pool allows {c.really}"))
            continue
        if len(c.skus) != 1 or c.shown >= c.expected:
            continue
        others = [o.shown for o in by_sku.get(c.skus[0], []) if o.channel != c.channel]
        if others and max(others) > c.shown:
            anomalies.append(_anomaly("lower_than_others", c, severity="orange",
                                      description=f"shows {c.shown} while another platform shows "
                                                  f"{max(others)} and {c.expected} is expected"))
    return anomalies


def _anomaly(kind: str, c: Check, **extra) -> dict:
    platform, shop = c.channel.split("#", 1)
    return {"kind": kind, "sku": c.skus[0] if len(c.skus) == 1 else "+".join(c.skus), "skus": list(c.skus),
            "platform": platform, "shop": shop, "channel": platform, "listing_id": c.listing_id,
            "shown": c.shown, "listed": c.shown, "expected": c.expected, "pool_allows": c.really, **extra}


def repeated_failures(failures: Iterable[Mapping], since_ms: int, threshold: int = REPEATED_FAILURES) -> list[dict]:
    """Listings whose pushes failed `threshold`+ times in the window, with at least one failure new since
    the last pass (so a listing is reported once per new failure, not every pass)."""
    grouped: dict[tuple[str, str, str], list[Mapping]] = {}
    for f in failures:
        grouped.setdefault((f["platform"], f["shop"], str(f["listing_id"])), []).append(f)
    out = []
    for (platform, shop, lid), items in sorted(grouped.items()):
        if len(items) >= threshold and any(int(i.get("at_ms") or 0) > since_ms for i in items):
            last = max(items, key=lambda i: int(i.get("at_ms") or 0))
            out.append({"kind": "push_failures", "platform": platform, "shop": shop, "channel": platform,
                        "listing_id": lid, "failures": len(items), "last_error": last.get("error"),
                        "expected": last.get("quantity"), "severity": "orange",
                        "description": f"{len(items)} push failures in {FAILURE_WINDOW_MS // 60000} min"})
    return out


def accuracy_pct(checked: int, in_sync: int) -> float | None:
    return None if checked == 0 else round(100.0 * in_sync / checked, 3)


# --- budget ----------------------------------------------------------------------------------------------

class Budget:
    """Time a pass may spend, from the Lambda context's remaining time minus a margin. The clock is
    the sync package's (seams.clock: so pacing sleeps count, and benchmarks can run on virtual time)."""

    def __init__(self, budget_ms: int, clock: Callable[[], float] | None = None):
        self.clock = clock or (lambda: seams.clock())
        self.start = self.clock()
        self.budget_ms = budget_ms

    def used_ms(self) -> int:
        return int((self.clock() - self.start) * 1000)

    def exhausted(self, reserve_ms: int = 0) -> bool:
        return self.used_ms() + reserve_ms >= self.budget_ms


# --- I/O: verify a chunk of SKUs ------------------------------------------------------------------------

@dataclass
class ShopState:
    adapter: object
    credentials: dict | None
    bucket: object                   # the shop-wide limiter: every call to the shop takes a slot in it
    allowance: int
    pace: object                     # reads' own pacing at READ_SHARE of the rate
    calls: int = 0
    down: str | None = None          # error that stopped reads from this shop for the rest of the pass
    slot_held: bool = False          # a slot of the current window taken for the next read (take_now)


@dataclass
class ChunkResult:
    verified: set[str] = field(default_factory=set)       # SKUs whose every listing was read and judged
    incomplete: set[str] = field(default_factory=set)     # SKUs with a listing left unread
    deferred: bool = False                                 # a shop's read allowance ran out
    yielded: bool = False                                  # a busy shop's reads left to the next pass


@dataclass
class PassFigures:
    checked: int = 0
    in_sync: int = 0
    drift_found: int = 0
    drift_fixed: int = 0
    push_failed: int = 0
    superseded: int = 0
    in_flight: int = 0          # differed, but channel_push claimed the listing after the read-back began
    read_calls: int = 0
    push_calls: int = 0
    yielded: int = 0            # listings not read this pass: their shop's window was full (pushes first)
    by_shop: dict[str, dict[str, int]] = field(default_factory=dict)   # platform#shop -> {checked, in_sync}
    unreachable: list[dict] = field(default_factory=list)
    drifts: list[dict] = field(default_factory=list)
    anomalies: list[dict] = field(default_factory=list)


class Verifier:
    def __init__(self, now_ms: int, figures: PassFigures, transport: Callable[[HttpCall], tuple] | None = None):
        self.now_ms = now_ms
        self.figures = figures
        self.transport = transport
        self.shops: dict[str, ShopState | None] = {}

    def _send(self, call: HttpCall):
        return (self.transport or seams.send)(call)

    def _shop(self, channel: str) -> ShopState | None:
        if channel not in self.shops:
            from stocklink.channels.registry import UnknownPlatform, adapter_for
            from stocklink.logic.catalog import shop_credentials

            platform, shop = channel.split("#", 1)
            try:
                adapter = adapter_for(platform)
            except UnknownPlatform:
                self.shops[channel] = None      # e.g. the storefront: nothing listed elsewhere to read
                return None
            credentials = shop_credentials(platform, shop)
            # A read-back call takes a slot from the shop's own limiter, the one channel_push uses, so that
            # reads and pushes together stay within the shop's rate; reads pace themselves at READ_SHARE of
            # that rate (one at a time), so that a pass never takes every slot of a window from the pushes.
            limiter = shop_limiter(platform, shop, adapter)
            self.shops[channel] = ShopState(
                adapter, credentials, limiter, read_allowance(limiter.rate),
                TokenBucket(limiter.rate * READ_SHARE, 1),
                down=None if credentials is not None else "shop credentials missing")
        return self.shops[channel]

    def planned_calls(self, listings: Sequence[ListingRef]) -> dict[str, int]:
        out: dict[str, int] = {}
        for channel, mine in _by_channel(listings).items():
            st = self._shop(channel)
            if st is None or st.down:
                continue
            try:
                out[channel] = len(st.adapter.build_read_back(
                    st.credentials, [l.listing_id for l in mine], {l.listing_id: dict(l.platform_ids) for l in mine}))
            except ValueError:
                out[channel] = 0
        return out

    def verify(self, skus: Sequence[str], listings: Sequence[ListingRef] | None = None,
               strict_allowance: bool = False, yield_to_pushes: bool = False) -> ChunkResult:
        """Read back, compare and correct every listing of `skus`. `strict_allowance`: verify nothing of
        a shop whose read allowance would be exceeded (the slice stops there instead). `yield_to_pushes`: a
        shop whose current call window is full (its pushes use its whole rate: a sale on a slow platform) is
        not read now; its SKUs stay unverified for the next pass. A read taking the shop's next window made
        every push waiting for it wait a window longer (WooCommerce at 2 calls/s: orders' p99 ~1 s), and
        a changed SKU read back while its pushes queue is found behind, not drifted."""
        result = ChunkResult()
        # SKUs at risk are the last-units guard's: it moves their units, a correction here would not know
        # what each platform may still sell (logic/sync/guard.py; the sweep runs the guard for them)
        guarded = last_units_models.skus_at_risk(skus)
        if guarded:
            result.verified |= guarded
            skus = [sku for sku in skus if sku not in guarded]
        if listings is None:
            listings = displays.listings_for(skus)
        listings = displays.without_guarded(list(listings), guarded)
        if not listings:
            result.verified |= set(skus)
            return result
        shown: dict[tuple[str, str], int] = {}
        unread: set[tuple[str, str]] = set()
        # channel_push claims with wall-clock read times; a pass run at a given `now` (tests, benchmarks)
        # never counts its own earlier corrections as newer than its read-back
        read_began = max(wall_ms(), self.now_ms)
        planned = self.planned_calls(listings)
        if strict_allowance and any(self.shops[ch].calls and self.shops[ch].calls + n > self.shops[ch].allowance
                                    for ch, n in planned.items()):
            result.deferred = True
            return result
        for channel, mine in _by_channel(listings).items():
            st = self._shop(channel)
            if st is None:
                continue
            keys = {(channel, l.listing_id) for l in mine}
            if st.down:
                self._unreachable(mine, st.down)
                unread |= keys
                continue
            if st.calls + planned.get(channel, 0) > st.allowance:
                result.deferred = True
                self._unreachable(mine, "read allowance for this pass used up")
                unread |= keys
                continue
            if yield_to_pushes and not self._slot_now(st):
                result.yielded = True
                self.figures.yielded += len(mine)
                unread |= keys
                continue
            got = self._read_shop(channel, st, mine)
            shown.update(got)
            platform, shop = channel.split("#", 1)
            sync_models.record_read_backs(platform, shop, {lid: qty for (_, lid), qty in got.items()},
                                          wall_ms())
            missing = [l for l in mine if (channel, l.listing_id) not in got]
            if missing:
                self._unreachable(missing, st.down or "not returned by the platform's read-back")
                unread |= {(channel, l.listing_id) for l in missing}
        # Stock read after the read-back: a change in between makes StockLink's side the fresher one.
        plan, available, settings = displays.compute_displays(list(listings), self.now_ms)
        checks: list[Check] = []
        for listing, display in zip(listings, plan):
            key = (listing.channel, listing.listing_id)
            if display.quantity is None or key not in shown:
                continue
            setting = settings.get(listing.channel) or AllocationSettings()
            pools = {c.sku: pool(available.get(c.sku, {}), setting.warehouses) for c in listing.components}
            checks.append(Check(listing.channel, listing.listing_id, tuple(c.sku for c in listing.components),
                                shown[key], int(display.quantity), bundle_units(pools, listing.components)))
        settled, behind = self._settled(checks, read_began)
        unread |= self._judge_and_fix(settled, listings, behind)
        for sku in skus:
            touching = {(l.channel, l.listing_id) for l in listings if any(c.sku == sku for c in l.components)}
            (result.incomplete if touching & unread else result.verified).add(sku)
        return result

    @staticmethod
    def _slot_now(st: ShopState) -> bool:
        """Whether the shop can be read now: a slot of its current window taken for the first read (after the
        reads' own pacing), False when that window is full. A shop without the shared count reads as usual."""
        take_now = getattr(st.bucket, "take_now", None)
        if take_now is None:
            return True
        st.pace.acquire()
        taken = take_now()
        if taken is None:                 # the count cannot be reached: the read takes its slot as usual
            return True
        st.slot_held = taken
        return taken

    def _read_shop(self, channel: str, st: ShopState, mine: Sequence[ListingRef]) -> dict[tuple[str, str], int]:
        from stocklink.channels._common import Outcome

        got: dict[tuple[str, str], int] = {}
        try:
            calls = st.adapter.build_read_back(st.credentials, [l.listing_id for l in mine],
                                               {l.listing_id: dict(l.platform_ids) for l in mine})
        except ValueError as exc:          # a listing lacks the platform id the read-back needs
            self._unreachable(mine, f"read-back cannot be built: {exc}")
            return got
        for call in calls:
            if st.slot_held:              # taken for this read by _slot_now
                st.slot_held = False
            else:
                st.pace.acquire()
                st.bucket.acquire()
            st.calls += 1
            self.figures.read_calls += 1
            try:
                status, headers, body = self._send(call)
            except OutboundRefused as exc:
                st.down = error_text(f"permanent: refused by the outbound policy: {exc}")
                break
            if status == 0:
                st.down = error_text(f"network error: {body.decode(errors='replace')}")
                break
            verdict = st.adapter.classify_response(status, body, headers)
            if verdict.outcome is not Outcome.OK:
                prefix = "permanent: " if verdict.outcome is Outcome.PERMANENT else ""
                st.down = error_text(f"{prefix}HTTP {status} {verdict.code} {verdict.message}")
                break
            try:
                values = st.adapter.parse_read_back(status, body)
            except PayloadInvalid as exc:
                st.down = error_text(str(exc))
                break
            got.update({(channel, str(lid)): int(q) for lid, q in values.items()})
        return got

    def _settled(self, checks: list[Check], read_began: int) -> tuple[list[Check], set[tuple[str, str]]]:
        """(the checks to judge, the listings merely behind).

        A listing that differs while channel_push claimed it after this read-back began is a push in flight
        (a sale going on), not drift: no anomaly, no correction, not counted in the accuracy. A listing
        that still shows exactly what StockLink last pushed is behind (its newer value not pushed yet, or
        its event lost): it is corrected, but it is no platform anomaly. One batch read of sync state per
        shop, and only for listings that differ."""
        differing: dict[str, list[str]] = {}
        for c in checks:
            if c.drift:
                differing.setdefault(c.channel, []).append(c.listing_id)
        moving: set[tuple[str, str]] = set()
        last_pushed: dict[tuple[str, str], int] = {}
        for channel, ids in differing.items():
            platform, shop = channel.split("#", 1)
            for lid, state in sync_models.listing_states(platform, shop, ids).items():
                if state.claim_at is not None and int(state.claim_at) >= read_began:
                    moving.add((channel, lid))
                elif state.pushed_qty is not None:
                    last_pushed[(channel, lid)] = int(state.pushed_qty)
        self.figures.in_flight += len(moving)
        behind = {(c.channel, c.listing_id) for c in checks if c.drift
                  and last_pushed.get((c.channel, c.listing_id)) == c.shown}
        return [c for c in checks if (c.channel, c.listing_id) not in moving], behind

    def _judge_and_fix(self, checks: list[Check], listings: Sequence[ListingRef],
                       behind: set[tuple[str, str]] = frozenset()) -> set[tuple[str, str]]:
        """Count, raise anomalies (not for listings merely behind), push corrections; returns the listings
        whose correction failed."""
        f = self.figures
        f.checked += len(checks)
        f.in_sync += sum(1 for c in checks if not c.drift)
        for c in checks:
            shop = f.by_shop.setdefault(c.channel, {"checked": 0, "in_sync": 0})
            shop["checked"] += 1
            shop["in_sync"] += 0 if c.drift else 1
        f.anomalies.extend(a for a in judge(checks) if (f"{a['platform']}#{a['shop']}", a["listing_id"]) not in behind)
        refs = {(l.channel, l.listing_id): l for l in listings}
        fixes: dict[str, list[StockPush]] = {}
        for c in checks:
            if not c.drift:
                continue
            f.drift_found += 1
            if len(f.drifts) < 100:
                f.drifts.append({"channel": c.channel, "listing_id": c.listing_id, "shown": c.shown,
                                 "expected": c.expected})
            fixes.setdefault(c.channel, []).append(
                StockPush(c.listing_id, c.expected, dict(refs[(c.channel, c.listing_id)].platform_ids)))
        failed: set[tuple[str, str]] = set()
        for channel, pushes in fixes.items():
            platform, shop = channel.split("#", 1)
            sync = push_corrections(platform, shop, pushes, lambda: self.now_ms, self.now_ms)
            f.drift_fixed += sync.pushed
            f.push_failed += sync.failed
            f.superseded += sync.superseded
            f.push_calls += sync.calls
            for failure in sync.failures:
                failed.add((channel, str(failure["listing_id"])))
                self._unreachable_one(channel, failure["listing_id"], "correction push failed: " + failure["error"])
        return failed

    def _unreachable(self, listings: Iterable[ListingRef], reason: str) -> None:
        for l in listings:
            self._unreachable_one(l.channel, l.listing_id, reason)

    def _unreachable_one(self, channel: str, listing_id: str, reason: str) -> None:
        platform, shop = channel.split("#", 1)
        self.figures.unreachable.append({"platform": platform, "shop": shop, "listing_id": listing_id,
                                         "reason": reason[:300]})


def _by_channel(listings: Iterable[ListingRef]) -> dict[str, list[ListingRef]]:
    out: dict[str, list[ListingRef]] = {}
    for l in listings:
        out.setdefault(l.channel, []).append(l)
    return out


def monotonic_ms() -> int:
    return int(time.monotonic() * 1000)

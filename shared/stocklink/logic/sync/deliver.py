"""Claimed pushes out to a platform and their outcome recorded: batched per request the adapter builds,
sent with retries, each listing's sync state written (or a failure recorded); pushes that lost a race to a
newer computation, or waited for an older push to land, are pushed once more from stock read then."""
from __future__ import annotations

from typing import Callable, Mapping

from stocklink.channels.base import StockPush
from stocklink.domain.allocation import ListingRef
from stocklink.logic.sync import config, displays, executors, seams, velocity
from stocklink.logic.sync.platform_calls import call_group, push_with_retry
from stocklink.logic.sync.rate_limit import MAX_TOKEN_WAIT_S, ShopRateLimit, TokenBucket, shop_limiter
from stocklink.logic.sync.report import SyncReport, record_failed
from stocklink.store import last_units_models, sync_models

LANDING_WAIT_S = 5.0     # how long a push waits for an older push of the same listing to land
LANDING_POLL_S = 0.05

Limiter = ShopRateLimit | TokenBucket


def push_shop(report: SyncReport, adapter, credentials, limiter: Limiter, platform: str, shop: str,
              pushes: list[StockPush], now_ms: Callable[[], int], event_ms: int | None,
              claimed_at: int | None = None) -> list[StockPush]:
    """Send the pushes (claimed with read time `claimed_at`) and record them: the pushes that lost a race
    (sync_models.record_pushed_many), for the caller to push again. The first call goes out on the slot the
    caller took; each further request takes its own."""
    groups: dict[tuple[str, str], list[StockPush]] = {}
    for push in pushes:
        try:
            groups.setdefault(call_group(adapter, credentials, push), []).append(push)
        except ValueError as exc:   # listing lacks a platform id, or a bad quantity: the call can't be built
            record_failed(report, platform, shop, [push.listing_id], str(exc), now_ms())

    def send_batch(batch: list[StockPush]) -> tuple[dict[str, str], int, int, int]:
        """(failed listing -> error, calls, attempts, finished at) for one batch's request(s)."""
        n_calls = len(adapter.build_stock_updates(credentials, batch))
        failed: dict[str, str] = {}
        attempts = 0
        for index in range(n_calls):
            outcome = push_with_retry(adapter, lambda: adapter.build_stock_updates(credentials, batch)[index],
                                      limiter)
            attempts += outcome.attempts
            if not outcome.ok:
                failed.update({p.listing_id: outcome.error for p in batch})
            for lid in outcome.failed_listings:
                failed[str(lid)] = "refused by the platform inside an accepted batch"
        return failed, n_calls, attempts, now_ms()

    # Requests of different products (TikTok, Shopee) or beyond one batch go out together, each once its
    # rate-limit slot is in hand (the first uses the slot the caller took).
    batches = [group[start:start + adapter.batch_size]
               for group in groups.values() for start in range(0, len(group), adapter.batch_size)]
    sent = []
    for i, batch in enumerate(batches):
        if i:
            limiter.acquire()
        sent.append((batch, executors.io().submit(send_batch, batch)))
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
                record_failed(report, platform, shop, [push.listing_id], batch_failed[push.listing_id], done,
                              quantity=push.quantity)
        for push in ok:
            report.pushed += 1
            report.pushed_values[f"{platform}#{shop}#{push.listing_id}"] = push.quantity
        if event_ms is not None and ok:
            latencies.append(max(0, done - event_ms))
    if latencies:
        velocity.note_latencies(platform, shop, latencies, now_ms())
    return raced


def repush_raced(report: SyncReport, adapter, credentials, limiter: Limiter, platform: str, shop: str,
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
    landed, still_landing = _await_landing([lid for lid in waiting if lid not in sent], platform, shop)
    report.raced_left += len(still_landing)
    if not sent and not landed:
        return
    skus = sorted({c.sku for lid in [*sent, *landed] for c in refs[lid].components})
    listings, settings = displays.listings_and_settings(skus, with_settings=True)
    listings = displays.without_guarded(listings, last_units_models.skus_at_risk(skus))   # the guard's now
    read_at, plan = displays.compute(listings, settings, now_ms)
    states = sync_models.listing_states(platform, shop, landed) if landed else {}
    again = []
    for listing, display in zip(listings, plan):
        if listing.channel != channel or (listing.listing_id not in sent and listing.listing_id not in landed):
            continue
        qty = displays.target_qty(listing, display.quantity, zero)
        if qty is None:
            continue
        if listing.listing_id in sent and qty == sent[listing.listing_id]:
            continue
        if listing.listing_id in landed and displays.unchanged(states.get(listing.listing_id), qty):
            continue
        again.append(StockPush(listing.listing_id, qty, listing.platform_ids))
    won = sync_models.claim_many(platform, shop, [(p.listing_id, p.quantity) for p in again], read_at)
    report.raced_left += len(again) - len(won)
    again = [p for p in again if p.listing_id in won]
    if not again:
        return
    seams.sleep(min(limiter.wait_time(), MAX_TOKEN_WAIT_S))
    report.repushed += len(again)
    report.raced_left += len(push_shop(report, adapter, credentials, limiter, platform, shop, again, now_ms, None,
                                       read_at))


def _await_landing(listing_ids: list[str], platform: str, shop: str) -> tuple[list[str], list[str]]:
    """(landed, still landing after LANDING_WAIT_S) of listings another container's push was in flight on."""
    pending = list(listing_ids)
    deadline = seams.clock() + LANDING_WAIT_S
    while pending and seams.clock() < deadline:
        pending = sorted(sync_models.in_flight(platform, shop, pending))
        if pending:
            seams.sleep(LANDING_POLL_S)
    return [lid for lid in listing_ids if lid not in pending], pending


def push_corrections(platform: str, shop: str, pushes: list[StockPush], now_ms: Callable[[], int],
                     read_at: int) -> SyncReport:
    """Push corrected quantities for listings reconciliation found drifted, with the same claim / retry /
    failure bookkeeping as a push (a newer computation that claimed a listing wins)."""
    from stocklink.channels.registry import adapter_for

    report = SyncReport()
    adapter = adapter_for(platform)
    credentials = config.shop_credentials(platform, shop)
    if credentials is None:
        record_failed(report, platform, shop, [p.listing_id for p in pushes], "shop credentials missing", now_ms())
        return report
    claimed = []
    for push in pushes:
        if sync_models.claim(platform, shop, push.listing_id, push.quantity, read_at):
            claimed.append(push)
        else:
            report.superseded += 1
    if claimed:
        limiter = shop_limiter(platform, shop, adapter)
        limiter.acquire()       # push_shop sends its first call on a slot its caller took
        # a correction that loses a race to a live push is left to it (and to the next pass)
        report.raced_left += len(push_shop(report, adapter, credentials, limiter,
                                           platform, shop, claimed, now_ms, None, read_at))
    return report

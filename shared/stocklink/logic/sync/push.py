"""Bring every listing showing a set of SKUs to its current display quantity, shop by shop.

Per shop, once a call slot is in hand (rate_limit), the *current* stock is read and every listing's display
computed (displays); only values that differ from what the listing last showed are claimed (a conditional
write on its sync state: an older computation never overwrites a newer one, whichever container runs it)
and pushed (deliver). Coalescing: quantities come from stock read at push time, not from the event, so a
burst of N orders costs far fewer than N pushes; waiting for a slot while the burst goes on skips more.
Shops of one event are pushed in parallel (executors.shops()), each with its own limiter and retries, so a
slow or rate-limited shop does not hold up the others. While a shop's window is full, SKUs are handed to the
container already waiting for its next call (mailbox).
"""
from __future__ import annotations

from concurrent.futures import wait
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from stocklink.channels.base import StockPush
from stocklink.domain.allocation import AllocationSettings, ListingRef
from stocklink.logic.sync import config, displays, executors, mailbox, seams
from stocklink.logic.sync.deliver import push_shop, repush_raced
from stocklink.logic.sync.rate_limit import MAX_TOKEN_WAIT_S, ShopRateLimit, TokenBucket, shop_limiter
from stocklink.logic.sync.report import SyncReport, record_failed
from stocklink.store import last_units_models, sync_models

SNAPSHOT_MAX_AGE_MS = 250     # a shop starting later than this after the event's stock read reads again


def sync_skus(skus: Iterable[str], now_ms: Callable[[], int], *, zero_skus: Iterable[str] = (),
              event_ms: int | None = None, guarded: Iterable[str] = (),
              snapshot: displays.Snapshot | None = None, risk: displays.RiskFlags | None = None) -> SyncReport:
    """Bring every listing that shows one of `skus` to its current display quantity.

    `zero_skus`: push 0 for listings containing them (an oversell: stop selling everywhere at once).
    `event_ms`: when the stock change happened, for the push-latency samples behind the dynamic buffer.
    `guarded`: SKUs the last-units guard moves (logic/sync/guard.py): their listings are left to it.
    `snapshot`: the guard's read of the batch (displays.Snapshot), used instead of reading again while it
    covers these SKUs and is at most SNAPSHOT_MAX_AGE_MS old (as old as a shop's first look may be anyway).
    `risk`: the guard's at-risk flags of the batch's SKUs (and the catalog's listings version), used instead of
    reading them again on the same terms.
    """
    zero = set(zero_skus)
    report = SyncReport()
    skus = list(skus)
    if not skus and not zero:
        return report
    wanted = list(dict.fromkeys([*skus, *zero]))
    fresh = snapshot is not None and set(wanted) <= snapshot.skus and now_ms() - snapshot.read_at <= SNAPSHOT_MAX_AGE_MS
    # the guard's read of the catalog's listings version, while fresh, lets listings cached under it be used
    version = (risk.listings_version if risk is not None and now_ms() - risk.read_at <= SNAPSHOT_MAX_AGE_MS
               else None)
    listings, settings = (snapshot.showing(wanted) if fresh
                          else displays.listings_and_settings(wanted, with_settings=True, listings_version=version))
    # the SKUs the guard moves: those it took in this batch, and those another container flagged meanwhile
    # (read again unless the guard's read of the flags covers every SKU of the listings and is fresh)
    listing_skus = displays.skus_of(listings)
    if risk is not None and risk.covers(listing_skus, now_ms(), SNAPSHOT_MAX_AGE_MS):
        flagged = risk.at_risk & set(listing_skus)
    else:
        flagged = last_units_models.skus_at_risk(listing_skus) if listings else set()
    listings = displays.without_guarded(listings, {*guarded, *flagged})
    report.listings = len(listings)
    if not listings:
        return report
    channels = sorted({l.channel for l in listings})
    # One stock read and one read of every shop's last pushes for the shops' first look (they start
    # together); a shop that waits for a slot, or starts late, reads again itself.
    if fresh:
        first_look = (snapshot.read_at, displays.plan(listings, settings, snapshot.stock, snapshot.read_at))
        first_states = snapshot.states_of(listings)
    else:
        first_look = displays.compute(listings, settings, now_ms)
        first_states = sync_models.shops_listing_states(
            {tuple(ch.split("#", 1)): [l.listing_id for l in listings if l.channel == ch] for ch in channels})

    def one(channel: str) -> SyncReport:
        return _sync_shop(channel, listings, settings, zero, now_ms, event_ms, first_look,
                          first_states.get(tuple(channel.split("#", 1))))

    for result in _each_shop(one, channels):
        report.merge(result)
    if report.failures:
        components = {(l.channel, l.listing_id): sorted({c.sku for c in l.components}) for l in listings}
        for failure in report.failures:
            failure.setdefault("skus", components.get((f"{failure['platform']}#{failure['shop']}",
                                                       failure["listing_id"]), []))
    return report


def _each_shop(sync_one: Callable[[str], SyncReport], channels: list[str]) -> list[SyncReport]:
    if len(channels) == 1 or executors.PUSH_WORKERS <= 1:
        return [sync_one(ch) for ch in channels]
    futures = [executors.shops().submit(sync_one, ch) for ch in channels]
    wait(futures)
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:     # every other shop has finished (and recorded) its push; fail the event as before
        raise errors[0]
    return [f.result() for f in futures]


@dataclass
class _Shop:
    """One shop's side of a sync: who it is, how to reach it, and its listings among the event's."""
    channel: str
    platform: str
    shop: str
    adapter: object
    credentials: dict
    limiter: ShopRateLimit | TokenBucket
    mine: list[ListingRef]


@dataclass
class _ShopPlan:
    """What the shop's listings should show, computed from stock read at `read_at`, and what they showed."""
    read_at: int
    wanted: dict                 # listing id -> display, the shop's listings of the event
    states: Mapping              # listing id -> last sync state
    owed: list[ListingRef] = field(default_factory=list)   # its listings of SKUs handed over to this call
    owed_wanted: dict = field(default_factory=dict)


def _sync_shop(channel: str, listings: list[ListingRef], settings: Mapping[str, AllocationSettings],
               zero: set, now_ms: Callable[[], int], event_ms: int | None,
               snapshot: tuple[int, list] | None = None, first_states: Mapping | None = None) -> SyncReport:
    report = SyncReport()
    shop = _open_shop(report, channel, listings, now_ms)
    if shop is None:
        return report
    if snapshot is None or now_ms() - snapshot[0] > SNAPSHOT_MAX_AGE_MS:
        snapshot, first_states = displays.compute(listings, settings, now_ms), None
    read_at, plan = snapshot
    wanted = {d.listing_id: d for d in plan if d.channel == channel}
    states = first_states if first_states is not None else sync_models.listing_states(shop.platform, shop.shop,
                                                                                      wanted)
    shop_plan = _ShopPlan(read_at, wanted, states)
    # A call slot only when this shop has something to push: an event whose listings already show the
    # current numbers makes no platform call, so it must neither wait for a slot nor use one up (that debt
    # delayed every later push of the shop by seconds in a burst).
    if displays.needs_push(shop.mine, wanted, states, zero):
        shop_plan = _take_call_slot(report, shop, listings, settings, zero, now_ms, shop_plan)
        if shop_plan is None:
            return report
    pushes, waiting = _claim(report, shop, shop_plan, zero)
    raced = push_shop(report, shop.adapter, shop.credentials, shop.limiter, shop.platform, shop.shop, pushes,
                      now_ms, event_ms, shop_plan.read_at) if pushes else []
    if raced or waiting:
        refs = {l.listing_id: l for l in [*shop.mine, *shop_plan.owed]}
        repush_raced(report, shop.adapter, shop.credentials, shop.limiter, shop.platform, shop.shop, raced, refs,
                     zero, now_ms, waiting=sorted(waiting))
    return report


def _open_shop(report: SyncReport, channel: str, listings: list[ListingRef],
               now_ms: Callable[[], int]) -> _Shop | None:
    """The shop's adapter, credentials and limiter; None when there is nothing to push to."""
    from stocklink.channels.registry import UnknownPlatform, adapter_for

    platform, shop = channel.split("#", 1)
    mine = [l for l in listings if l.channel == channel]
    try:
        adapter = adapter_for(platform)
    except UnknownPlatform:
        return None   # e.g. the storefront: it reserves synchronously, nothing to push
    credentials = config.shop_credentials(platform, shop)
    if credentials is None:
        record_failed(report, platform, shop, [l.listing_id for l in mine], "shop credentials missing", now_ms())
        return None
    return _Shop(channel, platform, shop, adapter, credentials, shop_limiter(platform, shop, adapter), mine)


def _take_call_slot(report: SyncReport, shop: _Shop, listings: list[ListingRef],
                    settings: Mapping[str, AllocationSettings], zero: set, now_ms: Callable[[], int],
                    shop_plan: _ShopPlan) -> _ShopPlan | None:
    """Take the shop's next call slot, or hand the SKUs to the container already waiting for it (None).
    After a wait, the plan is computed again from stock read then, with the SKUs handed to this call."""
    shared = isinstance(shop.limiter, ShopRateLimit)
    my_skus = {c.sku for l in shop.mine for c in l.components}
    may_hand_over = shared and not (zero & my_skus)     # an oversell's zero is never handed over
    # While the shop's windows are full, hand the SKUs to the container already waiting for its next
    # call before taking a slot: a slot taken only to be given back costs two writes, and other
    # containers that saw it taken skip its window as full, so the shop's call budget went unused.
    if may_hand_over and shop.limiter.looks_full() and mailbox.hand_over(shop.platform, shop.shop, my_skus):
        report.handed_over += len(shop.mine)
        return None
    delay, window = shop.limiter.take() if shared else (shop.limiter.wait_time(), None)
    delay = min(delay, MAX_TOKEN_WAIT_S)
    # The shop's window is full. If another container is already waiting for its next call, hand it
    # these SKUs (it reads stock after its wait, so it pushes their newest numbers) and give the slot
    # back, instead of queueing a call of our own behind it.
    if delay > 0 and window is not None and may_hand_over and mailbox.hand_over(shop.platform, shop.shop, my_skus):
        shop.limiter.give_back(window)
        report.handed_over += len(shop.mine)
        return None
    if delay <= 0:
        return shop_plan
    return _after_wait(shop, listings, settings, now_ms, delay, shared, my_skus)


def _after_wait(shop: _Shop, listings: list[ListingRef], settings: Mapping[str, AllocationSettings],
                now_ms: Callable[[], int], delay: float, shared: bool, my_skus: set[str]) -> _ShopPlan:
    """Wait for the slot (announced in the mailbox so others hand over), then plan from stock read now for
    the shop's own listings and the ones of SKUs handed over meanwhile."""
    started = seams.clock()
    owner = mailbox.await_slot(shop.platform, shop.shop, delay) if shared else None
    left = delay - (seams.clock() - started)
    if left > 0:
        seams.sleep(left)
    handed = mailbox.collect(shop.platform, shop.shop, owner) - my_skus if owner else set()
    # every listing of the handed SKUs (other shops' too: the allocation looks at all of them), with
    # their shops' allocation settings
    handed_listings, handed_settings = (displays.listings_and_settings(sorted(handed), with_settings=True)
                                        if handed else ([], {}))
    handed_listings = displays.without_guarded(handed_listings, last_units_models.skus_at_risk(handed)
                                               if handed else ())
    known = {(m.channel, m.listing_id) for m in listings}
    union = listings + [l for l in handed_listings if (l.channel, l.listing_id) not in known]
    mine_ids = {l.listing_id for l in shop.mine}
    owed = [l for l in handed_listings if l.channel == shop.channel and l.listing_id not in mine_ids]
    # The sync states are read while the stock is read again after the wait (the value pushed is the
    # freshest there is).
    states_read = executors.io().submit(sync_models.listing_states, shop.platform, shop.shop,
                                        [*mine_ids, *(l.listing_id for l in owed)])
    read_at = now_ms()       # taken before the read: claims never rank this value as newer than it is
    stock = displays.available(displays.skus_of(union))
    wanted = {d.listing_id: d for d in displays.plan(listings, settings, stock, read_at) if d.channel == shop.channel}
    owed_wanted = {}
    if owed:
        # Handed listings are computed with every listing of their SKUs, as their own event would.
        union_settings = {**handed_settings, **settings}
        owed_wanted = {d.listing_id: d for d in displays.plan(union, union_settings, stock, read_at)
                       if d.channel == shop.channel and d.listing_id not in wanted}
    return _ShopPlan(read_at, wanted, states_read.result(), owed, owed_wanted)


def _claim(report: SyncReport, shop: _Shop, shop_plan: _ShopPlan, zero: set) -> tuple[list[StockPush], set[str]]:
    """(pushes this container won, listings waiting for an older push to land) among the listings whose
    number changed. One conditional write per listing (a newer computation may hold it), in one transaction."""
    candidates: list[StockPush] = []
    for listing, display in [*((l, shop_plan.wanted[l.listing_id]) for l in shop.mine),
                             *((l, shop_plan.owed_wanted[l.listing_id]) for l in shop_plan.owed)]:
        qty = displays.target_qty(listing, display.quantity, zero)
        if qty is None:
            report.sync_off += 1
            sync_models.record_sync_off(shop.platform, shop.shop, listing.listing_id, shop_plan.read_at)
            continue
        if displays.unchanged(shop_plan.states.get(listing.listing_id), qty):
            report.unchanged += 1
            continue
        candidates.append(StockPush(listing.listing_id, qty, listing.platform_ids))
    won = sync_models.claim_many(shop.platform, shop.shop, [(p.listing_id, p.quantity) for p in candidates],
                                 shop_plan.read_at)
    pushes = [push for push in candidates if push.listing_id in won]
    lost = [push.listing_id for push in candidates if push.listing_id not in won]
    # refused because an older push of the listing may still be landing: pushed once it has landed
    waiting = sync_models.blocked(shop.platform, shop.shop, lost, shop_plan.read_at) if lost else set()
    report.superseded += len(lost) - len(waiting)
    return pushes, waiting

"""The last-units guard at work: for each SKU at risk, the moves of stocklink.domain.last_units made real.

Per SKU, under its lock (one container moves a SKU's units at a time: a raise is decided from what every
channel shows, and two deciders could spend the same headroom):
  1. read the SKU's listings, their shops' settings, stock, what each listing may still sell (`shown`,
     logic/sync/shown.py), sales velocity per channel and push latency per shop;
  2. decide whether the SKU is at risk (threshold with hysteresis, remembered per SKU);
  3. end the drains that are due, plan the moves (lower first, raise within headroom) and make them:
     a raise is counted as shown before it is sent (and taken back only if the platform refused it); a
     relative decrease is counted once confirmed; a cut of an absolute-only platform to 0 starts a drain.
     A drain keeps the cut units counted to their listing until an order the platform accepted before the
     cut must have reached StockLink: the policy's drain_s, or the platform's order-reporting lag where that
     is longer (a pulled platform: channels/base.order_report_lag_s, domain/last_units.drain_s). Ended
     sooner, the units would be offered elsewhere while the platform may already have sold them.
A SKU's presale channels (domain/presale.py) may also be given the presale room of their windows: it counts in
what the platforms may still sell, so no unit on its way is offered twice either (_presale_room).
Listings of several units or SKUs (bundles) are shown 0 while a component is at risk. SKUs not at risk
are left to the shared sync (push.sync_skus), which skips every listing the guard owns.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable

from stocklink import bus, events
from stocklink.channels.base import StockAdjust, StockPush, order_report_lag_s
from stocklink.domain.allocation import AllocationSettings, ListingRef, pool
from stocklink.domain.last_units import (ChannelDemand, RiskPolicy, at_risk, drain_for, plan_moves,
                                         risk_threshold, split_by_demand)
from stocklink.logic.sync import config, displays, velocity
from stocklink.logic.sync.platform_calls import MAX_ATTEMPTS, push_with_retry
from stocklink.logic.sync.rate_limit import shop_limiter
from stocklink.logic.sync.report import SyncReport, record_failed
from stocklink.observability import logger, metrics
from stocklink.store import catalog, last_units_models, sync_models

LOCK_TTL_MS = 20_000
MAX_ROUNDS = 3          # plans per SKU in one run while confirmed decreases free units for raises
TRIM_AT = 200           # recent sales kept per listing before the oldest are dropped


def policy() -> RiskPolicy:
    return config.cached("last-units-policy", lambda: RiskPolicy.from_dict(catalog.last_units_policy()))


@dataclass
class SkuView:
    """Everything one decision about a SKU reads."""
    sku: str
    available: int                                 # on hand + presale_room
    singles: list[ListingRef]                      # listings of one unit of the SKU: moved by the guard
    others: list[ListingRef]                       # bundles and multi-unit listings: shown 0 while at risk
    settings: dict[str, AllocationSettings]
    states: dict[tuple[str, str], dict]            # (platform, shop) -> listing id -> ListingSync
    demands: list[ChannelDemand] = field(default_factory=list)
    draining: dict[str, tuple[int, int]] = field(default_factory=dict)   # key -> (drain_until, shown)
    cut: bool = False                              # a cut to 0 landed (a drain started) in this view's moves
    cut_drains_s: set[float] = field(default_factory=set)   # the drain lengths those cuts started
    compare_and_set: set[str] = field(default_factory=set)   # listings moved by compare-and-set
    inherited: set[str] = field(default_factory=set)  # last set by the shared sync: their count may miss orders
                                                      # its push overwrote, so they are cut before being counted
    presale_room: int = 0                          # units on their way the presale channels share (_presale_room)

    def state(self, listing: ListingRef):
        return self.states.get(tuple(listing.channel.split("#", 1)), {}).get(listing.listing_id)


def key(listing: ListingRef) -> str:
    return f"{listing.channel}#{listing.listing_id}"


def read(sku: str, now_ms: int, pol: RiskPolicy) -> SkuView:
    """The SKU's view, read now."""
    return view_of(sku, displays.read_snapshot([sku], lambda: now_ms, components=False), now_ms, pol)


def view_of(sku: str, snapshot: displays.Snapshot, now_ms: int, pol: RiskPolicy) -> SkuView:
    """The SKU's view from a snapshot holding it (a batch's SKUs are read together, once)."""
    from stocklink.channels.registry import UnknownPlatform, adapter_for

    listings, settings = snapshot.showing([sku])
    stock = snapshot.stock.get(sku, {})
    states = snapshot.states_of(listings)
    singles = [l for l in listings if len(l.components) == 1 and l.components[0].qty == 1]
    presale_room, presale_channels = _presale_room(sku, singles, settings, now_ms)
    view = SkuView(sku, pool(stock) + presale_room, singles, [l for l in listings if l not in singles], settings,
                   states, presale_room=presale_room)
    # demand per listing from the sales its platform reported (appended atomically by each order webhook)
    sales = {key(l): _recent_sales(view.state(l)) for l in singles}
    rates = velocity.demand_rates({"sales": sales}, now_ms)
    # A pulled platform's orders arrive in the poller's batches, minutes after they were placed: its 20-s burst
    # rate measures a poll run, not its buyers (the orders of minutes stamped within a second), and would be
    # multiplied by its lag in the risk threshold. Its pace is its rate over the 5-minute window.
    steady = velocity.sales_rates({"sales": sales}, now_ms)
    latency: dict[str, float | None] = {}
    for listing in singles:
        platform, shop = listing.channel.split("#", 1)
        try:
            adapter = adapter_for(platform)
        except UnknownPlatform:
            continue                                   # the storefront reserves synchronously: no listing
        # Relative changes only where the platform refuses a count below 0: one that lets it go negative
        # could be lowered by units already sold and unreported (domain/last_units.plan_moves).
        relative = bool(getattr(adapter, "supports_relative", False)) and not getattr(adapter, "relative_below_zero", True)
        if not relative and getattr(adapter, "compare_and_set", False):
            # a set that names what the platform must show now is refused if an unreported order took a unit:
            # it moves as freely as a relative change (sent as a compare-and-set, see _move)
            relative = True
            view.compare_and_set.add(key(listing))
        if listing.channel not in latency:
            latency[listing.channel] = _push_latency_p99(platform, shop)
        report_lag_s = order_report_lag_s(adapter)
        if report_lag_s > velocity.BURST_WINDOW_MS / 1000:
            rates[key(listing)] = steady.get(key(listing), 0.0)
        state = view.state(listing)
        shown = _shown(state)
        chosen = settings.get(listing.channel, AllocationSettings())
        draining = state is not None and state.drain_until is not None
        if draining:
            view.draining[key(listing)] = (int(state.drain_until), shown)
            chosen = replace(chosen, sync=False)       # counted as it is, never moved, until drained
        elif chosen.sync and not (state is not None and state.guarded) and key(listing) not in view.compare_and_set:
            view.inherited.add(key(listing))
        view.demands.append(ChannelDemand(
            key(listing), rates.get(key(listing), 0.0), shown, chosen,
            pool=pool(stock, chosen.warehouses) + (presale_room if listing.channel in presale_channels else 0),
            push_latency_s=latency[listing.channel], relative=relative,
            draining=draining, presale=listing.channel in presale_channels,
            report_lag_s=report_lag_s))
    return view


def _presale_room(sku: str, singles: list[ListingRef], settings: dict[str, AllocationSettings],
                  now_ms: int) -> tuple[int, set[str]]:
    """The units on their way the SKU's presale channels may share while it is at risk, and those channels.

    Counted as part of what the platforms may still sell (Σ shown ≤ available + this room), and only the
    presale channels may be given them. While at risk a presale order takes the room first (logic.presale),
    so on-hand units stay for the others. It is the smallest room of the presale channels' windows: a
    presold unit counts against the earliest arrivals, so a longer window's sales shrink a shorter one's
    room, and only the smallest can be promised to all of them at once."""
    channels = {l.channel for l in singles if l.channel in settings and settings[l.channel].presale.enabled}
    if not channels:
        return 0, set()
    rooms = displays.presale_rooms(singles, settings, now_ms)
    return min(rooms.get((channel, sku), 0) for channel in channels), channels


def _push_latency_p99(platform: str, shop: str) -> float | None:
    """A shop's push-latency p99 (None before any sample), read at most once per config period per container:
    it moves slowly, and every SKU of a batch would read it again."""
    def load():
        samples = sync_models.latency_samples(platform, shop)
        return velocity.p99(samples) if samples else None
    return config.cached(f"push-latency-p99#{platform}#{shop}", load)


def _recent_sales(state) -> list:
    return [[int(ms), int(qty)] for ms, qty in (state.recent_sales or [])] if state is not None else []


def _trim_sales(view: SkuView, now: int) -> None:
    """Recent sales older than velocity's window are dropped once a listing holds more than TRIM_AT."""
    for listing in view.singles:
        sales = _recent_sales(view.state(listing))
        if len(sales) > TRIM_AT:
            old = sum(1 for ms, _ in sales if now - ms > velocity.VELOCITY_WINDOW_MS)
            platform, shop = listing.channel.split("#", 1)
            sync_models.trim_recent_sales(platform, shop, listing.listing_id, min(old, 100))


def _shown(state) -> int:
    """What the listing may still sell; before the guard's bookkeeping began, the last number pushed."""
    if state is None:
        return 0
    if state.shown is not None:
        return int(state.shown)
    return int(state.pushed_qty or 0)


def is_at_risk(view: SkuView, pol: RiskPolicy, was: bool) -> tuple[bool, float]:
    threshold = risk_threshold(view.demands, pol)
    return at_risk(view.available, threshold, was, pol), threshold


def guard_skus(skus: Iterable[str], now_ms: Callable[[], int]) -> tuple[set[str], SyncReport]:
    """The SKUs of `skus` that are at risk, their units moved (each under its lock); the rest are left to
    the shared sync. While the policy is off only the SKUs of a declared sale are guarded."""
    guarded, report, _, _ = guard_and_read(skus, now_ms)
    return guarded, report


def guard_and_read(skus: Iterable[str], now_ms: Callable[[], int]
                   ) -> tuple[set[str], SyncReport, displays.Snapshot | None, displays.RiskFlags | None]:
    """guard_skus, the snapshot the decisions were made from (None when no SKU needed one) and the SKUs'
    at-risk flags as the guard left them: the SKUs are read together once, and the shared sync reuses the
    read (and the flags) for the SKUs left to it while it is fresh."""
    report = SyncReport()
    pol = policy()
    skus = list(dict.fromkeys(skus))
    if not skus:
        return set(), report, None, None
    read_at = now_ms()
    states, listings_version, marks = last_units_models.guard_states_version_and_marks(skus)
    flagged = {sku for sku, state in states.items() if state.at_risk}
    declared = {sku for sku, state in states.items() if state.declared(now_ms())}
    at_risk_now, skus_read = set(flagged), frozenset(skus)
    if not pol.enabled:
        for sku in flagged - declared:
            last_units_models.set_at_risk(sku, False, now_ms())
            at_risk_now.discard(sku)
        skus = [sku for sku in skus if sku in declared]      # a declared sale is guarded with the rule off too
    if not skus:
        return set(), report, None, displays.RiskFlags(skus_read, frozenset(at_risk_now), read_at, listings_version,
                                                       marks)
    snapshot = displays.read_snapshot(skus, now_ms, listings_version=listings_version)
    listed = set(displays.skus_of(snapshot.listings))
    guarded = set()
    for sku in skus:
        if sku not in listed:      # no platform shows it: no units to allocate (and its stock was not read)
            risky, view = False, None
        else:
            view = view_of(sku, snapshot, now_ms(), pol)
            risky, _ = is_at_risk(view, pol, sku in flagged)
            # never handed back to the shared sync while a cut channel drains (it would undo the cut)
            risky = risky or sku in declared or bool(view.draining)
        if risky != (sku in flagged):
            last_units_models.set_at_risk(sku, risky, now_ms())
            logger.info("last units: SKU %s", "at risk" if risky else "safe again", extra={"sku": sku})
        (at_risk_now.add if risky else at_risk_now.discard)(sku)
        if risky:
            guarded.add(sku)
            _under_lock(sku, view, pol, now_ms, report)
    return guarded, report, snapshot, displays.RiskFlags(skus_read, frozenset(at_risk_now), read_at,
                                                         listings_version, marks)


def _under_lock(sku: str, view: SkuView, pol: RiskPolicy, now_ms: Callable[[], int], report: SyncReport) -> None:
    owner = uuid.uuid4().hex
    if not last_units_models.lock(sku, owner, now_ms(), LOCK_TTL_MS):
        return                                          # the holder runs the SKU again for this change
    first_failure = len(report.failures)
    _trim_sales(view, now_ms())
    try:
        rounds, drains_s = 0, set()
        while True:
            freed = _move(view, pol, now_ms, report)
            drains_s |= view.cut_drains_s
            rounds += 1
            # a confirmed decrease is headroom for the raise it was made for: plan again at once
            if (freed and rounds < MAX_ROUNDS) or not last_units_models.unlock(sku, owner):
                view = read(sku, now_ms(), pol)
                continue
            break
    except Exception:
        last_units_models.release(sku, owner)
        raise
    for failure in report.failures[first_failure:]:
        failure.setdefault("skus", [sku])       # the batch retries the events of this SKU
    for drain_s in sorted(drains_s):
        # when a drain is over its units go where they sell: run the SKU again then (not at the next sweep);
        # once per drain length (a webhook platform's 8 s and a pulled one's minutes end apart)
        bus.publish_later(events.STOCK_CHANGED, {"sku": sku, "cause": "drain_over", "source": "last-units"},
                          drain_s + 1)


@dataclass(frozen=True)
class Move:
    listing: ListingRef
    quantity: int          # what the platform will show (absolute) or the change (relative)
    relative: bool
    counted: int           # added to shown before sending (a raise); 0 for a decrease or a cut
    cut: bool = False      # an absolute 0 that starts a drain
    expected: int | None = None   # a compare-and-set: applied only if the platform shows this (our count)


def plan(view: SkuView, pol: RiskPolicy, now: int) -> list[Move]:
    """The moves for a SKU at risk, after ending the drains that are due (a pure function of the view,
    except that a due drain is ended in the store)."""
    for k, (until, shown) in list(view.draining.items()):
        if until <= now:
            listing = next(l for l in view.singles if key(l) == k)
            platform, shop = listing.channel.split("#", 1)
            if sync_models.end_drain(platform, shop, listing.listing_id, until, shown):
                if shown > 0:
                    metrics.add_metric(name="LastUnitsDrainedUnreported", unit="Count", value=shown)
                view.demands = [replace(d, shown=min(0, shown), settings=view.settings.get(
                    listing.channel, AllocationSettings())) if d.channel == k else d for d in view.demands]
                del view.draining[k]
    moves = []
    for k in sorted(view.inherited):
        # the shared sync's count of a platform may be short of the orders its push overwrote: cut, drain,
        # and only then count it (a compare-and-set platform checks the count itself and is moved as it is)
        listing = next(l for l in view.singles if key(l) == k)
        moves.append(Move(listing, 0, False, 0, cut=True))
        view.demands = [replace(d, settings=replace(d.settings, sync=False), shown=max(0, d.shown), draining=True)
                        if d.channel == k else d for d in view.demands]
    targets = plan_moves(view.available, view.demands, pol, view.presale_room)
    for demand in view.demands:
        listing = next(l for l in view.singles if key(l) == demand.channel)
        new, shown = targets[demand.channel], demand.shown
        if not demand.settings.sync or new == max(0, shown):
            continue
        counted = max(0, new - shown)
        if demand.channel in view.compare_and_set:
            moves.append(Move(listing, new, False, counted, expected=max(0, shown)))
        elif demand.relative:
            moves.append(Move(listing, new - shown, True, counted))
        else:
            moves.append(Move(listing, new, False, counted, cut=new == 0))
    for listing in view.others:
        state = view.state(listing)
        if state is None or state.pushed_qty != 0:
            moves.append(Move(listing, 0, False, 0))
    return moves


def _move(view: SkuView, pol: RiskPolicy, now_ms: Callable[[], int], report: SyncReport) -> bool:
    """Makes the planned moves; True when a decrease was confirmed (units freed for a raise)."""
    freed = False
    for move in plan(view, pol, now_ms()):
        landed, decrease = _send(view, move, pol, now_ms, report)
        freed = freed or (landed and decrease)
        if not landed and not move.cut and not move.counted:
            # a decrease refused (a compare-and-set finding another number, a relative change that would go
            # below 0: orders not reported yet) or failed: cut the platform to 0 instead, and drain
            _send(view, Move(move.listing, 0, False, 0, cut=True), pol, now_ms, report)
        elif not landed and move.expected is not None:
            _send(view, Move(move.listing, 0, False, 0, cut=True), pol, now_ms, report)
    return freed


def _send(view: SkuView, move: Move, pol: RiskPolicy, now_ms: Callable[[], int], report: SyncReport
          ) -> tuple[bool, bool]:
    """One move, counted as the module doc says; (landed, a decrease that landed)."""
    from stocklink.channels.registry import adapter_for

    platform, shop = move.listing.channel.split("#", 1)
    adapter = adapter_for(platform)
    credentials = config.shop_credentials(platform, shop)
    lid = move.listing.listing_id
    if credentials is None:
        record_failed(report, platform, shop, [lid], "shop credentials missing", now_ms())
        return False, False
    if move.counted:
        sync_models.add_shown(platform, shop, {lid: move.counted}, now_ms())
    attempts = MAX_ATTEMPTS
    if move.relative:
        change, change_key = StockAdjust(lid, move.quantity, move.listing.platform_ids), uuid.uuid4().hex
        build = lambda: adapter.build_stock_adjustments(credentials, [change], key=change_key)[0]  # noqa: E731
        if move.quantity > 0 and not getattr(adapter, "relative_idempotent", False):
            attempts = 1        # a raise resent after an unknown outcome could be applied twice
    else:
        ids = dict(move.listing.platform_ids)
        if move.expected is not None:
            ids["expected_quantity"] = move.expected
            if move.counted:
                attempts = 1    # a resent set that had landed is refused, and the raise would be taken back
        push = StockPush(lid, move.quantity, ids)
        build = lambda: adapter.build_stock_updates(credentials, [push])[0]  # noqa: E731
    limiter = shop_limiter(platform, shop, adapter)
    limiter.acquire()
    outcome = push_with_retry(adapter, build, limiter, attempts)
    report.calls += 1
    report.attempts += outcome.attempts
    done = now_ms()
    if outcome.ok and lid not in outcome.failed_listings:
        decrease = 0
        if move.relative:
            decrease = 0 if move.counted else move.quantity                         # counted once confirmed
            sync_models.record_guarded_adjust(platform, shop, lid, decrease, done)
        else:
            drain = None
            if move.cut:
                drain_s = drain_for(pol, order_report_lag_s(adapter))   # until its earlier orders are in
                drain = done + int(drain_s * 1000)
                view.cut = True
                view.cut_drains_s.add(drain_s)
            sync_models.record_guarded_push(platform, shop, lid, move.quantity, done, drain_until=drain)
            if move.expected is not None and not move.counted:
                decrease = move.quantity - move.expected                            # counted once confirmed
                sync_models.add_shown(platform, shop, {lid: decrease}, done)
        report.pushed += 1
        report.pushed_values[f"{platform}#{shop}#{lid}"] = move.quantity
        return True, decrease < 0
    if (outcome.refused or lid in outcome.failed_listings) and move.counted:
        sync_models.add_shown(platform, shop, {lid: -move.counted}, done)             # never happened
    record_failed(report, platform, shop, [lid], outcome.error or "refused inside the batch", done,
                  quantity=move.quantity)
    return False, False


def explain(sku: str, now_ms: int) -> dict:
    """GET /skus/{sku}/channels' `allocation`: shared or guarded, why, and each listing's share."""
    pol = policy()
    view = read(sku, now_ms, pol)
    state = last_units_models.guard_states([sku]).get(sku, last_units_models.GuardState())
    risky, threshold = is_at_risk(view, pol, state.at_risk)
    declared = state.declared(now_ms)
    guarded = (pol.enabled and risky) or declared
    # `reason` names the case and the numbers beside it fill it in, so a client words it in its language
    reason = ("sale_declared" if declared else "guard_off" if not pol.enabled else "at_risk" if guarded
              else "above_threshold")
    if declared:
        why = (f"a sale declared until {_iso(state.guarded_until)}: each unit is offered on one channel only, "
               "split by demand, whatever the demand")
    elif not pol.enabled:
        why = "the last-units guard is off: every channel shows the shared pool"
    elif guarded:
        why = (f"{view.available} units available, at or below {threshold:.1f} (the units the channels are "
               f"expected to sell before a push lands, ×{pol.k}, or {pol.min_units_per_channel} per channel): "
               "each unit is offered on one channel only, split by demand")
    else:
        why = f"{view.available} units available, above {threshold:.1f}: every channel shows the shared pool"
    shares = split_by_demand(view.available, view.demands, presale_room=view.presale_room) if guarded else {}
    return {"mode": "guarded" if guarded else "shared", "why": why, "reason": reason, "available": view.available,
            "at_risk_at_or_below": round(threshold, 2), "policy_enabled": pol.enabled, "k": pol.k,
            "min_units_per_channel": pol.min_units_per_channel,
            "sale_declared_until": _iso(state.guarded_until) if declared else None,
            "channels": [{"listing": d.channel, "velocity_per_s": round(d.velocity, 4), "shown": d.shown,
                          "share": shares.get(d.channel), "updates": "relative" if d.relative else "absolute",
                          "draining": d.channel in view.draining} for d in view.demands]}


def _iso(ms: int | None) -> str | None:
    from datetime import datetime, timezone

    return None if ms is None else datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat().replace("+00:00", "Z")

"""The last units: never offer a unit on two channels at once while a SKU is at risk. Pure: no I/O, no clock.

Why: a marketplace accepts an order and takes the unit off its own listing before StockLink hears of it.
If every channel shows the whole pool, the channels together offer N × the units during every sync window.

The invariant, in quantities StockLink knows: for each channel, `shown` is what its platform may still sell
to our knowledge — the last number it confirmed, minus the orders it has sent us since (its own checkout
took them off), plus any raise still on its way (a push whose outcome is unknown counts as shown). Orders
in flight lower a platform's real number and the real stock alike, so

    Σ over channels of shown  ≤  available          ⇒   the platforms never sell more than exists.

With presale channels (domain/presale.py) `available` is the units on hand + the presale room they share
(`presale_room`), and their orders take the room first while the SKU is at risk. Then the rule also needs
Σ shown of the other channels ≤ the units on hand: the room is split among the presale channels only, and
a raise of another channel never spends it (split_by_demand, plan_moves).

While a SKU is *at risk* the allocation keeps that sum within the pool:
  1. at risk when available ≤ max(min_units_per_channel × channels, k × Σ velocity × (push p99 + webhook
     delay p99)): the units the channels are expected to sell before a push lands, with a margin k; it
     stays at risk until available exceeds `exit_factor` × that threshold (hysteresis: no flapping);
  2. the units are split by demand (each channel's velocity; evenly while nothing has sold), after the
     fixed-rule channels and each channel's min_display, within each channel's max_display and pool;
  3. moves lower first: a decrease is sent at once; an increase only within the headroom
     available − Σ shown, which a decrease adds to once its platform has confirmed it; a platform that
     takes only absolute numbers is refilled when it has sold out, and cut to 0 when it must give units
     up, its count kept until the orders it took before are reported (see plan_moves).

A platform whose orders StockLink pulls (channels/base.pulled_order_lag_s: Pinduoduo, JD, Taobao's queue)
reports an order minutes after its checkout took the unit, not seconds. That lag (`report_lag_s`) counts
wherever the rule reasons about sales not reported yet:
  - a cut listing's units stay counted to it for drain_s(channel) = max(policy.drain_s, its lag): until an
    order it accepted before the cut must have reached StockLink. Freed sooner, they would be offered
    elsewhere while the platform may already have sold them (the Pinduoduo unit re-offered on JD);
  - its sales stay unknown for its lag rather than a webhook's delay (unreported_window_s), so the at-risk
    threshold counts k × its velocity × (push latency + lag): the units it may have sold unseen while every
    channel still shows the whole pool, the gap the guard must close before the pool runs out;
  - a cut of it locks its units away for its own drain, so whether a channel runs dry before they could
    reach it, and what the cut channel sells meanwhile, are reckoned with that drain (_keep_absolute).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Mapping, Sequence

from stocklink.domain.allocation import AllocationSettings, proportional


MIN_CUT_SURPLUS = 2     # units beyond its share (and what it sells meanwhile) before a channel is cut


@dataclass(frozen=True)
class RiskPolicy:
    enabled: bool = True                    # on: SKUs at risk are guarded; off: every channel shows the shared pool
                                            # (a declared sale is guarded either way)
    k: float = 2.0                          # margin on the units expected to sell within one sync window
    min_units_per_channel: int = 3          # at risk at or below this many units per selling channel anyway
    exit_factor: float = 1.5                # leave the at-risk mode only above this × the threshold
    default_push_latency_s: float = 1.0     # before a shop has push-latency samples
    default_webhook_delay_s: float = 3.0    # before a shop's webhook delays are measured
    absolute_refill_s: float = 10.0         # an absolute-only channel is refilled with this many seconds' sales
                                            # (units on it can be taken back only by a cut)
    drain_s: float = 8.0                    # after a 0 lands on an absolute-only channel, orders it took before
                                            # are expected within this long (late ones are counted); a pulled
                                            # platform's own lag where longer (drain_s())

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @staticmethod
    def from_dict(data: Mapping | None) -> "RiskPolicy":
        known = {k: v for k, v in (data or {}).items() if k in RiskPolicy.__dataclass_fields__}
        return RiskPolicy(**known)


@dataclass(frozen=True)
class ChannelDemand:
    """One channel's side of a SKU at risk."""
    channel: str
    velocity: float                 # units/s sold recently
    shown: int                      # what its platform may still sell, to our knowledge (see module doc)
    settings: AllocationSettings = AllocationSettings()
    pool: int | None = None         # units of its warehouses (None: the whole pool)
    push_latency_s: float | None = None
    webhook_delay_s: float | None = None
    relative: bool = True           # the platform applies changes to its own count and refuses one that would
                                    # take it below 0 (see plan_moves)
    draining: bool = False          # cut to 0, its count kept until its earlier orders are reported (planned as
                                    # paused through its settings; still a selling channel for the risk rule)
    presale: bool = False           # may sell units on their way: its pool includes the presale room
    report_lag_s: float = 0.0       # how long its platform may take to report an order (channels/base.
                                    # order_report_lag_s): a pulled platform's settle time + poll interval


def drain_s(c: ChannelDemand, policy: RiskPolicy) -> float:
    """How long a cut of the channel keeps its units counted to it: the policy's drain, or longer where its
    platform may report an order later (a pulled platform: the module doc)."""
    return drain_for(policy, c.report_lag_s)


def drain_for(policy: RiskPolicy, report_lag_s: float) -> float:
    return max(policy.drain_s, max(0.0, float(report_lag_s or 0.0)))


def unreported_window_s(c: ChannelDemand, policy: RiskPolicy) -> float:
    """How long a sale of the channel stays unknown to StockLink: its webhook delay (measured, else the
    default), or its platform's order-reporting lag where that is longer (a pulled platform)."""
    webhook = c.webhook_delay_s if c.webhook_delay_s is not None else policy.default_webhook_delay_s
    return max(webhook, c.report_lag_s or 0.0)


def risk_threshold(channels: Sequence[ChannelDemand], policy: RiskPolicy) -> float:
    """Units at or below which the SKU is at risk (see the module doc)."""
    selling = [c for c in channels if c.settings.sync or c.draining]
    window = sum(c.velocity * ((c.push_latency_s if c.push_latency_s is not None else policy.default_push_latency_s)
                               + unreported_window_s(c, policy))
                 for c in selling)
    return max(policy.min_units_per_channel * len(selling), policy.k * window)


def at_risk(available: int, threshold: float, was_at_risk: bool, policy: RiskPolicy) -> bool:
    """Enter at the threshold, leave only above exit_factor × threshold."""
    if was_at_risk:
        return available <= threshold * policy.exit_factor
    return available <= threshold


def split_by_demand(available: int, channels: Sequence[ChannelDemand], probe_rate: float = 0.0,
                    presale_room: int = 0) -> dict[str, int]:
    """Target units per channel, summing to at most `available`; of it, `presale_room` goes to the presale
    channels only (the units on hand are split among all as below, then the room among the presale ones).
    """
    presale = [c for c in channels if c.presale and c.settings.sync]
    if presale_room <= 0 or not presale:
        return _split(available, channels, probe_rate)
    on_hand = max(0, int(available) - presale_room)
    base = _split(on_hand, [replace(c, pool=None if c.pool is None else max(0, c.pool - presale_room))
                            if c.presale else c for c in channels], probe_rate)
    room_share = _split(presale_room, [
        replace(c, shown=0, pool=presale_room, settings=replace(
            c.settings, rule="shared", min_display=0, sellout_threshold=0,
            max_display=None if c.settings.max_display is None else max(0, c.settings.max_display - base[c.channel])))
        for c in presale], probe_rate)
    return {ch: units + room_share.get(ch, 0) for ch, units in base.items()}


def _split(available: int, channels: Sequence[ChannelDemand], probe_rate: float = 0.0) -> dict[str, int]:
    """Target units per channel, summing to at most `available`.

    Paused channels (sync off) keep what they show: their units are taken first, never moved. Then fixed-
    rule channels get their fixed number, then every channel its min_display (largest first while units
    last), and the rest goes by velocity (evenly when no channel has sold), each channel capped by its
    max_display and its own warehouses' pool; what a cap leaves over goes to the others. Once any channel
    has sold, a channel that has not is weighted as selling `probe_rate` (a channel showing nothing can show
    no demand: a unit or so lets it).
    """
    left = max(0, int(available))
    out = {c.channel: 0 for c in channels}
    cap = {c.channel: _cap(c, available) for c in channels}
    for c in channels:
        if not c.settings.sync:
            out[c.channel] = max(0, c.shown)
            left -= out[c.channel]
    left = max(0, left)
    movable = [c for c in channels if c.settings.sync and not (available <= c.settings.sellout_threshold)]
    for c in movable:
        if c.settings.rule == "fixed":
            take = min(c.settings.fixed, cap[c.channel], left)
            out[c.channel], left = take, left - take
    flexible = [c for c in movable if c.settings.rule != "fixed"]
    for c in sorted(flexible, key=lambda c: (-c.settings.min_display, c.channel)):
        take = min(c.settings.min_display, cap[c.channel], left)
        out[c.channel], left = take, left - take
    while left > 0:
        room = [c for c in flexible if out[c.channel] < cap[c.channel]]
        if not room:
            break
        total_velocity = sum(max(0.0, c.velocity) for c in room)
        weights = {c.channel: (max(probe_rate, c.velocity) if total_velocity > 0 else 1.0) for c in room}
        # integer weights for the largest-remainder split (velocities are small floats)
        top = max(weights.values())
        share = proportional(left, {ch: max(1, round(w / top * 1_000_000)) if w > 0 else 0
                                    for ch, w in weights.items()})
        if sum(share.values()) == 0:
            break
        given = 0
        for c in room:
            take = min(share.get(c.channel, 0), cap[c.channel] - out[c.channel])
            out[c.channel] += take
            given += take
        left -= given
        if given == 0:
            break
    return out


def _cap(c: ChannelDemand, available: int) -> int:
    cap = max(0, int(available if c.pool is None else min(c.pool, available)))
    if c.settings.max_display is not None:
        cap = min(cap, c.settings.max_display)
    return cap


def plan_moves(available: int, channels: Sequence[ChannelDemand], policy: RiskPolicy = RiskPolicy(),
               presale_room: int = 0) -> dict[str, int]:
    """The number each channel should show now, lower first: decreases at once, increases only within
    the headroom available − Σ shown (highest velocity first). Never raises Σ shown above `available`
    once it is within it; while it is above (a SKU just turned at risk), only decreases are made.

    Relative channels (the platform applies a change to its own count, and refuses one that would take it
    below 0: a count allowed below 0 could be lowered by units already sold and unreported, and that credit
    would be spent twice) move freely. A platform that only takes an absolute number would overwrite the
    units its own checkout took while our number was on its way, so it is only ever *raised* while it is
    counted at 0 or less (nothing of it unreported, nothing to overwrite), by at most what it sells in
    `absolute_refill_s` (its share, before any demand is measured); and it is lowered only to 0 (a cut: its count stays as it is until the orders it
    took before the 0 landed have been reported — the caller's drain — since a 0 overwrites nothing that
    can still be sold). A channel whose sync is off, or that is draining, keeps what it shows counted.
    """
    keep = _keep_absolute(available, channels, policy, presale_room)
    # a kept channel's share stays reserved (it is refilled when it sells out), not handed to the others
    targets = split_by_demand(available, channels, _probe_rate(policy), presale_room)
    now: dict[str, int] = {}
    for c in channels:
        shown = max(0, c.shown)
        if not c.settings.sync or c.channel in keep or targets[c.channel] >= shown:
            now[c.channel] = shown
        else:
            now[c.channel] = targets[c.channel] if c.relative else 0
    headroom = max(0, int(available) - sum(max(0, c.shown) for c in channels))
    # what the channels that cannot presell may still be raised by: the units on hand only
    on_hand_headroom = max(0, int(available) - max(0, presale_room) - sum(max(0, c.shown) for c in channels
                                                                          if not c.presale))
    for c in sorted(channels, key=lambda c: (-c.velocity, c.channel)):
        shown = max(0, c.shown)
        want = targets[c.channel] - shown
        if c.channel in keep or (not c.relative and c.shown > 0):
            continue
        if any(d.velocity > 0 for d in channels):          # no demand measured yet: the even share
            # at most what it sells in absolute_refill_s: the rest stays in the pool for whoever runs dry
            want = min(want, max(1, math.ceil(c.velocity * policy.absolute_refill_s - 1e-9)))
        if not c.settings.sync or want <= 0 or headroom <= 0:
            continue
        raise_by = min(want, headroom if c.presale else min(headroom, on_hand_headroom))
        if raise_by <= 0:
            continue
        now[c.channel] = shown + raise_by
        headroom -= raise_by
        if not c.presale:
            on_hand_headroom -= raise_by
    return now


def _keep_absolute(available: int, channels: Sequence[ChannelDemand], policy: RiskPolicy,
                   presale_room: int = 0) -> set[str]:
    """Absolute-only channels that show units and keep them (the others are cut to 0).

    A cut stops a channel's sales for a drain, so a channel is cut only when its units are needed: it shows
    more than its share of demand and more than it sells in a refill and a drain (a channel that will sell
    what it shows before a cut's units could come back is better left selling), while the channels that
    run dry before a cut's units could reach them want more than the headroom (slowest first, until what
    the cuts will free covers the want). The rest are kept fastest first while what they and the paused channels show fits in
    `available`; one that does not fit is cut too.
    """
    targets = split_by_demand(available, channels, _probe_rate(policy), presale_room)
    headroom = int(available) - sum(max(0, c.shown) for c in channels)

    def wants(drain: float) -> int:
        """What the channels that run dry before a cut's units (drained this long) could reach them want."""
        return sum(max(0, targets[d.channel] - max(0, d.shown)) for d in channels
                   if d.settings.sync and _runs_dry(d, policy, drain))

    showing = [c for c in channels if c.settings.sync and not c.relative and c.shown > 0]
    cut: set[str] = set()
    freed = 0
    for c in sorted(showing, key=lambda c: (c.velocity, c.channel)):
        drain = drain_s(c, policy)                  # its units are locked away this long by a cut
        sells_meanwhile = c.velocity * (policy.absolute_refill_s + drain)
        # a single unit is not worth a drain (it would be locked away meanwhile)
        if c.shown - max(targets[c.channel], sells_meanwhile) >= MIN_CUT_SURPLUS and wants(drain) > headroom + freed:
            cut.add(c.channel)
            freed += c.shown
    fixed = sum(max(0, c.shown) for c in channels if not c.settings.sync)
    keep: set[str] = set()
    for c in sorted((c for c in showing if c.channel not in cut), key=lambda c: (-c.velocity, c.channel)):
        if fixed + c.shown <= available:
            keep.add(c.channel)
            fixed += c.shown
    return keep


def _probe_rate(policy: RiskPolicy) -> float:
    """One unit per refill window for a channel that has not sold (see split_by_demand)."""
    return 1.0 / policy.absolute_refill_s if policy.absolute_refill_s > 0 else 0.0


def _runs_dry(c: ChannelDemand, policy: RiskPolicy, drain: float) -> bool:
    """Sells what it shows before units cut elsewhere could reach it (the cut channel's drain, a push, and
    until its own sales are known: a webhook's delay, a pulled platform's lag): only for such a channel is
    another one cut."""
    horizon = drain + policy.default_push_latency_s + unreported_window_s(c, policy)
    return c.shown <= 0 or c.shown < c.velocity * horizon


def offered_beyond_pool(available: int, shown: Mapping[str, int]) -> int:
    """Units offered on more than one channel at once (0 when the invariant holds)."""
    return max(0, sum(max(0, q) for q in shown.values()) - max(0, available))

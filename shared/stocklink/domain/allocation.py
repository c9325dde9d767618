"""Channel allocation: how many units each listing shows on its platform. Pure: no I/O, no clock.

A *channel* is one shop (platform#shop). Each channel has an `AllocationSettings`:
  - rule `shared`: the pool (available across the channel's warehouses) minus a buffer;
  - rule `quota`:  a ratio of the pool with a minimum per channel; the quotas of all quota-mode channels
                   of a SKU never sum above the pool (`quota_split`);
  - rule `fixed`:  a fixed number, never more than the pool;
then, in this order: `min_display` (raise to this, but never above what really exists), `max_display`
(cap), sell-out protection (show 0 when the real stock is at or below `sellout_threshold`), and `sync`
(off: the channel is left alone). `presale` (off by default, domain/presale.py): the channel's pool also
counts the presale room of its warehouses (units arriving within N days, less those presold already). Bundles show min over components of floor(allocated / qty).

The `dynamic` buffer mode adds ceil(velocity on the other channels (units/s) × push latency p99 (s)):
the units the other channels are expected to sell while this channel still shows the old number.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping, Sequence

from stocklink.domain.presale import IncomingStock, PresaleSettings, room_by_warehouse

RULES = ("shared", "quota", "fixed")
BUFFER_MODES = ("static", "dynamic")


@dataclass(frozen=True)
class AllocationSettings:
    rule: str = "shared"
    buffer: int = 0                           # static units held back (shared rule)
    buffer_mode: str = "static"               # "dynamic": + velocity(other channels) × latency p99
    ratio: float = 1.0                        # quota rule: share of the pool, 0..1
    minimum: int = 0                          # quota rule: at least this many (while the pool allows)
    fixed: int = 0                            # fixed rule
    min_display: int = 0
    max_display: int | None = None
    sellout_threshold: int = 0                # real stock <= this -> show 0 (0 = show 0 only when empty)
    sync: bool = True
    warehouses: tuple[str, ...] | None = None  # None: every warehouse
    presale: PresaleSettings = PresaleSettings()

    def __post_init__(self):
        if self.rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}")
        if self.buffer_mode not in BUFFER_MODES:
            raise ValueError(f"buffer_mode must be one of {BUFFER_MODES}")
        if not 0 <= self.ratio <= 1:
            raise ValueError("ratio must be between 0 and 1")
        for name in ("buffer", "minimum", "fixed", "min_display", "sellout_threshold"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.max_display is not None and self.max_display < 0:
            raise ValueError("max_display must not be negative")

    @staticmethod
    def from_dict(data: Mapping | None) -> "AllocationSettings":
        if not data:
            return AllocationSettings()
        known = {k: v for k, v in data.items() if k in AllocationSettings.__dataclass_fields__}
        if known.get("warehouses") is not None:
            known["warehouses"] = tuple(known["warehouses"])
        if not isinstance(known.get("presale", PresaleSettings()), PresaleSettings):
            known["presale"] = PresaleSettings.from_dict(known["presale"])
        return AllocationSettings(**known)

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["warehouses"] = list(self.warehouses) if self.warehouses is not None else None
        out["presale"] = self.presale.to_dict()
        return out


@dataclass(frozen=True)
class Component:
    sku: str
    qty: int = 1


@dataclass(frozen=True)
class ListingRef:
    channel: str                       # platform#shop
    listing_id: str
    components: tuple[Component, ...]
    platform_ids: Mapping[str, str] = field(default_factory=dict)


def pool(available_by_warehouse: Mapping[str, int], warehouses: Iterable[str] | None = None) -> int:
    """Units the channel may draw on: available (never negative) across its warehouses."""
    chosen = available_by_warehouse if warehouses is None else {
        w: available_by_warehouse.get(w, 0) for w in warehouses}
    return sum(max(0, int(v)) for v in chosen.values())


def dynamic_buffer(velocity_other_per_s: float, latency_p99_s: float) -> int:
    """Units the other channels are expected to sell before this channel's push lands."""
    if velocity_other_per_s <= 0 or latency_p99_s <= 0:
        return 0
    return math.ceil(velocity_other_per_s * latency_p99_s - 1e-9)


def quota_split(pool_units: int, quotas: Mapping[str, tuple[float, int]]) -> dict[str, int]:
    """channel -> units, from channel -> (ratio, minimum). The result never sums above `pool_units`.

    Each channel wants max(minimum, floor(ratio × pool)). When that does not fit, minimums are served
    first (proportionally if even they do not fit), and what remains is shared in proportion to each
    channel's wish above its minimum (floors, so rounding never overshoots).
    """
    pool_units = max(0, int(pool_units))
    if not quotas:
        return {}
    wants = {c: max(int(m), math.floor(r * pool_units)) for c, (r, m) in quotas.items()}
    if sum(wants.values()) <= pool_units:
        return wants
    minimums = {c: min(int(m), wants[c]) for c, (_, m) in quotas.items()}
    total_min = sum(minimums.values())
    if total_min >= pool_units:
        return proportional(pool_units, minimums)
    extra = {c: wants[c] - minimums[c] for c in quotas}
    shared = proportional(pool_units - total_min, extra)
    return {c: minimums[c] + shared[c] for c in quotas}


def proportional(units: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Floor of a proportional split, then the leftover one by one by largest remainder (sum == min(units, total))."""
    total = sum(weights.values())
    if total <= 0:
        return {c: 0 for c in weights}
    units = min(units, total)
    exact = {c: units * w / total for c, w in weights.items()}
    out = {c: math.floor(v) for c, v in exact.items()}
    left = units - sum(out.values())
    for c in sorted(weights, key=lambda c: (-(exact[c] - out[c]), c))[:max(0, left)]:
        out[c] += 1
    return out


def allocated_units(settings: AllocationSettings, pool_units: int, *, quota: int | None = None,
                    extra_buffer: int = 0) -> int:
    """Units of one SKU this channel may show, before display limits."""
    pool_units = max(0, pool_units)
    if settings.rule == "fixed":
        units = min(settings.fixed, pool_units)
    elif settings.rule == "quota":
        units = quota if quota is not None else max(settings.minimum, math.floor(settings.ratio * pool_units))
        units = min(units, pool_units)
    else:
        units = pool_units - settings.buffer - max(0, extra_buffer)
    return max(0, units)


def bundle_units(units_by_sku: Mapping[str, int], components: Sequence[Component]) -> int:
    """A listing of several components shows how many complete sets can be made."""
    if not components:
        return 0
    return max(0, min(max(0, units_by_sku.get(c.sku, 0)) // max(1, c.qty) for c in components))


def display_quantity(settings: AllocationSettings, components: Sequence[Component],
                     pool_by_sku: Mapping[str, int], *, quota_by_sku: Mapping[str, int] | None = None,
                     extra_buffer_by_sku: Mapping[str, int] | None = None,
                     presale_by_sku: Mapping[str, int] | None = None) -> int | None:
    """The quantity one listing should show, or None when the channel's sync is off. `presale_by_sku`: the
    presale room the channel may sell on top of its pool (a quota channel: on top of its quota)."""
    if not settings.sync:
        return None
    presale = {sku: max(0, units) for sku, units in (presale_by_sku or {}).items() if units > 0}
    if presale:
        pool_by_sku = {c.sku: pool_by_sku.get(c.sku, 0) + presale.get(c.sku, 0) for c in components}
        quota_by_sku = {sku: q + presale.get(sku, 0) for sku, q in (quota_by_sku or {}).items()}
    quota_by_sku = quota_by_sku or {}
    extra = extra_buffer_by_sku or {}
    allocated = {c.sku: allocated_units(settings, pool_by_sku.get(c.sku, 0), quota=quota_by_sku.get(c.sku),
                                        extra_buffer=extra.get(c.sku, 0)) for c in components}
    really = bundle_units(pool_by_sku, components)          # what the stock truly allows
    qty = bundle_units(allocated, components)
    if settings.min_display:
        qty = max(qty, min(settings.min_display, really))
    if settings.max_display is not None:
        qty = min(qty, settings.max_display)
    if really <= settings.sellout_threshold:
        qty = 0
    return max(0, min(qty, really))


@dataclass(frozen=True)
class ListingDisplay:
    channel: str
    listing_id: str
    quantity: int | None               # None: sync off for the channel
    platform_ids: Mapping[str, str] = field(default_factory=dict)


def plan_displays(listings: Sequence[ListingRef], settings_by_channel: Mapping[str, AllocationSettings],
                  available: Mapping[str, Mapping[str, int]], *,
                  extra_buffer: Mapping[tuple[str, str], int] | None = None,
                  presale_room: Mapping[tuple[str, str], int] | None = None) -> list[ListingDisplay]:
    """Display quantity of every listing, given per-SKU availability by warehouse.

    `extra_buffer[(channel, sku)]`: the dynamic buffer for that channel and SKU (units).
    `presale_room[(channel, sku)]`: presale units the channel may sell on top (presale_rooms).
    Quotas are split per SKU across every quota-mode channel that lists it.
    """
    presale_room = presale_room or {}
    extra_buffer = extra_buffer or {}
    default = AllocationSettings()
    settings_of = lambda ch: settings_by_channel.get(ch, default)  # noqa: E731
    quotas = quotas_by_sku(listings, settings_by_channel, available)
    out = []
    for listing in listings:
        s = settings_of(listing.channel)
        pools = {c.sku: pool(available.get(c.sku, {}), s.warehouses) for c in listing.components}
        qty = display_quantity(
            s, listing.components, pools,
            quota_by_sku={sku: q[listing.channel] for sku, q in quotas.items() if listing.channel in q},
            extra_buffer_by_sku={c.sku: extra_buffer.get((listing.channel, c.sku), 0) for c in listing.components}
            if s.buffer_mode == "dynamic" else None,
            presale_by_sku={c.sku: presale_room.get((listing.channel, c.sku), 0) for c in listing.components})
        out.append(ListingDisplay(listing.channel, listing.listing_id, qty, listing.platform_ids))
    return out


def presale_rooms(channels: Iterable[str], skus: Iterable[str], settings_by_channel: Mapping[str, AllocationSettings],
                  incoming: Mapping[str, Mapping[str, IncomingStock]], today) -> dict[tuple[str, str], int]:
    """(channel, sku) -> presale room of the channel's warehouses within its window, for channels with presale on."""
    out = {}
    for channel in channels:
        s = settings_by_channel.get(channel)
        if s is None or not s.presale.enabled:
            continue
        horizon = s.presale.horizon(today)
        for sku in skus:
            room = sum(room_by_warehouse(incoming.get(sku, {}), horizon, s.warehouses).values())
            if room:
                out[(channel, sku)] = room
    return out


def quotas_by_sku(listings: Sequence[ListingRef], settings_by_channel: Mapping[str, AllocationSettings],
                  available: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """SKU -> channel -> units: per SKU, the quota-mode channels listing it (sync on) split the pool of the
    union of their warehouses (quota_split)."""
    default = AllocationSettings()
    settings_of = lambda ch: settings_by_channel.get(ch, default)  # noqa: E731
    quotas: dict[str, dict[str, int]] = {}
    for sku in sorted({c.sku for l in listings for c in l.components}):
        members = {l.channel for l in listings if any(c.sku == sku for c in l.components)
                   and settings_of(l.channel).rule == "quota" and settings_of(l.channel).sync}
        if not members:
            continue
        union = None if any(settings_of(ch).warehouses is None for ch in members) else \
            sorted({w for ch in members for w in settings_of(ch).warehouses})
        sku_pool = pool(available.get(sku, {}), union)
        quotas[sku] = quota_split(sku_pool, {ch: (settings_of(ch).ratio, settings_of(ch).minimum)
                                             for ch in members})
    return quotas


def with_settings(settings: AllocationSettings, **changes) -> AllocationSettings:
    return replace(settings, **changes)

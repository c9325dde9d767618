"""What each listing should show: the listings holding a SKU (reverse index), their shops' allocation
settings, stock read now, and the allocation rules (stocklink.domain.allocation) over all of them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from stocklink.domain.allocation import AllocationSettings, Component, ListingRef, plan_displays
from stocklink.domain.allocation import presale_rooms as allocation_presale_rooms
from stocklink.logic import presale
from stocklink.logic.sync import config, executors, velocity
from stocklink.store import catalog, repository


def listings_and_settings(skus: Iterable[str], with_settings: bool = False, listings_version: int | None = None
                          ) -> tuple[list[ListingRef], dict[str, AllocationSettings]]:
    """The listings showing `skus` and (with_settings) their shops' allocation settings, read in one
    BatchGetItem for every shop instead of one per shop. With the catalog's `listings_version` just read,
    what this container read under that version is used instead of reading it again (config.listings_cached)."""
    skus = list(dict.fromkeys(skus))
    refs: dict[tuple[str, str], set[str]] = {}
    for showing in _listings_showing(skus, listings_version):
        for platform, shop, listing_id in showing:
            refs.setdefault((platform, shop), set()).add(listing_id)
    shops = sorted(refs)
    wanted = [(platform, shop, lid) for (platform, shop), ids in sorted(refs.items()) for lid in sorted(ids)]
    found, stored_settings = _listings_with_allocation(wanted, shops if with_settings else [], listings_version)
    out = []
    for platform, shop, lid in wanted:
        data = found.get((platform, shop, lid))
        if data is None:
            continue
        out.append(ListingRef(f"{platform}#{shop}", lid,
                              tuple(Component(c["sku"], int(c.get("qty", 1))) for c in data["components"]),
                              dict(data.get("platform_ids") or {})))
    settings = {f"{platform}#{shop}": AllocationSettings.from_dict(stored)
                for (platform, shop), stored in stored_settings.items()
                if any(l.channel == f"{platform}#{shop}" for l in out)}
    return out, settings


def _listings_showing(skus: list[str], version: int | None) -> list[list[tuple[str, str, str]]]:
    """Per SKU, the listings holding it (a Query each, unless cached under `version`)."""
    if version is None:
        return each_sku(catalog.listings_showing, skus)
    found = config.listings_cached(version, [("showing", sku) for sku in skus], lambda missing: {
        key: showing for key, showing in zip(missing, each_sku(catalog.listings_showing, [sku for _, sku in missing]))})
    return [found.get(("showing", sku)) or [] for sku in skus]


def _listings_with_allocation(wanted: list[tuple[str, str, str]], shops: list[tuple[str, str]], version: int | None):
    """catalog.listings_with_allocation, through the cache under `version` (one BatchGetItem for what is not)."""
    if version is None:
        return catalog.listings_with_allocation(wanted, shops)

    def load(missing: list) -> dict:
        docs, stored = catalog.listings_with_allocation([key[1:] for key in missing if key[0] == "listing"],
                                                        [key[1:] for key in missing if key[0] == "settings"])
        return {**{("listing", *key): doc for key, doc in docs.items()},
                **{("settings", *key): doc for key, doc in stored.items()}}

    found = config.listings_cached(version, [*(("listing", *key) for key in wanted),
                                             *(("settings", *key) for key in shops)], load)
    return ({key: found[("listing", *key)] for key in wanted if found.get(("listing", *key)) is not None},
            {key: found.get(("settings", *key)) for key in shops})


@dataclass(frozen=True)
class Snapshot:
    """What one read of a batch's SKUs found: the listings showing them with their shops' settings, stock of
    every SKU those listings hold (read at `read_at`, taken before the read) and the listings' sync states
    (read after the stock). The guard reads it once for the batch and the shared sync reuses it for the SKUs
    left to it while it is fresh (push.SNAPSHOT_MAX_AGE_MS), instead of reading all of it again."""
    listings: list[ListingRef]
    settings: dict[str, AllocationSettings]
    stock: dict[str, dict[str, int]]
    read_at: int
    states: dict                                   # (platform, shop) -> listing id -> ListingSync
    skus: frozenset[str] = frozenset()             # the SKUs it was read for: their listings are all here

    def showing(self, skus: Iterable[str]) -> tuple[list[ListingRef], dict[str, AllocationSettings]]:
        """The listings holding one of `skus`, and their shops' settings (as listings_and_settings)."""
        skus = set(skus)
        listings = [l for l in self.listings if any(c.sku in skus for c in l.components)]
        channels = {l.channel for l in listings}
        return listings, {ch: s for ch, s in self.settings.items() if ch in channels}

    def states_of(self, listings: Iterable[ListingRef]) -> dict:
        out: dict = {}
        for listing in listings:
            shop = tuple(listing.channel.split("#", 1))
            found = self.states.get(shop, {}).get(listing.listing_id)
            mine = out.setdefault(shop, {})
            if found is not None:
                mine[listing.listing_id] = found
        return out


@dataclass(frozen=True)
class RiskFlags:
    """Which of `skus` were flagged at risk (the last-units guard moves them) as the guard left them, read at
    `read_at` (ms, taken before the read). The shared sync leaves their listings to the guard without reading
    the flags again while this covers the SKUs and is at most as old as a snapshot it may reuse."""
    skus: frozenset[str]
    at_risk: frozenset[str]
    read_at: int
    listings_version: int | None = None     # the catalog's listings version, read in the same request
    dirty_marks: Mapping = field(default_factory=dict)   # sku -> reconciliation's DirtyMark, same request

    def covers(self, skus: Iterable[str], now: int, max_age_ms: int) -> bool:
        return now - self.read_at <= max_age_ms and set(skus) <= self.skus


def read_snapshot(skus: Iterable[str], now_ms: Callable[[], int], components: bool = True,
                  listings_version: int | None = None) -> Snapshot:
    """Listings, settings, stock and sync states of `skus` in one pass (see Snapshot): a Query per SKU for
    its listings, one BatchGetItem for them and their settings, a Query per listed SKU for stock (sent together),
    one BatchGetItem for the sync states. `components`: stock of the other SKUs in the listings (bundles) too,
    which the shared sync's plan needs and the guard does not. `listings_version`: see listings_and_settings."""
    from stocklink.store import sync_models

    skus = list(dict.fromkeys(skus))
    listings, settings = listings_and_settings(skus, with_settings=True, listings_version=listings_version)
    read_at = now_ms()
    # stock only of SKUs some listing holds: a SKU no platform shows (a storefront-only one) has nothing to
    # push or guard, and its read was a Query per change
    listed = skus_of(listings)
    held = frozenset(listed)
    stock = available(listed if components else [sku for sku in skus if sku in held])
    ids: dict[tuple[str, str], list[str]] = {}
    for listing in listings:
        ids.setdefault(tuple(listing.channel.split("#", 1)), []).append(listing.listing_id)
    return Snapshot(listings, settings, stock, read_at, sync_models.shops_listing_states(ids), frozenset(skus))


def settings_for(channels: Iterable[str]) -> dict[str, AllocationSettings]:
    """Each channel's ("platform#shop") settings; the defaults for a shop that stored none. Here, not in
    sync.settings, so that pushing never imports the API's request models (pydantic: ~150 ms cold)."""
    channels = list(channels)
    stored = catalog.allocation_settings(channels)
    return {ch: AllocationSettings.from_dict(stored.get(ch)) for ch in channels}


def without_guarded(listings: list[ListingRef], guarded: Iterable[str]) -> list[ListingRef]:
    """The listings none of whose SKUs the last-units guard moves (it owns the others)."""
    guarded = set(guarded)
    if not guarded:
        return listings
    return [l for l in listings if not any(c.sku in guarded for c in l.components)]


def listings_for(skus: Iterable[str]) -> list[ListingRef]:
    """Every listing showing one of `skus` (reconciliation reads these back)."""
    return listings_and_settings(skus)[0]


def available(skus: Iterable[str]) -> dict[str, dict[str, int]]:
    """Available units by SKU and warehouse, read now (strongly consistent)."""
    skus = list(dict.fromkeys(skus))
    return dict(zip(skus, each_sku(lambda sku: {i.warehouse_id: int(i.available) for i in repository.stock_items(sku)},
                                   skus)))


def each_sku(read: Callable[[str], object], skus: list[str]) -> list:
    """read(sku) for every SKU of `skus` (distinct), in order. A read per SKU is one Query (stock items, or
    the listings showing it); several are sent at once, so a push after a wait with five handed-over SKUs
    costs one round trip for each kind of read instead of five."""
    if len(skus) <= 1:
        return [read(sku) for sku in skus]
    return list(executors.io().map(read, skus))


def skus_of(listings: Iterable[ListingRef]) -> list[str]:
    return sorted({c.sku for l in listings for c in l.components})


def plan(listings: list[ListingRef], settings: Mapping[str, AllocationSettings],
         stock: Mapping[str, Mapping[str, int]], now_ms: int) -> list:
    """Each listing's display for `stock`, with the dynamic buffers as of `now_ms` and, for shops with presale
    on, the presale room of their window (read now: units on their way only move with their own events)."""
    return plan_displays(listings, settings, stock, extra_buffer=velocity.dynamic_buffers(listings, settings, now_ms),
                         presale_room=presale_rooms(listings, settings, now_ms))


def presale_rooms(listings: Iterable[ListingRef], settings: Mapping[str, AllocationSettings], now_ms: int,
                  incoming: Mapping | None = None) -> dict[tuple[str, str], int]:
    """(channel, sku) -> the presale room a presale channel may show on top of its pool ({} and no read when no
    channel of `listings` has presale on; `incoming`: what logic.presale.incoming read, if the caller has it)."""
    listings = list(listings)
    channels = sorted({l.channel for l in listings if l.channel in settings and settings[l.channel].presale.enabled})
    if not channels:
        return {}
    skus = skus_of(l for l in listings if l.channel in channels)
    incoming = presale.incoming(skus) if incoming is None else incoming
    return allocation_presale_rooms(channels, skus, settings, incoming, presale.today(now_ms))


def compute(listings: list[ListingRef], settings: Mapping[str, AllocationSettings],
            now_ms: Callable[[], int]) -> tuple[int, list]:
    """(read time, plan) from stock read now; the read time is taken first, so claims stay conservative."""
    read_at = now_ms()
    return read_at, plan(listings, settings, available(skus_of(listings)), read_at)


def compute_displays(listings: list[ListingRef], now_ms: int):
    """What each listing should show now, as a push computes it: (plan, available by SKU and warehouse,
    settings by channel). Reconciliation compares read-back quantities with this plan."""
    settings = settings_for(sorted({l.channel for l in listings}))
    stock = available(skus_of(listings))
    return plan(listings, settings, stock, now_ms), stock, settings


def target_qty(listing: ListingRef, computed: int | None, zero: set) -> int | None:
    """What to push: the computed display, 0 for a listing holding an oversold SKU, None when sync is off."""
    if computed is None:
        return None
    return 0 if zero & {c.sku for c in listing.components} else computed


def unchanged(state, qty: int) -> bool:
    """Whether the listing already shows `qty` (its last push landed with that number)."""
    return state is not None and state.status == "pushed" and state.pushed_qty == qty \
        and (state.computed_qty is None or state.computed_qty == qty)


def needs_push(mine: list[ListingRef], wanted: Mapping, states: Mapping, zero: set) -> bool:
    """Whether any of a shop's listings would be pushed (the same test as the push loop's)."""
    for listing in mine:
        qty = target_qty(listing, wanted[listing.listing_id].quantity, zero)
        if qty is not None and not unchanged(states.get(listing.listing_id), qty):
            return True
    return False

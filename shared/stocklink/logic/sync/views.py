"""What a person (or the alerting function) asks of channel sync: each listing's state, recent failures."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping

from stocklink.domain.allocation import AllocationSettings, ListingRef, quotas_by_sku
from stocklink.domain.explain import explain_listing
from stocklink.logic.paging import PageRequest
from stocklink.logic.sync import displays, velocity
from stocklink.store import repository, sync_models


@dataclass(frozen=True)
class ListingStatus:
    """One listing of a SKU: the quantity it should show now and what it last showed."""
    platform: str
    shop: str
    listing_id: str
    components: tuple[tuple[str, int], ...]      # (sku, units per listing unit)
    rule: str
    sync: bool
    computed_qty: int | None                     # None: sync is off for the shop
    pushed_qty: int | None
    pushed_at: int | None
    status: str | None                           # the last push: pushed / failed / sync_off / None
    error: str | None
    shown: int | None = None                     # what the platform may still sell (logic/sync/shown.py)
    read_back_qty: int | None = None             # what reconciliation last read from the platform (with_read_back)
    read_back_at: int | None = None

    @property
    def in_sync(self) -> bool:
        return self.pushed_qty is not None and self.pushed_qty == self.computed_qty

    def as_dict(self) -> dict:
        data = asdict(self)
        data["components"] = [{"sku": sku, "qty": qty} for sku, qty in self.components]
        data["in_sync"] = self.in_sync
        return data


def listing_status(sku: str, now_ms: int, known_stock: Mapping[str, Mapping[str, int]] | None = None
                   ) -> list[ListingStatus]:
    """Every listing showing `sku`, with what it should show now and what it last showed. `known_stock`:
    available units by SKU and warehouse already read by the caller (those SKUs are not read again)."""
    listings, settings = displays.listings_and_settings([sku], with_settings=True)
    known = dict(known_stock or {})
    missing = [s for s in displays.skus_of(listings) if s not in known]
    stock = {**known, **(displays.available(missing) if missing else {})}
    return statuses(listings, listings, settings, stock, now_ms)


def statuses(wanted: list[ListingRef], listings: list[ListingRef], settings: dict[str, AllocationSettings],
             stock: dict[str, dict[str, int]], now_ms: int, with_read_back: bool = False) -> list[ListingStatus]:
    """The `wanted` listings' states, planned among `listings` (every listing of their SKUs, so quota splits
    are those channel sync makes); with_read_back: and what reconciliation last read (one more request)."""
    plan = {(l.channel, l.listing_id): d for l, d in zip(listings, displays.plan(listings, settings, stock, now_ms))}
    ids: dict[tuple[str, str], list[str]] = {}
    for listing in wanted:
        ids.setdefault(tuple(listing.channel.split("#", 1)), []).append(listing.listing_id)
    states = sync_models.shops_listing_states(ids)              # one read for every shop's listings
    read_backs = sync_models.shops_read_backs(ids) if with_read_back else {}
    out = []
    default = AllocationSettings()
    for listing in wanted:
        platform, shop = listing.channel.split("#", 1)
        state = states[(platform, shop)].get(listing.listing_id)
        read_back_qty, read_back_at = read_backs.get((platform, shop, listing.listing_id), (None, None))
        chosen = settings.get(listing.channel, default)
        out.append(ListingStatus(
            platform=platform, shop=shop, listing_id=listing.listing_id,
            components=tuple((c.sku, c.qty) for c in listing.components),
            rule=chosen.rule, sync=chosen.sync,
            computed_qty=plan[(listing.channel, listing.listing_id)].quantity,
            pushed_qty=None if state is None or state.pushed_qty is None else int(state.pushed_qty),
            pushed_at=None if state is None or state.pushed_at is None else int(state.pushed_at),
            status=None if state is None else state.status,
            error=None if state is None else state.error,
            shown=None if state is None or state.shown is None else int(state.shown),
            read_back_qty=read_back_qty, read_back_at=read_back_at))
    return out


def sku_channels(sku: str, now_ms: int) -> dict:
    """GET /skus/{sku}/channels: each listing's state and why it shows its number (`explain`), and whether
    the SKU's units are shared or guarded."""
    from stocklink.logic.sync import guard

    listings, settings = displays.listings_and_settings([sku], with_settings=True)
    skus = displays.skus_of(listings)
    stock = displays.available(skus)
    on_hand = {sku: {i.warehouse_id: int(i.on_hand) for i in repository.stock_items(sku)}} if listings else {}
    allocation = guard.explain(sku, now_ms)
    quotas = quotas_by_sku(listings, settings, stock)
    extra = velocity.dynamic_buffers(listings, settings, now_ms)
    out = []
    for listing, status in zip(listings, statuses(listings, listings, settings, stock, now_ms, with_read_back=True)):
        data = status.as_dict()
        why = explain_listing(listing, sku, settings.get(listing.channel, AllocationSettings()), stock,
                              {**{s: {} for s in skus}, **on_hand}, quotas, extra)
        if allocation["mode"] == "guarded" and why["guard"] is None and status.sync:
            why["guard"] = f"last_units: {allocation['why']}"
            why["shown"] = status.shown
        data["explain"] = why
        out.append(data)
    return {"sku": sku, "listings": out, "allocation": allocation}


def sync_failures(page: PageRequest) -> dict:
    """GET /sync/failures: push failures, newest first; `next` continues the list."""
    found = sync_models.failures_page(page.limit, page.cursor)
    return {"failures": found.items, "next": found.next}

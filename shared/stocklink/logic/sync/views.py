"""What a person (or the alerting function) asks of channel sync: each listing's state, recent failures."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from stocklink.logic.paging import PageRequest
from stocklink.logic.sync import displays
from stocklink.store import sync_models


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

    @property
    def in_sync(self) -> bool:
        return self.pushed_qty is not None and self.pushed_qty == self.computed_qty

    def as_dict(self) -> dict:
        data = asdict(self)
        data["components"] = [{"sku": sku, "qty": qty} for sku, qty in self.components]
        data["in_sync"] = self.in_sync
        return data


def listing_status(sku: str, now_ms: int) -> list[ListingStatus]:
    """Every listing showing `sku`, with what it should show now and what it last showed."""
    listings, settings = displays.listings_and_settings([sku], with_settings=True)
    plan = displays.plan(listings, settings, displays.available(displays.skus_of(listings)), now_ms)
    ids: dict[tuple[str, str], list[str]] = {}
    for listing in listings:
        ids.setdefault(tuple(listing.channel.split("#", 1)), []).append(listing.listing_id)
    states = sync_models.shops_listing_states(ids)              # one read for every shop's listings
    out = []
    for listing, display in zip(listings, plan):
        platform, shop = listing.channel.split("#", 1)
        state = states[(platform, shop)].get(listing.listing_id)
        out.append(ListingStatus(
            platform=platform, shop=shop, listing_id=listing.listing_id,
            components=tuple((c.sku, c.qty) for c in listing.components),
            rule=settings[listing.channel].rule, sync=settings[listing.channel].sync,
            computed_qty=display.quantity,
            pushed_qty=None if state is None or state.pushed_qty is None else int(state.pushed_qty),
            pushed_at=None if state is None or state.pushed_at is None else int(state.pushed_at),
            status=None if state is None else state.status,
            error=None if state is None else state.error,
            shown=None if state is None or state.shown is None else int(state.shown)))
    return out


def sku_channels(sku: str, now_ms: int) -> dict:
    """GET /skus/{sku}/channels: each listing's state, and whether the SKU's units are shared or guarded."""
    from stocklink.logic.sync import guard

    return {"sku": sku, "listings": [s.as_dict() for s in listing_status(sku, now_ms)],
            "allocation": guard.explain(sku, now_ms)}


def sync_failures(page: PageRequest) -> dict:
    """GET /sync/failures: push failures, newest first; `next` continues the list."""
    found = sync_models.failures_page(page.limit, page.cursor)
    return {"failures": found.items, "next": found.next}

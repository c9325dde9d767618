"""What a person (or the alerting function) asks of channel sync: each listing's state, recent failures."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from stocklink.errors import ValidationFailed
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
    from stocklink.logic import channel_sync

    return [ListingStatus(
        platform=l["platform"], shop=l["shop"], listing_id=l["listing_id"],
        components=tuple((c["sku"], int(c["qty"])) for c in l["components"]), rule=l["rule"], sync=l["sync"],
        computed_qty=l["computed_qty"], pushed_qty=l["pushed_qty"], pushed_at=l["pushed_at"],
        status=l["status"], error=l["error"]) for l in channel_sync.sku_channels(sku, now_ms)["listings"]]


def sku_channels(sku: str, now_ms: int) -> dict:
    """GET /skus/{sku}/channels."""
    return {"sku": sku, "listings": [s.as_dict() for s in listing_status(sku, now_ms)]}


def sync_failures(limit: str | int | None = None) -> dict:
    """GET /sync/failures: the newest push failures, at most `limit` (1–500, default 100)."""
    try:
        n = max(1, min(500, int(limit or 100)))
    except ValueError:
        raise ValidationFailed("limit must be an integer") from None
    return {"failures": sync_models.recent_failures(n)}

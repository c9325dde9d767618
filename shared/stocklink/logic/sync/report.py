"""What a sync did (SyncReport), and how a listing that could not be pushed is recorded."""
from __future__ import annotations

from dataclasses import dataclass, field

from stocklink.observability import logger
from stocklink.outbound_policy import error_text
from stocklink.store import sync_models


@dataclass
class SyncReport:
    listings: int = 0
    pushed: int = 0
    unchanged: int = 0          # coalesced: the listing already shows the current number
    superseded: int = 0         # a newer computation claimed the listing
    sync_off: int = 0
    failed: int = 0
    handed_over: int = 0        # listings left to another container already waiting for the shop's call
    repushed: int = 0           # listings pushed again after losing a race (see deliver.repush_raced)
    raced_left: int = 0         # listings that lost the race again: the next change or reconciliation fixes them
    calls: int = 0
    attempts: int = 0
    failures: list[dict] = field(default_factory=list)
    pushed_values: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def merge(self, other: "SyncReport") -> None:
        for name in ("pushed", "unchanged", "superseded", "sync_off", "failed", "handed_over", "repushed",
                     "raced_left", "calls", "attempts"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures.extend(other.failures)
        self.pushed_values.update(other.pushed_values)


def record_failed(report: SyncReport, platform: str, shop: str, listing_ids: list[str], error: str, at_ms: int,
                  quantity: int | None = None) -> None:
    """Listings whose push failed: counted in the report, their sync state marked failed, and a failure
    recorded for GET /sync/failures and reconciliation. The error is capped to one printable line: it may
    quote a platform's answer."""
    error = error_text(error)
    for lid in listing_ids:
        report.failed += 1
        failure = {"platform": platform, "shop": shop, "listing_id": lid, "error": error, "quantity": quantity}
        report.failures.append(failure)
        sync_models.record_listing_failed(platform, shop, lid, error, at_ms)
        sync_models.record_failure(platform, shop, lid, {"error": error, "quantity": quantity}, at_ms)
    logger.warning("channel sync failed", extra={"platform": platform, "shop": shop, "listings": listing_ids,
                                                 "error": error})

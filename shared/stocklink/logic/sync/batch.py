"""A batch of bus events (stock.changed, order.oversold) from channel_push's queue, merged into one sync.

Every listing is pushed at most once for the whole batch, with the stock read at push time, so a burst of N
changes to a SKU costs one push per listing instead of N. An oversell's zero holds unless the batch also has
a later stock.changed for that SKU (the order the events would have been applied in one by one). Events
whose SKUs have a listing that could not be pushed are returned as failed, so that only they are retried
and, in the end, dead-lettered.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Mapping

from stocklink import events
from stocklink.logic.sync import config, displays, executors, guard, velocity
from stocklink.logic.sync.push import sync_skus
from stocklink.logic.sync.report import SyncReport
from stocklink.observability import logger


@dataclass
class BatchResult:
    report: SyncReport
    failed_events: list[int]        # positions of the events whose SKUs still have unpushed listings


@dataclass
class _Merged:
    """The batch's events by SKU: what changed (oldest first), when, and which SKUs an oversell zeroes."""
    changed: dict[str, list[Mapping]] = field(default_factory=dict)     # sku -> stock.changed details
    changed_at: dict[str, int] = field(default_factory=dict)
    oversold_at: dict[str, int] = field(default_factory=dict)
    skus_of: list[set[str]] = field(default_factory=list)               # per event, the SKUs it names
    event_times: list[int] = field(default_factory=list)

    @property
    def zero(self) -> list[str]:
        return [sku for sku, at in self.oversold_at.items() if self.changed_at.get(sku, -1) <= at]


def event_ms(event: Mapping) -> int | None:
    """When the event happened (its `time`), in epoch ms; None when absent or unreadable."""
    value = event.get("time")
    if not value:
        return None
    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def handle_event(event: Mapping, now_ms: Callable[[], int]) -> SyncReport:
    """An EventBridge event: stock.changed → sync that SKU; order.oversold → push 0 for the short SKUs."""
    return handle_events([event], now_ms).report


def handle_events(batch: list[Mapping], now_ms: Callable[[], int]) -> BatchResult:
    """Merge the batch's events and push every listing of their SKUs once (see the module docstring)."""
    executors.warm_once()
    merged = _merge(batch)
    zero = merged.zero
    to_sync = [sku for sku in merged.changed if sku not in zero] + [sku for sku in merged.oversold_at
                                                                   if sku not in zero]
    if not to_sync and not zero:
        return BatchResult(SyncReport(), [])
    _learn_velocity(merged, now_ms)
    guarded, report, snapshot, risk = guard.guard_and_read([*to_sync, *zero], now_ms)
    marks = risk.dirty_marks if risk else {}
    background = executors.io().submit(_mark_dirty_all, merged, zero, now_ms,
                                       _listed([*to_sync, *zero], snapshot, risk), marks)
    try:
        shared = sync_skus([sku for sku in to_sync if sku not in guarded], now_ms,
                           zero_skus=[sku for sku in zero if sku not in guarded],
                           event_ms=min(merged.event_times) if merged.event_times else None, guarded=guarded,
                           snapshot=snapshot, risk=risk)
        report.merge(shared)
        report.listings += shared.listings
    finally:
        background.result()
    failed_skus = {sku for failure in report.failures for sku in failure.get("skus", ())}
    return BatchResult(report, [i for i, mine in enumerate(merged.skus_of) if mine & failed_skus])


def _merge(batch: list[Mapping]) -> _Merged:
    merged = _Merged()
    for event in batch:
        detail_type, detail = event.get("detail-type"), event.get("detail") or {}
        at = event_ms(event)
        if at is not None:
            merged.event_times.append(at)
        mine: set[str] = set()
        if detail_type == events.STOCK_CHANGED and detail.get("sku"):
            sku = str(detail["sku"])
            merged.changed.setdefault(sku, []).append(detail)
            merged.changed_at[sku] = max(merged.changed_at.get(sku, -1), at if at is not None else -1)
            mine.add(sku)
        elif detail_type == events.ORDER_OVERSOLD:
            for short in detail.get("shortfall") or []:
                if isinstance(short, dict) and short.get("sku"):
                    sku = str(short["sku"])
                    merged.oversold_at[sku] = max(merged.oversold_at.get(sku, -1), at if at is not None else -1)
                    mine.add(sku)
        else:
            logger.info("ignoring event", extra={"detail_type": detail_type})
        merged.skus_of.append(mine)
    return merged


def _learn_velocity(merged: _Merged, now_ms: Callable[[], int]) -> None:
    """Before the sync, so this batch's sales count in the dynamic buffers it computes; only when some shop
    uses the dynamic buffer, the one reader of the SKU's sales log (the last-units guard reads the sales
    each order webhook appends to its listing's state instead: guard.view_of). A read and a write per SKU
    saved on every other push. An estimate: never fails the push."""
    try:
        track_velocity = config.any_dynamic_buffer()
    except Exception:  # noqa: BLE001 - velocity is an estimate; never fail the push over it
        logger.exception("could not read allocation modes")
        track_velocity = False
    if not track_velocity:
        return
    try:
        velocity.note_sales_many(merged.changed, now_ms())
    except Exception:  # noqa: BLE001 - velocity is an estimate; never fail the push over it
        logger.exception("could not read sales velocity")


def _listed(skus: list[str], snapshot: displays.Snapshot | None, risk: displays.RiskFlags | None) -> set[str]:
    """Which of `skus` some listing holds (bundles included): from the guard's snapshot when it covers them,
    else from the listings cached under the version the guard read (a read only for what is not cached)."""
    if snapshot is not None and set(skus) <= snapshot.skus:
        listings = snapshot.listings
    else:
        listings = displays.listings_and_settings(skus, listings_version=risk.listings_version if risk else None)[0]
    return set(skus) & set(displays.skus_of(listings))


def _mark_dirty_all(merged: _Merged, zero: list[str], now_ms: Callable[[], int], listed: set[str],
                    marks: Mapping) -> None:
    """Reconciliation's dirty markers: needed soon, not by this push. Only for SKUs some listing holds:
    reconciliation reads listings back, and a SKU no platform shows (a storefront-only one) has none, so
    its marker was a write per change for nothing (a listing added later gets its first push anyway). Nor
    for a SKU whose marker, read with the guard's states (`marks`), still covers this change
    (reconciliation.mark_covers): in a sale that is one write per SKU every few seconds, not one per batch."""
    for sku, details in merged.changed.items():
        if sku in listed:
            _mark_dirty(sku, now_ms(), details[-1], marks.get(sku))
    for sku in zero:
        if sku in listed:
            _mark_dirty(sku, now_ms(), {"cause": "oversold", "total_available": 0}, marks.get(sku))


def _mark_dirty(sku: str, now: int, detail: Mapping, mark) -> None:
    """Tell reconciliation this SKU changed (it verifies changed SKUs first); never fails the push."""
    try:
        from stocklink.logic.sync.reconciliation import mark_covers
        from stocklink.store import reconcile_models

        hint = {k: detail[k] for k in ("total_available", "cause") if detail.get(k) is not None}
        if not mark_covers(mark, hint, now):
            reconcile_models.mark_dirty(sku, now, hint)
    except Exception:  # noqa: BLE001 - the rotating verification slice still reaches the SKU
        logger.exception("could not mark SKU dirty for reconciliation")

"""Bus events -> observations: what each event says about a SKU (a warehouse's stock, its listings on the
channels, an oversold or unmapped order or one needing attention, a sync anomaly, a ledger mismatch, a
forecast signal). Grading them against the stored alert states is stocklink.logic.alerting.grading's job."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping

from stocklink.alerts import rules
from stocklink.alerts.levels import Level, Thresholds
from stocklink.alerts.state import Observation
from stocklink.events import (FORECAST_BURST, FORECAST_SLOW_MOVER, FORECAST_STOCKOUT_RISK, LEDGER_MISMATCH,
                              ORDER_NEEDS_ATTENTION, ORDER_OVERSOLD, ORDER_POLL_LAGGING, ORDER_POLL_REFUNDS_UNREAD,
                              ORDER_UNMAPPED, PURCHASE_ORDER_LATE, STOCK_CHANGED, SYNC_ANOMALY)
from stocklink.logic.alerting import forecast_signals, rules_api
from stocklink.observability import logger
from stocklink.store import repository


def event_time(event: Mapping[str, Any], now_ms: int) -> int:
    """Epoch seconds of an EventBridge event (its `time`), else now."""
    value = event.get("time")
    if value:
        try:
            return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
        except ValueError:
            pass
    return now_ms // 1000


def stored_item(items: Iterable, warehouse_id: Any):
    """The stored stock item of one warehouse among a SKU's items (None: not stored, or no warehouse)."""
    return next((i for i in items if i.warehouse_id == warehouse_id), None)


def from_event(detail_type: str, detail: Mapping[str, Any], at: int) -> list[Observation]:
    """The observations one bus event carries (none for a type alerting does not know: logged)."""
    if detail_type == STOCK_CHANGED:
        sku = detail["sku"]
        thresholds, abc, safety = rules_api.sku_settings(sku)
        items = repository.stock_items(sku)
        return (warehouse_observations(sku, detail, thresholds, abc, safety, items, at)
                + channel_listing_observations(sku, thresholds, at))
    if detail_type == ORDER_OVERSOLD:
        skus = [detail["sku"]] if detail.get("sku") else _reservation_skus(detail.get("reservation_id"))
        return [rules.from_oversell({**detail, "sku": sku, "requested": detail.get("shortfall")}, at)
                for sku in skus]
    if detail_type == ORDER_UNMAPPED:
        return [rules.from_unmapped_sku({"platform": detail.get("platform"), "shop": detail.get("shop"),
                                         "order_id": detail.get("order_id"), **line}, at)
                for line in detail.get("unmapped") or [] if line.get("listing_id")]
    if detail_type == ORDER_NEEDS_ATTENTION:
        return [rules.from_order_needs_attention(detail, at)]
    if detail_type == SYNC_ANOMALY:
        return [rules.from_sync_anomaly(detail, at)]
    if detail_type == LEDGER_MISMATCH:
        return [rules.from_ledger_mismatch(detail, at)]
    if detail_type == ORDER_POLL_LAGGING:
        return [rules.from_order_poll_lag(detail, at)]
    if detail_type == ORDER_POLL_REFUNDS_UNREAD:
        return [rules.from_pulled_refunds_unread(detail, at)]
    if detail_type == FORECAST_STOCKOUT_RISK:
        return forecast_signals.stockout_observations(detail, at)
    if detail_type == FORECAST_BURST:
        return [forecast_signals.burst_observation(detail, at)]
    if detail_type == PURCHASE_ORDER_LATE:
        return [rules.from_late_po(detail, at)]
    if detail_type == FORECAST_SLOW_MOVER:
        return [forecast_signals.slow_mover_observation(detail, at)]
    logger.warning("alerts: ignoring event type %s", detail_type)
    return []


def _reservation_skus(reservation_id: str | None) -> list[str]:
    if not reservation_id:
        return []
    reservation = repository.get_reservation(reservation_id)
    if reservation is None:
        return []
    return list(dict.fromkeys(line.sku for line in reservation.lines or []))


# ---------------------------------------------------------------- per warehouse

def warehouse_observations(sku: str, detail: Mapping[str, Any], thresholds: Thresholds, abc: str | None,
                           safety: int | None, items: list, at: int,
                           plan: Callable[[str], dict[str, Any]] | None = None) -> list[Observation]:
    """The warehouse-level observations of one STOCK_CHANGED (scope "wh:<detail's warehouse_id>"), graded
    on `items`, the SKU's stored stock items."""
    enriched = dict(detail)
    if abc:
        enriched["abc_class"] = abc
    if safety is not None:
        enriched["safety_stock"] = safety
    # Grade the stored item, not the event's copy: a late or replayed event then re-reads the current
    # figures, and the item's version orders observations (equal version = nothing new).
    current = stored_item(items, detail.get("warehouse_id"))
    if current is not None:
        enriched.update(available=int(current.available), on_hand=int(current.on_hand),
                        version=int(current.version))
    # the SKU's other warehouses let the message suggest a transfer instead of a purchase
    enriched["warehouses"] = [{"warehouse_id": i.warehouse_id, "available": int(i.available),
                               "safety_stock": safety} for i in items]
    found = rules.from_stock_changed(enriched, thresholds, at)
    if any(o.level > Level.NONE for o in found):
        # only for a message: demand from the latest forecast gives days of cover and an order qty
        extra = (plan or forecast_signals.forecast_plan)(sku)
        if extra:
            found = rules.from_stock_changed({**extra, **enriched}, thresholds, at)
    return found


# ---------------------------------------------------------------- per channel

def channel_listing_observations(sku: str, thresholds: Thresholds, at: int,
                                 stock: Mapping[str, list] | None = None) -> list[Observation]:
    """Each listing of the SKU that shows 0 or less than the floor while the pool could fill it: red,
    scope "ch:<platform>:<shop>:<listing>". What a listing shows is the last pushed value when its push
    failed (the platform still has the old figure), else the quantity its allocation rule computes.
    A pool itself below the floor grades NONE here: the warehouse low-stock alert covers it.
    `stock`: stock items already read in this pass, per SKU (not read again)."""
    from stocklink.logic.sync import views as sync_views   # on first use: channel sync is a heavy import

    try:
        known = {s: {i.warehouse_id: int(i.available) for i in items} for s, items in (stock or {}).items()}
        listings = sync_views.listing_status(sku, at * 1000, known)
    except Exception:  # noqa: BLE001 - per-channel checks must not stop the warehouse alerts
        logger.exception("alerts: could not read the channel state of %s", sku)
        return []
    totals: dict[str, int] = {}
    out = []
    floor = max(thresholds.floor_units, 1)
    for listing in listings:
        if listing.computed_qty is None:   # sync off for this channel
            continue
        for component, _ in listing.components:
            if component not in totals:
                items = (stock or {}).get(component)
                if items is None:
                    items = repository.stock_items(component)
                totals[component] = sum(max(0, int(i.available)) for i in items)
        pool = min(totals[component] // max(int(qty), 1) for component, qty in listing.components)
        failed = listing.status == "failed" and listing.pushed_qty is not None
        shown = int(listing.pushed_qty) if failed else int(listing.computed_qty)
        name = f"{listing.platform}:{listing.shop}:{listing.listing_id}"
        (obs,) = rules.channel_observations(sku, {name: shown}, thresholds, at)
        if pool < floor or shown >= pool:
            obs = replace(obs, level=Level.NONE, clear_level=Level.NONE)
        facts = {**obs.facts, "channel": listing.platform, "shop": listing.shop,
                 "listing_id": listing.listing_id, "pool": pool, "shown": shown, "rule": listing.rule,
                 "computed_qty": listing.computed_qty, "pushed_qty": listing.pushed_qty,
                 "push_failed": failed, "error": listing.error if failed else None}
        out.append(replace(obs, facts={k: v for k, v in facts.items() if v is not None}))
    return out

"""The alert function's bus events: one event (handle_event) or an SQS batch of them (handle_events).

In a batch, one SKU's STOCK_CHANGED events are graded in one pass per warehouse, and a group that fails
fails only its own records."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from stocklink.alerts.messages import Alert, action_edit
from stocklink.alerts.state import Observation
from stocklink.events import STOCK_CHANGED
from stocklink.logic.alerting import forecast_signals, grading, observations, rules_api
from stocklink.observability import logger
from stocklink.store import repository


def _detail_type(event: Mapping[str, Any]) -> str | None:
    return event.get("detail-type") or event.get("detail_type")


def handle_event(event: Mapping[str, Any], now_ms: int) -> list[Alert]:
    """One EventBridge event -> the alerts it raised (published on SNS)."""
    detail = event.get("detail") or {}
    at = observations.event_time(event, now_ms)
    sent = []
    for obs in observations.from_event(_detail_type(event), detail, at):
        alert = grading.observe(obs, now_ms, action_edit(obs.key.rule))
        if alert is not None:
            sent.append(alert)
    return sent


@dataclass
class BatchOutcome:
    sent: list[Alert] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)   # positions of the events to retry
    passes: int = 0                                     # STOCK_CHANGED grading passes (after merging)


def handle_events(events: list[Mapping[str, Any]], now_ms: int) -> BatchOutcome:
    """A batch of EventBridge events (an SQS batch) -> the alerts it raised, and the events to retry.

    STOCK_CHANGED events of one SKU are merged: the SKU's settings and stored stock items are read once,
    each warehouse named by the batch is graded once on its stored item at the latest event time of that
    warehouse, and the SKU's listings once at the latest event time of the SKU. Handled one by one at that
    moment, every event after the first would re-read the same stored item (same version: stale, nothing
    sent) and the same listings, so the alerts are the same. An event whose warehouse has no stored item
    is graded on its own figures, one by one, as before. Other event types are handled one by one
    (handle_event).

    A group that raises fails only its own events (a warehouse: the events naming it; the SKU's settings,
    items or listings: all the SKU's events; any other event: itself); the rest of the batch goes on.
    A retried group cannot send an alert twice: states are written (with the alert in the outbox) before
    the publish, so a re-grade of the same stored version is stale, and the tick resends what a failed
    publish left in the outbox."""
    out = BatchOutcome()
    by_sku: dict[str, list[int]] = {}
    for i, event in enumerate(events):
        detail = event.get("detail")
        if _detail_type(event) == STOCK_CHANGED and isinstance(detail, Mapping) and detail.get("sku"):
            by_sku.setdefault(str(detail["sku"]), []).append(i)
    grouped = {i for positions in by_sku.values() for i in positions}
    for sku, positions in by_sku.items():
        _stock_changed_batch(sku, [(i, events[i]) for i in positions], now_ms, out)
    for i, event in enumerate(events):
        if i in grouped:
            continue
        try:
            out.sent += handle_event(event, now_ms)
        except Exception:  # noqa: BLE001 - only this event is retried
            logger.exception("alerts: event failed", extra={"detail_type": event.get("detail-type")})
            out.failed.append(i)
    out.failed.sort()
    return out


# one grading pass over a warehouse: (event positions, detail, event time in epoch seconds)
_Pass = tuple[list[int], Mapping[str, Any], int]


def _stock_changed_batch(sku: str, events: list[tuple[int, Mapping[str, Any]]], now_ms: int,
                         out: BatchOutcome) -> None:
    """One SKU's STOCK_CHANGED events of a batch: see handle_events."""
    everyone = [i for i, _ in events]
    try:
        thresholds, abc, safety = rules_api.sku_settings(sku)
        items = repository.stock_items(sku)
    except Exception:  # noqa: BLE001 - only this SKU's events are retried
        logger.exception("alerts: could not read the settings or stock of %s", sku)
        out.failed += everyone
        return
    plans: dict[str, dict[str, Any]] = {}

    def plan(s: str) -> dict[str, Any]:
        if s not in plans:
            plans[s] = forecast_signals.forecast_plan(s)
        return plans[s]

    passes, latest_at = _warehouse_passes(events, items, now_ms)
    for positions, detail, at in passes:
        out.passes += 1
        try:
            found = observations.warehouse_observations(sku, detail, thresholds, abc, safety, items, at, plan)
            _grade_all(found, now_ms, out)
        except Exception:  # noqa: BLE001 - only the events naming this warehouse are retried
            logger.exception("alerts: grading %s failed", sku,
                             extra={"warehouse_id": detail.get("warehouse_id")})
            out.failed += positions
    try:
        _grade_all(observations.channel_listing_observations(sku, thresholds, latest_at, {sku: items}), now_ms, out)
    except Exception:  # noqa: BLE001 - every event of the SKU graded its listings: all are retried
        logger.exception("alerts: grading the listings of %s failed", sku)
        out.failed += [i for i in everyone if i not in out.failed]


def _warehouse_passes(events: list[tuple[int, Mapping[str, Any]]], items: list,
                      now_ms: int) -> tuple[list[_Pass], int]:
    """The grading passes of one SKU's events, in the batch's order, and the latest event time. Events of
    a warehouse with a stored item merge into one pass (the stored figures, the latest event's time); an
    event without a stored item keeps its own pass."""
    passes: list[_Pass] = []
    merged: dict[Any, list[tuple[int, Mapping[str, Any], int]]] = {}
    latest_at = 0
    for i, event in events:
        at = observations.event_time(event, now_ms)
        latest_at = max(latest_at, at)
        wh = event["detail"].get("warehouse_id")
        if observations.stored_item(items, wh) is None:
            passes.append(([i], event["detail"], at))
        else:
            merged.setdefault(wh, []).append((i, event["detail"], at))
    for group in merged.values():
        # the latest event (the last one on a tie): its detail and time; the figures are the stored item's
        _, detail, at = max(group, key=lambda g: (g[2], g[0]))
        passes.append(([g[0] for g in group], detail, at))
    passes.sort(key=lambda p: p[0][0])      # in the batch's order
    return passes, latest_at


def _grade(obs: Observation, now_ms: int, out: BatchOutcome,
           known: tuple | None = None) -> None:
    alert = grading.observe(obs, now_ms, action_edit(obs.key.rule), known)
    if alert is not None:
        out.sent.append(alert)


def _grade_all(found: list[Observation], now_ms: int, out: BatchOutcome) -> None:
    """Grade a pass's observations from one read of their states (grading.read_states); a key graded twice
    in the pass reads again for its second step (the first one's write moved it)."""
    found = list(found)
    states = grading.read_states(found)
    graded: set[str] = set()
    for obs in found:
        first = obs.key.id not in graded
        graded.add(obs.key.id)
        _grade(obs, now_ms, out, states.get(obs.key.id) if first else None)

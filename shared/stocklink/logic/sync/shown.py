"""What each platform may still sell of a listing (`shown` on its sync state), as StockLink knows it: set by
each push that lands (store: record_pushed), lowered by each order the platform reports (its own checkout
took the units off its listing before telling us), raised back by a cancellation it reports (it may have
put the units back on its listing). The last-units rule (domain/last_units.py) keeps the sum of these
within the pool while a SKU is at risk; while the whole pool is shown, an order in flight when a push
landed makes this number lower than the platform's by that order (the shared pool's known gap)."""
from __future__ import annotations

from typing import Mapping

from stocklink.channels.base import OrderEvent, OrderEventKind
from stocklink.observability import logger, metrics
from stocklink.store import sync_models

_TAKES_UNITS = (OrderEventKind.CREATED, OrderEventKind.PAID)
# a whole order or some of its lines cancelled before shipment: the platform may put those units back
_GIVES_BACK = (OrderEventKind.CANCELLED, OrderEventKind.PART_CANCELLED)


def order_note(event: OrderEvent, now_ms: int) -> sync_models.ShownNote:
    """The note an order event writes with its own transaction when it takes units (a new order: minus its
    units) or gives them back (a cancellation: plus): logic.orders passes it only to the transactions whose
    outcome shown_change counts, so a replay, a payment of a hold or a skipped event writes nothing."""
    sign = -1 if event.kind in _TAKES_UNITS else 1 if event.kind in _GIVES_BACK else 0
    return sync_models.ShownNote(event.platform, event.shop, _units_by_listing(event, sign), now_ms)


def shown_change(event: OrderEvent, outcome: Mapping) -> dict[str, int]:
    """listing id → change of what it may still sell, for an order event applied now (not a replay):
    minus its units when the order first took them (a new hold, a hold paid at once, an oversell or an
    order needing attention: the platform sold them either way), plus its units when a cancellation released them."""
    if outcome.get("duplicate"):
        return {}
    if event.kind in _TAKES_UNITS and (outcome.get("status") in ("oversold", "needs_attention")
                                       or "allocations" in outcome):
        return _units_by_listing(event, -1)
    if event.kind in _GIVES_BACK and outcome.get("status") == "applied":
        return _units_by_listing(event, 1)
    return {}


def _units_by_listing(event: OrderEvent, sign: int) -> dict[str, int]:
    changes: dict[str, int] = {}
    for line in event.lines if sign else ():
        changes[line.listing_id] = changes.get(line.listing_id, 0) + sign * int(line.qty)
    return changes


def note_order(event: OrderEvent, outcome: Mapping, now_ms: int) -> None:
    """Record an order's effect on what its listings may still sell, apart from the order's transaction (one
    that had no room for its note). Never fails the webhook: the order is applied already, and
    reconciliation reads every listing back."""
    changes = shown_change(event, outcome)
    if not changes:
        return
    try:
        sync_models.add_shown(event.platform, event.shop, changes, now_ms, sold=True)
    except Exception:  # noqa: BLE001 - counted, and reconciliation's read-back corrects it
        logger.exception("could not record what the platform still shows",
                         extra={"platform": event.platform, "shop": event.shop, "order_id": event.order_id})
        metrics.add_metric(name="ShownNotRecorded", unit="Count", value=1)

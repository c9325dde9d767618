"""Inbound events that need a person (unmapped SKUs, oversells, skipped order events, orders that cannot be
applied: needs_attention) and the unpaid holds paid orders took (preempted)."""
from __future__ import annotations

from stocklink.errors import ValidationFailed
from stocklink.logic.orders import ATTENTION
from stocklink.logic.paging import PageRequest
from stocklink.store import repository


def events(status: str, page: PageRequest) -> dict:
    """Newest first; `next` continues the list."""
    if status not in ATTENTION:
        raise ValidationFailed(f"status must be one of {sorted(ATTENTION)}")
    found = repository.events_with_status_page(status, page.limit, page.cursor)
    return {"status": status, "events": [
        {"event_key": e.event_key, "kind": e.kind, "status": e.status, "received_at": e.received_at,
         "platform": e.platform, "shop": e.shop, "order_id": e.order_id, "reservation_id": e.reservation_id,
         "outcome": e.outcome, "detail": e.detail}
        for e in found.items
    ], "next": found.next}

"""The alerts API: open alerts (GET /alerts) and acknowledgement (POST /alerts/{id}/ack)."""
from __future__ import annotations

from stocklink.alerts.kinds import Kind
from stocklink.alerts.levels import Level
from stocklink.alerts.messages import low_stock_transfer
from stocklink.alerts.state import AlertKey, AlertState, acknowledge
from stocklink.errors import NotFound, StockLinkError, ValidationFailed
from stocklink.logic.alerting.grading import MAX_RACE_RETRIES
from stocklink.logic.paging import PageRequest
from stocklink.store import alert_models as store


class Conflict(StockLinkError):
    status, code = 409, "conflict"


def _view(state: AlertState, last_alert: dict | None, updated_at: int | None = None) -> dict:
    return {
        "id": state.key.id, "kind": state.key.rule, "sku": state.key.sku, "scope": state.key.scope,
        "level": state.level.label, "status": ("acked" if state.level is not Level.NONE
                                               and state.acked_level >= state.level else
                                               "open" if state.level is not Level.NONE else "closed"),
        "since": state.since, "last_at": state.last_at, "acked_level": state.acked_level.label,
        "acked_by": state.acked_by, "acked_at": state.acked_at, "version": state.version,
        "notified": {lvl.label: t for lvl, t in state.notified.items()},
        "title": (last_alert or {}).get("title"), "action": (last_alert or {}).get("action"),
        "last_alert_id": (last_alert or {}).get("id"), "facts": dict(state.facts),
        "suggested_transfer": _transfer(state), "updated_at": updated_at,
    }


def _transfer(state: AlertState) -> dict | None:
    """A warehouse's low stock: the transfer its action suggests, as numbers (the console words it)."""
    if state.key.rule != Kind.LOW_STOCK:
        return None
    found = low_stock_transfer(state.facts)
    return None if found is None else {"from_warehouse": found[0], "qty": found[1]}


def list_alerts(status: str = "open", page: PageRequest = PageRequest()) -> dict:
    """Alerts above NONE, newest first (`acked` / `unacked` narrow them); `count` is the page's, `next`
    continues the list."""
    if status not in ("open", "acked", "unacked", "all"):
        raise ValidationFailed("status must be open, acked, unacked or all")
    keep = {"acked": _is_acked, "unacked": lambda s: not _is_acked(s)}.get(status)
    found = store.open_states_page(page.limit, page.cursor, keep)
    views = [_view(s, a, u) for s, a, u in found.items]
    return {"alerts": views, "count": len(views), "next": found.next}


def _is_acked(state: AlertState) -> bool:
    return state.level is not Level.NONE and state.acked_level >= state.level


def ack(alert_id: str, by: str, now_ms: int) -> dict:
    """Acknowledge the alert's current level: no repeats until it gets worse. Conditional on the version
    read, like grading, so an ack never overwrites a level raised meanwhile."""
    try:
        AlertKey.parse(alert_id)
    except ValueError as exc:
        raise NotFound(f"no alert {alert_id}") from exc
    for _ in range(MAX_RACE_RETRIES):
        state, last_alert = store.get_state(alert_id)
        if state is None or state.level is Level.NONE:
            raise NotFound(f"no open alert {alert_id}")
        acked = acknowledge(state, now_ms // 1000, by)
        try:
            store.save_state(acked, expected_version=state.version, now_ms=now_ms, keep_last_alert=last_alert)
        except store.Conflict:
            continue
        return _view(acked, last_alert, now_ms)
    raise Conflict(f"alert {alert_id} is changing too fast; try again")

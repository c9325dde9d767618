"""The audit trail of staff and admin writes: record one (called by the API edge, stocklink.web), note
what a write replaced (called by the logic that knows it), list the trail (GET /audit).

A failure to write the trail never turns a committed change into an error: the change already happened,
and answering 500 would invite a retry of a write that succeeded. It is logged and counted (metric
AuditWriteFailed, which an alarm can watch) and the request answers as it would have.
"""
from __future__ import annotations

import contextvars
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from stocklink.domain import audit as rules
from stocklink.logic.paging import PageRequest
from stocklink.observability import logger, metrics
from stocklink.store import audit as store

_before: contextvars.ContextVar[Any] = contextvars.ContextVar("audit_before", default=None)


def begin() -> None:
    """A new request: nothing noted yet."""
    _before.set(None)


def note_before(value: Any) -> None:
    """What the current write replaced (an item's previous document), for its audit entry."""
    _before.set(value)


def record(*, actor: str, method: str, route: str, target: dict, status: int, request_body: Any,
           answer: Any, request_id: str | None, now_ms: int) -> bool:
    """Append one entry; False (logged, counted) if it could not be written."""
    try:
        entry = {"actor": actor, "method": method, "route": route, "target": dict(target or {}), "status": status,
                 "before": rules.summary(method, route, _before.get()),
                 "after": (rules.summary(method, route, answer) if 200 <= status < 300
                           else {"error": answer.get("error")} if isinstance(answer, dict) else None),
                 "request_fields": rules.field_names(request_body), "request_id": request_id}
        store.append(entry, now_ms)
        return True
    except Exception:  # noqa: BLE001 - see the module docstring
        logger.exception("audit entry not written", extra={"route": route, "method": method, "status": status})
        metrics.add_metric(name="AuditWriteFailed", unit=MetricUnit.Count, value=1)
        return False
    finally:
        _before.set(None)


def trail(page: PageRequest, actor: str | None) -> dict:
    found = store.entries_page(page.limit, page.cursor, actor or None)
    return {"entries": found.items, "next": found.next}

"""The audit trail (the audit table): append an entry, read entries newest first. Keys: store.keys (a
partition per UTC day, time-ordered sort keys, AUDIT_DAYS listing the days that have entries).

API functions hold PutItem only on this table ("append" in the topology): the trail cannot be changed or
deleted by the code it records.
"""
from __future__ import annotations

import re
import threading
from typing import Iterator

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from stocklink.config import table_name
from stocklink.store import keys, paging
from stocklink.store.models import _Meta

MAX_DAYS_PER_PAGE = 60        # day partitions one page reads at most before it answers with a cursor


class AuditItem(Model):
    class Meta(_Meta):
        table_name = table_name("audit")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    actor = UnicodeAttribute(null=True)
    method = UnicodeAttribute(null=True)
    route = UnicodeAttribute(null=True)
    target = JSONAttribute(null=True)            # path parameters
    status = NumberAttribute(null=True)
    at = NumberAttribute(null=True)
    before = JSONAttribute(null=True)
    after = JSONAttribute(null=True)
    request_fields = ListAttribute(of=UnicodeAttribute, null=True)
    request_id = UnicodeAttribute(null=True)


_marked_days: set[str] = set()
_marked_lock = threading.Lock()


def append(entry: dict, at_ms: int) -> None:
    """Write one entry (and, once per container and day, the day's marker first, so a reader that finds an
    entry always finds its day)."""
    day = keys.audit_day(at_ms)
    if day not in _marked_days:
        AuditItem(keys.AUDIT_DAYS_PK, day, at=at_ms).save()
        with _marked_lock:
            _marked_days.add(day)
    AuditItem(keys.audit_pk(day), keys.audit_sk(at_ms), at=at_ms, **entry).save()


def forget_marked_days() -> None:
    """A fresh container's memory (tests start each with empty tables)."""
    with _marked_lock:
        _marked_days.clear()


def _view(item: AuditItem) -> dict:
    return {"at": int(item.at), "actor": item.actor, "method": item.method, "route": item.route,
            "target": item.target or {}, "status": int(item.status) if item.status is not None else None,
            "before": item.before, "after": item.after, "request_fields": list(item.request_fields or []),
            "request_id": item.request_id, "id": item.sk}


class _DayPartitions:
    """The partitions a cursor of this list may name: any day partition."""

    _DAY = re.compile(re.escape(keys.AUDIT_PREFIX) + r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and bool(self._DAY.fullmatch(value))


def _days_before(day: str | None) -> Iterator[str]:
    """Days with entries, newest first, strictly before `day` (all of them for None)."""
    condition = AuditItem.sk < day if day is not None else None
    for marker in AuditItem.query(keys.AUDIT_DAYS_PK, condition, scan_index_forward=False):
        yield marker.sk


def entries_page(limit: int, cursor: str | None, actor: str | None = None) -> paging.Page:
    """At most `limit` entries, newest first, of `actor` (or everyone's), continuing `cursor`.

    Filtering by actor reads and skips others' entries: a page stops after paging.MAX_EXAMINED entries or
    MAX_DAYS_PER_PAGE days and then answers with fewer items and a cursor to go on."""
    start = paging.decode(cursor, {"pk": "S", "sk": "S"}, "pk", _DayPartitions())
    start_day = start["pk"]["S"][len(keys.AUDIT_PREFIX):] if start else None
    items: list[dict] = []
    examined, walked, last = 0, 0, None
    # a filtered page skips entries, so it reads in larger pages
    page_size = limit if actor is None else max(limit, 200)

    def day_sequence() -> Iterator[str]:
        if start_day:
            yield start_day               # the rest of the cursor's day, then the days before it
        yield from _days_before(start_day)

    for day in day_sequence():
        walked += 1
        resume = start if day == start_day else None
        for item in AuditItem.query(keys.audit_pk(day), scan_index_forward=False, last_evaluated_key=resume,
                                    page_size=page_size):
            examined += 1
            last = {"pk": {"S": item.pk}, "sk": {"S": item.sk}}
            if actor is None or item.actor == actor:
                items.append(_view(item))
            if len(items) == limit or examined >= paging.MAX_EXAMINED:
                return paging.Page(items, paging.encode(last))
        if walked >= MAX_DAYS_PER_PAGE and last is not None:
            return paging.Page(items, paging.encode(last))
    return paging.Page(items, None)

"""Publishing domain events on the StockLink EventBridge bus (names and payloads: stocklink.events).

Published after the stock transaction commits. A lost publish (EventBridge unreachable) never undoes or
blocks a committed stock change: the 30 s reconciliation recomputes every channel's quantity anyway.
"""
from __future__ import annotations

import json
from functools import lru_cache

import boto3

from stocklink.config import settings
from stocklink.events import SOURCE
from stocklink.observability import logger

_BATCH = 10  # PutEvents takes at most 10 entries


@lru_cache(maxsize=1)
def _events_client():
    return boto3.client("events")


def publish(detail_type: str, details: list[dict]) -> int:
    """Put events on the bus; returns how many failed (logged, never raised)."""
    failed = 0
    bus = settings().event_bus_name
    for start in range(0, len(details), _BATCH):
        entries = [
            {"Source": SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail, default=str),
             "EventBusName": bus}
            for detail in details[start:start + _BATCH]
        ]
        try:
            failed += _events_client().put_events(Entries=entries).get("FailedEntryCount", 0)
        except Exception:  # the stock change is committed; reconciliation repairs what a lost event misses
            logger.exception("publishing %s failed", detail_type)
            failed += len(entries)
    if failed:
        logger.warning("events not published", extra={"detail_type": detail_type, "failed": failed})
    return failed

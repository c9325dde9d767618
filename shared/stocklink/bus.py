"""Publishing domain events on the StockLink EventBridge bus (names and payloads: stocklink.events).

Published after the stock transaction commits. `publish_later` puts an event straight on the calling
function's own queue with a delay (EventBridge has none): the last-units guard's "a drain is over". A lost
publish (EventBridge unreachable) never undoes or blocks a committed stock change; `publish_returning_failed`
tells the publisher which events were lost (stock.changed marks their SKUs dirty for the next 30 s pass).
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from functools import lru_cache

from botocore.config import Config

from stocklink import aws_clients
from stocklink.config import settings
from stocklink.events import SOURCE
from stocklink.observability import logger

_BATCH = 10  # PutEvents takes at most 10 entries


@lru_cache(maxsize=1)
def _events_client():
    # One client per container. Parameter validation off (~70 us of client CPU per PutEvents, measured
    # without the network): every entry is built below from strings (json.dumps, the configured bus name),
    # and EventBridge checks them again; a request it refuses is counted lost like any failed publish.
    return aws_clients.client("events", config=Config(parameter_validation=False))


def publish(detail_type: str, details: list[dict]) -> int:
    """Put events on the bus; returns how many failed (logged, never raised)."""
    return len(publish_returning_failed(detail_type, details))


def publish_returning_failed(detail_type: str, details: list[dict]) -> list[dict]:
    """Put events on the bus; returns the details that did not get on it (logged, never raised), so a
    publisher can leave a trace for whoever repairs what the lost events would have started."""
    failed: list[dict] = []
    bus = settings().event_bus_name
    for start in range(0, len(details), _BATCH):
        batch = details[start:start + _BATCH]
        entries = [
            {"Source": SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail, default=str),
             "EventBusName": bus}
            for detail in batch
        ]
        try:
            answer = _events_client().put_events(Entries=entries)
        except Exception:  # the stock change is committed; the caller decides how it is repaired
            logger.exception("publishing %s failed", detail_type)
            failed.extend(batch)
            continue
        if answer.get("FailedEntryCount"):
            # PutEvents answers one result per entry, in order; a failed one carries an ErrorCode.
            results = answer.get("Entries") or []
            if len(results) == len(batch):
                failed.extend(detail for detail, result in zip(batch, results) if result.get("ErrorCode"))
            else:   # an answer we cannot line up: count the whole batch lost
                failed.extend(batch)
    if failed:
        logger.warning("events not published", extra={"detail_type": detail_type, "failed": len(failed)})
    return failed


MAX_DELAY_S = 900   # SQS DelaySeconds


@lru_cache(maxsize=1)
def _sqs_queue() -> tuple[object, str] | None:
    ref = settings().requeue_queue
    if not ref:
        return None
    client = aws_clients.client("sqs")
    return client, ref if "://" in ref else client.get_queue_url(QueueName=ref)["QueueUrl"]


def publish_later(detail_type: str, detail: dict, delay_s: float) -> bool:
    """An event shaped as EventBridge delivers it, on this function's own queue, visible after `delay_s`
    (at most 15 minutes). False (logged, never raised) when it could not be queued or no queue is set."""
    event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": SOURCE,
             "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "detail": detail}
    try:
        queue = _sqs_queue()
        if queue is None:
            logger.warning("no queue to publish a later event on", extra={"detail_type": detail_type})
            return False
        client, url = queue
        client.send_message(QueueUrl=url, MessageBody=json.dumps(event, default=str),
                            DelaySeconds=max(0, min(MAX_DELAY_S, int(round(delay_s)))))
        return True
    except Exception:  # noqa: BLE001 - the sweep runs every SKU at risk again anyway
        logger.exception("queueing %s for later failed", detail_type)
        return False

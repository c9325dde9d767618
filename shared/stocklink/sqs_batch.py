"""SQS event-source batches of EventBridge events (the queued rules of infra/topology.py): the records' events
in, partial batch failures out. The consumers merge a batch's events, so powertools' BatchProcessor, which
hands records to a handler one at a time, does not fit; this is the part every consumer shares."""
from __future__ import annotations

import json
from typing import Iterable

from stocklink.observability import logger


def parse_records(records: list, consumer: str) -> tuple[list[dict], list[str], list[str]]:
    """(events, their message ids, ids of records whose body is not an event). An unreadable record is
    logged and reported failed by the caller: kept in the queue (then its DLQ), never dropped."""
    events, ids, bad = [], [], []
    for record in records:
        try:
            event = json.loads(record["body"])
            if not isinstance(event, dict):
                raise ValueError("body is not a JSON object")
        except (KeyError, TypeError, ValueError) as exc:
            logger.error(f"{consumer}: unreadable record", extra={"message_id": record.get("messageId"),
                                                                  "error": str(exc)})
            bad.append(record.get("messageId", ""))
            continue
        events.append(event)
        ids.append(record["messageId"])
    return events, ids, bad


def item_failures(message_ids: Iterable[str]) -> dict:
    """The answer Lambda's SQS event source reads with ReportBatchItemFailures."""
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in message_ids]}

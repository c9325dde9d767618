"""What GET /shops reads of a shop's sync health, each with a projection so only the few attributes it counts
travel: the shop's listing sync states (SYNC#<platform>#<shop>), its listing count, the platform calls it
took lately (RATE#<platform>#<shop>), and the inbound events that need a person (the events table's sparse
status index), counted per shop."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from stocklink.store import keys
from stocklink.store.models import CatalogItem, InboundEvent, connection_for


@dataclass(frozen=True)
class SyncCounts:
    listings_synced: int            # listings with a sync state (pushed, failed, ...)
    in_sync: int                    # last pushed quantity == last computed quantity
    failing: int                    # last push failed (an open failure: a later push clears it)
    last_push_at: int | None


def _client():
    return connection_for(CatalogItem).client


def _query_all(**kwargs) -> Iterable[dict]:
    while True:
        answer = _client().query(**kwargs)
        yield from answer.get("Items", [])
        if not answer.get("LastEvaluatedKey"):
            return
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def _n(item: dict, name: str) -> int | None:
    value = item.get(name)
    return int(float(value["N"])) if value and "N" in value else None


def sync_counts(platform: str, shop: str) -> SyncCounts:
    synced = in_sync = failing = 0
    last = None
    for item in _query_all(TableName=CatalogItem.Meta.table_name, KeyConditionExpression="pk = :pk",
                           ExpressionAttributeValues={":pk": {"S": keys.sync_pk(platform, shop)}},
                           ProjectionExpression="pushed_qty, computed_qty, pushed_at, #s",
                           ExpressionAttributeNames={"#s": "status"}):
        synced += 1
        pushed, computed, at = _n(item, "pushed_qty"), _n(item, "computed_qty"), _n(item, "pushed_at")
        in_sync += pushed is not None and pushed == computed
        failing += item.get("status", {}).get("S") == "failed"
        if at is not None and (last is None or at > last):
            last = at
    return SyncCounts(synced, in_sync, failing, last)


def listing_count(platform: str, shop: str) -> int:
    total, kwargs = 0, {"TableName": CatalogItem.Meta.table_name, "KeyConditionExpression": "pk = :pk",
                        "ExpressionAttributeValues": {":pk": {"S": keys.listing_pk(platform, shop)}},
                        "Select": "COUNT"}
    while True:
        answer = _client().query(**kwargs)
        total += int(answer.get("Count", 0))
        if not answer.get("LastEvaluatedKey"):
            return total
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def calls_taken(platform: str, shop: str, window_ms: int, first_index: int, last_index: int) -> int:
    """Platform calls counted in the shop's call windows first_index..last_index (of `window_ms` each)."""
    return sum(_n(item, "calls") or 0 for item in _query_all(
        TableName=CatalogItem.Meta.table_name,
        KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
        ExpressionAttributeValues={":pk": {"S": keys.rate_pk(platform, shop)},
                                   ":a": {"S": keys.call_window(window_ms, first_index)},
                                   ":b": {"S": keys.call_window(window_ms, last_index)}},
        ProjectionExpression="calls"))


def events_needing_a_person(statuses: Iterable[str]) -> Counter:
    """(platform, shop) -> inbound events listed under `statuses` in the status index."""
    out: Counter = Counter()
    client = connection_for(InboundEvent).client
    for status in statuses:
        kwargs = {"TableName": InboundEvent.Meta.table_name, "IndexName": "by_status",
                  "KeyConditionExpression": "status_index = :s", "ExpressionAttributeValues": {":s": {"S": status}},
                  "ProjectionExpression": "platform, shop"}
        while True:
            answer = client.query(**kwargs)
            for item in answer.get("Items", []):
                platform, shop = item.get("platform", {}).get("S"), item.get("shop", {}).get("S")
                if platform and shop:
                    out[(platform, shop)] += 1
            if not answer.get("LastEvaluatedKey"):
                break
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    return out

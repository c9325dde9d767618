"""pynamodb models: the shape of every item StockLink keeps. Only stocklink.store touches these.

Table names come from the environment at import (see stocklink.config); key schemas match
infra.topology.TABLES, which CDK and the local runtime use to create the tables.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Callable

import pynamodb.connection.base
from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from stocklink import aws_clients
from stocklink.config import table_name

# pynamodb gives each connection (one per model, plus connection_for's) a botocore session of its own, per
# thread, on first use: each parsed botocore's endpoint and DynamoDB model files again (~55 ms of CPU), so the
# first calls of a fresh container paid that for every model they touched. They share the container's one
# session instead, which makes their clients one at a time (pynamodb 6 reads this module global).
pynamodb.connection.base.get_session = aws_clients.shared_session

_REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


_CONNECTIONS: dict = {}


def connection_for(model: type[Model]) -> Connection:
    """One low-level connection per container and endpoint (the host the model is pointed at), for
    TransactWriteItems and calls pynamodb's Model API does not offer."""
    host = getattr(model.Meta, "host", None)
    if host not in _CONNECTIONS:
        _CONNECTIONS[host] = Connection(region=_REGION, host=host)
    return _CONNECTIONS[host]


_warm_lock = threading.Lock()


def warm_clients() -> None:
    """Create the DynamoDB client of every store model's connection now, before a thread pool starts.

    pynamodb creates a connection's client on first use, without a lock: when a function's thread pool
    started on a fresh container, every thread reaching a model first built one more (py-spy: a third of
    channel_push's CPU in the sync-latency benchmark). Built here once each, from the shared session; clients
    are thread-safe once built."""
    with _warm_lock:
        models, todo = set(), [Model]
        while todo:
            for sub in todo.pop().__subclasses__():
                todo.append(sub)
                if sub.__module__.startswith("stocklink.store") and getattr(sub.Meta, "table_name", None):
                    models.add(sub)
        for model in sorted(models, key=lambda m: m.__qualname__):
            for connection in (model._get_connection().connection, connection_for(model)):
                if connection._client is None:
                    connection.client  # noqa: B018 - builds and caches it


def is_conditional_failure(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def written(write: Callable[[], object]) -> bool:
    """Run one conditional write (save / update / delete with a condition): False when its condition
    failed, True when it was written; any other error is raised."""
    try:
        write()
        return True
    except (PutError, UpdateError, DeleteError) as exc:
        if is_conditional_failure(exc):
            return False
        raise


def update_only(item: Model, actions: list, condition=None) -> None:
    """item.update(actions, condition) without the item back (ReturnValues NONE): Model.update asks for
    ALL_NEW and parses the whole item into `item`, which the push's bookkeeping writes (call slots, claims,
    records, dirty markers) never read; a listing's sync state carries its recent sales. Raises UpdateError
    as Model.update does (`written` tells a failed condition apart). Not for models with a version attribute."""
    update_returning(item, actions, condition, "NONE")


def update_returning(item: Model, actions: list, condition=None, return_values: str = "UPDATED_NEW") -> dict:
    """update_only, answering the raw attributes DynamoDB's ReturnValues asks for ({} for NONE), unparsed:
    a call-window count, a mailbox's old content."""
    hash_key, range_key = item._get_hash_range_key_serialized_values()
    answer = item._get_connection().update_item(hash_key, range_key=range_key, actions=actions,
                                                condition=condition, return_values=return_values)
    return answer.get("Attributes") or {}


BATCH_GET_MAX_KEYS = 100     # DynamoDB's limit of keys in one BatchGetItem
BATCH_GET_UNPROCESSED_TRIES = 5


def batch_get_models(requests: list[tuple[type[Model], list]], consistent_read: bool = False) -> list[list[Model]]:
    """Items of several models (tables, or kinds of item sharing one) in one BatchGetItem per 100 keys, where
    Model.batch_get sends one per model: for each (model, keys) the items found, as that model. Keys are
    hash keys, or (hash, range) tuples for models with a range key. Keys DynamoDB leaves unprocessed are
    asked again (a few times, then raised as for a failed read)."""
    slots: dict[tuple, int] = {}
    keys_of: list[tuple[str, dict]] = []
    for index, (model, model_keys) in enumerate(requests):
        hash_attr, range_attr = model._hash_key_attribute(), model._range_key_attribute()
        table = model.Meta.table_name
        for key in dict.fromkeys(model_keys):
            hash_value, range_value = key if range_attr is not None else (key, None)
            key_map = {hash_attr.attr_name: {hash_attr.attr_type: str(hash_value)}}
            if range_attr is not None:
                key_map[range_attr.attr_name] = {range_attr.attr_type: str(range_value)}
            slots[(table, str(hash_value), None if range_value is None else str(range_value))] = index
            keys_of.append((table, key_map))
    found: list[list[Model]] = [[] for _ in requests]
    if not keys_of:
        return found
    client = connection_for(requests[0][0]).client
    for start in range(0, len(keys_of), BATCH_GET_MAX_KEYS):
        pending: dict = {}
        for table, key_map in keys_of[start:start + BATCH_GET_MAX_KEYS]:
            pending.setdefault(table, {"Keys": [], **({"ConsistentRead": True} if consistent_read else {})})
            pending[table]["Keys"].append(key_map)
        for tries in range(BATCH_GET_UNPROCESSED_TRIES):
            answer = client.batch_get_item(RequestItems=pending)
            for table, items in answer.get("Responses", {}).items():
                for raw in items:
                    index = _slot_of(slots, requests, table, raw)
                    if index is not None:
                        found[index].append(requests[index][0].from_raw_data(raw))
            pending = answer.get("UnprocessedKeys") or {}
            if not pending:
                break
            time.sleep(0.02 * 2 ** tries)     # DynamoDB asks for a backoff before the unprocessed keys
        else:
            raise RuntimeError("BatchGetItem left keys unprocessed after retries")
    return found


def _slot_of(slots: dict, requests: list, table: str, raw: dict) -> int | None:
    for model, _ in requests:
        if model.Meta.table_name != table:
            continue
        hash_attr, range_attr = model._hash_key_attribute(), model._range_key_attribute()
        hash_value = next(iter(raw.get(hash_attr.attr_name, {}).values()), None)
        range_value = next(iter(raw.get(range_attr.attr_name, {}).values()), None) if range_attr else None
        index = slots.get((table, hash_value, range_value))
        if index is not None:
            return index
    return None


def save_returning_old(item: Model) -> Model | None:
    """Save `item` (unconditionally) and return the item it replaced, or None if it is new: the same
    PutItem returns it (ReturnValues ALL_OLD) at no extra cost. pynamodb 6's Model.save offers no
    ReturnValues, hence its save arguments here."""
    args, kwargs = item._get_save_args()
    old = item._get_connection().put_item(*args, return_values="ALL_OLD", **kwargs).get("Attributes")
    return type(item).from_raw_data(old) if old else None


class _Meta:
    region = _REGION
    # Lambda containers are short-lived and single-threaded; a small pool with few retries keeps the
    # latency of a refused conditional write low instead of retrying it for seconds.
    max_retry_attempts = 3


class StockItem(Model):
    """Counters for one SKU in one warehouse. `available` = on_hand - reserved, stored so that a
    condition can guard it (DynamoDB cannot compare two attributes)."""

    class Meta(_Meta):
        table_name = table_name("stock")

    sku = UnicodeAttribute(hash_key=True)
    warehouse_id = UnicodeAttribute(range_key=True)
    on_hand = NumberAttribute(default=0)
    reserved = NumberAttribute(default=0)
    available = NumberAttribute(default=0)
    in_transit = NumberAttribute(default=0)
    presold = NumberAttribute(default=0)          # units sold against in_transit (presale), never above it
    transit_settled = NumberAttribute(default=0)  # units that ever left in_transit: pins a presale's read
    # presold units that arrived (reserved on hand for presale orders) and no presale order shipped or gave
    # back yet: a presale order's presold units ship only out of these (domain/presale.py, store.transactions)
    presale_arrived = NumberAttribute(default=0)
    version = NumberAttribute(default=0)
    updated_at = NumberAttribute(null=True)


class LedgerEntry(Model):
    """One stock movement, never updated or deleted. `stream` = sku#warehouse_id; entry ids sort by time."""

    class Meta(_Meta):
        table_name = table_name("ledger")

    stream = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)
    sku = UnicodeAttribute()
    warehouse_id = UnicodeAttribute()
    movement = UnicodeAttribute()
    qty = NumberAttribute()
    on_hand_delta = NumberAttribute(default=0)
    reserved_delta = NumberAttribute(default=0)
    available_delta = NumberAttribute(default=0)
    in_transit_delta = NumberAttribute(default=0)
    presold_delta = NumberAttribute(default=0)
    actor = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    source = UnicodeAttribute()          # the event or request that caused it
    created_at = NumberAttribute()


class AllocationMap(MapAttribute):
    sku = UnicodeAttribute()
    warehouse_id = UnicodeAttribute()
    qty = NumberAttribute()
    returned = NumberAttribute(null=True)   # units restocked from returns so far (never above qty once shipped)
    presold = NumberAttribute(null=True)    # of qty, units sold against stock in transit (presale) when reserved


class LineMap(MapAttribute):
    sku = UnicodeAttribute()
    qty = NumberAttribute()


class ExpiryIndex(GlobalSecondaryIndex):
    """Sparse: only held reservations carry hold_shard/expires_at."""

    class Meta:
        index_name = "by_expiry"
        projection = AllProjection()

    hold_shard = UnicodeAttribute(hash_key=True)
    expires_at = NumberAttribute(range_key=True)


class StaffActionMap(MapAttribute):
    """A staff member moved the reservation: who, what, why and when (epoch ms)."""
    by = UnicodeAttribute()
    action = UnicodeAttribute()
    reason = UnicodeAttribute()
    at = NumberAttribute()


class Reservation(Model):
    class Meta(_Meta):
        table_name = table_name("reservations")

    reservation_id = UnicodeAttribute(hash_key=True)
    channel = UnicodeAttribute()
    status = UnicodeAttribute()
    lines = ListAttribute(of=LineMap, default=list)
    allocations = ListAttribute(of=AllocationMap, default=list)
    request_hash = UnicodeAttribute(null=True)
    source = UnicodeAttribute()          # "storefront" or "<platform>:<shop>"
    # Who may move it: the storefront token's principal, or "<platform>:<shop>". None on reservations
    # written before owners were recorded (logic.reservations.owner_of says whose they are).
    owner = UnicodeAttribute(null=True)
    staff_actions = ListAttribute(of=StaffActionMap, null=True)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    expires_at = NumberAttribute(null=True)
    hold_shard = UnicodeAttribute(null=True)
    status_reason = UnicodeAttribute(null=True)
    shortfall = JSONAttribute(null=True)

    by_expiry = ExpiryIndex()


class OpenHolds(Model):
    """How many holds one storefront owner has open (held, not yet committed, shipped or released), kept in
    the reservations table under keys.open_holds(owner): counted up by the hold's own transaction, guarded
    by the owner's limit, and down by the transaction that ends the hold."""

    class Meta(_Meta):
        table_name = table_name("reservations")

    reservation_id = UnicodeAttribute(hash_key=True)
    open_holds = NumberAttribute(default=0)


class StatusIndex(GlobalSecondaryIndex):
    """Sparse: only events needing attention (unmapped, oversold, failed) carry status_index."""

    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    status_index = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class InboundEvent(Model):
    """Idempotency marker and record of one business event (webhook order event, receipt, ...).

    Written in the same transaction as the stock change it caused, so a replay finds it and the stock
    change can never happen twice.
    """

    class Meta(_Meta):
        table_name = table_name("events")

    event_key = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    status_index = UnicodeAttribute(null=True)
    received_at = UnicodeAttribute()
    platform = UnicodeAttribute(null=True)
    shop = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    reservation_id = UnicodeAttribute(null=True)
    detail = JSONAttribute(null=True)
    outcome = JSONAttribute(null=True)

    status_by_index = StatusIndex()


class CatalogItem(Model):
    """Warehouses, SKUs, shops and listings in one table: pk names the kind, sk the id."""

    class Meta(_Meta):
        table_name = table_name("catalog")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = JSONAttribute(default=dict)
    updated_at = NumberAttribute(null=True)
    listed_at = NumberAttribute(null=True)   # listings: when first written (store.catalog.put_listing)


class CatalogVersion(Model):
    """A counter in the catalog table that writers bump after changing what a container caches (see
    store.catalog.listings_version): a reader that finds it unchanged may keep what it read under it."""

    class Meta(_Meta):
        table_name = table_name("catalog")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    n = NumberAttribute(default=0)
    updated_at = NumberAttribute(null=True)


ALL_MODELS = (StockItem, LedgerEntry, Reservation, OpenHolds, InboundEvent, CatalogItem)

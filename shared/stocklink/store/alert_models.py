"""The alerts table (pynamodb) and its access functions. Only stocklink.store touches these models.

One table, keyed by `pk`:
  <rule>#<sku>#<scope>      alert state (stocklink.alerts.state.AlertState.to_item) + the last message sent
  cfg#global | cfg#abc#<A> | cfg#sku#<sku>   threshold overrides (and, per SKU, abc_class / safety_stock)
  sub#<id>                  a subscription (SNS email/SMS, or a chat target whose secrets live in Secrets Manager)
  sent#<alert id>#<sub id>  notify dedupe marker (TTL `expires_at`)
  outbox#<alert id>         an alert decided (state written in the same transaction) and not yet confirmed
                            published on SNS; deleted after the publish, resent by the tick if it stays
The sparse index `by_list` (list_key, updated_at) lists open alerts ("open"), subscriptions ("sub") and
rules ("cfg") and the outbox ("outbox") without a scan.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from stocklink.alerts.levels import Level
from stocklink.alerts.state import AlertState
from stocklink.config import table_name
from stocklink.store import paging
from stocklink.store.keys import OPEN, OUTBOX, RULES, SUBSCRIPTIONS, outbox_pk  # noqa: F401 - used by callers
from stocklink.store.models import _Meta, connection_for, is_conditional_failure, save_returning_old, written


class ListIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_list"
        projection = AllProjection()

    list_key = UnicodeAttribute(hash_key=True)
    updated_at = NumberAttribute(range_key=True)


class AlertStateRecord(Model):
    class Meta(_Meta):
        table_name = table_name("alerts")

    pk = UnicodeAttribute(hash_key=True)
    rule = UnicodeAttribute()
    sku = UnicodeAttribute()
    scope = UnicodeAttribute()
    level = UnicodeAttribute(default="none")
    acked_level = UnicodeAttribute(default="none")
    version = NumberAttribute(default=0)
    notified = JSONAttribute(default=dict)
    since = NumberAttribute(null=True)
    last_at = NumberAttribute(null=True)
    last_seq = NumberAttribute(null=True)
    last_seen_at = NumberAttribute(null=True)
    acked_at = NumberAttribute(null=True)
    acked_by = UnicodeAttribute(null=True)
    facts = UnicodeAttribute(null=True)
    last_alert = JSONAttribute(null=True)        # the last Alert published for this key (for GET /alerts)
    list_key = UnicodeAttribute(null=True)       # "open" while level > none
    updated_at = NumberAttribute(null=True)      # epoch ms
    by_list = ListIndex()


class ConfigRecord(Model):
    """Rules (cfg#...), subscriptions (sub#...) and dedupe markers (sent#...): a JSON document each."""

    class Meta(_Meta):
        table_name = table_name("alerts")

    pk = UnicodeAttribute(hash_key=True)
    data = JSONAttribute(default=dict)
    list_key = UnicodeAttribute(null=True)
    updated_at = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    by_list = ListIndex()


class Conflict(Exception):
    """A conditional write lost to a concurrent writer: re-read and decide again."""


# ---------------------------------------------------------------- alert state

def get_state(key_id: str) -> tuple[AlertState | None, dict | None]:
    """(state, last alert) or (None, None) when the key has never been seen."""
    try:
        rec = AlertStateRecord.get(key_id, consistent_read=True)
    except DoesNotExist:
        return None, None
    return _state(rec), rec.last_alert


def get_states(key_ids: list[str]) -> dict[str, tuple[AlertState | None, dict | None]]:
    """get_state of several keys in one consistent BatchGetItem (per 100 keys): (None, None) for a key never
    seen."""
    from stocklink.store.models import batch_get_models

    key_ids = list(dict.fromkeys(key_ids))
    found = {rec.pk: (_state(rec), rec.last_alert)
             for rec in batch_get_models([(AlertStateRecord, key_ids)], consistent_read=True)[0]}
    return {key: found.get(key, (None, None)) for key in key_ids}


def _state(rec: AlertStateRecord) -> AlertState:
    item = {k: v for k, v in rec.attribute_values.items()}
    return AlertState.from_item(item)




def save_state(state: AlertState, *, expected_version: int | None, now_ms: int,
               last_alert: dict | None = None, keep_last_alert: dict | None = None,
               outbox_alert: dict | None = None) -> None:
    """Write `state` if the stored version is still `expected_version` (None: the item must not exist).
    Raises Conflict otherwise. With `outbox_alert` (an Alert dict with an `id`), the state and the
    alert's outbox item are written in one transaction: a state that says "notified" always has either
    a published message or an outbox entry behind it."""
    item = state.to_item()
    rec = AlertStateRecord(item["pk"])
    for name, value in item.items():
        if name != "pk":
            setattr(rec, name, value)
    rec.last_alert = last_alert if last_alert is not None else keep_last_alert
    rec.list_key = OPEN if state.level is not Level.NONE else None
    rec.updated_at = now_ms
    condition = (AlertStateRecord.pk.does_not_exist() if expected_version is None
                 else AlertStateRecord.version == expected_version)
    if outbox_alert is None:
        try:
            rec.save(condition=condition)
        except PutError as exc:
            if is_conditional_failure(exc):
                raise Conflict(state.key.id) from exc
            raise
        return
    entry = ConfigRecord(outbox_pk(outbox_alert["id"]), data={"key": state.key.id, "alert": outbox_alert,
                                                              "at_ms": now_ms},
                         list_key=OUTBOX, updated_at=now_ms)
    try:
        with TransactWrite(connection=connection_for(AlertStateRecord)) as txn:
            txn.save(rec, condition=condition)
            txn.save(entry)
    except TransactWriteError as exc:
        codes = [(r.code if r else None) for r in (exc.cancellation_reasons or [])]
        if codes and codes[0] == "ConditionalCheckFailed":
            raise Conflict(state.key.id) from exc
        raise


def clear_outbox(alert_id: str) -> None:
    """The alert is on SNS: drop its outbox entry (deleting a missing one is a no-op)."""
    ConfigRecord(outbox_pk(alert_id)).delete()


def outbox(limit: int = 500) -> list[dict]:
    """Unconfirmed alerts, oldest first: [{"key", "alert", "at_ms"}]."""
    return [rec.data for rec in ConfigRecord.by_list.query(OUTBOX, scan_index_forward=True, limit=limit)]


def open_states(limit: int = 500) -> list[tuple[AlertState, dict | None, int]]:
    """(state, last alert, updated_at ms) for every alert above NONE, newest first."""
    out = []
    for rec in AlertStateRecord.by_list.query(OPEN, scan_index_forward=False, limit=limit):
        out.append((_state(rec), rec.last_alert, int(rec.updated_at or 0)))
    return out


def open_states_page(limit: int, cursor: str | None,
                     keep: Callable[[AlertState], bool] | None = None) -> paging.Page:
    """(state, last alert, updated_at ms) of alerts above NONE, newest first, `limit` at a time; with
    `keep`, only the states it accepts."""
    page = paging.query_page(AlertStateRecord, OPEN, index=AlertStateRecord.by_list, limit=limit,
                             cursor=cursor, keep=(lambda rec: keep(_state(rec))) if keep else None,
                             scan_index_forward=False)
    states = [(_state(rec), rec.last_alert, int(rec.updated_at or 0)) for rec in page.items]
    return paging.Page(states, page.next)


# ---------------------------------------------------------------- rules, subscriptions, markers

def put_doc(pk: str, data: dict, now_ms: int, list_key: str | None) -> None:
    ConfigRecord(pk, data=data, list_key=list_key, updated_at=now_ms).save()


def get_doc(pk: str) -> dict | None:
    try:
        return ConfigRecord.get(pk).data
    except DoesNotExist:
        return None


def get_docs(pks: Iterable[str]) -> dict[str, dict]:
    keys = list(dict.fromkeys(pks))
    return {rec.pk: rec.data for rec in ConfigRecord.batch_get(keys)} if keys else {}


def list_docs(list_key: str) -> dict[str, dict]:
    return {rec.pk: rec.data for rec in ConfigRecord.by_list.query(list_key)}


def delete_doc(pk: str) -> None:
    ConfigRecord(pk).delete()


def mark_sent(pk: str, data: dict[str, Any], now_ms: int, ttl_s: int) -> bool:
    """Record a delivery; False when it was already recorded (a redelivered message)."""
    return written(lambda: ConfigRecord(pk, data=data, updated_at=now_ms, expires_at=now_ms // 1000 + ttl_s).save(
        condition=ConfigRecord.pk.does_not_exist()))


def was_sent(pk: str) -> bool:
    try:
        ConfigRecord.get(pk, attributes_to_get=["pk"], consistent_read=True)
        return True
    except DoesNotExist:
        return False


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


# ---------------------------------------------------------------- named operations
# Alerting names a rule, a subscription or a delivery; the keys behind them are composed only here.

def _rule_pk(scope: str, name: str | None) -> str:
    return "cfg#global" if scope == "global" else f"cfg#{scope}#{name}"


def rule_docs(wanted: Iterable[tuple[str, str | None]]) -> dict[tuple[str, str | None], dict]:
    """The threshold overrides stored for each (scope, name) among `wanted` ("global" has no name), in one
    batch read; pairs without a stored document are left out."""
    pairs = list(dict.fromkeys((scope, None if scope == "global" else name) for scope, name in wanted))
    docs = get_docs(_rule_pk(*pair) for pair in pairs)
    return {pair: docs[_rule_pk(*pair)] for pair in pairs if _rule_pk(*pair) in docs}


def rule_doc(scope: str, name: str | None = None) -> dict | None:
    return get_doc(_rule_pk(scope, name))


def save_rule(scope: str, name: str | None, doc: dict, now_ms: int) -> dict | None:
    """Store a rule document; returns the one it replaced (None if new)."""
    old = save_returning_old(ConfigRecord(_rule_pk(scope, name), data=doc, list_key=RULES, updated_at=now_ms))
    return old.data if old else None


def all_rules() -> list[tuple[str, str | None, dict]]:
    """(scope, name, doc) of every stored rule document; the global one has name None."""
    out = []
    for pk, doc in list_docs(RULES).items():
        out.append((*_rule_scope_name(pk), doc))
    return out


def rules_page(limit: int, cursor: str | None) -> paging.Page:
    """(scope, name, doc) of stored rule documents, in the order they were last written, `limit` at a time."""
    page = _docs_page(RULES, limit, cursor)
    return paging.Page([(*_rule_scope_name(pk), doc) for pk, doc in page.items], page.next)


def _rule_scope_name(pk: str) -> tuple[str, str | None]:
    parts = pk.split("#", 2)
    return parts[1], parts[2] if len(parts) > 2 else None


def _docs_page(list_key: str, limit: int, cursor: str | None) -> paging.Page:
    """(pk, data) of the documents listed under `list_key`, oldest write first."""
    page = paging.query_page(ConfigRecord, list_key, index=ConfigRecord.by_list, limit=limit, cursor=cursor)
    return paging.Page([(rec.pk, rec.data) for rec in page.items], page.next)


def _subscription_pk(sub_id: str) -> str:
    return f"sub#{sub_id}"


def subscription(sub_id: str) -> dict | None:
    return get_doc(_subscription_pk(sub_id))


def save_subscription(sub_id: str, doc: dict, now_ms: int) -> None:
    put_doc(_subscription_pk(sub_id), doc, now_ms, SUBSCRIPTIONS)


def delete_subscription(sub_id: str) -> None:
    delete_doc(_subscription_pk(sub_id))


def subscriptions() -> list[dict]:
    return list(list_docs(SUBSCRIPTIONS).values())


def subscriptions_page(limit: int, cursor: str | None) -> paging.Page:
    """Subscription documents, in the order they were last written, `limit` at a time."""
    page = _docs_page(SUBSCRIPTIONS, limit, cursor)
    return paging.Page([doc for _, doc in page.items], page.next)


def _delivery_pk(alert_id: str, sub_id: str) -> str:
    return f"sent#{alert_id}#{sub_id}"


def was_delivered(alert_id: str, sub_id: str) -> bool:
    return was_sent(_delivery_pk(alert_id, sub_id))


def mark_delivered(alert_id: str, sub_id: str, data: dict[str, Any], now_ms: int, ttl_s: int) -> bool:
    """Record the alert's delivery to the subscription (kept `ttl_s`); False when already recorded."""
    return mark_sent(_delivery_pk(alert_id, sub_id), data, now_ms, ttl_s)

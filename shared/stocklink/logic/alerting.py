"""Alert wiring: bus events -> observations -> hysteresis state in DynamoDB -> one SNS message per level
crossed; the scheduled tick; acknowledgement; alert rules; subscriptions; chat fan-out.

The decisions are stocklink.alerts (pure); this module does the I/O around them:
- a state is written only when the decision changed it, conditioned on the version read (or on the
  item not existing); a lost race re-reads and decides again, so two alert functions handling events of
  one SKU at once cannot both notify a level;
- the SNS publish happens before the state write: a failed publish leaves the state untouched (the
  event is retried by EventBridge/Lambda and decides the same), a lost write race can at worst repeat a
  message whose Alert.id is the same (chat delivery dedupes by it). Nothing is silently lost.
"""
from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

import boto3

from stocklink import secrets
from stocklink.alerts import chat, rules
from stocklink.alerts.kinds import Kind
from stocklink.alerts.levels import Level, ThresholdConfig, Thresholds
from stocklink.alerts.messages import ATTRIBUTES, Alert, build_alert, filter_policy, sns_publish_kwargs
from stocklink.alerts.state import (Action, AlertKey, AlertState, Decision, Observation, acknowledge, decide,
                                   tick)
from stocklink.config import settings
from stocklink.errors import NotFound, StockLinkError, ValidationFailed
from stocklink.observability import logger, metrics
from stocklink.store import alert_models as store
from stocklink.store import repository

STOCK_CHANGED, ORDER_OVERSOLD, ORDER_UNMAPPED = "stock.changed", "order.oversold", "order.unmapped"
SYNC_ANOMALY, LEDGER_MISMATCH = "sync.anomaly", "ledger.mismatch"
MAX_RACE_RETRIES = 8
CHAT_PROTOCOLS = {p.value for p in chat.Platform}
SNS_PROTOCOLS = {"email", "sms"}
SENT_TTL_S = 14 * 24 * 3600


class Conflict(StockLinkError):
    status, code = 409, "conflict"


@lru_cache(maxsize=1)
def _sns():
    return boto3.client("sns")


def topic_arn() -> str:
    arn = settings().alerts_topic_arn
    if not arn:
        raise RuntimeError("ALERTS_TOPIC_ARN is not set")
    return arn


# ---------------------------------------------------------------- thresholds (alert rules)

def _rule_pk(scope: str, name: str | None = None) -> str:
    return "cfg#global" if scope == "global" else f"cfg#{scope}#{name}"


SKU_META = ("abc_class", "safety_stock")


def sku_settings(sku: str) -> tuple[Thresholds, str | None, int | None]:
    """(thresholds, abc class, safety stock) for one SKU: global -> ABC class -> SKU."""
    docs = store.get_docs([_rule_pk("global"), _rule_pk("sku", sku)])
    sku_doc = dict(docs.get(_rule_pk("sku", sku)) or {})
    abc = sku_doc.pop("abc_class", None)
    safety = sku_doc.pop("safety_stock", None)
    abc_doc = store.get_doc(_rule_pk("abc", abc.upper())) if abc else None
    config = ThresholdConfig.from_dict({"global": docs.get(_rule_pk("global")) or {},
                                        "abc": {abc.upper(): abc_doc} if abc and abc_doc else {},
                                        "sku": {sku: sku_doc}})
    return config.resolve(sku, abc), abc, safety


def put_rule(scope: str, name: str | None, body: Mapping[str, Any], now_ms: int) -> dict:
    """PUT /alert-rules/global | abc/{class} | sku/{sku}: sparse threshold overrides (and, per SKU,
    abc_class and safety_stock). Validated by building the thresholds they produce."""
    body = dict(body)
    if scope == "abc":
        name = name.upper()
        if not re.fullmatch(r"[A-Z]", name):
            raise ValidationFailed("ABC class must be one letter, e.g. A")
    meta = {k: body.pop(k) for k in SKU_META if k in body}
    if meta and scope != "sku":
        raise ValidationFailed(f"{sorted(meta)} can only be set per SKU")
    if "abc_class" in meta and meta["abc_class"] is not None:
        meta["abc_class"] = str(meta["abc_class"]).upper()
        if not re.fullmatch(r"[A-Z]", meta["abc_class"]):
            raise ValidationFailed("abc_class must be one letter, e.g. A")
    if meta.get("safety_stock") is not None and (not isinstance(meta["safety_stock"], int)
                                                 or meta["safety_stock"] < 0):
        raise ValidationFailed("safety_stock must be a whole number >= 0")
    try:
        Thresholds().merged(body)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(str(exc)) from exc
    doc = {**body, **meta}
    store.put_doc(_rule_pk(scope, name), doc, now_ms, store.RULES)
    return {"scope": scope, "name": name, "rules": doc}


def list_rules() -> dict:
    out: dict[str, Any] = {"global": {}, "abc": {}, "sku": {}}
    for pk, doc in store.list_docs(store.RULES).items():
        parts = pk.split("#", 2)
        if parts[1] == "global":
            out["global"] = doc
        else:
            out[parts[1]][parts[2]] = doc
    out["defaults"] = Thresholds().__dict__
    return out


# ---------------------------------------------------------------- events -> observations

def event_time(event: Mapping[str, Any], now_ms: int) -> int:
    """Epoch seconds of an EventBridge event (its `time`), else now."""
    value = event.get("time")
    if value:
        try:
            return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
        except ValueError:
            pass
    return now_ms // 1000


def observations(detail_type: str, detail: Mapping[str, Any], at: int) -> list[Observation]:
    if detail_type == STOCK_CHANGED:
        sku = detail["sku"]
        thresholds, abc, safety = sku_settings(sku)
        enriched = dict(detail)
        if abc:
            enriched["abc_class"] = abc
        if safety is not None:
            enriched["safety_stock"] = safety
        items = repository.stock_items(sku)
        # Grade the stored item, not the event's copy: a late or replayed event then re-reads the current
        # figures, and the item's version orders observations (equal version = nothing new).
        current = next((i for i in items if i.warehouse_id == detail.get("warehouse_id")), None)
        if current is not None:
            enriched.update(available=int(current.available), on_hand=int(current.on_hand),
                            version=int(current.version))
        # the SKU's other warehouses let the message suggest a transfer instead of a purchase
        enriched["warehouses"] = [{"warehouse_id": i.warehouse_id, "available": int(i.available),
                                   "safety_stock": safety} for i in items]
        return rules.from_stock_changed(enriched, thresholds, at)
    if detail_type == ORDER_OVERSOLD:
        skus = [detail["sku"]] if detail.get("sku") else _reservation_skus(detail.get("reservation_id"))
        return [rules.from_oversell({**detail, "sku": sku, "requested": detail.get("shortfall")}, at)
                for sku in skus]
    if detail_type == ORDER_UNMAPPED:
        return [rules.from_unmapped_sku({"platform": detail.get("platform"), "shop": detail.get("shop"),
                                         "order_id": detail.get("order_id"), **line}, at)
                for line in detail.get("unmapped") or [] if line.get("listing_id")]
    if detail_type == SYNC_ANOMALY:
        return [rules.from_sync_anomaly(detail, at)]
    if detail_type == LEDGER_MISMATCH:
        return [rules.from_ledger_mismatch(detail, at)]
    logger.warning("alerts: ignoring event type %s", detail_type)
    return []


def _reservation_skus(reservation_id: str | None) -> list[str]:
    if not reservation_id:
        return []
    reservation = repository.get_reservation(reservation_id)
    if reservation is None:
        return []
    return list(dict.fromkeys(line.sku for line in reservation.lines or []))


# ---------------------------------------------------------------- decide, publish, store

def publish(alert: Alert) -> str:
    answer = _sns().publish(**sns_publish_kwargs(alert, topic_arn()))
    metrics.add_metric(name="AlertsPublished", unit="Count", value=1)
    logger.info("alert published", extra={"alert_id": alert.id, "key": alert.key, "event": alert.event,
                                          "severity": alert.severity})
    return answer["MessageId"]


def _apply(key_id: str, step: Callable[[AlertState | None], Decision], now_ms: int) -> Alert | None:
    """Read, decide, publish, conditionally write; on a lost race do it again with the fresh state."""
    for _ in range(MAX_RACE_RETRIES):
        state, last_alert = store.get_state(key_id)
        decision = step(state)
        if not decision.changed:
            return None
        alert = build_alert(decision)
        if alert is not None:
            publish(alert)
        try:
            store.save_state(decision.state, expected_version=None if state is None else state.version,
                             now_ms=now_ms, last_alert=alert.to_dict() if alert else None,
                             keep_last_alert=last_alert)
        except store.Conflict:
            metrics.add_metric(name="AlertStateRaces", unit="Count", value=1)
            continue
        return alert
    raise RuntimeError(f"alert state {key_id}: too many concurrent writers")


def handle_event(event: Mapping[str, Any], now_ms: int) -> list[Alert]:
    """One EventBridge event -> the alerts it raised (published on SNS)."""
    detail_type = event.get("detail-type") or event.get("detail_type")
    detail = event.get("detail") or {}
    at = event_time(event, now_ms)
    sent = []
    for obs in observations(detail_type, detail, at):
        policy = rules.policy_for(obs.key.rule)
        alert = _apply(obs.key.id, lambda state, obs=obs: decide(state, obs, policy), now_ms)
        if alert is not None:
            sent.append(alert)
    return sent


def run_tick(now_ms: int) -> dict:
    """Scheduled: repeats that are due (unacknowledged) and auto-clear of quiet incidents. Without it a
    red SKU that stops changing would never be repeated."""
    now = now_ms // 1000
    sent = []
    for state, _, _ in store.open_states(limit=1000):
        policy = rules.policy_for(state.key.rule)
        alert = _apply(state.key.id, lambda current, policy=policy: _tick_step(current, now, policy), now_ms)
        if alert is not None:
            sent.append(alert)
    return {"sent": [a.id for a in sent]}


def _tick_step(current: AlertState | None, now: int, policy) -> Decision:
    if current is None:  # deleted between the listing and the read: nothing to do
        return Decision(Action.NONE, Level.NONE, Level.NONE, AlertState(AlertKey("none", "none")), False, "ok")
    return tick(current, now, policy)


# ---------------------------------------------------------------- API: alerts

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
        "updated_at": updated_at,
    }


def list_alerts(status: str = "open") -> dict:
    if status not in ("open", "acked", "unacked", "all"):
        raise ValidationFailed("status must be open, acked, unacked or all")
    views = [_view(s, a, u) for s, a, u in store.open_states()]
    if status == "acked":
        views = [v for v in views if v["status"] == "acked"]
    elif status == "unacked":
        views = [v for v in views if v["status"] == "open"]
    return {"alerts": views, "count": len(views)}


def ack(alert_id: str, by: str, now_ms: int) -> dict:
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


# ---------------------------------------------------------------- API: subscriptions

def _chat_secret_name(sub_id: str) -> str:
    return f"{settings().secrets_prefix}chat/{sub_id}"


def _mask(url: str) -> str:
    return url[:24] + "…" if len(url) > 24 else url


def put_subscription(sub_id: str, body: Mapping[str, Any], now_ms: int) -> dict:
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", sub_id):
        raise ValidationFailed("subscription id: 1-64 of A-Z a-z 0-9 . _ -")
    protocol = str(body.get("protocol") or "").lower()
    endpoint = body.get("endpoint")
    spec = body.get("filter") or {}
    if protocol not in SNS_PROTOCOLS | CHAT_PROTOCOLS:
        raise ValidationFailed(f"protocol must be one of {sorted(SNS_PROTOCOLS | CHAT_PROTOCOLS)}")
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise ValidationFailed("endpoint is required")
    if not isinstance(spec, dict):
        raise ValidationFailed("filter must be an object")
    try:
        policy = filter_policy(spec)
    except ValueError as exc:
        raise ValidationFailed(f"filter: {exc}") from exc
    previous = store.get_doc(f"sub#{sub_id}")
    doc: dict[str, Any] = {"id": sub_id, "protocol": protocol, "filter": spec, "filter_policy": policy,
                           "name": body.get("name") or sub_id}
    if protocol in SNS_PROTOCOLS:
        if protocol == "email" and "@" not in endpoint:
            raise ValidationFailed("endpoint must be an email address")
        if protocol == "sms" and not re.fullmatch(r"\+[1-9]\d{6,14}", endpoint):
            raise ValidationFailed("endpoint must be an E.164 phone number, e.g. +8613800000000")
        sns = _sns()
        arn = (previous or {}).get("subscription_arn")
        same = previous and previous.get("protocol") == protocol and previous.get("endpoint") == endpoint
        if arn and same:
            sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                            AttributeValue=policy)
        else:
            if arn:
                _unsubscribe(arn)
            arn = sns.subscribe(TopicArn=topic_arn(), Protocol=protocol, Endpoint=endpoint,
                                Attributes={"FilterPolicy": policy, "FilterPolicyScope": "MessageAttributes"},
                                ReturnSubscriptionArn=True)["SubscriptionArn"]
        doc.update(endpoint=endpoint, subscription_arn=arn)
    else:
        # plain http only to this machine (local runtime and tests): a deployed function cannot reach it
        if not (endpoint.startswith("https://")
                or re.match(r"http://(127\.0\.0\.1|localhost)(:\d+)?/", endpoint)):
            raise ValidationFailed("chat webhook endpoint must be an https:// URL")
        secret = body.get("secret")
        if secret is not None and not isinstance(secret, str):
            raise ValidationFailed("secret must be a string")
        # the webhook URL carries the robot's key: both live in Secrets Manager, never in the table
        secrets.write_json(_chat_secret_name(sub_id), {"url": endpoint, "secret": secret})
        doc.update(endpoint_hint=_mask(endpoint), signed=bool(secret))
        if previous and previous.get("subscription_arn"):
            _unsubscribe(previous["subscription_arn"])
    store.put_doc(f"sub#{sub_id}", doc, now_ms, store.SUBSCRIPTIONS)
    return doc


def _unsubscribe(arn: str) -> None:
    try:
        _sns().unsubscribe(SubscriptionArn=arn)
    except Exception:  # noqa: BLE001 - pending confirmations have no ARN to remove; nothing else to undo
        logger.warning("unsubscribe failed", extra={"arn": arn})


def delete_subscription(sub_id: str) -> dict:
    doc = store.get_doc(f"sub#{sub_id}")
    if doc is None:
        raise NotFound(f"no subscription {sub_id}")
    if doc.get("subscription_arn"):
        _unsubscribe(doc["subscription_arn"])
    store.delete_doc(f"sub#{sub_id}")
    return {"deleted": sub_id}


def list_subscriptions() -> dict:
    subs = sorted(store.list_docs(store.SUBSCRIPTIONS).values(), key=lambda d: d["id"])
    return {"subscriptions": subs}


# ---------------------------------------------------------------- notify: chat fan-out

def matches(policy_json: str, attributes: Mapping[str, str]) -> bool:
    """SNS filter-policy semantics for the policies `filter_policy` builds: every key must match one of
    its values (exact strings, or {"exists": false} for a missing attribute)."""
    policy = json.loads(policy_json or "{}")
    for name, allowed in policy.items():
        value = attributes.get(name)
        ok = False
        for a in allowed:
            if isinstance(a, dict):
                ok = ok or (a.get("exists") is False and value is None)
            elif value is not None and str(a) == value:
                ok = True
        if not ok:
            return False
    return True


_CHAT_CACHE: dict[str, Any] = {"at": 0.0, "subs": None}
CHAT_CACHE_SECONDS = 30


def chat_subscriptions(fresh: bool = False) -> list[dict]:
    now = time.monotonic()
    if fresh or _CHAT_CACHE["subs"] is None or now - _CHAT_CACHE["at"] > CHAT_CACHE_SECONDS:
        subs = [d for d in store.list_docs(store.SUBSCRIPTIONS).values() if d.get("protocol") in CHAT_PROTOCOLS]
        _CHAT_CACHE.update(at=now, subs=subs)
    return _CHAT_CACHE["subs"]


def http_transport(request: chat.HttpRequest, timeout: float = 10.0):
    req = urllib.request.Request(request.url, data=request.body, headers=dict(request.headers),
                                 method=request.method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers or {}), exc.read()


class DeliveryFailed(Exception):
    pass


def parse_sns_envelope(body: str) -> tuple[Alert, dict[str, str]]:
    envelope = json.loads(body)
    if "Message" in envelope and "TopicArn" in envelope:
        attrs = {k: v.get("Value") for k, v in (envelope.get("MessageAttributes") or {}).items()}
        message = envelope["Message"]
    else:  # raw message delivery
        attrs, message = {}, body
    alert = Alert.from_dict(json.loads(message))
    if not attrs:
        attrs = {k: str(getattr(alert, k)) for k in ATTRIBUTES if getattr(alert, k) not in (None, "")}
    return alert, attrs


def notify_message(body: str, now_ms: int, *, send: chat.Transport = http_transport,
                   sleep: Callable[[float], None] = time.sleep,
                   clock_ms: Callable[[], int] = lambda: int(time.time() * 1000)) -> dict:
    """Deliver one SNS message to every matching chat subscription not yet delivered to.
    Raises DeliveryFailed when any target is still undelivered (the queue redelivers; then its DLQ)."""
    alert, attrs = parse_sns_envelope(body)
    policy = chat.RetryPolicy(base_delay=settings().notify_retry_base_delay,
                              max_delay=30 * settings().notify_retry_base_delay,
                              max_total_wait=max(0.0, 60 * settings().notify_retry_base_delay))
    delivered, skipped, failed = [], [], []
    for sub in chat_subscriptions():
        if not matches(sub.get("filter_policy", "{}"), attrs):
            continue
        marker = f"sent#{alert.id}#{sub['id']}"
        if store.was_sent(marker):
            skipped.append(sub["id"])
            continue
        creds = secrets.read_json(_chat_secret_name(sub["id"])) or {}
        if not creds.get("url"):
            failed.append((sub["id"], "no_webhook_secret"))
            continue
        target = chat.ChatTarget(chat.Platform(sub["protocol"]), creds["url"], creds.get("secret"), sub["id"])
        result = chat.deliver(target, alert, send, clock_ms=clock_ms, sleep=sleep, policy=policy)
        if result.ok:
            store.mark_sent(marker, {"alert": alert.id, "sub": sub["id"], "attempts": result.attempts},
                            now_ms, SENT_TTL_S)
            delivered.append(sub["id"])
        else:
            failed.append((sub["id"], f"{result.status}:{result.outcome.code}"))
    metrics.add_metric(name="ChatDelivered", unit="Count", value=len(delivered))
    if failed:
        metrics.add_metric(name="ChatDeliveryFailed", unit="Count", value=len(failed))
        logger.warning("chat delivery failed", extra={"alert_id": alert.id, "failed": failed})
        raise DeliveryFailed(f"alert {alert.id}: {failed}")
    return {"alert_id": alert.id, "delivered": delivered, "already": skipped}

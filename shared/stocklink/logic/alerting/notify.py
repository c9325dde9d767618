"""Chat fan-out (the notify function): one SNS message -> every matching chat subscription, each at most
once per alert (a delivery marker per alert and subscription: SNS delivers at least once), through the
project's one outbound transport (seams.send). A target still undelivered fails the message, so the
queue redelivers it and, in the end, moves it to its DLQ: nothing is dropped silently."""
from __future__ import annotations

import json
from typing import Callable, Mapping

from stocklink import secrets
from stocklink.alerts import chat
from stocklink.alerts.messages import ATTRIBUTES, Alert
from stocklink.config import settings
from stocklink.logic.alerting import seams, subscriptions
from stocklink.observability import logger, metrics
from stocklink.store import alert_models as store

SENT_TTL_S = 14 * 24 * 3600


class DeliveryFailed(Exception):
    pass


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


def chat_subscriptions() -> list[dict]:
    """Read fresh for every batch, never cached across invocations: a subscription made a second before
    an alert must receive it (a container-wide cache lost such alerts), and alerts are rare enough that
    one read per batch costs nothing."""
    return [d for d in store.subscriptions() if d.get("protocol") in subscriptions.CHAT_PROTOCOLS]


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


def notify_message(body: str, now_ms: int, *, targets: list[dict] | None = None,
                   send: chat.Transport | None = None,
                   sleep: Callable[[float], None] | None = None,
                   clock_ms: Callable[[], int] | None = None) -> dict:
    """Deliver one SNS message to every matching chat subscription not yet delivered to.
    Raises DeliveryFailed when any target is still undelivered (the queue redelivers; then its DLQ).
    `targets`: the chat subscriptions read for this batch (read now when not given).
    `send`, `sleep`, `clock_ms`: default to seams' (looked up now, so a patched seam applies)."""
    alert, attrs = parse_sns_envelope(body)
    send = seams.send if send is None else send
    sleep = seams.sleep if sleep is None else sleep
    clock_ms = seams.clock_ms if clock_ms is None else clock_ms
    base = settings().notify_retry_base_delay
    policy = chat.RetryPolicy(base_delay=base, max_delay=30 * base, max_total_wait=max(0.0, 60 * base))
    delivered, skipped, failed = [], [], []
    for sub in chat_subscriptions() if targets is None else targets:
        if not matches(sub.get("filter_policy", "{}"), attrs):
            continue
        if store.was_delivered(alert.id, sub["id"]):
            skipped.append(sub["id"])
            continue
        creds = secrets.read_json(subscriptions.chat_secret_name(sub["id"])) or {}
        if not creds.get("url"):
            failed.append((sub["id"], "no_webhook_secret"))
            continue
        target = chat.ChatTarget(chat.Platform(sub["protocol"]), creds["url"], creds.get("secret"), sub["id"])
        result = chat.deliver(target, alert, send, clock_ms=clock_ms, sleep=sleep, policy=policy)
        if result.ok:
            store.mark_delivered(alert.id, sub["id"], {"alert": alert.id, "sub": sub["id"],
                                                       "attempts": result.attempts}, now_ms, SENT_TTL_S)
            delivered.append(sub["id"])
        else:
            failed.append((sub["id"], f"{result.status}:{result.outcome.code}"))
    metrics.add_metric(name="ChatDelivered", unit="Count", value=len(delivered))
    if failed:
        metrics.add_metric(name="ChatDeliveryFailed", unit="Count", value=len(failed))
        logger.warning("chat delivery failed", extra={"alert_id": alert.id, "failed": failed})
        raise DeliveryFailed(f"alert {alert.id}: {failed}")
    return {"alert_id": alert.id, "delivered": delivered, "already": skipped}

"""Subscriptions (PUT/DELETE/GET /subscriptions): email and SMS are SNS subscriptions on the alerts topic,
filtered by SNS itself; chat targets (WeCom, DingTalk, Feishu/Lark, Slack) are delivered by the notify
function (stocklink.logic.alerting.notify), their webhook URL and signing secret kept in Secrets Manager."""
from __future__ import annotations

import re
from typing import Any, Mapping

from stocklink import notifications, secrets
from stocklink.alerts import chat
from stocklink.alerts.messages import filter_policy
from stocklink.config import CHAT_SECRETS, settings
from stocklink.errors import NotFound, ValidationFailed
from stocklink.logic.paging import PageRequest
from stocklink.observability import logger
from stocklink.outbound_policy import OutboundRefused, vet_url
from stocklink.store import alert_models as store

CHAT_PROTOCOLS = {p.value for p in chat.Platform}
SNS_PROTOCOLS = {"email", "sms"}


def chat_secret_name(sub_id: str) -> str:
    return f"{settings().secrets_prefix}{CHAT_SECRETS}{sub_id}"


def _mask(url: str) -> str:
    return url[:24] + "…" if len(url) > 24 else url


def put_subscription(sub_id: str, body: Mapping[str, Any], now_ms: int) -> dict:
    protocol, endpoint, spec, policy = _validated(sub_id, body)
    previous = store.subscription(sub_id)
    doc: dict[str, Any] = {"id": sub_id, "protocol": protocol, "filter": spec, "filter_policy": policy,
                           "name": body.get("name") or sub_id}
    if protocol in SNS_PROTOCOLS:
        doc.update(_sns_target(protocol, endpoint, policy, previous))
    else:
        doc.update(_chat_target(sub_id, protocol, endpoint, body.get("secret"), previous))
    store.save_subscription(sub_id, doc, now_ms)
    return doc


def _validated(sub_id: str, body: Mapping[str, Any]) -> tuple[str, Any, Any, str]:
    """(protocol, endpoint, filter, SNS filter policy) of a PUT body, validated."""
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
    return protocol, endpoint, spec, policy


def _sns_target(protocol: str, endpoint: str, policy: str, previous: dict | None) -> dict[str, Any]:
    """Subscribe (or re-filter) the address on the topic; replaces a previous subscription to another one."""
    if protocol == "email" and "@" not in endpoint:
        raise ValidationFailed("endpoint must be an email address")
    if protocol == "sms" and not re.fullmatch(r"\+[1-9]\d{6,14}", endpoint):
        raise ValidationFailed("endpoint must be an E.164 phone number, e.g. +8613800000000")
    arn = (previous or {}).get("subscription_arn")
    same = previous and previous.get("protocol") == protocol and previous.get("endpoint") == endpoint
    if arn and same:
        notifications.set_filter_policy(arn, policy)
    else:
        if arn:
            _unsubscribe(arn)
        arn = notifications.subscribe(protocol, endpoint, policy)
    return {"endpoint": endpoint, "subscription_arn": arn}


def _chat_target(sub_id: str, protocol: str, endpoint: str, secret: Any,
                 previous: dict | None) -> dict[str, Any]:
    # the notify function sends only what the outbound policy allows: refuse anything else now, store nothing
    try:
        vet_url(endpoint, chat.WEBHOOK_HOSTS[chat.Platform(protocol)])
    except OutboundRefused as exc:
        raise ValidationFailed(f"endpoint refused: {exc}", field="endpoint") from None
    if secret is not None and not isinstance(secret, str):
        raise ValidationFailed("secret must be a string")
    # the webhook URL carries the robot's key: both live in Secrets Manager, never in the table
    secrets.write_json(chat_secret_name(sub_id), {"url": endpoint, "secret": secret})
    if previous and previous.get("subscription_arn"):
        _unsubscribe(previous["subscription_arn"])
    return {"endpoint_hint": _mask(endpoint), "signed": bool(secret)}


def _unsubscribe(arn: str) -> None:
    try:
        notifications.unsubscribe(arn)
    except Exception:  # noqa: BLE001 - pending confirmations have no ARN to remove; nothing else to undo
        logger.warning("unsubscribe failed", extra={"arn": arn})


def delete_subscription(sub_id: str) -> dict:
    doc = store.subscription(sub_id)
    if doc is None:
        raise NotFound(f"no subscription {sub_id}")
    if doc.get("subscription_arn"):
        _unsubscribe(doc["subscription_arn"])
    store.delete_subscription(sub_id)
    return {"deleted": sub_id}


def list_subscriptions(page: PageRequest = PageRequest()) -> dict:
    """Pages follow the order subscriptions were last written; within a page they are sorted by id."""
    found = store.subscriptions_page(page.limit, page.cursor)
    return {"subscriptions": sorted(found.items, key=lambda d: d["id"]), "next": found.next}

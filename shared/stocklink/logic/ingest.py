"""Platform webhook ingestion: verify on raw bytes, normalize through the platform's adapter, apply.

Nothing is stored before the signature, the shop the delivery names and its age are verified; nothing is
stored for a payload that cannot be parsed; every parsed order event is applied exactly once (see
stocklink.logic.orders).
"""
from __future__ import annotations

from stocklink.channels.base import PayloadInvalid, WebhookRejected, WebhookRequest
from stocklink.errors import NotFound, Unauthorized, ValidationFailed
from stocklink.logic import orders
from stocklink.logic.catalog import shop_credentials
from stocklink.observability import logger


# One answer for an unknown shop, a bad signature, another shop's delivery and a stale one: the reason is
# logged, never told to the caller (no oracle).
REJECTED = "webhook not accepted"


def ingest_webhook(platform: str, shop: str, request: WebhookRequest, now_ms: int) -> dict:
    from stocklink.channels.registry import adapter_for  # one adapter module per platform

    try:
        adapter = adapter_for(platform)
    except (KeyError, ValueError, LookupError):
        raise NotFound(f"no webhook for platform {platform}") from None
    credentials = shop_credentials(platform, shop)
    try:
        if credentials is None:
            raise WebhookRejected("unknown shop")
        adapter.verify_webhook(request, credentials)
        adapter.verify_shop_and_freshness(request, credentials, shop, now_ms / 1000)
    except WebhookRejected as exc:
        logger.warning("webhook rejected", extra={"platform": platform, "shop": shop, "reason": str(exc)})
        raise Unauthorized(REJECTED) from None
    except PayloadInvalid as exc:
        raise ValidationFailed(str(exc)) from None
    try:
        events = adapter.parse_webhook(request, shop)
    except PayloadInvalid as exc:
        raise ValidationFailed(str(exc)) from None
    events = [_with_order_detail(adapter, credentials, event) for event in events]
    outcomes = [orders.apply_order_event(event, now_ms) for event in events]
    return {"received": len(events), "outcomes": outcomes}


class OrderDetailUnavailable(Exception):
    """The platform's order-detail API did not answer: a 5xx makes the platform redeliver the webhook."""


def _with_order_detail(adapter, credentials: dict, event):
    """Platforms whose webhooks carry no lines (TikTok, Shopee, Lazada): fetch the signed order detail."""
    needs = getattr(adapter, "needs_order_detail", None)
    if needs is None or not needs(event):
        return event
    from stocklink.outbound import send
    from stocklink.outbound_policy import OutboundRefused, error_text

    try:
        status, _headers, body = send(adapter.build_order_detail(credentials, event))
    except OutboundRefused as exc:
        # the shop's stored API URL is refused: a 5xx keeps the platform redelivering until it is fixed
        logger.warning("order detail refused", extra={"platform": event.platform, "shop": event.shop,
                                                      "reason": error_text(str(exc))})
        raise OrderDetailUnavailable(f"{event.platform} order detail: refused by the outbound policy") from None
    if status == 0 or status == 429 or status >= 500:
        raise OrderDetailUnavailable(f"{event.platform} order detail: HTTP {status}")
    try:
        return adapter.parse_order_detail(event, status, body)
    except PayloadInvalid as exc:       # the text may quote the platform's answer: capped, one line
        raise ValidationFailed(error_text(str(exc))) from None

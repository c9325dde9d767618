"""Shopify adapter.

Webhooks: `X-Shopify-Hmac-Sha256` is base64(HMAC-SHA256(app/webhook secret, raw body)); the topic is in
`X-Shopify-Topic`, the delivery id in `X-Shopify-Webhook-Id`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Mapping

from stocklink.channels.base import (
    OrderEvent,
    OrderEventKind,
    OrderLine,
    PayloadInvalid,
    WebhookRejected,
    WebhookRequest,
    constant_time_equal,
)

PLATFORM = "shopify"

_KIND_BY_TOPIC = {
    "orders/create": OrderEventKind.CREATED,
    "orders/paid": OrderEventKind.PAID,
    "orders/cancelled": OrderEventKind.CANCELLED,
    "orders/fulfilled": OrderEventKind.SHIPPED,
    "refunds/create": OrderEventKind.RETURNED,
}
# Shopify's financial_status values that mean the money is taken (or promised by the gateway).
_PAID_STATUSES = {"paid", "partially_paid", "partially_refunded", "refunded", "authorized"}


def webhook_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class ShopifyAdapter:
    platform = PLATFORM
    batch_size = 250          # inventorySetQuantities accepts up to 250 quantities per call
    rate_per_second = 2.0     # conservative: a set of 250 costs ~ 10+ points of the 100 points/s budget
    burst = 4

    def verify_webhook(self, request: WebhookRequest, credentials: Mapping[str, str]) -> None:
        secret = credentials.get("webhook_secret")
        received = request.header("x-shopify-hmac-sha256")
        if not secret or not received:
            raise WebhookRejected("missing Shopify signature or shop secret")
        if not constant_time_equal(webhook_signature(secret, request.body), received):
            raise WebhookRejected("Shopify HMAC does not match")

    def parse_webhook(self, request: WebhookRequest, shop: str) -> list[OrderEvent]:
        topic = request.header("x-shopify-topic") or ""
        kind = _KIND_BY_TOPIC.get(topic)
        if kind is None:
            return []  # topics we do not act on (orders/updated etc.) are acknowledged and ignored
        try:
            payload = json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PayloadInvalid(f"body is not JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise PayloadInvalid("body must be a JSON object")
        delivery_id = request.header("x-shopify-webhook-id") or ""
        if kind is OrderEventKind.RETURNED:
            return [self._refund_event(payload, shop, delivery_id)]
        order_id = _required(payload, "id")
        lines = tuple(_order_line(item) for item in payload.get("line_items") or [])
        if kind in (OrderEventKind.CREATED, OrderEventKind.PAID) and not lines:
            raise PayloadInvalid("order has no line_items")
        return [
            OrderEvent(
                platform=PLATFORM,
                shop=shop,
                order_id=str(order_id),
                kind=kind,
                lines=lines,
                delivery_id=delivery_id,
                paid=str(payload.get("financial_status", "")).lower() in _PAID_STATUSES,
                occurred_at=payload.get("updated_at") or payload.get("created_at"),
            )
        ]

    def _refund_event(self, payload: dict, shop: str, delivery_id: str) -> OrderEvent:
        order_id = _required(payload, "order_id")
        refund_id = _required(payload, "id")
        lines = []
        for refund_line in payload.get("refund_line_items") or []:
            # Only restocked lines put stock back; "no_restock" refunds money only.
            if refund_line.get("restock_type") not in ("return", "cancel", "legacy_restock"):
                continue
            item = refund_line.get("line_item") or {}
            qty = refund_line.get("quantity")
            lines.append(_order_line({**item, "quantity": qty}))
        return OrderEvent(
            platform=PLATFORM,
            shop=shop,
            order_id=str(order_id),
            kind=OrderEventKind.RETURNED,
            lines=tuple(lines),
            delivery_id=f"refund-{refund_id}",
            occurred_at=payload.get("created_at"),
        )


def _required(payload: dict, key: str):
    value = payload.get(key)
    if value in (None, ""):
        raise PayloadInvalid(f"missing field {key!r}")
    return value


def _order_line(item: dict) -> OrderLine:
    qty = item.get("quantity")
    if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
        raise PayloadInvalid(f"line item {item.get('id')!r} has invalid quantity {qty!r}")
    variant_id = item.get("variant_id")
    listing_id = str(variant_id) if variant_id not in (None, "") else str(item.get("sku") or "")
    if not listing_id:
        raise PayloadInvalid(f"line item {item.get('id')!r} has neither variant_id nor sku")
    sku = item.get("sku") or None
    return OrderLine(listing_id=listing_id, qty=qty, seller_sku=sku)

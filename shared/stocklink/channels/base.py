"""The one interface every platform adapter implements.

Platform specifics (headers, signature schemes, payload shapes, status names, batch sizes, rate limits)
live only in the adapter modules; the rest of StockLink sees `OrderEvent`s in and `StockPush`es out.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Mapping, Protocol


class OrderEventKind(StrEnum):
    CREATED = "created"      # unpaid order: hold stock
    PAID = "paid"            # commit the hold (or hold+commit when created already paid)
    CANCELLED = "cancelled"  # release whatever the order still holds
    SHIPPED = "shipped"      # stock leaves the warehouse
    RETURNED = "returned"    # restocked return: stock back on hand


@dataclass(frozen=True)
class OrderLine:
    """One order line as the platform names it; mapping to master SKUs happens outside the adapter."""

    listing_id: str          # the platform's variant / SKU / item id used in listings
    qty: int
    seller_sku: str | None = None  # the seller's own SKU code when the platform carries one


@dataclass(frozen=True)
class OrderEvent:
    platform: str
    shop: str
    order_id: str
    kind: OrderEventKind
    lines: tuple[OrderLine, ...]
    delivery_id: str         # the platform's id for this delivery/notification (dedupe of redeliveries)
    paid: bool = False       # CREATED already paid -> hold and commit at once
    occurred_at: str | None = None

    @property
    def event_key(self) -> str:
        """Identity of the business event: retries of it, whatever their delivery id, have one effect."""
        return f"{self.platform}#{self.shop}#{self.order_id}#{self.kind.value}#{self.delivery_suffix}"

    @property
    def delivery_suffix(self) -> str:
        # A return can happen several times per order; each refund is its own event. Other kinds happen
        # once per order, so redeliveries with new delivery ids still collapse onto one key.
        return self.delivery_id if self.kind is OrderEventKind.RETURNED else "-"


@dataclass(frozen=True)
class WebhookRequest:
    """The raw HTTP request as received: signatures are checked over `body` bytes, before parsing."""

    headers: Mapping[str, str]   # lower-cased names
    body: bytes
    url: str = ""                # full callback URL as the platform called it (Shopee signs it)
    query: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class StockPush:
    """The quantity one listing should show on its platform."""

    listing_id: str
    quantity: int
    platform_ids: Mapping[str, str] = field(default_factory=dict)  # e.g. product_id, inventory_item_id


@dataclass(frozen=True)
class HttpCall:
    """A fully built, signed platform API request; sending it is the caller's job."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""


class WebhookRejected(Exception):
    """Signature missing or wrong, or the shop is unknown: answer 401 and store nothing."""


class PayloadInvalid(Exception):
    """Signature fine but the payload cannot be understood: answer 400 with the reason."""


class ChannelAdapter(Protocol):
    platform: str
    batch_size: int                 # listings per stock-update request
    rate_per_second: float          # documented sustained call rate per shop
    burst: int                      # token-bucket capacity

    def verify_webhook(self, request: WebhookRequest, credentials: Mapping[str, str]) -> None:
        """Raise WebhookRejected unless the request is signed with the shop's secret."""

    def parse_webhook(self, request: WebhookRequest, shop: str) -> list[OrderEvent]:
        """Normalized order events (possibly none: topics we do not act on). PayloadInvalid if broken."""

    def build_stock_updates(self, credentials: Mapping[str, str], pushes: list[StockPush]) -> list[HttpCall]:
        """Signed requests setting each listing's quantity, batched to `batch_size`."""

    def build_read_back(self, credentials: Mapping[str, str], listing_ids: list[str]) -> list[HttpCall]:
        """Signed requests reading the quantities the platform currently shows."""

    def parse_read_back(self, status: int, body: bytes) -> dict[str, int]:
        """listing_id -> quantity shown, from one read-back response."""

    def classify_response(self, status: int, body: bytes, headers: Mapping[str, str] | None = None):
        """CallResult (stocklink.channels._common): ok, retryable (429/5xx/throttle codes) or permanent."""

    def needs_order_detail(self, event: OrderEvent) -> bool:
        """True when the webhook carried no lines and the order must be fetched before applying it."""

    def build_order_detail(self, credentials: Mapping[str, str], event: OrderEvent) -> HttpCall:
        """Signed request for the order (or return) detail; only where needs_order_detail can be True."""

    def parse_order_detail(self, event: OrderEvent, status: int, body: bytes) -> OrderEvent:
        """The event completed with its lines from the detail response. PayloadInvalid if unusable."""


def constant_time_equal(a: str | bytes, b: str | bytes) -> bool:
    """Signature comparison that does not leak how many leading characters matched."""
    a_bytes = a.encode() if isinstance(a, str) else a
    b_bytes = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(a_bytes, b_bytes)

"""Shopify adapter.

Webhooks: `X-Shopify-Hmac-Sha256` is base64(HMAC-SHA256(app/webhook secret, raw body)); the topic is in
`X-Shopify-Topic`, the delivery id in `X-Shopify-Webhook-Id`. Order webhooks carry their line items.
Whose and how old (verify_shop_and_freshness): every delivery carries `X-Shopify-Shop-Domain` ("the
myshopify.com domain of the store that triggered the event") and `X-Shopify-Triggered-At` (when Shopify
triggered it); a failed delivery is retried "a total of 8 times over 4 hours", with the original payload
and the trigger time, which Shopify says to use to tell a stale payload (shopify.dev "Webhooks delivery
structure", Headers; changelog "Updates to webhook retry mechanism", 2024-09-10). The domain must be the
shop's `shop_domain` credential (else the host of a *.myshopify.com `api_base_url`, else the shop's own
name in StockLink when it is a myshopify.com domain; a shop with none of them is refused), and the trigger
time within 4 hours. Both headers sit outside the HMAC, which covers the body only and whose key is the
app's secret, shared by every shop the app is installed on: they stop a delivery replayed or routed as
sent, not one whose headers were rewritten; only a secret per shop (a custom app per store) binds the
body itself to one shop.

Stock: Admin GraphQL `inventorySetQuantities` (POST {base}/admin/api/{version}/graphql.json, header
`X-Shopify-Access-Token`). From API 2026-04 every quantity must name `changeFromQuantity` explicitly
(an int = compare-and-swap, `null` = opt out; the older `compareQuantity`/`ignoreCompareQuantity` are
removed) and the mutation must carry `@idempotent(key:)`. StockLink is the source of truth for the
listed quantity, so it sends `null` unless the push says what it expects to overwrite.

Relative stock (`build_stock_adjustments`, used for SKUs at risk): Admin GraphQL
`inventoryAdjustQuantities` with input {name: "available", reason: "correction", referenceDocumentUri,
changes: [{inventoryItemId, locationId, delta, changeFromQuantity: null}]} and `@idempotent(key:)`
(required from 2026-04; the same key on a retry returns the first answer, never a second adjustment;
given the caller's `key`, a rebuilt call carries the same idempotency key as the first build).
Every change names `changeFromQuantity` explicitly, as 2026-04 requires on InventoryChangeInput too;
StockLink passes null: the point of a delta is to be right whatever the platform's checkout did
meanwhile, which a compare-and-swap would refuse instead. No `ledgerDocumentUri`: it is refused when
adjusting `available` (INVALID_AVAILABLE_DOCUMENT). Shopify lets `available` go below 0 on an
adjustment: its error codes floor the result at -2,000,000,000 (INVALID_QUANTITY_TOO_LOW) and have no
INVALID_QUANTITY_NEGATIVE (which the set-on-hand and move mutations do have), so a decrease is never cut
short: `relative_below_zero = True`.
The answer is {data: {inventoryAdjustQuantities: {inventoryAdjustmentGroup, userErrors: [{code, field,
message}]}}}. The reference does not say whether a call with userErrors changed some of its lines;
StockLink reads it as having changed nothing (the group comes back null) and reconciliation's read-back
settles any doubt. ADJUST_QUANTITIES_FAILED ("try again") and IDEMPOTENCY_CONCURRENT_REQUEST (the
same key still in progress) are worth resending as is; the others (CHANGE_FROM_QUANTITY_STALE,
INVALID_INVENTORY_ITEM, IDEMPOTENCY_KEY_PARAMETER_MISMATCH, ...) are not. A retry must resend the same
HttpCall or rebuild it with the same `key`: a build without one gets a new idempotency key, which Shopify
applies as a second change.

Checked (2026-12): shopify.dev Admin GraphQL reference, `inventoryAdjustQuantities` (2026-04..2026-10:
"As of version 2026-04, the idempotency key is required"), `InventoryAdjustQuantitiesInput`,
`InventoryChangeInput` (changeFromQuantity "mandatory: you must explicitly pass in a value, even if that
value is null"), `InventoryAdjustQuantitiesPayload`, `InventoryAdjustQuantitiesUserErrorCode`;
changelog "Making changeFromQuantity field required (with explicit opt-out)" (2026-04) and "Making
idempotency mandatory for inventory adjustments and refund mutations"; "Implementing idempotency".

API hosts (outbound allowlist): `*.myshopify.com`. The Admin API is served on the store's permanent
myshopify.com domain, `https://{store}.myshopify.com/admin/api/{version}/graphql.json` (shopify.dev GraphQL
Admin API reference; the official @shopify/admin-api-client takes `storeDomain: 'my-store.myshopify.com'`),
not on a custom storefront domain.

Discovery (`build_list_listings`): Admin GraphQL `productVariants(first: 250, after: $cursor)` with
`pageInfo { hasNextPage endCursor }` (cursor-based pagination, at most 250 a page; shopify.dev "Retrieve
product data using the new product model" and the productVariants query reference, checked 2026-12); each
variant gives `sku`, `barcode`, `displayName` and `inventoryItem.id` (the id pushes set). listing_id = the
variant's numeric id.

Credentials: access_token, location_id, webhook_secret, shop_domain (the myshopify.com domain; binds
webhooks) or api_base_url, api_version?
StockPush.platform_ids: inventory_item_id (required), location_id (optional, overrides credentials),
expected_quantity (optional -> changeFromQuantity). StockAdjust.platform_ids: inventory_item_id,
location_id (optional). listing_id = the variant id order lines carry.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import Mapping
from urllib.parse import urlsplit

from stocklink.channels._common import (
    CallResult,
    Outcome,
    by_status,
    check_delta,
    check_quantity,
    chunks,
    compact_json,
    iso_seconds,
    positive_qty,
    require,
    require_fresh,
    require_id,
    require_same_shop,
    text,
    try_json,
)
from stocklink.channels.base import (
    DiscoveredListing,
    HttpCall,
    ListingPage,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    PayloadInvalid,
    StockAdjust,
    StockPush,
    WebhookRejected,
    WebhookRequest,
    constant_time_equal,
)
from stocklink.outbound_policy import HostRule

PLATFORM = "shopify"
API_HOSTS = HostRule("Shopify Admin API", suffixes=(".myshopify.com",))

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


WEBHOOK_RETRY_HORIZON_S = 4 * 3600   # "retried a total of 8 times over 4 hours"
MYSHOPIFY = ".myshopify.com"


def shop_domain(credentials: Mapping[str, str], shop: str) -> str | None:
    """The myshopify.com domain the shop's webhooks must name: configured, or implied by its API host or by
    the name the shop has in StockLink."""
    if credentials.get("shop_domain"):
        return str(credentials["shop_domain"]).strip().lower()
    host = (urlsplit(str(credentials.get("api_base_url") or "")).hostname or "").lower()
    for candidate in (host, (shop or "").strip().lower()):
        if candidate.endswith(MYSHOPIFY):
            return candidate
    return None


API_VERSION = "2026-04"
# Input arrays are capped at 250 items across the Admin API.
MAX_ARRAY = 250

_SET_MUTATION = (
    "mutation StockLinkSet($input: InventorySetQuantitiesInput!, $key: String!) {"
    " inventorySetQuantities(input: $input) @idempotent(key: $key) {"
    " inventoryAdjustmentGroup { id } userErrors { code field message } } }"
)
_ADJUST_MUTATION = (
    "mutation StockLinkAdjust($input: InventoryAdjustQuantitiesInput!, $key: String!) {"
    " inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {"
    " inventoryAdjustmentGroup { id } userErrors { code field message } } }"
)
_KEY_NAMESPACE = uuid.UUID("5d1c0b1e-6a43-4c4e-9a53-2f4c1e0b7a10")  # StockLink's adjustment keys
_READ_QUERY = (
    "query StockLinkLevels($ids: [ID!]!, $location: ID!) { nodes(ids: $ids) {"
    " ... on ProductVariant { id inventoryItem { id inventoryLevel(locationId: $location) {"
    " quantities(names: [\"available\"]) { name quantity } } } } } }"
)
_LIST_QUERY = (
    "query StockLinkVariants($first: Int!, $after: String) { productVariants(first: $first, after: $after) {"
    " pageInfo { hasNextPage endCursor } nodes { id sku barcode displayName inventoryQuantity"
    " inventoryItem { id } product { id } } } }"
)
# GraphQL error codes (errors[].extensions.code) that mean "slow down / try later".
_RETRYABLE_GRAPHQL = {"THROTTLED", "MAX_COST_EXCEEDED_RETRY", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"}
# userErrors codes whose documented meaning is "try again": nothing was changed, the same call may be resent.
_RETRYABLE_USER_ERRORS = {"ADJUST_QUANTITIES_FAILED", "IDEMPOTENCY_CONCURRENT_REQUEST"}


def gid(kind: str, value: str) -> str:
    value = str(value)
    return value if value.startswith("gid://") else f"gid://shopify/{kind}/{value}"


def numeric_id(value: str) -> str:
    return str(value).rsplit("/", 1)[-1]


class ShopifyAdapter:
    platform = PLATFORM
    api_hosts = API_HOSTS
    batch_size = MAX_ARRAY
    # Standard plan: 100 cost points/s per app+store; a mutation costs ~10 points. Use half of it so
    # read-backs and order look-ups still fit; Advanced/Plus shops have 2x/10x the budget.
    rate_per_second = 5.0
    burst = 10
    webhook_carries_lines = True
    supports_relative = True
    relative_below_zero = True     # adjustments may take `available` below 0
    relative_idempotent = True     # @idempotent key inside each built call
    compare_and_set = True         # a set with expected_quantity is refused unless the platform shows that

    def verify_webhook(self, request: WebhookRequest, credentials: Mapping[str, str]) -> None:
        secret = credentials.get("webhook_secret")
        received = request.header("x-shopify-hmac-sha256")
        if not secret or not received:
            raise WebhookRejected("missing Shopify signature or shop secret")
        if not constant_time_equal(webhook_signature(secret, request.body), received):
            raise WebhookRejected("Shopify HMAC does not match")

    def verify_shop_and_freshness(self, request: WebhookRequest, credentials: Mapping[str, str], shop: str,
                                  now_s: float) -> None:
        named = (request.header("x-shopify-shop-domain") or "").strip().lower()
        require_same_shop(named, shop_domain(credentials, shop), "shop_domain")
        require_fresh(iso_seconds(request.header("x-shopify-triggered-at")), now_s, WEBHOOK_RETRY_HORIZON_S)

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

    # -- order detail: Shopify webhooks carry the lines, nothing to fetch ------------------------------
    def needs_order_detail(self, event: OrderEvent) -> bool:
        return False

    # -- outbound ---------------------------------------------------------------------------------------
    def api_base(self, credentials: Mapping[str, str]) -> str:
        if credentials.get("api_base_url"):
            return credentials["api_base_url"]
        return f"https://{credentials['shop_domain']}" if credentials.get("shop_domain") else ""

    def _endpoint(self, credentials: Mapping[str, str]) -> tuple[str, dict[str, str]]:
        (token,) = require(credentials, "access_token")
        base = self.api_base(credentials)
        if not base:
            raise ValueError("missing credentials: api_base_url or shop_domain")
        version = credentials.get("api_version") or API_VERSION
        url = f"{base.rstrip('/')}/admin/api/{version}/graphql.json"
        return url, {"Content-Type": "application/json", "X-Shopify-Access-Token": token}

    def build_stock_updates(self, credentials: Mapping[str, str], pushes: list[StockPush]) -> list[HttpCall]:
        url, headers = self._endpoint(credentials)
        default_location = credentials.get("location_id")
        calls = []
        for batch in chunks(pushes, self.batch_size):
            quantities = []
            for push in batch:
                ids = push.platform_ids
                location = ids.get("location_id") or default_location
                if not location:
                    raise ValueError(f"listing {push.listing_id!r}: no location_id (credentials or platform_ids)")
                expected = ids.get("expected_quantity")
                quantities.append({
                    "inventoryItemId": gid("InventoryItem", require_id(ids, "inventory_item_id", push.listing_id)),
                    "locationId": gid("Location", location),
                    "quantity": check_quantity(push.quantity, push.listing_id),
                    # Explicit null = StockLink is the source of truth; an int turns on compare-and-swap.
                    "changeFromQuantity": int(expected) if expected not in (None, "") else None,
                })
            # One key per built call: a retry of this same HttpCall is recognised as a duplicate.
            key = str(uuid.uuid4())
            body = {
                "query": _SET_MUTATION,
                "variables": {
                    "key": key,
                    "input": {
                        "name": "available",
                        "reason": "correction",
                        "referenceDocumentUri": f"gid://stocklink/StockSync/{key}",
                        "quantities": quantities,
                    },
                },
            }
            calls.append(HttpCall("POST", url, headers, compact_json(body), API_HOSTS))
        return calls

    def build_stock_adjustments(self, credentials: Mapping[str, str], adjusts: list[StockAdjust],
                                key: str | None = None) -> list[HttpCall]:
        url, headers = self._endpoint(credentials)
        default_location = credentials.get("location_id")
        calls = []
        for index, batch in enumerate(chunks(adjusts, self.batch_size)):
            changes = []
            for adjust in batch:
                ids = adjust.platform_ids
                location = ids.get("location_id") or default_location
                if not location:
                    raise ValueError(f"listing {adjust.listing_id!r}: no location_id (credentials or platform_ids)")
                changes.append({
                    "inventoryItemId": gid("InventoryItem", require_id(ids, "inventory_item_id", adjust.listing_id)),
                    "locationId": gid("Location", location),
                    "delta": check_delta(adjust.delta, adjust.listing_id),
                    # Explicit null: a delta is meant to hold whatever the count is by the time it lands.
                    "changeFromQuantity": None,
                })
            # The caller's key gives every rebuild of this batch the same idempotency key (a UUID, as
            # Shopify recommends); without one each build is a new adjustment.
            batch_key = str(uuid.uuid5(_KEY_NAMESPACE, f"{key}#{index}") if key else uuid.uuid4())
            body = {
                "query": _ADJUST_MUTATION,
                "variables": {
                    "key": batch_key,
                    "input": {
                        "name": "available",
                        "reason": "correction",
                        "referenceDocumentUri": f"gid://stocklink/StockSync/{batch_key}",
                        "changes": changes,
                    },
                },
            }
            calls.append(HttpCall("POST", url, headers, compact_json(body), API_HOSTS))
        return calls

    def build_read_back(self, credentials: Mapping[str, str], listing_ids: list[str],
                        platform_ids: Mapping[str, Mapping[str, str]] | None = None) -> list[HttpCall]:
        url, headers = self._endpoint(credentials)
        (location,) = require(credentials, "location_id")
        return [
            HttpCall("POST", url, headers, compact_json({
                "query": _READ_QUERY,
                "variables": {"ids": [gid("ProductVariant", i) for i in batch],
                              "location": gid("Location", location)},
            }), API_HOSTS)
            for batch in chunks(listing_ids, MAX_ARRAY)
        ]

    def parse_read_back(self, status: int, body: bytes) -> dict[str, int]:
        payload = try_json(body)
        if status != 200 or not isinstance(payload, dict) or payload.get("errors"):
            raise PayloadInvalid(f"Shopify read-back failed: HTTP {status}")
        shown: dict[str, int] = {}
        for node in (payload.get("data") or {}).get("nodes") or []:
            if not node:
                continue  # unknown or deleted variant: nothing is listed
            level = (node.get("inventoryItem") or {}).get("inventoryLevel") or {}
            for quantity in level.get("quantities") or []:
                if quantity.get("name") == "available":
                    shown[numeric_id(node["id"])] = int(quantity["quantity"])
        return shown

    def build_list_listings(self, credentials: Mapping[str, str], cursor: dict | None) -> HttpCall:
        url, headers = self._endpoint(credentials)
        variables = {"first": MAX_ARRAY, "after": (cursor or {}).get("after")}
        return HttpCall("POST", url, headers, compact_json({"query": _LIST_QUERY, "variables": variables}),
                        API_HOSTS)

    def parse_list_listings(self, cursor: dict | None, status: int, body: bytes,
                            headers: Mapping[str, str] | None = None) -> ListingPage:
        payload = try_json(body)
        if status != 200 or not isinstance(payload, dict) or payload.get("errors"):
            raise PayloadInvalid(f"Shopify productVariants failed: HTTP {status}")
        connection = (payload.get("data") or {}).get("productVariants")
        if not isinstance(connection, dict):
            raise PayloadInvalid("Shopify productVariants: no connection in the answer")
        found = []
        for node in connection.get("nodes") or []:
            item = (node.get("inventoryItem") or {}).get("id")
            ids = {"inventory_item_id": numeric_id(item)} if item else {}
            if (node.get("product") or {}).get("id"):
                ids["product_id"] = numeric_id(node["product"]["id"])
            quantity = node.get("inventoryQuantity")
            found.append(DiscoveredListing(numeric_id(node["id"]), text(node.get("sku")).strip(),
                                           text(node.get("barcode")).strip(), text(node.get("displayName")), ids,
                                           quantity if isinstance(quantity, int) else None))
        info = connection.get("pageInfo") or {}
        more = info.get("hasNextPage") and info.get("endCursor")
        return ListingPage(tuple(found), {"after": info["endCursor"]} if more else None)

    def classify_response(self, status: int, body: bytes,
                          headers: Mapping[str, str] | None = None) -> CallResult:
        payload = try_json(body)
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if isinstance(errors, list) and errors:
            first = errors[0] if isinstance(errors[0], dict) else {}
            code = str((first.get("extensions") or {}).get("code") or "")
            message = str(first.get("message") or "")
        else:
            code, message = "", (str(errors) if errors else "")
        verdict = by_status(status, headers, code, message)
        if verdict:
            return verdict
        if status != 200:
            return CallResult(Outcome.PERMANENT, code or str(status), message)
        if code in _RETRYABLE_GRAPHQL:
            # THROTTLED comes back as HTTP 200: wait for the bucket to refill.
            return CallResult(Outcome.RETRYABLE, code, message)
        if errors:
            return CallResult(Outcome.PERMANENT, code or "GRAPHQL_ERROR", message)
        data = (payload or {}).get("data") or {}
        result = next(iter(data.values()), None) if isinstance(data, dict) else None
        user_errors = (result or {}).get("userErrors") or [] if isinstance(result, dict) else []
        if user_errors:
            first = user_errors[0]
            code, message = str(first.get("code") or "USER_ERROR"), str(first.get("message") or "")
            if all(str(e.get("code") or "") in _RETRYABLE_USER_ERRORS for e in user_errors):
                # Nothing was changed; resending the same call (same idempotency key) is safe.
                return CallResult(Outcome.RETRYABLE, code, message)
            # e.g. CHANGE_FROM_QUANTITY_STALE: someone changed the level; re-read and recompute, don't resend.
            return CallResult(Outcome.PERMANENT, code, message)
        return CallResult(Outcome.OK)

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
    qty = positive_qty(item.get("quantity"), f"line item {item.get('id')!r}")
    variant_id = item.get("variant_id")
    listing_id = str(variant_id) if variant_id not in (None, "") else str(item.get("sku") or "")
    if not listing_id:
        raise PayloadInvalid(f"line item {item.get('id')!r} has neither variant_id nor sku")
    sku = item.get("sku") or None
    return OrderLine(listing_id=listing_id, qty=qty, seller_sku=sku)

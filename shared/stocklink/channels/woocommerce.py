"""WooCommerce adapter (WC REST API v3).

Webhooks: `X-WC-Webhook-Signature` = base64(HMAC-SHA256(webhook secret, raw body)); topic in
`X-WC-Webhook-Topic` (order.created / order.updated / order.deleted ...), delivery id in
`X-WC-Webhook-Delivery-ID`. The order payload carries its line items and its `status`; the lifecycle is
read from the status, whatever the topic.
Whose and how old (verify_shop_and_freshness): WooCommerce adds `X-WC-Webhook-Source` = home_url('/') to
every delivery (WC_Webhook::deliver, "Since 2.6.0"); it must be the shop's `store_url` credential, else
its `api_base_url` (the site URL the REST API hangs off), compared without the trailing slash and with
scheme and host lower-cased. The header sits outside the signature (which covers the body only), but the
webhook secret is per webhook, so a delivery from another store also needs that store to share the
secret. No age is checked: WooCommerce stamps no delivery time and never retries (a failed delivery is
counted and the webhook disabled after more than 5 in a row: WC_Webhook::failed_delivery); the body is
the order as built at delivery, whose date_modified_gmt is the order's last save (a partial refund fires
order.updated without one), so refusing an "old" order would only disable the webhook. A replay of an
earlier delivery has no second effect: order events are keyed per order and kind, returns per refund.

Stock: `POST /wp-json/wc/v3/products/batch` {"update": [{id, manage_stock, stock_quantity}]} for simple
products and `POST /wp-json/wc/v3/products/{parent}/variations/batch` for variations (100 objects per
batch request by default). Authentication: over HTTPS HTTP Basic (consumer key : consumer secret); over
plain HTTP WooCommerce requires OAuth 1.0a one-legged signing in the query string (we sign with
HMAC-SHA256, key = consumer_secret + "&").

Stock is treated as absolute only. Checked (2026-12): the WooCommerce REST API v3 reference (Products and
Product variations properties, Batch update) documents `stock_quantity` as the one stock field, a
number to set. WooCommerce's source also reads an undocumented `inventory_delta` when no `stock_quantity`
is given (Version2 products controller, class-wc-rest-products-v2-controller.php,
prepare_object_for_database), but applies it as a read-modify-write of the loaded product
(get_stock_quantity() + delta, then set_stock_quantity and save), not with the one-query relative update
checkout uses (the product data store's update_product_stock 'decrease', "to avoid stock issues"). An
order placed between that read and the save is still overwritten: the parameter narrows the race to one
request on the store's server without closing it, and it is no documented API. So
`supports_relative = False`: a set can overwrite units WooCommerce's own checkout took while it was on
its way. StockLink bounds that race instead of closing it: while a SKU is at risk an absolute-only
channel is never lowered and is only refilled once it shows 0 (domain/last_units.plan_moves), and
reconciliation's read-back finds and counts any decrement a set overwrote as drift.

API hosts (outbound allowlist): the REST API lives on the seller's own WordPress site
(`https://example.com/wp-json/wc/v3` in the WooCommerce REST API docs), so any public https host
is allowed; the outbound policy still refuses loopback, private and metadata addresses, plain http and
redirects, and caps what an error answer may put into a failure text.

Discovery (`build_list_listings`): `GET /wp-json/wc/v3/products?page=&per_page=100` (per_page at most 100;
the `X-WP-TotalPages` header says how many pages there are), then for every product of type `variable`
`GET /wp-json/wc/v3/products/{id}/variations` paged the same way. A simple product is one listing
(listing_id = its id), a variation another (listing_id = the variation id, platform_ids parent_id); `sku`,
`global_unique_id` (GTIN/UPC/EAN/ISBN, WooCommerce 9.2+) and `stock_quantity` come with each. Checked
(2026-12): WooCommerce REST API v3 reference (List all products, List all product variations, Pagination:
"per_page ... up to 100", X-WP-Total / X-WP-TotalPages headers).

Credentials: consumer_key, consumer_secret, webhook_secret, api_base_url (the store's site URL), store_url?
(the home URL webhooks name in X-WC-Webhook-Source, when it is not api_base_url).
StockPush.platform_ids: parent_id for a variation (listing_id = the variation id); none for a simple
product (listing_id = the product id). Order lines use variation_id or, when it is 0, product_id.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from typing import Callable, Mapping
from urllib.parse import quote, urlencode, urlsplit

from stocklink.channels._common import (
    CallResult,
    Outcome,
    absolute_only,
    by_status,
    check_quantity,
    chunks,
    compact_json,
    group_by,
    load_object,
    positive_qty,
    require,
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

PLATFORM = "woocommerce"
API_HOSTS = HostRule("WooCommerce store", any_public_host=True)
API_PREFIX = "/wp-json/wc/v3"
MAX_BATCH = 100

_KIND_BY_STATUS = {
    "pending": OrderEventKind.CREATED,      # awaiting payment
    "on-hold": OrderEventKind.CREATED,      # awaiting manual payment confirmation (e.g. bank transfer)
    "processing": OrderEventKind.PAID,
    "completed": OrderEventKind.SHIPPED,    # fulfilled
    "cancelled": OrderEventKind.CANCELLED,
    "failed": OrderEventKind.CANCELLED,
    "refunded": OrderEventKind.RETURNED,
    # checkout-draft (block checkout cart) and trash are not orders yet / any more.
}
_ORDER_TOPICS = {"order.created", "order.updated", "order.restored"}


def webhook_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _pct(value: str) -> str:
    return quote(str(value), safe="~-._")


def oauth_signature(method: str, url: str, params: Mapping[str, str], consumer_secret: str) -> str:
    """RFC 5849 base string; WooCommerce keys the HMAC with consumer_secret + '&' (no token secret)."""
    pairs = sorted((_pct(k), _pct(v)) for k, v in params.items() if k != "oauth_signature")
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    base = "&".join([method.upper(), _pct(url), _pct(normalized)])
    digest = hmac.new(f"{consumer_secret}&".encode(), base.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class WooCommerceAdapter:
    platform = PLATFORM
    api_hosts = API_HOSTS
    batch_size = MAX_BATCH
    # Self-hosted: no platform quota, but small shared hosts fall over under bursts of batch writes.
    rate_per_second = 2.0
    burst = 4
    webhook_carries_lines = True
    supports_relative = False        # stock_quantity only; see the module docstring on inventory_delta
    relative_below_zero = False
    relative_idempotent = False

    def __init__(self, clock: Callable[[], float] = time.time, nonce: Callable[[], str] | None = None):
        self.clock = clock
        self.nonce = nonce or (lambda: uuid.uuid4().hex)

    # -- inbound ----------------------------------------------------------------------------------------
    def verify_webhook(self, request: WebhookRequest, credentials: Mapping[str, str]) -> None:
        secret = credentials.get("webhook_secret")
        received = request.header("x-wc-webhook-signature")
        if not secret or not received:
            raise WebhookRejected("missing WooCommerce signature or webhook secret")
        if not constant_time_equal(webhook_signature(secret, request.body), received.strip()):
            raise WebhookRejected("WooCommerce signature does not match")

    def verify_shop_and_freshness(self, request: WebhookRequest, credentials: Mapping[str, str], shop: str,
                                  now_s: float) -> None:
        expected = credentials.get("store_url") or credentials.get("api_base_url")
        require_same_shop(_site(request.header("x-wc-webhook-source")), _site(expected), "store_url")

    def parse_webhook(self, request: WebhookRequest, shop: str) -> list[OrderEvent]:
        topic = request.header("x-wc-webhook-topic") or ""
        if topic not in _ORDER_TOPICS and topic != "order.deleted":
            return []  # includes the creation ping (form body "webhook_id=N", no order topic)
        payload = load_object(request.body)
        order_id = text(payload.get("id"))
        if not order_id:
            raise PayloadInvalid("missing field 'id'")
        delivery_id = request.header("x-wc-webhook-delivery-id") or ""
        occurred = payload.get("date_modified_gmt") or payload.get("date_created_gmt")
        if topic == "order.deleted":
            # Deleting an order abandons it: release whatever it still holds (no lines needed).
            return [OrderEvent(PLATFORM, shop, order_id, OrderEventKind.CANCELLED, (), delivery_id)]
        status = text(payload.get("status"))
        if not status:
            raise PayloadInvalid("missing field 'status'")
        kind = _KIND_BY_STATUS.get(status)
        if kind is None:
            return []
        lines = tuple(_line(item) for item in payload.get("line_items") or [])
        if kind in (OrderEventKind.CREATED, OrderEventKind.PAID, OrderEventKind.RETURNED) and not lines:
            raise PayloadInvalid("order has no line_items")
        if kind is OrderEventKind.RETURNED:
            # Delivery ids change on every redelivery; the refund ids identify this return.
            refunds = sorted(text(r.get("id")) for r in payload.get("refunds") or [] if r.get("id"))
            delivery_id = "refund-" + ("-".join(refunds) or order_id)
        paid = bool(payload.get("date_paid") or payload.get("date_paid_gmt")) or kind is not OrderEventKind.CREATED
        return [OrderEvent(PLATFORM, shop, order_id, kind, lines, delivery_id, paid=paid, occurred_at=occurred)]

    def needs_order_detail(self, event: OrderEvent) -> bool:
        return False

    # -- outbound -------------------------------------------------------------------------------------
    def api_base(self, credentials: Mapping[str, str]) -> str:
        return credentials.get("api_base_url") or ""

    def _call(self, credentials: Mapping[str, str], method: str, path: str,
              params: Mapping[str, str] | None = None, body_obj=None) -> HttpCall:
        key, secret, base = require(credentials, "consumer_key", "consumer_secret", "api_base_url")
        url = f"{base.rstrip('/')}{API_PREFIX}{path}"
        params = dict(params or {})
        headers = {"Content-Type": "application/json"} if body_obj is not None else {}
        if urlsplit(url).scheme == "https":
            token = base64.b64encode(f"{key}:{secret}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        else:
            # Basic credentials would travel in clear text; WooCommerce only accepts OAuth 1.0a here.
            params.update({"oauth_consumer_key": key, "oauth_nonce": self.nonce(),
                           "oauth_signature_method": "HMAC-SHA256",
                           "oauth_timestamp": str(int(self.clock()))})
            params["oauth_signature"] = oauth_signature(method, url, params, secret)
        query = f"?{urlencode(params)}" if params else ""
        body = compact_json(body_obj) if body_obj is not None else b""
        return HttpCall(method, url + query, headers, body, API_HOSTS)

    def build_stock_updates(self, credentials: Mapping[str, str], pushes: list[StockPush]) -> list[HttpCall]:
        calls = []
        by_parent = group_by(pushes, lambda p: text(p.platform_ids.get("parent_id")))
        for parent, group in sorted(by_parent.items()):
            path = f"/products/{parent}/variations/batch" if parent else "/products/batch"
            for batch in chunks(group, self.batch_size):
                update = [{"id": int(p.listing_id), "manage_stock": True,
                           "stock_quantity": check_quantity(p.quantity, p.listing_id)} for p in batch]
                calls.append(self._call(credentials, "POST", path, body_obj={"update": update}))
        return calls

    def build_stock_adjustments(self, credentials: Mapping[str, str], adjusts: list[StockAdjust],
                                key: str | None = None) -> list[HttpCall]:
        absolute_only("WooCommerce")

    def build_read_back(self, credentials: Mapping[str, str], listing_ids: list[str],
                        platform_ids: Mapping[str, Mapping[str, str]] | None = None) -> list[HttpCall]:
        """Variations are listed under their parent, so `platform_ids[listing_id]['parent_id']` marks them."""
        platform_ids = platform_ids or {}
        by_parent = group_by(listing_ids, lambda i: text((platform_ids.get(i) or {}).get("parent_id")))
        calls = []
        for parent, ids in sorted(by_parent.items()):
            path = f"/products/{parent}/variations" if parent else "/products"
            for batch in chunks(ids, MAX_BATCH):
                calls.append(self._call(credentials, "GET", path,
                                        {"include": ",".join(batch), "per_page": str(MAX_BATCH)}))
        return calls

    def parse_read_back(self, status: int, body: bytes) -> dict[str, int]:
        payload = try_json(body)
        if status != 200 or not isinstance(payload, list):
            raise PayloadInvalid(f"WooCommerce read-back failed: HTTP {status}")
        # stock_quantity is null when the product does not manage stock: it shows as unlimited, not 0.
        return {text(p.get("id")): int(p["stock_quantity"]) for p in payload if p.get("stock_quantity") is not None}

    def build_list_listings(self, credentials: Mapping[str, str], cursor: dict | None) -> HttpCall:
        cursor = _list_cursor(cursor)
        if cursor["variable"]:
            return self._call(credentials, "GET", f"/products/{cursor['variable'][0][0]}/variations",
                              {"page": str(cursor["vpage"]), "per_page": str(MAX_BATCH)})
        return self._call(credentials, "GET", "/products", {"page": str(cursor["page"]), "per_page": str(MAX_BATCH)})

    def parse_list_listings(self, cursor: dict | None, status: int, body: bytes,
                            headers: Mapping[str, str] | None = None) -> ListingPage:
        payload = try_json(body)
        if status != 200 or not isinstance(payload, list):
            raise PayloadInvalid(f"WooCommerce product list failed: HTTP {status}")
        cursor = _list_cursor(cursor)
        pages = _total_pages(headers)
        found: list[DiscoveredListing] = []
        if cursor["variable"]:
            parent, name = cursor["variable"][0]
            for variation in payload:
                options = " / ".join(text(a.get("option")) for a in variation.get("attributes") or [] if a.get("option"))
                found.append(_listed(variation, f"{name} – {options}" if options else name, {"parent_id": parent}))
            if _more(cursor["vpage"], pages, len(payload)):
                cursor["vpage"] += 1
            else:
                cursor["variable"], cursor["vpage"] = cursor["variable"][1:], 1
        else:
            for product in payload:
                if product.get("type") == "variable":
                    cursor["variable"].append([text(product.get("id")), text(product.get("name"))])
                else:
                    found.append(_listed(product, text(product.get("name")), {}))
            cursor["page"] = cursor["page"] + 1 if _more(cursor["page"], pages, len(payload)) else None
        done = cursor["page"] is None and not cursor["variable"]
        return ListingPage(tuple(found), None if done else cursor)

    def classify_response(self, status: int, body: bytes,
                          headers: Mapping[str, str] | None = None) -> CallResult:
        payload = try_json(body)
        code = text(payload.get("code")) if isinstance(payload, dict) else ""
        message = text(payload.get("message")) if isinstance(payload, dict) else ""
        verdict = by_status(status, headers, code, message)
        if verdict:
            return verdict
        if not 200 <= status < 300:
            return CallResult(Outcome.PERMANENT, code or str(status), message)
        items = payload.get("update") if isinstance(payload, dict) else None
        failed = tuple(text(i.get("id")) for i in items or [] if isinstance(i, dict) and i.get("error"))
        if items and len(failed) == len(items):
            error = items[0]["error"]
            return CallResult(Outcome.PERMANENT, text(error.get("code")), text(error.get("message")), None, failed)
        return CallResult(Outcome.OK, failed_listings=failed)


def _list_cursor(cursor: dict | None) -> dict:
    """Discovery's walk: the next products page (None once the last is in), the [id, name] of variable
    products whose variations are still to read, and the variations page of the first of them."""
    cursor = cursor or {}
    return {"page": cursor.get("page", 1), "variable": [list(v) for v in cursor.get("variable") or []],
            "vpage": int(cursor.get("vpage") or 1)}


def _total_pages(headers: Mapping[str, str] | None) -> int | None:
    for name, value in (headers or {}).items():
        if name.lower() == "x-wp-totalpages" and str(value).isdigit():
            return int(value)
    return None


def _more(page: int, pages: int | None, count: int) -> bool:
    # X-WP-TotalPages when the store sends it; else a full page means another may follow
    return page < pages if pages is not None else count >= MAX_BATCH


def _listed(entry: dict, title: str, ids: dict) -> DiscoveredListing:
    quantity = entry.get("stock_quantity")
    return DiscoveredListing(text(entry.get("id")), text(entry.get("sku")).strip(),
                             text(entry.get("global_unique_id")).strip(), title, ids,
                             quantity if isinstance(quantity, int) else None)


def _site(url: str | None) -> str | None:
    """A store URL as compared: scheme and host lower-cased, no trailing slash."""
    if not url:
        return None
    parts = urlsplit(str(url).strip())
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def _line(item: dict) -> OrderLine:
    qty = positive_qty(item.get("quantity"), f"line item {item.get('id')!r}")
    variation = item.get("variation_id")
    listing = text(variation) if variation not in (None, "", 0, "0") else text(item.get("product_id"))
    if listing in ("", "0"):
        raise PayloadInvalid(f"line item {item.get('id')!r} has no product_id")
    return OrderLine(listing_id=listing, qty=qty, seller_sku=item.get("sku") or None)

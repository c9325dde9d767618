"""TikTok Shop adapter (Open API 202309).

Webhooks: header `Authorization` (no prefix) = lower-case hex HMAC-SHA256(key=app_secret,
msg=app_key + raw body); no timestamp or path is signed (Partner Center webhook verification; not the
`TikTok-Signature: t=...,s=...` scheme of TikTok for Developers, which is another platform). Body
`{type, tts_notification_id, shop_id, timestamp, data}`; we act on type 1 ORDER_STATUS_CHANGE,
11 CANCELLATION_STATUS_CHANGE and 12 RETURN_STATUS_CHANGE. None of them carries order lines: the
ingest function asks `build_order_detail` for the signed Get Order Detail (or return search) call and
completes the event with `parse_order_detail`.
Whose and how old (verify_shop_and_freshness): every notification body carries `shop_id` ("the
identification of the TikTok Shop") and `timestamp` ("the timestamp when the notification is pushed", Unix
seconds), both under the signature (Partner Center "Webhooks overview", tts-webhooks-overview, Body). The
app secret signs for every shop that authorised the app, so `shop_id` must equal the shop's `shop_id`
credential (a shop configured without it is refused). Undelivered notifications are retried after 2 min,
30 min, 3 h and 12 h (Partner Center "Configuration guide", as summarised by public integrations that
cite it; the page itself could not be read here), about 15.5 h in all: a notification stamped more than
16 h ago is refused, and so is one stamped in the future. TikTok for Developers' 72 h retry window belongs
to that other platform.

Request signing (all 202309 APIs): query `app_key`, `timestamp` (s), `shop_cipher`, `sign`; header
`x-tts-access-token`. sign = hex HMAC-SHA256(key=app_secret,
msg=app_secret + path + concat(sorted(k + v for query params except sign, access_token)) + body + app_secret).

Stock is absolute only. Checked (2026-12): Partner Center API reference, Products API "Update Inventory"
(202309, POST /product/202309/products/{product_id}/inventory/update): `skus[].inventory[].quantity` is
"the quantity of named inventory after the change", a non-negative number below 99999, with an optional
`warehouse_id`; the request has no delta, mode or expected-quantity field, and the Products API lists no
other inventory write for shop products. So `supports_relative = False`: a set can overwrite units
TikTok's own checkout took while it was on its way. StockLink bounds that race instead of closing it:
while a SKU is at risk an absolute-only channel is never lowered and is only refilled once it shows 0
(domain/last_units.plan_moves), and reconciliation's read-back finds and counts any decrement a set
overwrote as drift.

API hosts (outbound allowlist): open-api.tiktokglobalshop.com (every 202309 Open API call, all regions:
`https://open-api.tiktokglobalshop.com/{category}/{version}/…`) and open-api-sandbox.tiktokglobalshop.com
(the sandbox). Sources (2026-12): Partner Center documentation as quoted by integrators (tray.ai's TikTok
Shop connector: base URL open-api.tiktokglobalshop.com) and the clients' sandbox switch. The auth host
auth.tiktok-shops.com only issues tokens, which StockLink does not do.

Discovery (`build_list_listings`): Products API "Search Products" (202309), POST
/product/202309/products/search with query `page_size` (up to 100) and `page_token` (the previous answer's
`data.next_page_token`; empty on the last page), signed like every 202309 call, body {"status": "ACTIVATE"}
(live products). Each `data.products[]` has `id`, `title` and `skus[]` with `id`, `seller_sku` and
`inventory[].quantity`. Checked (2026-12): Partner Center API reference "Search Products" as integrators call
it (page_size 100 with page_token; later versions keep the shape). listing_id = the SKU id; platform_ids
product_id (what Update Inventory needs).

Credentials: app_key, app_secret, access_token, shop_cipher, shop_id (the numeric shop id webhooks name;
binds them to this shop), api_base_url?
StockPush.platform_ids: product_id (required), warehouse_id (optional). listing_id = the SKU id.
"""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable, Mapping
from urllib.parse import urlencode

from stocklink.channels._common import (
    CallResult,
    Outcome,
    absolute_only,
    by_status,
    check_quantity,
    chunks,
    compact_json,
    epoch_seconds,
    group_by,
    hmac_sha256_hex,
    load_object,
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

PLATFORM = "tiktok"
DEFAULT_BASE = "https://open-api.tiktokglobalshop.com"
API_HOSTS = HostRule("TikTok Shop Open API", frozenset({
    "open-api.tiktokglobalshop.com", "open-api-sandbox.tiktokglobalshop.com"}))
INVENTORY_UPDATE = "/product/202309/products/{product_id}/inventory/update"
INVENTORY_SEARCH = "/product/202309/inventory/search"
ORDER_DETAIL = "/order/202309/orders"
RETURN_SEARCH = "/return_refund/202309/returns/search"
PRODUCT_SEARCH = "/product/202309/products/search"
LIST_PAGE_SIZE = 100

TYPE_ORDER_STATUS = 1
TYPE_CANCELLATION = 11
TYPE_RETURN = 12

# order_status of the type-1 webhook ("CANCEL") and of the order API ("CANCELLED").
_KIND_BY_ORDER_STATUS = {
    "UNPAID": OrderEventKind.CREATED,
    "ON_HOLD": OrderEventKind.PAID,            # paid, inside the buyer's remorse window
    "AWAITING_SHIPMENT": OrderEventKind.PAID,
    "PARTIALLY_SHIPPING": OrderEventKind.PAID,  # not every package left yet
    "AWAITING_COLLECTION": OrderEventKind.PAID,  # packed, carrier not there yet: stock still in the building
    "IN_TRANSIT": OrderEventKind.SHIPPED,
    "DELIVERED": OrderEventKind.SHIPPED,
    "COMPLETED": OrderEventKind.SHIPPED,
    "CANCEL": OrderEventKind.CANCELLED,
    "CANCELLED": OrderEventKind.CANCELLED,
}
_CANCEL_DONE = {"CANCELLATION_REQUEST_SUCCESS", "CANCELLATION_REQUEST_COMPLETE"}
# Only a completed return *with goods* puts stock back; refund-only and replacements do not.
_RETURN_DONE = {"RETURN_OR_REFUND_REQUEST_COMPLETE"}
_RETURN_TYPES_WITH_GOODS = {"RETURN_AND_REFUND"}

# Business codes seen for throttling; HTTP 429 is the primary signal.
_RETRYABLE_CODES = {36009004}
MAX_SKUS_PER_CALL = 100
WEBHOOK_RETRY_HORIZON_S = 16 * 3600   # retries at 2 min, 30 min, 3 h and 12 h after the first push


def api_sign(app_secret: str, path: str, query: Mapping[str, str], body: bytes = b"") -> str:
    params = "".join(f"{k}{query[k]}" for k in sorted(query) if k not in ("sign", "access_token"))
    base = f"{app_secret}{path}{params}{body.decode()}{app_secret}"
    return hmac_sha256_hex(app_secret, base)


def webhook_signature(app_key: str, app_secret: str, body: bytes) -> str:
    return hmac_sha256_hex(app_secret, app_key.encode() + body)


class TikTokAdapter:
    platform = PLATFORM
    api_hosts = API_HOSTS
    batch_size = MAX_SKUS_PER_CALL   # SKUs per call; one call only ever touches one product
    # TikTok publishes per-API QPS quotas in Partner Center only; stay well under the usual 50 QPS/app.
    rate_per_second = 10.0
    burst = 10
    webhook_carries_lines = False
    supports_relative = False        # Update Inventory sets the quantity; see the module docstring
    relative_below_zero = False
    relative_idempotent = False

    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock

    # -- inbound ----------------------------------------------------------------------------------------
    def verify_webhook(self, request: WebhookRequest, credentials: Mapping[str, str]) -> None:
        app_key, app_secret = credentials.get("app_key"), credentials.get("app_secret")
        received = request.header("authorization")
        if not app_key or not app_secret or not received:
            raise WebhookRejected("missing TikTok signature or app credentials")
        if not constant_time_equal(webhook_signature(app_key, app_secret, request.body), received.strip().lower()):
            raise WebhookRejected("TikTok signature does not match")

    def verify_shop_and_freshness(self, request: WebhookRequest, credentials: Mapping[str, str], shop: str,
                                  now_s: float) -> None:
        payload = load_object(request.body)
        require_same_shop(text(payload.get("shop_id")), text(credentials.get("shop_id")), "shop_id")
        require_fresh(epoch_seconds(payload.get("timestamp")), now_s, WEBHOOK_RETRY_HORIZON_S)

    def parse_webhook(self, request: WebhookRequest, shop: str) -> list[OrderEvent]:
        payload = load_object(request.body)
        kind_code = payload.get("type")
        data = payload.get("data")
        if not isinstance(data, dict):
            raise PayloadInvalid("missing object 'data'")
        delivery_id = text(payload.get("tts_notification_id"))
        occurred = text(data.get("update_time") or payload.get("timestamp")) or None
        order_id = text(data.get("order_id"))
        if kind_code in (TYPE_ORDER_STATUS, TYPE_CANCELLATION, TYPE_RETURN) and not order_id:
            raise PayloadInvalid("missing data.order_id")
        kind = None
        if kind_code == TYPE_ORDER_STATUS:
            status = text(data.get("order_status"))
            if not status:
                raise PayloadInvalid("missing data.order_status")
            kind = _KIND_BY_ORDER_STATUS.get(status)
        elif kind_code == TYPE_CANCELLATION:
            if data.get("cancel_status") in _CANCEL_DONE:
                kind = OrderEventKind.CANCELLED
        elif kind_code == TYPE_RETURN:
            if data.get("return_status") in _RETURN_DONE and data.get("return_type") in _RETURN_TYPES_WITH_GOODS:
                return_id = text(data.get("return_id"))
                if not return_id:
                    raise PayloadInvalid("missing data.return_id")
                # Stable per return, so redeliveries of one return dedupe and two returns don't.
                return [OrderEvent(PLATFORM, shop, order_id, OrderEventKind.RETURNED, (),
                                   f"return-{return_id}", occurred_at=occurred)]
        if kind is None:
            return []  # other types, and statuses with no stock effect, are acknowledged and ignored
        return [OrderEvent(PLATFORM, shop, order_id, kind, (), delivery_id,
                           paid=kind is not OrderEventKind.CREATED, occurred_at=occurred)]

    # -- order / return detail: the push carries no lines -------------------------------------------
    def needs_order_detail(self, event: OrderEvent) -> bool:
        # A cancellation releases whatever the order holds: no lines needed.
        return not event.lines and event.kind is not OrderEventKind.CANCELLED

    def build_order_detail(self, credentials: Mapping[str, str], event: OrderEvent) -> HttpCall:
        if event.kind is OrderEventKind.RETURNED:
            return_id = event.delivery_id.removeprefix("return-")
            return self._signed(credentials, "POST", RETURN_SEARCH, {}, {"return_ids": [return_id]})
        return self._signed(credentials, "GET", ORDER_DETAIL, {"ids": event.order_id})

    def parse_order_detail(self, event: OrderEvent, status: int, body: bytes) -> OrderEvent:
        payload = load_object(body, "order detail")
        if status != 200 or payload.get("code") != 0:
            raise PayloadInvalid(f"TikTok detail failed: HTTP {status} code {payload.get('code')}")
        data = payload.get("data") or {}
        if event.kind is OrderEventKind.RETURNED:
            records = [r for r in data.get("return_orders") or [] if text(r.get("order_id")) == event.order_id]
            units = [u for r in records for u in r.get("return_line_items") or []]
        else:
            records = [o for o in data.get("orders") or [] if text(o.get("id")) == event.order_id]
            units = [u for o in records for u in o.get("line_items") or []]
        if not records:
            raise PayloadInvalid(f"order {event.order_id} not in detail response")
        return replace(event, lines=_count_units(units))

    # -- outbound -------------------------------------------------------------------------------------
    def api_base(self, credentials: Mapping[str, str]) -> str:
        return credentials.get("api_base_url") or DEFAULT_BASE

    def _signed(self, credentials: Mapping[str, str], method: str, path: str,
                params: Mapping[str, str], body_obj=None) -> HttpCall:
        app_key, app_secret, token, cipher = require(
            credentials, "app_key", "app_secret", "access_token", "shop_cipher")
        base = self.api_base(credentials).rstrip("/")
        body = compact_json(body_obj) if body_obj is not None else b""
        query = {**params, "app_key": app_key, "shop_cipher": cipher, "timestamp": str(int(self.clock()))}
        query["sign"] = api_sign(app_secret, path, query, body)
        headers = {"x-tts-access-token": token}
        if body_obj is not None:
            headers["Content-Type"] = "application/json"
        return HttpCall(method, f"{base}{path}?{urlencode(query)}", headers, body, API_HOSTS)

    def build_stock_updates(self, credentials: Mapping[str, str], pushes: list[StockPush]) -> list[HttpCall]:
        calls = []
        by_product = group_by(pushes, lambda p: require_id(p.platform_ids, "product_id", p.listing_id))
        for product_id, group in by_product.items():
            for batch in chunks(group, self.batch_size):
                skus = []
                for push in batch:
                    stock = {"quantity": check_quantity(push.quantity, push.listing_id)}
                    if push.platform_ids.get("warehouse_id"):
                        stock["warehouse_id"] = str(push.platform_ids["warehouse_id"])
                    skus.append({"id": str(push.listing_id), "inventory": [stock]})
                path = INVENTORY_UPDATE.format(product_id=product_id)
                calls.append(self._signed(credentials, "POST", path, {}, {"skus": skus}))
        return calls

    def build_stock_adjustments(self, credentials: Mapping[str, str], adjusts: list[StockAdjust],
                                key: str | None = None) -> list[HttpCall]:
        absolute_only("TikTok Shop")

    def build_read_back(self, credentials: Mapping[str, str], listing_ids: list[str],
                        platform_ids: Mapping[str, Mapping[str, str]] | None = None) -> list[HttpCall]:
        return [self._signed(credentials, "POST", INVENTORY_SEARCH, {}, {"sku_ids": [str(i) for i in batch]})
                for batch in chunks(listing_ids, MAX_SKUS_PER_CALL)]

    def parse_read_back(self, status: int, body: bytes) -> dict[str, int]:
        payload = try_json(body)
        if status != 200 or not isinstance(payload, dict) or payload.get("code") != 0:
            raise PayloadInvalid(f"TikTok read-back failed: HTTP {status}")
        shown: dict[str, int] = {}
        for product in (payload.get("data") or {}).get("inventory") or []:
            for sku in product.get("skus") or []:
                shown[text(sku.get("id"))] = int(sku.get("total_available_quantity") or 0)
        return shown

    def build_list_listings(self, credentials: Mapping[str, str], cursor: dict | None) -> HttpCall:
        params = {"page_size": str(LIST_PAGE_SIZE)}
        if (cursor or {}).get("page_token"):
            params["page_token"] = cursor["page_token"]
        return self._signed(credentials, "POST", PRODUCT_SEARCH, params, {"status": "ACTIVATE"})

    def parse_list_listings(self, cursor: dict | None, status: int, body: bytes,
                            headers: Mapping[str, str] | None = None) -> ListingPage:
        payload = try_json(body)
        if status != 200 or not isinstance(payload, dict) or payload.get("code") != 0:
            raise PayloadInvalid(f"TikTok product search failed: HTTP {status}")
        data = payload.get("data") or {}
        found = []
        for product in data.get("products") or []:
            for sku in product.get("skus") or []:
                quantity = sum(int(i.get("quantity") or 0) for i in sku.get("inventory") or [])
                found.append(DiscoveredListing(text(sku.get("id")), text(sku.get("seller_sku")).strip(), "",
                                               text(product.get("title")), {"product_id": text(product.get("id"))},
                                               quantity))
        token = text(data.get("next_page_token"))
        return ListingPage(tuple(found), {"page_token": token} if token else None)

    def classify_response(self, status: int, body: bytes,
                          headers: Mapping[str, str] | None = None) -> CallResult:
        payload = try_json(body)
        code = payload.get("code") if isinstance(payload, dict) else None
        message = text(payload.get("message")) if isinstance(payload, dict) else ""
        verdict = by_status(status, headers, text(code), message)
        if verdict:
            return verdict
        if status == 200 and code == 0:
            return CallResult(Outcome.OK)
        if code in _RETRYABLE_CODES:
            return CallResult(Outcome.RETRYABLE, text(code), message)
        return CallResult(Outcome.PERMANENT, text(code) or str(status), message)


def _count_units(units: list[dict]) -> tuple[OrderLine, ...]:
    # TikTok lists one line item per unit sold: count them per SKU. A line item that names a quantity is
    # held to the rule every adapter applies (positive_qty), and so is each SKU's total.
    counts: dict[str, int] = {}
    skus: dict[str, str | None] = {}
    for unit in units:
        if not isinstance(unit, dict):
            raise PayloadInvalid("line item must be an object")
        sku_id = text(unit.get("sku_id"))
        if not sku_id:
            raise PayloadInvalid(f"line item {unit.get('id')!r} has no sku_id")
        where = f"line item {unit.get('id')!r}"
        qty = positive_qty(unit["quantity"], where) if unit.get("quantity") is not None else 1
        counts[sku_id] = positive_qty(counts.get(sku_id, 0) + qty, f"sku {sku_id}")
        skus[sku_id] = unit.get("seller_sku") or None
    return tuple(OrderLine(listing_id=k, qty=v, seller_sku=skus[k]) for k, v in counts.items())

"""Lazada Open Platform adapter.

Push: header `Authorization` = hex HMAC-SHA256(key=app_secret, msg=app_key + raw body). Body
`{seller_id, message_type, data, timestamp, site}`; message_type 0 = trade order (one message per order
*item*: `trade_order_id` + `trade_order_line_id` + `order_status`), 10 = reverse order (`reverse_status`).
Lazada order items each have their own status and are one unit each, so an OrderEvent here is one order
item: order_id = "<trade_order_id>-<trade_order_line_id>". The push names no SKU:
`build_order_detail` builds the signed /order/items/get call and `parse_order_detail` picks the item.
Whose and how old (verify_shop_and_freshness): every push body names the `seller_id` it is about and its
`timestamp` ("time when notify": seconds on reverse order pushes, milliseconds on trade order pushes), both
under the signature; a push not answered is retried 12 times, 30 min apart (Lazada Open Platform "Webhook
API Trade Order Notifications", docId 120196, and "Reverse Order" msg_type 10, docId 120232: Retry times
12, Retry Interval 30 min). The app secret signs for every seller that authorised the app, so `seller_id`
must equal the shop's `seller_id` credential (a shop configured without it is refused), and a push
stamped more than 6 h ago, or in the future, is refused.

API signing: sign = UPPER hex HMAC-SHA256(key=app_secret, msg=api_path + concat(sorted(k + v for all
non-empty parameters except sign))). System parameters app_key, timestamp (ms), sign_method=sha256,
access_token, sign travel in the query string; business parameters (payload) in the form body.

Relative stock (`build_stock_adjustments`, used for SKUs at risk): AdjustSellableQuantity, POST
/product/stock/sellable/adjust, signed like every call, with the same `payload` XML as
UpdateSellableQuantity (/product/stock/sellable/update) but `SellableQuantity` read as a signed delta:
"A positive number is an increase in inventory and a negative number is a decrease" (sellable 20 and
-1 -> 19); multi-warehouse sellers send it per `WarehouseCode`; at most 50 SKUs a call. Lazada refuses a
change whose result is negative ("The updated final saleable inventory must be greater than or equal to
0, otherwise an error will be reported", and never below what a campaign holds): a decrease larger than
what the listing still has is refused, not cut short, so `relative_below_zero = False`. Such a refusal
means the platform already sold more than StockLink knew; setting 0 (absolute) is then always safe, as 0
never offers a unit twice. The call carries no idempotency key: a call answered by a throttle
(ApiCallLimit) did nothing and may be resent, but one whose outcome is unknown (timeout, 5xx,
InternalError) may have been applied, so it is read back, not resent: `relative_idempotent = False`.

Checked (2026-12): Lazada Open Platform "Inventory Management API" (docId 121234: UpdatePriceQuantity,
UpdateSellableQuantity, AdjustSellableQuantity with their request examples and notes), "Inventory
calculation logic" (docId 121233: SellableQuantity is what buyers can buy; AdjustSellableQuantity,
UpdateProduct and UpdateSellableQuantity change it), and the API reference entry for
/product/stock/sellable/adjust (one `payload` parameter, "increase or decrease sellable quantity of one or
more existing products", 50 at most).

API hosts (outbound allowlist): one gateway per venture, `https://api.lazada.{sg, com.my, co.th, com.ph,
co.id, vn}/rest`, and the cross-border gateway api.lazada.com/rest. Checked (2026-12): Lazada Open Platform
"Reconfigure Existing APP to Lazada Open Platform" (docId 108139: request URL `https://api.lazada.{sg}/rest`,
"One URL for each venture") and the SDKs' gateway constants. auth.lazada.com only issues tokens.

Discovery (`build_list_listings`): GetProducts, GET /products/get with `filter=live`, `offset` and
`limit` (at most 50 a call), signed like every call; the answer's `data.total_products` says how many there
are, `data.products[]` each has `item_id`, `attributes.name` and `skus[]` with `SkuId`, `SellerSku` and
`quantity`. Checked (2026-12): Lazada Open Platform API reference "GetProducts" (/products/get: filter,
offset, limit; "Get all or a range of products") and the Product API overview. listing_id = the SkuId;
platform_ids item_id and seller_sku (what the sellable-quantity calls carry).

Credentials: app_key, app_secret, access_token, seller_id (the seller pushes name; binds them to this
shop), api_base_url? (the regional gateway, e.g. https://api.lazada.co.th/rest).
StockPush/StockAdjust.platform_ids: item_id (required), seller_sku (optional), warehouse_code (optional,
multi-warehouse sellers). listing_id = the SkuId.
"""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable, Mapping
from urllib.parse import urlencode

from stocklink.channels._common import (
    CallResult,
    Outcome,
    by_status,
    check_delta,
    check_quantity,
    chunks,
    epoch_seconds,
    group_by,
    hmac_sha256_hex,
    load_object,
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

PLATFORM = "lazada"
DEFAULT_BASE = "https://api.lazada.com.my/rest"
API_HOSTS = HostRule("Lazada Open Platform", frozenset({
    "api.lazada.com", "api.lazada.sg", "api.lazada.com.my", "api.lazada.co.th", "api.lazada.com.ph",
    "api.lazada.co.id", "api.lazada.vn"}))
SELLABLE_UPDATE = "/product/stock/sellable/update"
SELLABLE_ADJUST = "/product/stock/sellable/adjust"
ITEM_GET = "/product/item/get"
ORDER_ITEMS_GET = "/order/items/get"
PRODUCTS_GET = "/products/get"
LIST_PAGE_SIZE = 50
MSG_TRADE_ORDER = 0
MSG_REVERSE_ORDER = 10
MAX_SKUS_PER_CALL = 50   # documented: more SKUs per request time out
WEBHOOK_RETRY_HORIZON_S = 12 * 30 * 60   # 12 retries, 30 min apart
RETURN_OF_ITEM = "item-returned"   # the delivery id of every message announcing an order item's return

_KIND_BY_STATUS = {
    "unpaid": OrderEventKind.CREATED,
    "pending": OrderEventKind.PAID,        # paid, waiting for the seller to pack
    "topack": OrderEventKind.PAID,
    "packed": OrderEventKind.PAID,
    "repacked": OrderEventKind.PAID,
    "toship": OrderEventKind.PAID,
    "ready_to_ship": OrderEventKind.PAID,
    "shipped": OrderEventKind.SHIPPED,
    "delivered": OrderEventKind.SHIPPED,
    "confirmed": OrderEventKind.SHIPPED,
    "failed_delivery": OrderEventKind.SHIPPED,  # the parcel is out; it comes back as shipped_back_success
    "canceled": OrderEventKind.CANCELLED,
    "returned": OrderEventKind.RETURNED,
    "shipped_back_success": OrderEventKind.RETURNED,
    # lost_by_3pl / damaged_by_3pl: the unit is gone, nothing to restock.
}
# Reverse-order statuses that move stock. Only a return received by the seller (RTM) is back on hand;
# returns to Lazada's warehouse (RTW) are inspected there first.
_KIND_BY_REVERSE = {
    "CANCEL_SUCCESS": OrderEventKind.CANCELLED,
    "RTM_RECEIVE_ITEM": OrderEventKind.RETURNED,
}
_RETRYABLE_CODES = {"ApiCallLimit", "ServiceTimeout", "ServiceUnavailable", "InternalError"}


def api_sign(app_secret: str, api_path: str, params: Mapping[str, str]) -> str:
    base = api_path + "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign" and params[k] != "")
    return hmac_sha256_hex(app_secret, base).upper()


def push_signature(app_key: str, app_secret: str, body: bytes) -> str:
    return hmac_sha256_hex(app_secret, app_key.encode() + body)


def item_event_id(trade_order_id: str, line_id: str) -> str:
    return f"{trade_order_id}-{line_id}"


class LazadaAdapter:
    platform = PLATFORM
    api_hosts = API_HOSTS
    batch_size = MAX_SKUS_PER_CALL
    rate_per_second = 50.0   # documented: 50 inventory calls per second per seller
    burst = 10
    webhook_carries_lines = False
    supports_relative = True
    relative_below_zero = False    # a change that would leave the sellable quantity below 0 is refused
    relative_idempotent = False    # no idempotency key: an unknown outcome is read back, not resent

    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock

    # -- inbound ----------------------------------------------------------------------------------------
    def verify_webhook(self, request: WebhookRequest, credentials: Mapping[str, str]) -> None:
        app_key, app_secret = credentials.get("app_key"), credentials.get("app_secret")
        received = request.header("authorization")
        if not app_key or not app_secret or not received:
            raise WebhookRejected("missing Lazada push signature or app credentials")
        if not constant_time_equal(push_signature(app_key, app_secret, request.body), received.strip().lower()):
            raise WebhookRejected("Lazada push signature does not match")

    def verify_shop_and_freshness(self, request: WebhookRequest, credentials: Mapping[str, str], shop: str,
                                  now_s: float) -> None:
        payload = load_object(request.body)
        require_same_shop(text(payload.get("seller_id")), text(credentials.get("seller_id")), "seller_id")
        require_fresh(epoch_seconds(payload.get("timestamp")), now_s, WEBHOOK_RETRY_HORIZON_S)

    def parse_webhook(self, request: WebhookRequest, shop: str) -> list[OrderEvent]:
        payload = load_object(request.body)
        message_type = payload.get("message_type")
        if message_type not in (MSG_TRADE_ORDER, MSG_REVERSE_ORDER):
            return []  # product, promotion, IM messages do not move order stock
        data = payload.get("data")
        if not isinstance(data, dict):
            raise PayloadInvalid("missing object 'data'")
        order_id, line_id = text(data.get("trade_order_id")), text(data.get("trade_order_line_id"))
        if not order_id or not line_id:
            raise PayloadInvalid("order message needs data.trade_order_id and data.trade_order_line_id")
        occurred = text(data.get("status_update_time")) or None
        if message_type == MSG_REVERSE_ORDER:
            status = text(data.get("reverse_status"))
            kind = _KIND_BY_REVERSE.get(status)
        else:
            status = text(data.get("order_status"))
            kind = _KIND_BY_STATUS.get(status)
        if not status:
            raise PayloadInvalid("order message without a status")
        if kind is None:
            return []
        # Lazada pushes have no message id. An order item is one unit and comes back at most once, yet its
        # return is announced up to three ways (the reverse push RTM_RECEIVE_ITEM, the item status
        # `returned`, or `shipped_back_success` after a failed delivery): every one of them is the same
        # business event, so they share one key and restock once.
        delivery = RETURN_OF_ITEM if kind is OrderEventKind.RETURNED else f"{line_id}-{status}-{occurred}"
        return [OrderEvent(PLATFORM, shop, item_event_id(order_id, line_id), kind, (), delivery,
                           paid=kind is not OrderEventKind.CREATED, occurred_at=occurred)]

    def needs_order_detail(self, event: OrderEvent) -> bool:
        return not event.lines and event.kind is not OrderEventKind.CANCELLED

    def build_order_detail(self, credentials: Mapping[str, str], event: OrderEvent) -> HttpCall:
        trade_order_id = event.order_id.split("-", 1)[0]
        return self._signed(credentials, "GET", ORDER_ITEMS_GET, {"order_id": trade_order_id})

    def parse_order_detail(self, event: OrderEvent, status: int, body: bytes) -> OrderEvent:
        payload = load_object(body, "order items")
        if status != 200 or text(payload.get("code")) != "0":
            raise PayloadInvalid(f"Lazada order items failed: {payload.get('code')} {payload.get('message')}")
        line_id = event.order_id.split("-", 1)[1]
        items = [i for i in payload.get("data") or [] if text(i.get("order_item_id")) == line_id]
        if not items:
            raise PayloadInvalid(f"order item {line_id} not in /order/items/get response")
        item = items[0]
        sku_id = text(item.get("sku_id"))
        if not sku_id:
            raise PayloadInvalid(f"order item {line_id} has no sku_id")
        # Each Lazada order item is a single unit.
        return replace(event, lines=(OrderLine(sku_id, 1, item.get("sku") or None),))

    # -- outbound -------------------------------------------------------------------------------------
    def api_base(self, credentials: Mapping[str, str]) -> str:
        return credentials.get("api_base_url") or DEFAULT_BASE

    def _signed(self, credentials: Mapping[str, str], method: str, api_path: str,
                business: Mapping[str, str]) -> HttpCall:
        app_key, app_secret, token = require(credentials, "app_key", "app_secret", "access_token")
        base = self.api_base(credentials).rstrip("/")
        system = {"app_key": app_key, "timestamp": str(int(self.clock() * 1000)),
                  "sign_method": "sha256", "access_token": token}
        sign = api_sign(app_secret, api_path, {**system, **business})
        if method == "GET":
            return HttpCall("GET", f"{base}{api_path}?{urlencode({**system, **business, 'sign': sign})}", {},
                            hosts=API_HOSTS)
        return HttpCall(method, f"{base}{api_path}?{urlencode({**system, 'sign': sign})}",
                        {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
                        urlencode(business).encode(), API_HOSTS)

    def build_stock_updates(self, credentials: Mapping[str, str], pushes: list[StockPush]) -> list[HttpCall]:
        values = [(p.listing_id, p.platform_ids, check_quantity(p.quantity, p.listing_id)) for p in pushes]
        return self._sellable_calls(credentials, SELLABLE_UPDATE, values)

    def build_stock_adjustments(self, credentials: Mapping[str, str], adjusts: list[StockAdjust],
                                key: str | None = None) -> list[HttpCall]:
        # `key` has nothing to map to: Lazada's adjust takes no idempotency key (see the module docstring).
        values = [(a.listing_id, a.platform_ids, check_delta(a.delta, a.listing_id)) for a in adjusts]
        return self._sellable_calls(credentials, SELLABLE_ADJUST, values)

    def _sellable_calls(self, credentials: Mapping[str, str], api_path: str,
                        values: list[tuple[str, Mapping[str, str], int]]) -> list[HttpCall]:
        """One signed call per 50 SKUs; single- and multi-warehouse formats never share a payload."""
        for listing_id, ids, _ in values:
            require_id(ids, "item_id", listing_id)
        multi = group_by(values, lambda v: "multi" if v[1].get("warehouse_code") else "single")
        calls = []
        for fmt, group in sorted(multi.items()):
            for batch in chunks(group, self.batch_size):
                calls.append(self._signed(credentials, "POST", api_path,
                                          {"payload": _sellable_xml(batch, fmt == "multi")}))
        return calls

    def build_read_back(self, credentials: Mapping[str, str], listing_ids: list[str],
                        platform_ids: Mapping[str, Mapping[str, str]] | None = None) -> list[HttpCall]:
        """GetProductItem per item: needs `platform_ids[listing_id]['item_id']`."""
        items: list[str] = []
        for listing in listing_ids:
            item = require_id((platform_ids or {}).get(listing) or {}, "item_id", listing)
            if item not in items:
                items.append(item)
        return [self._signed(credentials, "GET", ITEM_GET, {"item_id": item}) for item in items]

    def parse_read_back(self, status: int, body: bytes) -> dict[str, int]:
        payload = try_json(body)
        if status != 200 or not isinstance(payload, dict) or text(payload.get("code")) != "0":
            raise PayloadInvalid(f"Lazada read-back failed: HTTP {status}")
        shown: dict[str, int] = {}
        for sku in (payload.get("data") or {}).get("skus") or []:
            value = sku.get("sellableQuantity", sku.get("quantity"))
            shown[text(sku.get("SkuId"))] = int(value or 0)
        return shown

    def build_list_listings(self, credentials: Mapping[str, str], cursor: dict | None) -> HttpCall:
        offset = int((cursor or {}).get("offset") or 0)
        return self._signed(credentials, "GET", PRODUCTS_GET,
                            {"filter": "live", "offset": str(offset), "limit": str(LIST_PAGE_SIZE)})

    def parse_list_listings(self, cursor: dict | None, status: int, body: bytes,
                            headers: Mapping[str, str] | None = None) -> ListingPage:
        payload = try_json(body)
        if status != 200 or not isinstance(payload, dict) or text(payload.get("code")) != "0":
            raise PayloadInvalid(f"Lazada GetProducts failed: HTTP {status}")
        data = payload.get("data") or {}
        products = data.get("products") or []
        found = []
        for product in products:
            name = text((product.get("attributes") or {}).get("name"))
            for sku in product.get("skus") or []:
                seller_sku = text(sku.get("SellerSku")).strip()
                ids = {"item_id": text(product.get("item_id"))}
                if seller_sku:
                    ids["seller_sku"] = seller_sku
                quantity = sku.get("quantity")
                found.append(DiscoveredListing(text(sku.get("SkuId")), seller_sku, "", name, ids,
                                               int(quantity) if str(quantity).isdigit() else None))
        offset = int((cursor or {}).get("offset") or 0) + len(products)
        total = int(data.get("total_products") or 0)
        return ListingPage(tuple(found), {"offset": offset} if products and offset < total else None)

    def classify_response(self, status: int, body: bytes,
                          headers: Mapping[str, str] | None = None) -> CallResult:
        payload = try_json(body)
        payload = payload if isinstance(payload, dict) else {}
        code, message = text(payload.get("code")), text(payload.get("message"))
        verdict = by_status(status, headers, code, message)
        if verdict:
            return verdict
        if status == 200 and code == "0":
            failed = tuple(text(d.get("sku_id") or d.get("seller_sku")) for d in payload.get("detail") or [])
            return CallResult(Outcome.OK, failed_listings=failed)
        if code in _RETRYABLE_CODES or text(payload.get("type")) == "SYSTEM":
            return CallResult(Outcome.RETRYABLE, code, message)
        # A refused stock change names the SKUs it refused in `detail` (e.g. a negative sellable result).
        failed = tuple(text(d.get("sku_id") or d.get("seller_sku")) for d in payload.get("detail") or []
                       if isinstance(d, dict) and (d.get("sku_id") or d.get("seller_sku")))
        return CallResult(Outcome.PERMANENT, code or str(status), message, failed_listings=failed)


def escape(value: str) -> str:
    # xml.sax.saxutils would pull in urllib.request/http.client at cold start for three replacements.
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sellable_xml(batch: list[tuple[str, Mapping[str, str], int]], multi_warehouse: bool) -> str:
    """The Sku list UpdateSellableQuantity (quantity) and AdjustSellableQuantity (delta) both take."""
    skus = []
    for listing_id, ids, qty in batch:
        parts = [f"<ItemId>{escape(str(ids['item_id']))}</ItemId>", f"<SkuId>{escape(listing_id)}</SkuId>"]
        if ids.get("seller_sku"):
            parts.append(f"<SellerSku>{escape(str(ids['seller_sku']))}</SellerSku>")
        if multi_warehouse:
            parts.append(
                "<MultiWarehouseInventories><MultiWarehouseInventory>"
                f"<WarehouseCode>{escape(str(ids['warehouse_code']))}</WarehouseCode>"
                f"<SellableQuantity>{qty}</SellableQuantity>"
                "</MultiWarehouseInventory></MultiWarehouseInventories>")
        else:
            parts.append(f"<SellableQuantity>{qty}</SellableQuantity>")
        skus.append("<Sku>" + "".join(parts) + "</Sku>")
    return "<Request><Product><Skus>" + "".join(skus) + "</Skus></Product></Request>"

"""Shopee Open Platform v2 adapter.

Push: header `Authorization` = hex HMAC-SHA256(key=partner_key, msg=callback_url + "|" + raw body),
where callback_url is the URL configured for the app (the one Shopee called). Body
`{code, shop_id, timestamp, data}`; we act on
  - code 3 (order_status_push): `data.ordersn`, `data.status`. The push carries no lines:
    `build_order_detail` builds the signed v2.order.get_order_detail call, `parse_order_detail` completes it.
  - code 29 (return_updates_push): `data.return_sn` (+ `data.order_sn`). Shopee's pushes only say that a
    return changed ("make a call to the corresponding API"), so every code-29 push becomes a candidate
    RETURNED event and the signed v2.returns.get_return_detail answer (GET, `return_sn`) decides it:
      * restock (RETURNED with the returned items and `amount`s) only when the buyer had to send the goods
        back (`needs_logistics`) and the reverse logistics say the parcel reached the seller
        (`logistics_status` LOGISTICS_DELIVERY_DONE, or "Delivered" for in-transit RR / return-on-the-spot)
        under seller validation, and the return is not contested (SELLER_DISPUTE, JUDGING) or void
        (CANCELLED, CLOSED);
      * refund-only returns (`needs_logistics` false: the buyer keeps the goods), returns still on their way,
        lost or failed parcels, and warehouse-validated returns (the parcel goes to a Shopee warehouse, not
        the seller) restock nothing.
    The restock's delivery id is `return-<return_sn>`, so however many pushes (and redeliveries) a return
    gets, its units go back once. A "nothing yet" answer is recorded under a per-state key
    (`return-<return_sn>@<status>/<logistics_status>`) so it never blocks the later restock.

Whose and how old (verify_shop_and_freshness): every push body carries `shop_id` and `timestamp` (Unix
seconds, when Shopee sent it) under the signature (Open Platform "Push Mechanism notifications",
developer-guide/18, whose signing example body has both; the field meanings from a public summary of the
per-push pages push-mechanism/1 order_status_push and /32 return_updates_push).
The partner key signs for every shop that authorised the app, so `shop_id` must equal the shop's
`shop_id` credential (which its API calls need anyway). The retry schedule is given per push type on
pages that could not be read here; the longest horizon Shopee documents for an undelivered push is
v2.push.get_lost_push_message's ("lost within 3 days"): a push stamped more than 3 days ago, or in the
future, is refused. Replays inside that window change nothing: order events are keyed per order and
status, and a return is decided by v2.returns.get_return_detail under its own key.

Shop API signing: sign = hex HMAC-SHA256(key=partner_key,
msg=partner_id + api_path + timestamp + access_token + shop_id); common query parameters
partner_id, timestamp, access_token, shop_id, sign; POST bodies are JSON.

Stock is absolute only. Checked (2026-12): Open Platform API best practices "Stock & Price Management"
(section 5, Updating product stock) and v2.product.update_stock: `stock_list[{model_id?, seller_stock:
[{location_id?, stock}]}]` gives the seller stock to set, one item per call; only `seller_stock` is
writable (`shopee_stock` is Shopee's), and there is no delta, mode or expected-stock field. So
`supports_relative = False`: a set can overwrite units Shopee's own checkout took while it was on its
way. StockLink bounds that race instead of closing it: while a SKU is at risk an absolute-only channel is
never lowered and is only refilled once it shows 0 (domain/last_units.plan_moves), and reconciliation's
read-back finds and counts any decrement a set overwrote as drift.

API hosts (outbound allowlist): live partner.shopeemobile.com (global), openplatform.shopee.cn (Chinese
mainland sellers, CNSC) and openplatform.shopee.com.br (Brazil); test partner.test-stable.shopeemobile.com
(the earlier test environment) and the sandbox openplatform.sandbox.test-stable.shopee.sg (global) and
openplatform.sandbox.test-stable.shopee.cn (China). Sources (2026-12): the hosts maintained clients use
(muhanz/shoapi README: the live and test-stable hosts; laraditz/shopee CHANGELOG: the move of the sandbox
to the openplatform.sandbox.test-stable domains; client code for the .cn and .com.br live hosts). The
developer guide's environment table sits behind the console login and was not read directly: a host it
adds is one line here.

Discovery (`build_list_listings`), one signed GET per step, walked through the adapter's cursor:
v2.product.get_item_list (`offset`, `page_size` up to 100, `item_status=NORMAL`; the answer's
`has_next_page` and `next_offset` page on), then v2.product.get_item_base_info for those items (50 ids a
call: `item_name`, `item_sku`, `has_model`, `gtin_code`, `stock_info_v2`), then v2.product.get_model_list
once per item that has models (`model[]` with `model_id`, `model_sku`, `gtin_code`, `stock_info_v2`). A
plain item is one listing (listing_id = item_id, seller SKU = item_sku); an item with models lists each
model (listing_id = model_id, seller SKU = model_sku). Checked (2026-12): Open Platform API reference
v2.product.get_item_list / get_item_base_info / get_model_list as maintained clients call them (offset,
page_size, item_status NORMAL; has_next_page, next_offset, total_count).

Credentials: partner_id, partner_key, shop_id, access_token, callback_url, api_base_url?
StockPush.platform_ids: item_id (required), model_id (when the item has variants; listing_id is then the
model id, else the item id), location_id (optional, multi-warehouse sellers).
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
    as_int,
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

PLATFORM = "shopee"
DEFAULT_BASE = "https://partner.shopeemobile.com"
API_HOSTS = HostRule("Shopee Open Platform", frozenset({
    "partner.shopeemobile.com", "openplatform.shopee.cn", "openplatform.shopee.com.br",
    "partner.test-stable.shopeemobile.com", "openplatform.sandbox.test-stable.shopee.sg",
    "openplatform.sandbox.test-stable.shopee.cn"}))
UPDATE_STOCK = "/api/v2/product/update_stock"
GET_MODEL_LIST = "/api/v2/product/get_model_list"
GET_ITEM_BASE_INFO = "/api/v2/product/get_item_base_info"
GET_ORDER_DETAIL = "/api/v2/order/get_order_detail"
GET_RETURN_DETAIL = "/api/v2/returns/get_return_detail"
CODE_ORDER_STATUS = 3
CODE_RETURN_UPDATE = 29   # return_updates_push
RETURN_PREFIX = "return-"

_KIND_BY_STATUS = {
    "UNPAID": OrderEventKind.CREATED,
    "INVOICE_PENDING": OrderEventKind.PAID,  # paid, waiting for the seller's invoice (BR)
    "READY_TO_SHIP": OrderEventKind.PAID,
    "PROCESSED": OrderEventKind.PAID,
    "RETRY_SHIP": OrderEventKind.PAID,
    "SHIPPED": OrderEventKind.SHIPPED,
    "TO_CONFIRM_RECEIVE": OrderEventKind.SHIPPED,
    "COMPLETED": OrderEventKind.SHIPPED,
    "CANCELLED": OrderEventKind.CANCELLED,
    # IN_CANCEL (a request, may be refused), TO_RETURN (goods not back yet) and PENDING carry no stock
    # movement; restocks come from the return push (code 29) and v2.returns.get_return_detail.
}
# Reverse logistics statuses meaning the return parcel was delivered to the seller (Shopee's Data
# Definition "Reverse Logistics Status": normal returns, then in-transit RR / return-on-the-spot).
_RETURN_DELIVERED = {"LOGISTICS_DELIVERY_DONE", "Delivered"}
# Return statuses under which delivered goods are not (yet) resellable stock: contested or void returns.
_RETURN_NOT_RESTOCKED = {"SELLER_DISPUTE", "JUDGING", "CANCELLED", "CLOSED"}
_RETRYABLE_ERRORS = {"error_server", "error_inner", "error_busi_system_busy", "error_too_many_request"}
MAX_MODELS_PER_CALL = 50
WEBHOOK_RETRY_HORIZON_S = 3 * 24 * 3600   # undelivered pushes are kept 3 days (get_lost_push_message)
MAX_ITEMS_PER_BASE_INFO = 50
GET_ITEM_LIST = "/api/v2/product/get_item_list"
ITEM_LIST_PAGE = 100


def shop_sign(partner_key: str, partner_id: str, path: str, timestamp: int, access_token: str,
              shop_id: str) -> str:
    return hmac_sha256_hex(partner_key, f"{partner_id}{path}{timestamp}{access_token}{shop_id}")


def push_signature(partner_key: str, callback_url: str, body: bytes) -> str:
    return hmac_sha256_hex(partner_key, callback_url.encode() + b"|" + body)


def return_sn_of(event: OrderEvent) -> str:
    return event.delivery_id.removeprefix(RETURN_PREFIX).split("@", 1)[0]


def goods_back_with_seller(detail: Mapping) -> bool:
    """True when a v2.returns.get_return_detail `response` says the returned units are on the seller's shelf."""
    if detail.get("needs_logistics") is not True:
        return False  # refund only: the buyer keeps the goods
    if text(detail.get("validation_type")) == "warehouse_validation":
        return False  # the parcel goes to a Shopee warehouse for validation, not to the seller
    if text(detail.get("status")) in _RETURN_NOT_RESTOCKED:
        return False
    return text(detail.get("logistics_status")) in _RETURN_DELIVERED


def listing_key(item_id, model_id) -> str:
    model = text(model_id)
    return model if model and model != "0" else text(item_id)


class ShopeeAdapter:
    platform = PLATFORM
    api_hosts = API_HOSTS
    batch_size = MAX_MODELS_PER_CALL  # models per update_stock call; one call only ever touches one item
    # Shopee enforces per-partner, per-API quotas it does not publish; stay conservative.
    rate_per_second = 10.0
    burst = 10
    webhook_carries_lines = False
    supports_relative = False        # update_stock sets seller_stock; see the module docstring
    relative_below_zero = False
    relative_idempotent = False

    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock

    # -- inbound ----------------------------------------------------------------------------------------
    def verify_webhook(self, request: WebhookRequest, credentials: Mapping[str, str]) -> None:
        key = credentials.get("partner_key")
        url = credentials.get("callback_url") or request.url
        received = request.header("authorization")
        if not key or not url or not received:
            raise WebhookRejected("missing Shopee push signature, partner key or callback URL")
        if not constant_time_equal(push_signature(key, url, request.body), received.strip().lower()):
            raise WebhookRejected("Shopee push signature does not match")

    def verify_shop_and_freshness(self, request: WebhookRequest, credentials: Mapping[str, str], shop: str,
                                  now_s: float) -> None:
        payload = load_object(request.body)
        require_same_shop(text(payload.get("shop_id")), text(credentials.get("shop_id")), "shop_id")
        require_fresh(epoch_seconds(payload.get("timestamp")), now_s, WEBHOOK_RETRY_HORIZON_S)

    def parse_webhook(self, request: WebhookRequest, shop: str) -> list[OrderEvent]:
        payload = load_object(request.body)
        if payload.get("code") == CODE_RETURN_UPDATE:
            return self._parse_return_push(payload, shop)
        if payload.get("code") != CODE_ORDER_STATUS:
            return []  # other pushes (auth, tracking numbers, promotions) do not move stock
        data = payload.get("data")
        if not isinstance(data, dict):
            raise PayloadInvalid("missing object 'data'")
        order_sn, status = text(data.get("ordersn")), text(data.get("status"))
        if not order_sn or not status:
            raise PayloadInvalid("order status push needs data.ordersn and data.status")
        kind = _KIND_BY_STATUS.get(status)
        if kind is None:
            return []
        update_time = text(data.get("update_time") or payload.get("timestamp"))
        return [OrderEvent(PLATFORM, shop, order_sn, kind, (), f"{order_sn}-{status}-{update_time}",
                           paid=kind is not OrderEventKind.CREATED, occurred_at=update_time or None)]

    def _parse_return_push(self, payload: dict, shop: str) -> list[OrderEvent]:
        data = payload.get("data")
        if not isinstance(data, dict):
            raise PayloadInvalid("missing object 'data'")
        return_sn = text(data.get("return_sn"))
        if not return_sn:
            raise PayloadInvalid("return push needs data.return_sn")
        # order_sn completes from the return detail when a push lacks it.
        order_sn = text(data.get("order_sn") or data.get("ordersn"))
        occurred = text(data.get("update_time") or payload.get("timestamp")) or None
        return [OrderEvent(PLATFORM, shop, order_sn, OrderEventKind.RETURNED, (), f"{RETURN_PREFIX}{return_sn}",
                           occurred_at=occurred)]

    def needs_order_detail(self, event: OrderEvent) -> bool:
        return not event.lines and event.kind is not OrderEventKind.CANCELLED

    def build_order_detail(self, credentials: Mapping[str, str], event: OrderEvent) -> HttpCall:
        if event.kind is OrderEventKind.RETURNED:
            return self._signed(credentials, "GET", GET_RETURN_DETAIL, {"return_sn": return_sn_of(event)})
        return self._signed(credentials, "GET", GET_ORDER_DETAIL,
                            {"order_sn_list": event.order_id, "response_optional_fields": "item_list"})

    def parse_order_detail(self, event: OrderEvent, status: int, body: bytes) -> OrderEvent:
        if event.kind is OrderEventKind.RETURNED:
            return self._parse_return_detail(event, status, body)
        payload = load_object(body, "order detail")
        if status != 200 or payload.get("error"):
            raise PayloadInvalid(f"Shopee order detail failed: {payload.get('error')} {payload.get('message')}")
        orders = [o for o in (payload.get("response") or {}).get("order_list") or []
                  if text(o.get("order_sn")) == event.order_id]
        if not orders:
            raise PayloadInvalid(f"order {event.order_id} not in detail response")
        lines = []
        for item in orders[0].get("item_list") or []:
            qty = positive_qty(item.get("model_quantity_purchased"), f"item {item.get('item_id')}")
            lines.append(OrderLine(listing_key(item.get("item_id"), item.get("model_id")), qty,
                                   item.get("model_sku") or item.get("item_sku") or None))
        if not lines:
            raise PayloadInvalid(f"order {event.order_id} has no items")
        return replace(event, lines=tuple(lines))

    def _parse_return_detail(self, event: OrderEvent, status: int, body: bytes) -> OrderEvent:
        payload = load_object(body, "return detail")
        if status != 200 or payload.get("error"):
            raise PayloadInvalid(f"Shopee return detail failed: {payload.get('error')} {payload.get('message')}")
        detail = payload.get("response")
        return_sn = return_sn_of(event)
        if not isinstance(detail, dict) or text(detail.get("return_sn")) != return_sn:
            raise PayloadInvalid(f"return {return_sn} not in detail response")
        order_sn = text(detail.get("order_sn")) or event.order_id
        if not order_sn:
            raise PayloadInvalid(f"return {return_sn} names no order_sn")
        if not goods_back_with_seller(detail):
            state = f"{text(detail.get('status')) or '-'}/{text(detail.get('logistics_status')) or '-'}"
            return replace(event, order_id=order_sn, lines=(), delivery_id=f"{RETURN_PREFIX}{return_sn}@{state}")
        counts: dict[str, int] = {}
        skus: dict[str, str | None] = {}
        for item in detail.get("item") or []:
            if not isinstance(item, dict):
                raise PayloadInvalid(f"return {return_sn}: item must be an object")
            key = listing_key(item.get("item_id"), item.get("model_id"))
            if not key:
                raise PayloadInvalid(f"return {return_sn}: item without item_id")
            amount = positive_qty(item.get("amount"), f"return {return_sn} item {key}")
            counts[key] = positive_qty(counts.get(key, 0) + amount, f"return {return_sn} item {key}")
            skus.setdefault(key, item.get("variation_sku") or item.get("item_sku") or None)
        if not counts:
            raise PayloadInvalid(f"return {return_sn} has no items")
        lines = tuple(OrderLine(k, v, skus[k]) for k, v in counts.items())
        return replace(event, order_id=order_sn, lines=lines)

    # -- outbound -------------------------------------------------------------------------------------
    def api_base(self, credentials: Mapping[str, str]) -> str:
        return credentials.get("api_base_url") or DEFAULT_BASE

    def _signed(self, credentials: Mapping[str, str], method: str, path: str,
                params: Mapping[str, str] | None = None, body_obj=None) -> HttpCall:
        partner_id, partner_key, shop_id, token = require(
            credentials, "partner_id", "partner_key", "shop_id", "access_token")
        base = self.api_base(credentials).rstrip("/")
        ts = int(self.clock())
        query = {"partner_id": partner_id, "timestamp": str(ts), "access_token": token, "shop_id": shop_id,
                 "sign": shop_sign(partner_key, partner_id, path, ts, token, shop_id), **(params or {})}
        headers = {"Content-Type": "application/json"} if body_obj is not None else {}
        body = compact_json(body_obj) if body_obj is not None else b""
        return HttpCall(method, f"{base}{path}?{urlencode(query)}", headers, body, API_HOSTS)

    def build_stock_updates(self, credentials: Mapping[str, str], pushes: list[StockPush]) -> list[HttpCall]:
        calls = []
        by_item = group_by(pushes, lambda p: require_id(p.platform_ids, "item_id", p.listing_id))
        for item_id, group in by_item.items():
            for batch in chunks(group, self.batch_size):
                stock_list = []
                for push in batch:
                    stock = {"stock": check_quantity(push.quantity, push.listing_id)}
                    if push.platform_ids.get("location_id"):
                        stock["location_id"] = str(push.platform_ids["location_id"])
                    entry: dict = {"seller_stock": [stock]}
                    model_id = push.platform_ids.get("model_id")
                    if model_id not in (None, "", "0"):
                        entry["model_id"] = as_int(model_id, "model_id")
                    stock_list.append(entry)
                body = {"item_id": as_int(item_id, "item_id"), "stock_list": stock_list}
                calls.append(self._signed(credentials, "POST", UPDATE_STOCK, body_obj=body))
        return calls

    def build_stock_adjustments(self, credentials: Mapping[str, str], adjusts: list[StockAdjust],
                                key: str | None = None) -> list[HttpCall]:
        absolute_only("Shopee")

    def build_read_back(self, credentials: Mapping[str, str], listing_ids: list[str],
                        platform_ids: Mapping[str, Mapping[str, str]] | None = None) -> list[HttpCall]:
        """Variant items read through get_model_list (one item per call), plain items through
        get_item_base_info; both need the item id, so `platform_ids[listing_id]['item_id']` is required."""
        platform_ids = platform_ids or {}
        with_models: set[str] = set()
        plain: list[str] = []
        for listing in listing_ids:
            ids = platform_ids.get(listing) or {}
            item_id = require_id(ids, "item_id", listing)
            if ids.get("model_id") not in (None, "", "0"):
                with_models.add(item_id)
            elif item_id not in plain:
                plain.append(item_id)
        calls = [self._signed(credentials, "GET", GET_MODEL_LIST, {"item_id": item}) for item in sorted(with_models)]
        calls += [self._signed(credentials, "GET", GET_ITEM_BASE_INFO, {"item_id_list": ",".join(batch)})
                  for batch in chunks(plain, MAX_ITEMS_PER_BASE_INFO)]
        return calls

    def parse_read_back(self, status: int, body: bytes) -> dict[str, int]:
        payload = try_json(body)
        if status != 200 or not isinstance(payload, dict) or payload.get("error"):
            raise PayloadInvalid(f"Shopee read-back failed: HTTP {status}")
        response = payload.get("response") or {}
        shown: dict[str, int] = {}
        for model in response.get("model") or []:
            shown[text(model.get("model_id"))] = _seller_stock(model)
        for item in response.get("item_list") or []:
            shown[text(item.get("item_id"))] = _seller_stock(item)
        return shown

    def build_list_listings(self, credentials: Mapping[str, str], cursor: dict | None) -> HttpCall:
        cursor = _list_cursor(cursor)
        if cursor["models"]:
            return self._signed(credentials, "GET", GET_MODEL_LIST, {"item_id": cursor["models"][0][0]})
        if cursor["items"]:
            return self._signed(credentials, "GET", GET_ITEM_BASE_INFO,
                                {"item_id_list": ",".join(cursor["items"][:MAX_ITEMS_PER_BASE_INFO])})
        return self._signed(credentials, "GET", GET_ITEM_LIST, {
            "offset": str(cursor["offset"]), "page_size": str(ITEM_LIST_PAGE), "item_status": "NORMAL"})

    def parse_list_listings(self, cursor: dict | None, status: int, body: bytes,
                            headers: Mapping[str, str] | None = None) -> ListingPage:
        payload = try_json(body)
        if status != 200 or not isinstance(payload, dict) or payload.get("error"):
            raise PayloadInvalid(f"Shopee product list failed: HTTP {status} "
                                 f"{(payload or {}).get('error') if isinstance(payload, dict) else ''}")
        response = payload.get("response") or {}
        cursor = _list_cursor(cursor)
        found: list[DiscoveredListing] = []
        if cursor["models"]:
            (item_id, name), rest = cursor["models"][0], cursor["models"][1:]
            for model in response.get("model") or []:
                sku = text(model.get("model_sku")).strip()
                found.append(DiscoveredListing(text(model.get("model_id")), sku, text(model.get("gtin_code")).strip(),
                                               name, {"item_id": item_id, "model_id": text(model.get("model_id"))},
                                               _seller_stock(model)))
            cursor["models"] = rest
        elif cursor["items"]:
            for item in response.get("item_list") or []:
                item_id, name = text(item.get("item_id")), text(item.get("item_name"))
                if item.get("has_model"):
                    cursor["models"].append([item_id, name])
                else:
                    found.append(DiscoveredListing(item_id, text(item.get("item_sku")).strip(),
                                                   text(item.get("gtin_code")).strip(), name, {"item_id": item_id},
                                                   _seller_stock(item)))
            cursor["items"] = cursor["items"][MAX_ITEMS_PER_BASE_INFO:]
        else:
            cursor["items"] = [text(i.get("item_id")) for i in response.get("item") or [] if i.get("item_id")]
            cursor["offset"] = int(response.get("next_offset") or 0) if response.get("has_next_page") else None
        done = cursor["offset"] is None and not cursor["items"] and not cursor["models"]
        return ListingPage(tuple(found), None if done else cursor)

    def classify_response(self, status: int, body: bytes,
                          headers: Mapping[str, str] | None = None) -> CallResult:
        payload = try_json(body)
        payload = payload if isinstance(payload, dict) else {}
        error, message = text(payload.get("error")), text(payload.get("message"))
        verdict = by_status(status, headers, error, message)
        if verdict:
            return verdict
        if error in _RETRYABLE_ERRORS:
            return CallResult(Outcome.RETRYABLE, error, message)
        if status != 200 or error:
            return CallResult(Outcome.PERMANENT, error or str(status), message)
        response = payload.get("response") or {}
        failures = response.get("failure_list") or []
        failed = tuple(text(f.get("model_id") or response.get("item_id") or "") for f in failures)
        if failures and not response.get("success_list"):
            first = failures[0]
            return CallResult(Outcome.PERMANENT, "failure_list", text(first.get("failed_reason")), None, failed)
        return CallResult(Outcome.OK, failed_listings=failed)


def _list_cursor(cursor: dict | None) -> dict:
    """Discovery's walk: the next get_item_list offset (None once the last page is in), the items still to read
    with get_item_base_info, the [item_id, name] of items whose models are still to read."""
    cursor = cursor or {}
    return {"offset": cursor.get("offset", 0), "items": list(cursor.get("items") or []),
            "models": [list(m) for m in cursor.get("models") or []]}


def _seller_stock(entry: dict) -> int:
    info = entry.get("stock_info_v2") or {}
    # The seller's own warehouses are what update_stock writes; Shopee-held stock is not ours to set.
    return sum(int(s.get("stock") or 0) for s in info.get("seller_stock") or [])

"""Amazon Selling Partner API (SP-API) adapter: orders arrive on an SQS queue (and are polled as the
fallback), stock is pushed through the Listings Items API.

Ingestion: Amazon sends no HTTP webhook. ORDER_CHANGE notifications (Notifications API, SQS workflow) are
delivered to an SQS queue the stack creates; its queue policy admits only Amazon's notification publisher
(AWS account 437568002678, as the Notifications API "Set up notifications using Amazon SQS" workflow and its
worked examples name it; re-checked 2026-12 against AWS's own SP-API + SQS tutorial, aws.amazon.com/cn/blogs/
china/detailed-tutorial-on-the-use-of-notifications-api-in-sp-api-with-amazon-sqs, and a qiita walkthrough of
createDestination, both granting Principal 437568002678 sqs:SendMessage and sqs:GetQueueAttributes), so the
queue is the guard: the notification carries no signature (verify_webhook
refuses every HTTP delivery). The consumer (functions/amazon_notifications, logic/queued_ingest) parses each
message with `parse_notification` and binds it to the shop whose credentials name its SellerId (and, when
set, its MarketplaceId). Notification shape (checked 2026-12 against the ORDER_CHANGE schema example in the
Notifications models, as mirrored by the bizon selling-partner-api-sdk schema docs): NotificationType
"ORDER_CHANGE", Payload.OrderChangeNotification {SellerId, AmazonOrderId, OrderChangeType,
OrderChangeTrigger {TimeOfOrderChange, ChangeReason}, Summary {MarketplaceId, OrderStatus, FulfillmentType,
OrderItems[] {OrderItemId, SellerSKU, Quantity}}}, NotificationMetadata.NotificationId.

Fallback poll (logic/order_poll, registry.POLLING_PLATFORMS): Orders API v0 `getOrders`
GET /orders/v0/orders?MarketplaceIds=..&LastUpdatedAfter=..&LastUpdatedBefore=.. (ISO 8601, UTC), then
NextToken pages (NextToken and MarketplaceIds only). LastUpdatedBefore must be at least two minutes before
the request (poll_settle_s = 120). getOrders carries no items: each order's lines come from `getOrderItems`
GET /orders/v0/orders/{orderId}/orderItems (needs_order_detail; the poller fetches it under the shop's
limiter). Usage plans (Orders API v0 model): getOrders 0.0167 req/s burst 20, getOrderItems 0.5 req/s burst 30:
so windows are read at most every 5 minutes (min_poll_interval_s = 300: ~0.0033 calls/s of getOrders plus
its pages, within the plan), not at every 30-s poller run, which would spend the burst in ~10 min and then be
throttled. The notifications are the primary path; the poll is the backstop.
Last units (order_report_lag_s = 0): the notifications are Amazon's order path, so a cut Amazon listing
drains for the last-units policy's drain_s, as a webhook platform's does; Amazon publishes no delivery time for
ORDER_CHANGE (the Notifications API use case guide only advises a backup "in the event of an unexpected outage
or delay in notification delivery"). Counting the fallback poll's lag (120 s settle + 300 s interval + a run)
instead would lock every cut Amazon listing's units away for ~7.5 min on each move; a notification later than
drain_s is the case the policy's drain_s is raised for, as for any webhook platform.
An order item's further pages (getOrderItems NextToken) are not read: an order with more items than one
answer holds is refused with PayloadInvalid (not seen in practice for a single order, unverified).

Status mapping (OrderStatus, as what has happened so far; each step's marker makes a repeat a duplicate):
- Pending, PendingAvailability (pre-order): hold (CREATED, not paid).
- Unshipped, PartiallyShipped: commit (PAID). Shipped: commit then ship (PAID, SHIPPED).
- InvoiceUnconfirmed (shipped, invoice not yet confirmed; BR/IN): treated as Shipped.
- Canceled: release (CANCELLED).
- Ambiguous, chosen: Unfulfillable (Amazon could not fulfil: multi-channel orders) gives no event — the order
  took no merchant stock that StockLink could hand back with certainty, so staff resolve it. Orders with
  FulfillmentChannel/FulfillmentType AFN (fulfilled by Amazon from its own warehouses) give no event: their
  units never leave StockLink's warehouses. Returns: neither getOrders nor ORDER_CHANGE report a restock, so
  no RETURNED event is made (staff receive returns).
delivery_id = AmazonOrderId:OrderStatus:update time (TimeOfOrderChange or LastUpdateDate); the event key
(platform, shop, order, kind) makes the queue and the poll seeing one change apply it once. Times are UTC
ISO 8601 (Amazon does not use GMT+8); amounts are not read (stock only).

Authentication: Login with Amazon (LWA) refresh-token grant, POST https://api.amazon.com/auth/o2/token
(form: grant_type=refresh_token, refresh_token, client_id, client_secret) -> {access_token, token_type
bearer, expires_in 3600} (developer.amazon.com "Use the refresh token to get new tokens"; LWA "Access
Tokens"). Each SP-API call carries `x-amz-access-token`; no AWS SigV4 since 2023-10. Tokens are cached per
container per (token URL, client_id, refresh token) until EXPIRY_MARGIN_S before they expire. There is no
request signature to reproduce from a published example: the LWA form body and header are tested against an
independently written expectation in tests/unit/channels/test_amazon_adapter.py.

Stock: Listings Items API 2021-08-01 `patchListingsItem`
PATCH /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=.. with {"productType", "patches": [{"op":
"replace", "path": "/attributes/fulfillment_availability", "value": [{"fulfillment_channel_code": "DEFAULT",
"quantity": n}]}]} -> {sku, status ACCEPTED|INVALID, submissionId, issues}. Absolute only: the API has no
relative quantity. productType is the listing's own (platform_ids["product_type"], found by discovery), else
"PRODUCT" (the generic type Amazon's inventory examples patch with; unverified for every category).
Read-back: `getListingsItem` GET .../items/{sellerId}/{sku}?marketplaceIds=..&includedData=fulfillmentAvailability
-> fulfillmentAvailability[] {fulfillmentChannelCode, quantity}. Discovery: `searchListingsItems`
GET /listings/2021-08-01/items/{sellerId}?marketplaceIds=..&includedData=summaries,fulfillmentAvailability
&pageSize=20&pageToken=.. -> {items[] {sku, summaries[] {asin, productType, itemName}}, pagination.nextToken}.
Listings names, parameters, the response examples and the 5 req/s burst 10 usage plan checked (2026-12)
against amzn/selling-partner-api-models listingsItems_2021-08-01.json. searchListingsItems' pageSize maximum
(20) and its response fields are from the Listings Items API reference, not re-read this time: unverified.
`JSON_LISTINGS_FEED` (bulk) is not used: one PATCH per SKU at 5 req/s is what the pushes need.

API hosts: sellingpartnerapi-na.amazon.com, sellingpartnerapi-eu.amazon.com, sellingpartnerapi-fe.amazon.com
(the SP-API regional endpoints) and the LWA token hosts api.amazon.com / api.amazon.co.uk / api.amazon.co.jp.
Errors: {"errors": [{code, message, details}]}; 429 QuotaExceeded and 5xx retryable, 403 (Unauthorized,
expired token) permanent.

Credentials: client_id, client_secret, refresh_token, seller_id, marketplace_id, region? (na|eu|fe),
api_base_url? and lwa_url? (a sandbox). listing_id = the seller SKU.
"""
from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime, timezone
from typing import Callable, Mapping
from urllib.parse import quote, urlencode

from stocklink.channels._common import (
    CallResult,
    absolute_only,
    Outcome,
    by_status,
    check_quantity,
    iso_seconds,
    positive_qty,
    require,
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
    OrderPollPage,
    PayloadInvalid,
    PollWindow,
    StockAdjust,
    StockPush,
    WebhookRejected,
    WebhookRequest,
    constant_time_equal,
)
from stocklink.outbound_policy import HostRule

PLATFORM = "amazon"
REGION_BASES = {"na": "https://sellingpartnerapi-na.amazon.com",
                "eu": "https://sellingpartnerapi-eu.amazon.com",
                "fe": "https://sellingpartnerapi-fe.amazon.com"}
LWA_URLS = {"na": "https://api.amazon.com/auth/o2/token", "eu": "https://api.amazon.co.uk/auth/o2/token",
            "fe": "https://api.amazon.co.jp/auth/o2/token"}
API_HOSTS = HostRule("Amazon SP-API", frozenset({
    "sellingpartnerapi-na.amazon.com", "sellingpartnerapi-eu.amazon.com", "sellingpartnerapi-fe.amazon.com",
    "api.amazon.com", "api.amazon.co.uk", "api.amazon.co.jp"}))
# The AWS account Amazon's SP-API notifications are published from (infra: the queue policy's principal).
NOTIFICATION_PUBLISHER_ACCOUNT = "437568002678"
LISTINGS = "/listings/2021-08-01/items"
ORDERS = "/orders/v0/orders"
FULFILLMENT_PATH = "/attributes/fulfillment_availability"
DEFAULT_PRODUCT_TYPE = "PRODUCT"
SEARCH_PAGE_SIZE = 20
SETTLE_S = 120                 # documented: LastUpdatedBefore at least 2 min before the request
MAX_WINDOW_S = 6 * 3600        # no documented limit: windows short enough that NextToken pages stay few
EXPIRY_MARGIN_S = 60           # a cached token is renewed this long before it expires
_HOLD = {"Pending", "PendingAvailability"}
_COMMIT = {"Unshipped", "PartiallyShipped"}
_SHIPPED = {"Shipped", "InvoiceUnconfirmed"}
_NO_EVENT = {"Unfulfillable"}

# Per container: (token URL, client_id, sha256(refresh token)) -> (access token, expires at epoch s).
_token_cache: dict[tuple[str, str, str], tuple[str, float]] = {}


class AccessTokenUnavailable(PayloadInvalid):
    """LWA did not give an access token (refused credentials, or LWA unreachable): no call can be built."""


def _default_send(call: HttpCall):
    from stocklink import outbound

    return outbound.send(call)


def iso_utc(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def kinds_of(status: str, fulfillment: str) -> list[OrderEventKind]:
    """What has happened to an order so far (see the module docstring); [] for an order StockLink leaves."""
    if fulfillment == "AFN" or status in _NO_EVENT:
        return []
    if status in _HOLD:
        return [OrderEventKind.CREATED]
    if status in _COMMIT:
        return [OrderEventKind.PAID]
    if status in _SHIPPED:
        return [OrderEventKind.PAID, OrderEventKind.SHIPPED]
    if status == "Canceled":
        return [OrderEventKind.CANCELLED]
    raise PayloadInvalid(f"unknown Amazon OrderStatus {status!r}")


class AmazonAdapter:
    platform = PLATFORM
    api_hosts = API_HOSTS
    batch_size = 1                 # patchListingsItem takes one SKU
    rate_per_second = 5.0          # Listings Items usage plan: 5 req/s, burst 10
    burst = 10
    webhook_carries_lines = True   # ORDER_CHANGE carries Summary.OrderItems; getOrders does not
    supports_relative = False
    relative_below_zero = False
    relative_idempotent = False
    polls_orders = True
    max_poll_window_s = MAX_WINDOW_S
    poll_settle_s = SETTLE_S
    min_poll_interval_s = 300      # getOrders: 0.0167 req/s burst 20 (see the module docstring)
    order_report_lag_s = 0         # ORDER_CHANGE on our SQS queue, as a webhook (see the module docstring)

    def __init__(self, clock: Callable[[], float] = time.time, send: Callable | None = None):
        self.clock = clock
        self.send = send or _default_send

    # -- inbound: the SQS queue, never HTTP ------------------------------------------------------------
    def verify_webhook(self, request: WebhookRequest, credentials: Mapping[str, str]) -> None:
        raise WebhookRejected("Amazon notifications arrive on the SQS queue: no HTTP webhook is accepted")

    def verify_shop_and_freshness(self, request: WebhookRequest, credentials: Mapping[str, str], shop: str,
                                  now_s: float) -> None:
        raise WebhookRejected("Amazon notifications arrive on the SQS queue: no HTTP webhook is accepted")

    def parse_webhook(self, request: WebhookRequest, shop: str) -> list[OrderEvent]:
        return self.parse_notification(request.body, shop)

    @staticmethod
    def notification_owner(body: bytes) -> tuple[str, str] | None:
        """(SellerId, MarketplaceId) an ORDER_CHANGE notification is for; None for another notification type
        (nothing to apply). PayloadInvalid if the message is not an SP-API notification."""
        message = try_json(body)
        if not isinstance(message, dict) or not isinstance(message.get("Payload"), dict):
            raise PayloadInvalid("not an SP-API notification")
        if message.get("NotificationType") != "ORDER_CHANGE":
            return None
        change = message["Payload"].get("OrderChangeNotification")
        if not isinstance(change, dict) or not text(change.get("SellerId")):
            raise PayloadInvalid("ORDER_CHANGE without OrderChangeNotification.SellerId")
        summary = change.get("Summary") if isinstance(change.get("Summary"), dict) else {}
        return text(change.get("SellerId")), text(summary.get("MarketplaceId"))

    @staticmethod
    def belongs_to(credentials: Mapping[str, str], seller_id: str, marketplace_id: str) -> bool:
        """The shop these credentials are for is the notification's seller (and marketplace, when the shop
        names one): one SP-API app serves many sellers through one queue."""
        own_seller, own_market = text(credentials.get("seller_id")), text(credentials.get("marketplace_id"))
        if not own_seller or not constant_time_equal(own_seller, seller_id):
            return False
        return not (own_market and marketplace_id and own_market != marketplace_id)

    def parse_notification(self, body: bytes, shop: str) -> list[OrderEvent]:
        if self.notification_owner(body) is None:
            return []
        change = json.loads(body)["Payload"]["OrderChangeNotification"]
        order_id = text(change.get("AmazonOrderId"))
        summary = change.get("Summary")
        if not order_id or not isinstance(summary, dict):
            raise PayloadInvalid("ORDER_CHANGE without AmazonOrderId or Summary")
        trigger = change.get("OrderChangeTrigger") if isinstance(change.get("OrderChangeTrigger"), dict) else {}
        changed_at = text(trigger.get("TimeOfOrderChange"))
        kinds = kinds_of(text(summary.get("OrderStatus")), text(summary.get("FulfillmentType")))
        lines = []
        for item in summary.get("OrderItems") or []:
            sku = text(item.get("SellerSKU")) if isinstance(item, dict) else ""
            if not sku:
                raise PayloadInvalid(f"order {order_id}: an item without SellerSKU")
            lines.append(OrderLine(sku, positive_qty(item.get("Quantity"), f"order {order_id}"), sku))
        if kinds and not lines and kinds != [OrderEventKind.CANCELLED]:
            raise PayloadInvalid(f"order {order_id}: ORDER_CHANGE without OrderItems")
        return self._events(shop, order_id, text(summary.get("OrderStatus")), changed_at, kinds, tuple(lines))

    @staticmethod
    def _events(shop, order_id, status, updated, kinds, lines) -> list[OrderEvent]:
        occurred = None
        if iso_seconds(updated) is not None:
            occurred = datetime.fromtimestamp(iso_seconds(updated), tz=timezone.utc).isoformat()
        return [OrderEvent(PLATFORM, shop, order_id, kind, lines, f"{order_id}:{status}:{updated}",
                           paid=kind is not OrderEventKind.CREATED, occurred_at=occurred) for kind in kinds]

    # -- fallback poll: getOrders, then getOrderItems per order ---------------------------------------
    def build_order_poll(self, credentials: Mapping[str, str], window: PollWindow, page: dict | None) -> HttpCall:
        if not 0 < window.end_s - window.start_s <= MAX_WINDOW_S:
            raise ValueError(f"an Amazon order window lasts 1 s to {MAX_WINDOW_S} s, got {window}")
        (market,) = require(credentials, "marketplace_id")
        if page and page.get("next_token"):
            query = {"MarketplaceIds": market, "NextToken": page["next_token"]}
        else:
            query = {"MarketplaceIds": market, "LastUpdatedAfter": iso_utc(window.start_s),
                     "LastUpdatedBefore": iso_utc(window.end_s)}
        return self._call(credentials, "GET", ORDERS, query)

    def parse_order_poll(self, shop: str, window: PollWindow, page: dict | None, status: int,
                         body: bytes) -> OrderPollPage:
        payload = self._payload(status, body)
        events: list[OrderEvent] = []
        for order in payload.get("Orders") or []:
            if not isinstance(order, dict) or not text(order.get("AmazonOrderId")):
                raise PayloadInvalid("getOrders: an order without AmazonOrderId")
            kinds = kinds_of(text(order.get("OrderStatus")), text(order.get("FulfillmentChannel")))
            # No lines yet: needs_order_detail makes the poller fetch getOrderItems before applying.
            events.extend(self._events(shop, text(order["AmazonOrderId"]), text(order.get("OrderStatus")),
                                       text(order.get("LastUpdateDate")), kinds, ()))
        token = text(payload.get("NextToken"))
        return OrderPollPage(tuple(events), {"next_token": token} if token else None)

    def needs_order_detail(self, event: OrderEvent) -> bool:
        return not event.lines and event.kind is not OrderEventKind.CANCELLED

    def build_order_detail(self, credentials: Mapping[str, str], event: OrderEvent) -> HttpCall:
        return self._call(credentials, "GET", f"{ORDERS}/{quote(event.order_id, safe='')}/orderItems", {})

    def parse_order_detail(self, event: OrderEvent, status: int, body: bytes) -> OrderEvent:
        from dataclasses import replace

        payload = self._payload(status, body)
        if text(payload.get("NextToken")):
            raise PayloadInvalid(f"order {event.order_id}: more order items than one getOrderItems answer")
        lines = []
        for item in payload.get("OrderItems") or []:
            sku = text(item.get("SellerSKU")) if isinstance(item, dict) else ""
            if not sku:
                raise PayloadInvalid(f"order {event.order_id}: an item without SellerSKU")
            lines.append(OrderLine(sku, positive_qty(item.get("QuantityOrdered"), f"order {event.order_id}"), sku))
        if not lines:
            raise PayloadInvalid(f"order {event.order_id}: getOrderItems gave no items")
        return replace(event, lines=tuple(lines))

    # -- outbound --------------------------------------------------------------------------------------
    def api_base(self, credentials: Mapping[str, str]) -> str:
        region = text(credentials.get("region") or "na").lower()
        return credentials.get("api_base_url") or REGION_BASES.get(region, "")

    def _lwa_url(self, credentials: Mapping[str, str]) -> str:
        region = text(credentials.get("region") or "na").lower()
        return credentials.get("lwa_url") or LWA_URLS.get(region, "")

    def build_token_request(self, credentials: Mapping[str, str]) -> HttpCall:
        """The LWA refresh-token grant (form-encoded POST)."""
        client_id, client_secret, refresh = require(credentials, "client_id", "client_secret", "refresh_token")
        body = urlencode({"grant_type": "refresh_token", "refresh_token": refresh, "client_id": client_id,
                          "client_secret": client_secret}).encode()
        return HttpCall("POST", self._lwa_url(credentials),
                        {"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}, body, API_HOSTS)

    def access_token(self, credentials: Mapping[str, str]) -> str:
        """A cached LWA access token, renewed EXPIRY_MARGIN_S before it expires."""
        client_id, refresh = require(credentials, "client_id", "refresh_token")
        key = (self._lwa_url(credentials), client_id, hashlib.sha256(refresh.encode()).hexdigest())
        cached = _token_cache.get(key)
        now = self.clock()
        if cached and cached[1] - EXPIRY_MARGIN_S > now:
            return cached[0]
        status, _headers, body = self.send(self.build_token_request(credentials))
        answer = try_json(body)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if status != 200 or not isinstance(token, str) or not token:
            # The LWA answer may echo what was sent: only its error code is kept.
            code = text(answer.get("error")) if isinstance(answer, dict) else ""
            raise AccessTokenUnavailable(f"Login with Amazon refused the refresh token: HTTP {status} {code}".strip())
        expires_in = answer.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, (int, float)) and expires_in > 0 else 3600.0
        _token_cache[key] = (token, now + lifetime)
        return token

    def _call(self, credentials: Mapping[str, str], method: str, path: str, query: Mapping[str, str],
              body: bytes = b"") -> HttpCall:
        token = self.access_token(credentials)
        url = f"{self.api_base(credentials).rstrip('/')}{path}"
        if query:
            url += "?" + urlencode(query, safe=",")
        headers = {"x-amz-access-token": token, "Accept": "application/json",
                   "User-Agent": "StockLink/1.0 (Language=Python)"}
        if body:
            headers["Content-Type"] = "application/json"
        return HttpCall(method, url, headers, body, API_HOSTS)

    def _item_path(self, credentials: Mapping[str, str], sku: str) -> str:
        (seller,) = require(credentials, "seller_id")
        return f"{LISTINGS}/{quote(seller, safe='')}/{quote(sku, safe='')}"

    def build_stock_updates(self, credentials: Mapping[str, str], pushes: list[StockPush]) -> list[HttpCall]:
        (market,) = require(credentials, "marketplace_id")
        calls = []
        for push in pushes:
            quantity = check_quantity(push.quantity, push.listing_id)
            patch = {"productType": push.platform_ids.get("product_type") or DEFAULT_PRODUCT_TYPE,
                     "patches": [{"op": "replace", "path": FULFILLMENT_PATH,
                                  "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]}]}
            calls.append(self._call(credentials, "PATCH", self._item_path(credentials, push.listing_id),
                                    {"marketplaceIds": market}, json.dumps(patch, separators=(",", ":")).encode()))
        return calls

    def build_stock_adjustments(self, credentials: Mapping[str, str], adjusts: list[StockAdjust],
                                key: str | None = None) -> list[HttpCall]:
        absolute_only(PLATFORM)      # the Listings Items API has no relative quantity

    def build_read_back(self, credentials: Mapping[str, str], listing_ids: list[str],
                        platform_ids: Mapping[str, Mapping[str, str]] | None = None) -> list[HttpCall]:
        (market,) = require(credentials, "marketplace_id")
        return [self._call(credentials, "GET", self._item_path(credentials, sku),
                           {"marketplaceIds": market, "includedData": "fulfillmentAvailability"})
                for sku in listing_ids]

    def parse_read_back(self, status: int, body: bytes) -> dict[str, int]:
        item = try_json(body)
        if status != 200 or not isinstance(item, dict) or not text(item.get("sku")):
            raise PayloadInvalid(f"getListingsItem answered HTTP {status}")
        return {text(item["sku"]): self._merchant_quantity(item)}

    @staticmethod
    def _merchant_quantity(item: Mapping) -> int:
        """The DEFAULT (merchant-fulfilled) channel's quantity; 0 when the listing shows none."""
        for entry in item.get("fulfillmentAvailability") or []:
            if isinstance(entry, dict) and entry.get("fulfillmentChannelCode") == "DEFAULT":
                return int(entry.get("quantity") or 0)
        return 0

    def build_list_listings(self, credentials: Mapping[str, str], cursor: dict | None) -> HttpCall:
        (market, seller) = require(credentials, "marketplace_id", "seller_id")
        query = {"marketplaceIds": market, "includedData": "summaries,fulfillmentAvailability",
                 "pageSize": str(SEARCH_PAGE_SIZE)}
        if cursor and cursor.get("page_token"):
            query["pageToken"] = cursor["page_token"]
        return self._call(credentials, "GET", f"{LISTINGS}/{quote(seller, safe='')}", query)

    def parse_list_listings(self, cursor: dict | None, status: int, body: bytes,
                            headers: Mapping[str, str] | None = None) -> ListingPage:
        answer = try_json(body)
        if status != 200 or not isinstance(answer, dict):
            raise PayloadInvalid(f"searchListingsItems answered HTTP {status}")
        found = []
        for item in answer.get("items") or []:
            if not isinstance(item, dict) or not text(item.get("sku")):
                continue
            summary = next((s for s in item.get("summaries") or [] if isinstance(s, dict)), {})
            ids = {k: text(summary.get(f)) for k, f in (("asin", "asin"), ("product_type", "productType"))
                   if summary.get(f)}
            has_quantity = any(isinstance(e, dict) and e.get("fulfillmentChannelCode") == "DEFAULT"
                               for e in item.get("fulfillmentAvailability") or [])
            found.append(DiscoveredListing(text(item["sku"]), text(item["sku"]), "", text(summary.get("itemName")),
                                           ids, self._merchant_quantity(item) if has_quantity else None))
        token = text((answer.get("pagination") or {}).get("nextToken"))
        return ListingPage(tuple(found), {"page_token": token} if token else None)

    @staticmethod
    def _payload(status: int, body: bytes) -> dict:
        answer = try_json(body)
        if status != 200 or not isinstance(answer, dict) or not isinstance(answer.get("payload"), dict):
            raise PayloadInvalid(f"Amazon Orders API answered HTTP {status}")
        return answer["payload"]

    def classify_response(self, status: int, body: bytes,
                          headers: Mapping[str, str] | None = None) -> CallResult:
        answer = try_json(body)
        answer = answer if isinstance(answer, dict) else {}
        errors = [e for e in answer.get("errors") or [] if isinstance(e, dict)]
        code = text(errors[0].get("code")) if errors else ""
        message = text(errors[0].get("message")) if errors else ""
        verdict = by_status(status, headers, code, message)
        if verdict:
            return verdict
        if status == 200 and answer.get("status") == "INVALID":
            issues = [i for i in answer.get("issues") or [] if isinstance(i, dict)]
            first = issues[0] if issues else {}
            return CallResult(Outcome.PERMANENT, text(first.get("code")) or "INVALID",
                              text(first.get("message")) or "listing submission refused")
        if 200 <= status < 300 and not errors:
            return CallResult(Outcome.OK)
        return CallResult(Outcome.PERMANENT, code or str(status), message or "unexpected answer")

"""Amazon SP-API with Login with Amazon: POST .../auth/o2/token takes the refresh-token grant (client_id,
client_secret and refresh_token checked as LWA does, an access token valid 3600 s); every SP-API call must
carry a live token in `x-amz-access-token` (403 Unauthorized otherwise, as SP-API answers an expired or
unknown token). Listings Items 2021-08-01: PATCH of /attributes/fulfillment_availability (DEFAULT channel,
absolute quantity; answered ACCEPTED, or INVALID for an unknown SKU or a malformed patch), getListingsItem
with includedData=fulfillmentAvailability, searchListingsItems (pageSize <= 20, pageToken). Orders API v0:
getOrders by LastUpdatedAfter/LastUpdatedBefore (NextToken pages of 100) and getOrderItems.

Orders are not pushed over HTTP: each change stamps the order's update time (what getOrders filters on), and
`notification(order)` writes the ORDER_CHANGE message Amazon puts on the seller's SQS queue. A shop registered
with a notification_queue ({url, region}: the destination its ORDER_CHANGE subscription names; the local
runtime's is at GET /_local/platform-queues) gets that message sent there (SQS SendMessage, as Amazon's
publisher does), once per change and again when the same change is placed again (SQS delivers at least once)."""
from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
import uuid
from datetime import datetime
from urllib.parse import parse_qsl, unquote, urlsplit

from infra.sandbox.platforms._common import Simulator, is_qty, j, parse_json, request_id, set_quantities, utc_iso

# Native order states (the simulator's names are Amazon's OrderStatus values).
FULFILLMENT = "MFN"
PAGE = 100
SETTLE_S = 120     # documented: LastUpdatedBefore at least 2 minutes before the request (a test running the
                   # poller's clock ahead of this one lowers it by that much)


def errors(status: int, code: str, message: str):
    return j(status, {"errors": [{"code": code, "message": message, "details": ""}]},
             **{"x-amzn-RequestId": request_id()})


def iso_s(value: str) -> float | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except (AttributeError, ValueError):
        return None


class AmazonSim(Simulator):
    platform = "amazon"
    native = {"created": "Pending", "paid": "Unshipped", "cancelled": "Canceled", "shipped": "Shipped",
              "returned": "Shipped"}

    def __init__(self):
        self.tokens: dict[str, tuple[str, float]] = {}     # access token -> (shop, expires at)
        self._sqs: dict[tuple[str, str], object] = {}        # (endpoint, region) -> SQS client
        self._sqs_lock = threading.Lock()

    def fault(self, status):
        if status == 429:
            return errors(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
        return errors(status, "InternalFailure", "We encountered an internal error. Please try again.")

    def handle(self, state, shop, req):
        path = req.path.rstrip("/")
        if path == "/auth/o2/token":
            return self._token(shop, req)
        granted = self.tokens.get(req.headers.get("x-amz-access-token", ""))
        if granted is None or granted[0] != shop.shop or granted[1] < time.time():
            return errors(403, "Unauthorized", "Access to requested resource is denied.")
        seller = shop.credentials.get("seller_id", "")
        listings_prefix = f"/listings/2021-08-01/items/{seller}"
        if path == "/orders/v0/orders" and req.method == "GET":
            return self._orders(state, shop, req.query)
        if path.startswith("/orders/v0/orders/") and path.endswith("/orderItems") and req.method == "GET":
            return self._order_items(state, shop, unquote(path.split("/")[4]))
        if path == listings_prefix and req.method == "GET":
            return self._search(state, shop, req.query)
        if path.startswith(listings_prefix + "/"):
            sku = unquote(path[len(listings_prefix) + 1:])
            if req.query.get("marketplaceIds") != shop.credentials.get("marketplace_id"):
                return errors(400, "InvalidInput", "marketplaceIds is required and must be the seller's")
            if req.method == "PATCH":
                return self._patch(state, shop, sku, req.body)
            if req.method == "GET":
                return self._item(state, shop, sku)
        return errors(404, "NotFound", "Resource not found")   # sim

    def _token(self, shop, req):
        form = dict(parse_qsl(req.body.decode(errors="replace")))
        c = shop.credentials
        if form.get("grant_type") != "refresh_token":
            return j(400, {"error": "unsupported_grant_type", "error_description": "grant_type"})
        if form.get("client_id") != c.get("client_id") or not hmac.compare_digest(
                form.get("client_secret", ""), c.get("client_secret", "")):
            return j(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        if not hmac.compare_digest(form.get("refresh_token", ""), c.get("refresh_token", "")):
            return j(400, {"error": "invalid_grant", "error_description": "The request has an invalid grant parameter"})
        token = "Atza|" + secrets.token_urlsafe(24)
        self.tokens[token] = (shop.shop, time.time() + 3600)
        reply = j(200, {"access_token": token, "token_type": "bearer", "expires_in": 3600})
        reply.kind = "token"
        return reply

    def _orders(self, state, shop, query):
        if query.get("MarketplaceIds") != shop.credentials.get("marketplace_id"):
            return errors(400, "InvalidInput", "MarketplaceIds")
        token = query.get("NextToken")
        if token:
            try:
                start, end, offset = json.loads(token)
            except ValueError:
                return errors(400, "InvalidInput", "Invalid NextToken")
        else:
            start, end, offset = iso_s(query.get("LastUpdatedAfter", "")), iso_s(query.get("LastUpdatedBefore", "")), 0
            if start is None or end is None:
                return errors(400, "InvalidInput", "LastUpdatedAfter and LastUpdatedBefore must be ISO 8601")
            if end > time.time() - SETTLE_S + 5:   # 5 s slack for the clocks
                return errors(400, "InvalidInput", "LastUpdatedBefore must be at least 2 minutes before now")
        with state.lock:
            found = sorted((o for o in self.orders(state, shop).values() if start <= o.updated_at <= end),
                           key=lambda o: (o.updated_at, o.order_id))
            rows = [{"AmazonOrderId": o.order_id, "OrderStatus": o.status, "FulfillmentChannel": FULFILLMENT,
                     "LastUpdateDate": utc_iso(o.updated_at), "PurchaseDate": utc_iso(o.updated_at),
                     "MarketplaceId": shop.credentials.get("marketplace_id")}
                    for o in found[offset:offset + PAGE]]
        payload = {"Orders": rows, "LastUpdatedBefore": utc_iso(end)}
        if offset + PAGE < len(found):
            payload["NextToken"] = json.dumps([start, end, offset + PAGE])
        reply = j(200, {"payload": payload})
        reply.kind = "order_poll"
        return reply

    def _order_items(self, state, shop, order_id):
        order = self.orders(state, shop).get(order_id)
        if order is None:
            return errors(404, "NotFound", f"Order {order_id} not found")   # sim wording
        items = [{"SellerSKU": line["listing_id"], "OrderItemId": f"{order_id}-{i}", "QuantityOrdered": int(line["qty"]),
                  "QuantityShipped": 0} for i, line in enumerate(order.lines)]
        reply = j(200, {"payload": {"AmazonOrderId": order_id, "OrderItems": items}})
        reply.kind = "order_detail"
        return reply

    def _patch(self, state, shop, sku, body):
        patch = parse_json(body)
        submission = {"sku": sku, "submissionId": uuid.uuid4().hex}
        try:
            (op,) = patch["patches"]
            (entry,) = op["value"]
            ok = (isinstance(patch.get("productType"), str) and op["op"] == "replace"
                  and op["path"] == "/attributes/fulfillment_availability"
                  and entry["fulfillment_channel_code"] == "DEFAULT" and is_qty(entry["quantity"]))
        except (TypeError, KeyError, ValueError):
            ok = False
        if not ok:
            return j(200, {**submission, "status": "INVALID", "issues": [
                {"code": "4000001", "message": "The provided value for 'fulfillment_availability' is invalid.",
                 "severity": "ERROR", "attributeNames": ["fulfillment_availability"]}]})   # sim wording
        with state.lock:
            listings = self.listings(state, shop)
            if sku not in listings:
                return j(200, {**submission, "status": "INVALID", "issues": [
                    {"code": "8541", "message": f"SKU {sku} not found", "severity": "ERROR"}]})   # sim wording
            set_quantities(listings, {sku: entry["quantity"]})
        reply = j(200, {**submission, "status": "ACCEPTED", "issues": []})
        reply.changes, reply.kind = {sku: entry["quantity"]}, "stock_update"
        return reply

    def _item(self, state, shop, sku):
        listing = self.listings(state, shop).get(sku)
        if listing is None:
            return errors(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace")   # sim wording
        reply = j(200, self._item_doc(shop, sku, listing))
        reply.kind = "read_back"
        return reply

    @staticmethod
    def _item_doc(shop, sku, listing):
        return {"sku": sku, "summaries": [{"marketplaceId": shop.credentials.get("marketplace_id"),
                                           "asin": listing.platform_ids.get("asin", ""),
                                           "productType": listing.platform_ids.get("product_type", "PRODUCT"),
                                           "itemName": listing.title or sku, "status": ["BUYABLE"]}],
                "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT", "quantity": listing.quantity}]}

    def _search(self, state, shop, query):
        try:
            size, offset = int(query.get("pageSize") or 10), int(query.get("pageToken") or 0)
        except ValueError:
            return errors(400, "InvalidInput", "pageSize / pageToken")
        if not 1 <= size <= 20:
            return errors(400, "InvalidInput", "pageSize must be 1 to 20")
        listings = self.listings(state, shop)
        skus = sorted(listings)
        items = [self._item_doc(shop, sku, listings[sku]) for sku in skus[offset:offset + size]]
        pagination = {"nextToken": str(offset + size)} if offset + size < len(skus) else {}
        reply = j(200, {"numberOfResults": len(skus), "pagination": pagination, "items": items})
        reply.kind = "list"
        return reply

    def webhooks(self, state, shop, order, kind):
        """Amazon posts no HTTP webhook: the change is stamped for getOrders, and the ORDER_CHANGE message for
        the queue is `notification(shop, order)`."""
        order.updated_at = time.time()
        return []

    def notify(self, shop, order, kind):
        """The ORDER_CHANGE message sent to the shop's notification queue (none registered: nothing sent)."""
        queue = shop.notification_queue
        if not queue:
            return []
        try:
            sent = self._client(queue["url"], queue["region"]).send_message(
                QueueUrl=queue["url"], MessageBody=self.notification(shop, order).decode())
        except Exception as exc:  # noqa: BLE001 - the order stands; the fallback poll still finds the change
            return [{"queue_url": queue["url"], "status": 0, "error": f"{type(exc).__name__}: {exc}"[:300]}]
        return [{"queue_url": queue["url"], "status": 200, "message_id": sent["MessageId"]}]

    def _client(self, url: str, region: str):
        """An SQS client for the queue's endpoint (the URL's scheme and host: moto locally). The simulator
        signs as a stand-in for Amazon's publisher account; moto takes any key."""
        import boto3

        parts = urlsplit(url)
        endpoint = f"{parts.scheme}://{parts.netloc}"
        with self._sqs_lock:
            if (endpoint, region) not in self._sqs:
                self._sqs[(endpoint, region)] = boto3.client(
                    "sqs", endpoint_url=endpoint, region_name=region, aws_access_key_id="testing",
                    aws_secret_access_key="testing")
            return self._sqs[(endpoint, region)]

    @staticmethod
    def notification(shop, order) -> bytes:
        """The ORDER_CHANGE message Amazon would put on the seller's queue for the order as it is now."""
        changed = utc_iso(order.updated_at or time.time(), millis=True)
        return json.dumps({
            "NotificationVersion": "1.0", "NotificationType": "ORDER_CHANGE", "PayloadVersion": "1.0",
            "EventTime": changed,
            "Payload": {"OrderChangeNotification": {
                "NotificationLevel": "OrderLevel", "SellerId": shop.credentials.get("seller_id"),
                "AmazonOrderId": order.order_id, "OrderChangeType": "OrderStatusChange",
                "OrderChangeTrigger": {"TimeOfOrderChange": changed, "ChangeReason": "Order Status Changed"},
                "Summary": {"MarketplaceId": shop.credentials.get("marketplace_id"), "OrderStatus": order.status,
                            "FulfillmentType": FULFILLMENT, "OrderType": "StandardOrder",
                            "OrderItems": [{"OrderItemId": f"{order.order_id}-{i}", "SellerSKU": line["listing_id"],
                                            "Quantity": int(line["qty"])} for i, line in enumerate(order.lines)]}}},
            "NotificationMetadata": {"ApplicationId": "amzn1.sellerapps.app.stocklink-sandbox",
                                     "SubscriptionId": "sandbox", "PublishTime": changed,
                                     "NotificationId": str(uuid.uuid4())}}).encode()

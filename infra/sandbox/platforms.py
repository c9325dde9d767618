"""Stand-ins for the five platforms' APIs and webhooks.

Each simulator checks signatures with its own implementation of the platform's documented scheme (not
StockLink's adapter code), so a signing bug in an adapter shows up as a rejected call. Error bodies use
each platform's structure; where a platform's exact business error code is not public, the code used is
marked "sim" in a comment.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote

from infra.sandbox.state import Listing, Order, Shop, State

KINDS = ("created", "paid", "cancelled", "shipped", "returned")


@dataclass
class Req:
    method: str
    path: str                 # after /<platform>/<shop>
    query: dict[str, str]
    headers: dict[str, str]   # lower-cased
    body: bytes
    full_url: str             # as the client addressed it, without the query


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    changes: dict[str, int] = field(default_factory=dict)   # listing -> quantity now shown
    kind: str = "other"                                     # stock_update / read_back / order_detail


def j(status: int, obj, **headers) -> Reply:
    return Reply(status, json.dumps(obj).encode(), {"Content-Type": "application/json", **headers})


def hexmac(key: str, msg: bytes) -> str:
    return hmac.new(key.encode(), msg, hashlib.sha256).hexdigest()


def b64mac(key: str, msg: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), msg, hashlib.sha256).digest()).decode()


def fresh(ts: str, window: float, scale: float = 1.0) -> bool:
    try:
        return abs(time.time() - float(ts) / scale) <= window
    except (TypeError, ValueError):
        return False


def parse_json(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def request_id() -> str:
    return uuid.uuid4().hex


def is_qty(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def units(order: Order):
    for line in order.lines:
        for _ in range(int(line["qty"])):
            yield line


class Simulator:
    platform = ""
    native: dict[str, str] = {}

    def handle(self, state: State, shop: Shop, req: Req) -> Reply:
        raise NotImplementedError

    def fault(self, status: int) -> Reply:
        raise NotImplementedError

    def webhooks(self, state: State, shop: Shop, order: Order, kind: str) -> list[tuple[dict, bytes]]:
        raise NotImplementedError


# ------------------------------------------------------------------------------------------------ Shopify
class ShopifySim(Simulator):
    platform = "shopify"
    native = {"created": "pending", "paid": "paid", "cancelled": "voided", "shipped": "paid", "returned": "refunded"}
    topics = {"created": "orders/create", "paid": "orders/paid", "cancelled": "orders/cancelled",
              "shipped": "orders/fulfilled", "returned": "refunds/create"}

    def fault(self, status):
        if status == 429:
            return j(429, {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume "
                                     "uninterrupted service."}, **{"Retry-After": "2.0"})
        return j(status, {"errors": "Internal Server Error"})

    def handle(self, state, shop, req):
        if req.headers.get("x-shopify-access-token") != shop.credentials.get("access_token"):
            return j(401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
        parts = req.path.strip("/").split("/")
        if req.method != "POST" or len(parts) != 4 or parts[:2] != ["admin", "api"] or parts[3] != "graphql.json":
            return j(404, {"errors": "Not Found"})
        version = parts[2]
        doc = parse_json(req.body)
        if not isinstance(doc, dict) or not isinstance(doc.get("query"), str):
            return j(400, {"errors": {"query": "Required parameter missing or invalid"}})
        query, variables = doc["query"], doc.get("variables") or {}
        if "inventorySetQuantities" in query:
            return self._set(state, shop, version, query, variables)
        if "nodes(" in query:
            return self._read(state, shop, variables)
        return j(200, {"errors": [{"message": "sandbox: unsupported operation",
                                   "extensions": {"code": "UNSUPPORTED"}}]})  # sim

    def _set(self, state, shop, version, query, variables):
        key = None
        if "@idempotent" in query:
            key = variables.get("key") if "$key" in query else query.split('key: "', 1)[-1].split('"', 1)[0]
        if version >= "2026-04" and not key:
            return j(200, {"errors": [{"message": "The @idempotent directive is required for this mutation.",
                                       "extensions": {"code": "BAD_REQUEST"}}]})
        with state.lock:
            if key and (self.platform, shop.shop, key) in state.idempotency:
                status, body = state.idempotency[(self.platform, shop.shop, key)]
                return Reply(status, body, {"Content-Type": "application/json"}, kind="stock_update")
            data = variables.get("input") or {}
            listings = state.shop_listings(self.platform, shop.shop)
            by_item = {l.platform_ids.get("inventory_item_id"): (lid, l) for lid, l in listings.items()}
            errors, plan = [], {}
            quantities = data.get("quantities")
            if data.get("name") not in ("available", "on_hand"):
                errors.append(("INVALID_NAME", ["input", "name"], "The quantity name must be 'available' or 'on_hand'."))
            if not data.get("reason"):
                errors.append(("INVALID_REASON", ["input", "reason"], "The reason is invalid."))
            if not isinstance(quantities, list) or not 0 < len(quantities) <= 250:
                errors.append(("INVALID_INPUT", ["input", "quantities"], "Between 1 and 250 quantities are accepted."))
                quantities = []
            location = f"gid://shopify/Location/{shop.credentials.get('location_id')}"
            for i, q in enumerate(quantities):
                where = ["input", "quantities", str(i)]
                item = str(q.get("inventoryItemId", "")).rsplit("/", 1)[-1]
                if item not in by_item:
                    errors.append(("INVALID_INVENTORY_ITEM", where + ["inventoryItemId"], "The specified inventory item could not be found."))
                    continue
                if q.get("locationId") != location:
                    errors.append(("INVALID_LOCATION", where + ["locationId"], "The specified location could not be found."))
                    continue
                if not is_qty(q.get("quantity")):
                    errors.append(("INVALID_QUANTITY_NEGATIVE", where + ["quantity"], "The quantity can't be negative."))
                    continue
                if version >= "2026-04" and "changeFromQuantity" not in q:
                    errors.append(("INVALID_INPUT", where + ["changeFromQuantity"],
                                   "changeFromQuantity must be provided (null to skip the check)."))  # sim
                    continue
                listing_id, listing = by_item[item]
                expected = q.get("changeFromQuantity")
                if expected is not None and expected != listing.quantity:
                    errors.append(("CHANGE_FROM_QUANTITY_STALE", where + ["changeFromQuantity"],
                                   "The specified compare quantity does not match the current quantity."))
                    continue
                plan[listing_id] = q["quantity"]
            if errors:
                result = {"inventoryAdjustmentGroup": None,
                          "userErrors": [{"code": c, "field": f, "message": m} for c, f, m in errors]}
                plan = {}
            else:
                for listing_id, qty in plan.items():
                    listings[listing_id].quantity = qty
                result = {"inventoryAdjustmentGroup": {"id": f"gid://shopify/InventoryAdjustmentGroup/{state.next_id()}"},
                          "userErrors": []}
            reply = j(200, {"data": {"inventorySetQuantities": result},
                            "extensions": {"cost": {"requestedQueryCost": 10, "actualQueryCost": 10}}})
            if key:
                state.idempotency[(self.platform, shop.shop, key)] = (reply.status, reply.body)
        reply.changes, reply.kind = plan, "stock_update"
        return reply

    def _read(self, state, shop, variables):
        listings = state.shop_listings(self.platform, shop.shop)
        nodes = []
        for node_id in variables.get("ids") or []:
            listing = listings.get(str(node_id).rsplit("/", 1)[-1])
            nodes.append(None if listing is None else {
                "id": node_id,
                "inventoryItem": {"id": f"gid://shopify/InventoryItem/{listing.platform_ids.get('inventory_item_id')}",
                                  "inventoryLevel": {"quantities": [{"name": "available", "quantity": listing.quantity}]}}})
        reply = j(200, {"data": {"nodes": nodes}})
        reply.kind = "read_back"
        return reply

    def webhooks(self, state, shop, order, kind):
        lines = [{"id": 10_000 + i, "variant_id": int(l["listing_id"]) if str(l["listing_id"]).isdigit() else None,
                  "sku": l.get("sku") or f"SKU-{l['listing_id']}", "quantity": int(l["qty"]),
                  "product_id": 1, "name": f"Listing {l['listing_id']}", "price": "10.00"}
                 for i, l in enumerate(order.lines)]
        if kind == "returned":
            refund_id = state.next_id()
            payload = {"id": refund_id, "order_id": int(order.order_id), "restock": True,
                       "created_at": "2026-03-02T10:00:00Z",
                       "refund_line_items": [{"id": refund_id * 10 + i, "quantity": li["quantity"],
                                              "line_item_id": li["id"], "restock_type": "return", "line_item": li}
                                             for i, li in enumerate(lines)]}
        else:
            payload = {"id": int(order.order_id), "name": f"#{order.order_id}", "financial_status": order.status,
                       "fulfillment_status": "fulfilled" if kind == "shipped" else None,
                       "cancelled_at": "2026-03-02T10:00:00Z" if kind == "cancelled" else None,
                       "created_at": "2026-03-02T09:00:00Z", "updated_at": "2026-03-02T10:00:00Z",
                       "line_items": lines}
        body = json.dumps(payload).encode()
        secret = shop.credentials.get("webhook_secret", "")
        return [({"Content-Type": "application/json", "X-Shopify-Topic": self.topics[kind],
                  "X-Shopify-Hmac-Sha256": b64mac(secret, body), "X-Shopify-Shop-Domain": f"{shop.shop}.myshopify.com",
                  "X-Shopify-API-Version": "2026-04", "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                  "X-Shopify-Triggered-At": "2026-03-02T10:00:00Z"}, body)]


# ------------------------------------------------------------------------------------------------ TikTok
class TikTokSim(Simulator):
    platform = "tiktok"
    native = {"created": "UNPAID", "paid": "AWAITING_SHIPMENT", "cancelled": "CANCEL", "shipped": "IN_TRANSIT",
              "returned": "COMPLETED"}

    def fault(self, status):
        if status == 429:
            return j(429, {"code": 36009004, "message": "Too many requests", "request_id": request_id(), "data": {}})
        return j(status, {"code": 36009001, "message": "Internal error", "request_id": request_id(), "data": {}})  # sim

    @staticmethod
    def sign(secret, path, query, body):
        flat = "".join(f"{k}{query[k]}" for k in sorted(query) if k not in ("sign", "access_token"))
        return hexmac(secret, (secret + path + flat + body.decode() + secret).encode())

    def handle(self, state, shop, req):
        c = shop.credentials
        q = req.query
        if q.get("app_key") != c.get("app_key") or q.get("shop_cipher") != c.get("shop_cipher"):
            return j(401, {"code": 105001, "message": "Invalid credentials", "request_id": request_id(), "data": {}})  # sim
        if req.headers.get("x-tts-access-token") != c.get("access_token"):
            return j(401, {"code": 105002, "message": "Expired credentials", "request_id": request_id(), "data": {}})  # sim
        if not fresh(q.get("timestamp", ""), 300):
            return j(401, {"code": 106002, "message": "Request timestamp expired", "request_id": request_id(),
                           "data": {}})  # sim
        if not hmac.compare_digest(q.get("sign", ""), self.sign(c.get("app_secret", ""), req.path, q, req.body)):
            return j(401, {"code": 106001, "message": "signature is invalid", "request_id": request_id(), "data": {}})
        parts = req.path.strip("/").split("/")
        if req.method == "POST" and len(parts) == 6 and parts[:3] == ["product", "202309", "products"] \
                and parts[4:] == ["inventory", "update"]:
            return self._update(state, shop, parts[3], req.body)
        if req.method == "POST" and req.path == "/product/202309/inventory/search":
            return self._search(state, shop, req.body)
        if req.method == "GET" and req.path == "/order/202309/orders":
            return self._orders(state, shop, q.get("ids", ""))
        if req.method == "POST" and req.path == "/return_refund/202309/returns/search":
            return self._returns(state, shop, req.body)
        return j(404, {"code": 36009003, "message": "API not found", "request_id": request_id(), "data": {}})  # sim

    def _update(self, state, shop, product_id, body):
        doc = parse_json(body)
        skus = doc.get("skus") if isinstance(doc, dict) else None
        bad = lambda msg: j(200, {"code": 12052048, "message": msg, "request_id": request_id(), "data": {}})  # sim
        if not isinstance(skus, list) or not skus:
            return bad("skus is required")
        with state.lock:
            listings = state.shop_listings(self.platform, shop.shop)
            plan = {}
            for sku in skus:
                listing = listings.get(str(sku.get("id")))
                if listing is None or listing.platform_ids.get("product_id") != product_id:
                    return bad(f"sku {sku.get('id')} does not belong to product {product_id}")
                inventory = sku.get("inventory")
                if not isinstance(inventory, list) or not inventory or not all(is_qty(i.get("quantity")) for i in inventory):
                    return bad(f"sku {sku.get('id')}: inventory.quantity must be a non-negative integer")
                plan[str(sku["id"])] = sum(i["quantity"] for i in inventory)
            for listing_id, qty in plan.items():
                listings[listing_id].quantity = qty
        reply = j(200, {"code": 0, "message": "Success", "request_id": request_id(), "data": {}})
        reply.changes, reply.kind = plan, "stock_update"
        return reply

    def _search(self, state, shop, body):
        doc = parse_json(body) or {}
        listings = state.shop_listings(self.platform, shop.shop)
        by_product: dict[str, list] = {}
        for sku_id in doc.get("sku_ids") or []:
            listing = listings.get(str(sku_id))
            if listing:
                by_product.setdefault(listing.platform_ids.get("product_id", ""), []).append({
                    "id": str(sku_id), "total_available_quantity": listing.quantity,
                    "warehouse_inventory": [{"warehouse_id": listing.platform_ids.get("warehouse_id", "default"),
                                             "available_quantity": listing.quantity}]})
        reply = j(200, {"code": 0, "message": "Success", "request_id": request_id(),
                        "data": {"inventory": [{"product_id": p, "skus": s} for p, s in by_product.items()]}})
        reply.kind = "read_back"
        return reply

    def _orders(self, state, shop, ids):
        orders = state.shop_orders(self.platform, shop.shop)
        found = []
        for order_id in ids.split(","):
            order = orders.get(order_id.strip())
            if order:
                found.append({"id": order.order_id, "status": order.status, "line_items": [
                    {"id": str(state.next_id()), "sku_id": str(l["listing_id"]), "seller_sku": l.get("sku", ""),
                     "product_id": state.shop_listings(self.platform, shop.shop).get(
                         str(l["listing_id"]), Listing(0)).platform_ids.get("product_id", "")}
                    for l in units(order)]})
        reply = j(200, {"code": 0, "message": "Success", "request_id": request_id(), "data": {"orders": found}})
        reply.kind = "order_detail"
        return reply

    def _returns(self, state, shop, body):
        wanted = set((parse_json(body) or {}).get("return_ids") or [])
        records = []
        for order in state.shop_orders(self.platform, shop.shop).values():
            for return_id, lines in order.returns.items():
                if return_id in wanted:
                    records.append({"return_id": return_id, "order_id": order.order_id,
                                    "return_type": "RETURN_AND_REFUND",
                                    "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE",
                                    "return_line_items": [{"sku_id": str(l["listing_id"]), "seller_sku": l.get("sku", "")}
                                                          for l in lines for _ in range(int(l["qty"]))]})
        reply = j(200, {"code": 0, "message": "Success", "request_id": request_id(), "data": {"return_orders": records}})
        reply.kind = "order_detail"
        return reply

    def webhooks(self, state, shop, order, kind):
        now = int(time.time())
        if kind == "returned":
            return_id = str(state.next_id())
            order.returns[return_id] = list(order.lines)
            payload = {"type": 12, "tts_notification_id": str(state.next_id()), "shop_id": shop.shop, "timestamp": now,
                       "data": {"order_id": order.order_id, "return_role": "BUYER", "return_type": "RETURN_AND_REFUND",
                                "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE", "return_id": return_id,
                                "create_time": now, "update_time": now}}
        else:
            payload = {"type": 1, "tts_notification_id": str(state.next_id()), "shop_id": shop.shop, "timestamp": now,
                       "data": {"order_id": order.order_id, "order_status": order.status, "is_on_hold_order": False,
                                "update_time": now}}
        body = json.dumps(payload).encode()
        c = shop.credentials
        return [({"Content-Type": "application/json",
                  "Authorization": hexmac(c.get("app_secret", ""), c.get("app_key", "").encode() + body)}, body)]


# ------------------------------------------------------------------------------------------------ Shopee
class ShopeeSim(Simulator):
    platform = "shopee"
    native = {"created": "UNPAID", "paid": "READY_TO_SHIP", "cancelled": "CANCELLED", "shipped": "SHIPPED",
              "returned": "TO_RETURN"}

    def fault(self, status):
        if status == 429:
            return j(429, {"error": "error_too_many_request", "message": "Too many requests, please try again later.",
                           "request_id": request_id()})  # sim
        return j(status, {"error": "error_server", "message": "Something wrong. Please try again later.",
                          "request_id": request_id()})

    def handle(self, state, shop, req):
        c, q = shop.credentials, req.query
        err = lambda status, code, msg: j(status, {"error": code, "message": msg, "request_id": request_id()})
        if q.get("partner_id") != str(c.get("partner_id")):
            return err(403, "error_param", "No partner_id in query or partner_id not exist.")  # sim
        if not fresh(q.get("timestamp", ""), 300):
            return err(403, "error_param", "Invalid timestamp.")
        if q.get("shop_id") != str(c.get("shop_id")) or q.get("access_token") != c.get("access_token"):
            return err(403, "error_auth", "Invalid access_token.")
        base = f"{q.get('partner_id')}{req.path}{q.get('timestamp')}{q.get('access_token')}{q.get('shop_id')}"
        if not hmac.compare_digest(q.get("sign", ""), hexmac(c.get("partner_key", ""), base.encode())):
            return err(403, "error_sign", "Wrong sign.")
        if req.method == "POST" and req.path == "/api/v2/product/update_stock":
            return self._update(state, shop, req.body, err)
        if req.method == "GET" and req.path == "/api/v2/product/get_model_list":
            return self._models(state, shop, q.get("item_id", ""))
        if req.method == "GET" and req.path == "/api/v2/product/get_item_base_info":
            return self._items(state, shop, q.get("item_id_list", ""))
        if req.method == "GET" and req.path == "/api/v2/order/get_order_detail":
            return self._orders(state, shop, q.get("order_sn_list", ""))
        if req.method == "GET" and req.path == "/api/v2/returns/get_return_detail":
            return self._return_detail(state, shop, q.get("return_sn", ""), err)
        return err(404, "error_not_found", "Wrong path.")  # sim

    @staticmethod
    def _stock(listing: Listing) -> dict:
        seller = {"location_id": listing.platform_ids.get("location_id", ""), "stock": listing.quantity}
        return {"summary_info": {"total_reserved_stock": 0, "total_available_stock": listing.quantity},
                "seller_stock": [seller], "shopee_stock": []}

    def _update(self, state, shop, body, err):
        doc = parse_json(body)
        if not isinstance(doc, dict) or not isinstance(doc.get("item_id"), int) \
                or not isinstance(doc.get("stock_list"), list) or not 0 < len(doc["stock_list"]) <= 50:
            return err(200, "error_param", "item_id and stock_list (1..50 entries) are required.")
        item_id = str(doc["item_id"])
        with state.lock:
            listings = state.shop_listings(self.platform, shop.shop)
            in_item = {lid: l for lid, l in listings.items() if l.platform_ids.get("item_id") == item_id}
            if not in_item:
                return err(200, "error_item_not_found", "Item not found.")  # sim
            success, failure, plan = [], [], {}
            for entry in doc["stock_list"]:
                model_id = str(entry.get("model_id") or 0)
                listing_id = model_id if model_id != "0" else item_id
                stocks = entry.get("seller_stock")
                if listing_id not in in_item:
                    failure.append({"model_id": int(model_id), "failed_reason": "model_id not found"})
                elif not isinstance(stocks, list) or not stocks or not all(is_qty(s.get("stock")) for s in stocks):
                    failure.append({"model_id": int(model_id), "failed_reason": "stock must be a non-negative integer"})
                else:
                    plan[listing_id] = sum(s["stock"] for s in stocks)
                    success.append({"model_id": int(model_id), "location_id": stocks[0].get("location_id", ""),
                                    "stock": plan[listing_id]})
            for listing_id, qty in plan.items():
                listings[listing_id].quantity = qty
        reply = j(200, {"error": "", "message": "", "warning": "", "request_id": request_id(),
                        "response": {"failure_list": failure, "success_list": success}})
        reply.changes, reply.kind = plan, "stock_update"
        return reply

    def _models(self, state, shop, item_id):
        listings = state.shop_listings(self.platform, shop.shop)
        models = [{"model_id": int(lid), "model_sku": l.seller_sku, "stock_info_v2": self._stock(l)}
                  for lid, l in listings.items() if l.platform_ids.get("item_id") == item_id and lid != item_id]
        reply = j(200, {"error": "", "message": "", "request_id": request_id(),
                        "response": {"tier_variation": [], "model": models}})
        reply.kind = "read_back"
        return reply

    def _items(self, state, shop, id_list):
        listings = state.shop_listings(self.platform, shop.shop)
        items = [{"item_id": int(i), "item_sku": listings[i].seller_sku, "stock_info_v2": self._stock(listings[i])}
                 for i in id_list.split(",") if i in listings]
        reply = j(200, {"error": "", "message": "", "request_id": request_id(), "response": {"item_list": items}})
        reply.kind = "read_back"
        return reply

    def _orders(self, state, shop, sns):
        orders = state.shop_orders(self.platform, shop.shop)
        listings = state.shop_listings(self.platform, shop.shop)
        found = []
        for sn in sns.split(","):
            order = orders.get(sn)
            if order:
                items = []
                for line in order.lines:
                    listing = listings.get(str(line["listing_id"]), Listing(0))
                    item_id = listing.platform_ids.get("item_id", str(line["listing_id"]))
                    model_id = str(line["listing_id"]) if str(line["listing_id"]) != item_id else "0"
                    items.append({"item_id": int(item_id), "model_id": int(model_id),
                                  "model_sku": line.get("sku", ""), "item_sku": "",
                                  "model_quantity_purchased": int(line["qty"])})
                found.append({"order_sn": sn, "order_status": order.status, "item_list": items})
        reply = j(200, {"error": "", "message": "", "request_id": request_id(), "response": {"order_list": found}})
        reply.kind = "order_detail"
        return reply

    def _return_detail(self, state, shop, return_sn, err):
        listings = state.shop_listings(self.platform, shop.shop)
        for order in state.shop_orders(self.platform, shop.shop).values():
            lines = order.returns.get(return_sn)
            if lines is None:
                continue
            items = []
            for line in lines:
                listing = listings.get(str(line["listing_id"]), Listing(0))
                item_id = listing.platform_ids.get("item_id", str(line["listing_id"]))
                model_id = str(line["listing_id"]) if str(line["listing_id"]) != item_id else "0"
                items.append({"item_id": int(item_id), "model_id": int(model_id), "name": "", "images": [],
                              "amount": int(line["qty"]), "item_price": 1.0, "is_add_on_deal": False,
                              "is_main_item": False, "add_on_deal_id": 0, "item_sku": "",
                              "variation_sku": line.get("sku", "")})
            now = int(time.time())
            # The sandbox's returns are return & refund, seller-validated, parcel delivered back to the seller.
            reply = j(200, {"error": "", "message": "", "request_id": request_id(), "response": {
                "return_sn": return_sn, "order_sn": order.order_id, "status": "ACCEPTED", "needs_logistics": True,
                "logistics_status": "LOGISTICS_DELIVERY_DONE", "validation_type": "seller_validation",
                "return_refund_request_type": 0, "reason": "CHANGE_MIND", "text_reason": "", "currency": "",
                "refund_amount": 0.0, "create_time": now, "update_time": now, "item": items}})
            reply.kind = "order_detail"
            return reply
        return err(200, "error_not_found", "return_sn not found.")  # sim

    def webhooks(self, state, shop, order, kind):
        now = int(time.time())
        if kind == "returned":
            # v2 return_updates_push (code 29): a signal naming the return; the detail API has the rest.
            return_sn = f"{time.strftime('%y%m%d', time.gmtime(now))}0R{state.next_id()}"
            order.returns[return_sn] = list(order.lines)
            payload = {"data": {"order_sn": order.order_id, "return_sn": return_sn, "updated_values": ["status"],
                                "update_time": now},
                       "shop_id": int(shop.credentials.get("shop_id", 0)), "code": 29, "timestamp": now}
        else:
            payload = {"data": {"ordersn": order.order_id, "status": order.status, "completed_scenario": "",
                                "update_time": now}, "shop_id": int(shop.credentials.get("shop_id", 0)), "code": 3,
                       "timestamp": now}
        body = json.dumps(payload).encode()
        url = shop.credentials.get("callback_url") or shop.webhook_url
        sig = hexmac(shop.credentials.get("partner_key", ""), url.encode() + b"|" + body)
        return [({"Content-Type": "application/json", "Authorization": sig}, body)]


# ------------------------------------------------------------------------------------------------ Lazada
class LazadaSim(Simulator):
    platform = "lazada"
    native = {"created": "unpaid", "paid": "pending", "cancelled": "canceled", "shipped": "shipped",
              "returned": "returned"}

    def fault(self, status):
        if status == 429:
            # Lazada throttles with HTTP 200 and code ApiCallLimit, not with a 429.
            return j(200, {"code": "ApiCallLimit", "type": "ISV", "request_id": request_id(),
                           "message": "The request has exceeded the allowed call limit in a specified time period"})
        return j(status, {"code": "InternalError", "type": "SYSTEM", "request_id": request_id(),
                          "message": "The request processing has failed due to some unknown error."})

    def handle(self, state, shop, req):
        c = shop.credentials
        params = dict(req.query)
        if req.method == "POST":
            params.update(dict(parse_qsl(req.body.decode(errors="replace"), keep_blank_values=True)))
        err = lambda code, msg: j(200, {"code": code, "type": "ISV", "message": msg, "request_id": request_id()})
        if params.get("app_key") != str(c.get("app_key")):
            return err("InvalidAppKey", "The specified app key is invalid")  # sim
        if params.get("access_token") != c.get("access_token"):
            return err("IllegalAccessToken", "The specified access token is invalid or expired")
        if params.get("sign_method") != "sha256" or not fresh(params.get("timestamp", ""), 7200, 1000):
            return err("InvalidTimestamp", "The specified timestamp or sign_method is invalid")  # sim
        api_path = req.path.removeprefix("/rest")
        base = api_path + "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign" and params[k] != "")
        if not hmac.compare_digest(params.get("sign", ""), hexmac(c.get("app_secret", ""), base.encode()).upper()):
            return err("IncompleteSignature", "The request signature does not conform to platform standards")
        if req.method == "POST" and api_path == "/product/stock/sellable/update":
            return self._update(state, shop, params.get("payload", ""), err)
        if req.method == "GET" and api_path == "/product/item/get":
            return self._item(state, shop, params.get("item_id", ""))
        if req.method == "GET" and api_path == "/order/items/get":
            return self._items(state, shop, params.get("order_id", ""))
        return err("InvalidApiPath", "The specified API path is invalid")  # sim

    def _update(self, state, shop, payload, err):
        try:
            skus = ET.fromstring(payload).findall("./Product/Skus/Sku")
        except ET.ParseError:
            return err("InvalidPayload", "payload is not valid XML")  # sim
        if not 0 < len(skus) <= 50:
            return err("InvalidPayload", "between 1 and 50 SKUs are accepted per request")  # sim
        with state.lock:
            listings = state.shop_listings(self.platform, shop.shop)
            plan = {}
            for sku in skus:
                sku_id, item_id = sku.findtext("SkuId", ""), sku.findtext("ItemId", "")
                listing = listings.get(sku_id)
                if listing is None or listing.platform_ids.get("item_id") != item_id:
                    return j(200, {"code": "E0501", "type": "ISP", "request_id": request_id(),
                                   "message": f"SkuId {sku_id} / ItemId {item_id} not found"})  # sim message
                texts = sku.findall(".//SellableQuantity")
                try:
                    qty = sum(int(t.text or "") for t in texts)
                except ValueError:
                    qty = -1
                if not texts or qty < 0:
                    return j(200, {"code": "E0501", "type": "ISP", "request_id": request_id(),
                                   "message": "SellableQuantity must be a non-negative integer"})  # sim
                plan[sku_id] = qty
            for listing_id, qty in plan.items():
                listings[listing_id].quantity = qty
        reply = j(200, {"code": "0", "request_id": request_id()})
        reply.changes, reply.kind = plan, "stock_update"
        return reply

    def _item(self, state, shop, item_id):
        listings = state.shop_listings(self.platform, shop.shop)
        skus = [{"SkuId": int(lid) if lid.isdigit() else lid, "SellerSku": l.seller_sku, "quantity": l.quantity,
                 "sellableQuantity": l.quantity}
                for lid, l in listings.items() if l.platform_ids.get("item_id") == item_id]
        reply = j(200, {"code": "0", "request_id": request_id(), "data": {"item_id": item_id, "skus": skus}})
        reply.kind = "read_back"
        return reply

    def _items(self, state, shop, order_id):
        order = state.shop_orders(self.platform, shop.shop).get(order_id)
        data = []
        if order:
            for item_id, line in zip(order.item_ids, units(order)):
                data.append({"order_id": int(order_id), "order_item_id": int(item_id), "status": order.status,
                             "sku": line.get("sku", ""), "sku_id": int(line["listing_id"])
                             if str(line["listing_id"]).isdigit() else line["listing_id"]})
        reply = j(200, {"code": "0", "request_id": request_id(), "data": data})
        reply.kind = "order_detail"
        return reply

    def webhooks(self, state, shop, order, kind):
        if not order.item_ids:
            order.item_ids = [str(state.next_id()) for _ in units(order)]
        now = int(time.time())
        out = []
        c = shop.credentials
        for item_id in order.item_ids:
            if kind == "returned":
                payload = {"seller_id": shop.shop, "message_type": 10, "data": {
                    "reverse_order_id": state.next_id(), "reverse_status": "RTM_RECEIVE_ITEM",
                    "trade_order_id": int(order.order_id), "trade_order_line_id": int(item_id),
                    "reverse_order_line_id": state.next_id(), "status_update_time": now}, "timestamp": now,
                    "site": "lazada_sg"}
            else:
                payload = {"seller_id": shop.shop, "message_type": 0, "data": {
                    "order_status": order.status, "trade_order_id": order.order_id,
                    "trade_order_line_id": item_id, "status_update_time": now},
                    "timestamp": now * 1000, "site": "lazada_sg"}
            body = json.dumps(payload).encode()
            out.append(({"Content-Type": "application/json",
                         "Authorization": hexmac(c.get("app_secret", ""), str(c.get("app_key", "")).encode() + body)},
                        body))
        return out


# ------------------------------------------------------------------------------------------------ Woo
def _pct(value) -> str:
    return quote(str(value), safe="~-._")


class WooSim(Simulator):
    platform = "woocommerce"
    native = {"created": "pending", "paid": "processing", "cancelled": "cancelled", "shipped": "completed",
              "returned": "refunded"}

    def fault(self, status):
        if status == 429:
            return j(429, {"code": "too_many_requests", "message": "Too Many Requests", "data": {"status": 429}},
                     **{"Retry-After": "1"})  # sim: WooCommerce core has no throttle; hosts answer 429
        return j(status, {"code": "internal_server_error",
                          "message": "There has been a critical error on this website.", "data": {"status": status}})

    def _auth(self, state, shop, req) -> Reply | None:
        c = shop.credentials
        fail = lambda msg: j(401, {"code": "woocommerce_rest_authentication_error", "message": msg,
                                   "data": {"status": 401}})
        q = req.query
        if "oauth_signature" not in q:
            # The sandbox speaks plain HTTP, where WooCommerce does not accept Basic credentials.
            return j(401, {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources.",
                           "data": {"status": 401}})
        if q.get("oauth_consumer_key") != c.get("consumer_key"):
            return fail("Consumer key is invalid.")
        if q.get("oauth_signature_method") not in ("HMAC-SHA1", "HMAC-SHA256"):
            return fail("Invalid signature method - must be HMAC-SHA1 or HMAC-SHA256.")
        if not fresh(q.get("oauth_timestamp", ""), 15 * 60):
            return fail("Invalid timestamp.")
        pairs = sorted((_pct(k), _pct(v)) for k, v in q.items() if k != "oauth_signature")
        base = "&".join([req.method, _pct(req.full_url), _pct("&".join(f"{k}={v}" for k, v in pairs))])
        algo = hashlib.sha256 if q["oauth_signature_method"] == "HMAC-SHA256" else hashlib.sha1
        want = base64.b64encode(hmac.new(f"{c.get('consumer_secret')}&".encode(), base.encode(), algo).digest()).decode()
        if not hmac.compare_digest(q["oauth_signature"], want):
            return fail("Invalid signature - provided signature does not match.")
        with state.lock:
            nonce = f"{shop.shop}:{q.get('oauth_nonce')}:{q.get('oauth_timestamp')}"
            if nonce in state.nonces:
                return fail("Invalid nonce - nonce has already been used.")
            state.nonces.add(nonce)
        return None

    def handle(self, state, shop, req):
        denied = self._auth(state, shop, req)
        if denied:
            return denied
        parts = req.path.strip("/").split("/")
        if parts[:3] != ["wp-json", "wc", "v3"] or len(parts) < 4 or parts[3] != "products":
            return j(404, {"code": "rest_no_route", "message": "No route was found matching the URL and request method.",
                           "data": {"status": 404}})
        rest = parts[4:]
        if req.method == "POST" and rest == ["batch"]:
            return self._batch(state, shop, None, req.body)
        if req.method == "POST" and len(rest) == 3 and rest[1:] == ["variations", "batch"]:
            return self._batch(state, shop, rest[0], req.body)
        if req.method == "PUT" and len(rest) == 1:
            doc = parse_json(req.body) or {}
            return self._batch(state, shop, None, json.dumps({"update": [{**doc, "id": int(rest[0])}]}).encode(),
                               single=True)
        if req.method == "GET" and not rest:
            return self._list(state, shop, None, req.query.get("include", ""))
        if req.method == "GET" and len(rest) == 2 and rest[1] == "variations":
            return self._list(state, shop, rest[0], req.query.get("include", ""))
        return j(404, {"code": "rest_no_route", "message": "No route was found matching the URL and request method.",
                       "data": {"status": 404}})

    def _batch(self, state, shop, parent, body, single=False):
        doc = parse_json(body)
        updates = doc.get("update") if isinstance(doc, dict) else None
        if not isinstance(updates, list):
            return j(400, {"code": "rest_invalid_param", "message": "Invalid parameter(s): update",
                           "data": {"status": 400}})
        if len(updates) > 100:
            return j(413, {"code": "woocommerce_rest_request_entity_too_large",
                           "message": "Unable to accept more than 100 items for this request.", "data": {"status": 413}})
        results, plan = [], {}
        with state.lock:
            listings = state.shop_listings(self.platform, shop.shop)
            for update in updates:
                pid = str(update.get("id"))
                listing = listings.get(pid)
                if listing is None or listing.platform_ids.get("parent_id") != parent:
                    code = "woocommerce_rest_product_variation_invalid_id" if parent else "woocommerce_rest_product_invalid_id"
                    results.append({"id": update.get("id"), "error": {"code": code, "message": "Invalid ID.",
                                                                        "data": {"status": 400}}})
                    continue
                qty = update.get("stock_quantity")
                if not isinstance(qty, int) or isinstance(qty, bool):
                    results.append({"id": update.get("id"), "error": {"code": "rest_invalid_param",
                                    "message": "Invalid parameter(s): stock_quantity", "data": {"status": 400}}})
                    continue
                listing.quantity = qty
                plan[pid] = qty
                results.append({"id": int(pid), "parent_id": int(parent or 0), "sku": listing.seller_sku,
                                "manage_stock": True, "stock_quantity": qty,
                                "stock_status": "instock" if qty > 0 else "outofstock"})
        if single:
            first = results[0]
            reply = j(400, first["error"]) if "error" in first else j(200, first)
        else:
            reply = j(200, {"update": results})
        reply.changes, reply.kind = plan, "stock_update"
        return reply

    def _list(self, state, shop, parent, include):
        listings = state.shop_listings(self.platform, shop.shop)
        wanted = [i for i in include.split(",") if i]
        out = [{"id": int(i), "parent_id": int(parent or 0), "sku": listings[i].seller_sku, "manage_stock": True,
                "stock_quantity": listings[i].quantity}
               for i in wanted if i in listings and listings[i].platform_ids.get("parent_id") == parent]
        reply = j(200, out)
        reply.kind = "read_back"
        return reply

    def webhooks(self, state, shop, order, kind):
        listings = state.shop_listings(self.platform, shop.shop)
        lines = []
        for i, line in enumerate(order.lines):
            listing = listings.get(str(line["listing_id"]), Listing(0))
            parent = listing.platform_ids.get("parent_id")
            lines.append({"id": 500 + i, "product_id": int(parent or line["listing_id"]),
                          "variation_id": int(line["listing_id"]) if parent else 0, "quantity": int(line["qty"]),
                          "sku": line.get("sku") or listing.seller_sku, "name": f"Listing {line['listing_id']}"})
        paid = kind in ("paid", "shipped", "returned")
        payload = {"id": int(order.order_id), "status": order.status, "currency": "USD",
                   "date_created_gmt": "2026-03-02T09:00:00", "date_modified_gmt": "2026-03-02T10:00:00",
                   "date_paid_gmt": "2026-03-02T09:01:00" if paid else None, "line_items": lines,
                   "refunds": [{"id": state.next_id(), "reason": "return", "total": "-1.00"}] if kind == "returned" else []}
        body = json.dumps(payload).encode()
        topic = "order.created" if kind == "created" else "order.updated"
        return [({"Content-Type": "application/json", "X-WC-Webhook-Source": f"http://{shop.shop}.example/",
                  "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": "order",
                  "X-WC-Webhook-Event": topic.split(".")[1],
                  "X-WC-Webhook-Signature": b64mac(shop.credentials.get("webhook_secret", ""), body),
                  "X-WC-Webhook-ID": "1", "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex}, body)]


SIMULATORS: dict[str, Simulator] = {s.platform: s for s in (ShopifySim(), TikTokSim(), ShopeeSim(), LazadaSim(), WooSim())}

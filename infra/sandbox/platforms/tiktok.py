"""TikTok Shop Partner API 202309: signed inventory update and search, order and return detail, and the
order status / return webhooks signed with the app secret."""
from __future__ import annotations

import hmac
import json
import time

from infra.sandbox.platforms._common import (
    Simulator, fresh, grouped, hexmac, is_qty, j, parse_json, request_id, set_quantities, units)
from infra.sandbox.state import Listing


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
        if req.method == "POST" and req.path == "/product/202309/products/search":
            return self._products(state, shop, q)
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
            listings = self.listings(state, shop)
            plan = {}
            for sku in skus:
                listing = listings.get(str(sku.get("id")))
                if listing is None or listing.platform_ids.get("product_id") != product_id:
                    return bad(f"sku {sku.get('id')} does not belong to product {product_id}")
                inventory = sku.get("inventory")
                if not isinstance(inventory, list) or not inventory or not all(is_qty(i.get("quantity")) for i in inventory):
                    return bad(f"sku {sku.get('id')}: inventory.quantity must be a non-negative integer")
                plan[str(sku["id"])] = sum(i["quantity"] for i in inventory)
            set_quantities(listings, plan)
        reply = j(200, {"code": 0, "message": "Success", "request_id": request_id(), "data": {}})
        reply.changes, reply.kind = plan, "stock_update"
        return reply

    def _search(self, state, shop, body):
        doc = parse_json(body) or {}
        listings = self.listings(state, shop)
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

    def _products(self, state, shop, q):
        size = q.get("page_size", "")
        if not size.isdigit() or not 1 <= int(size) <= 100:
            return j(200, {"code": 36009002, "message": "page_size must be 1-100", "request_id": request_id(),
                           "data": {}})  # sim
        token = q.get("page_token", "")
        start = int(token.removeprefix("p")) if token.startswith("p") and token[1:].isdigit() else 0
        products = list(grouped(self.listings(state, shop), "product_id").items())
        page = products[start:start + int(size)]
        out = [{"id": pid, "title": members[0][1].title or f"Product {pid}", "status": "ACTIVATE",
                "skus": [{"id": lid, "seller_sku": l.seller_sku,
                          "inventory": [{"quantity": l.quantity,
                                         "warehouse_id": l.platform_ids.get("warehouse_id", "default")}]}
                         for lid, l in members]} for pid, members in page]
        end = start + len(page)
        reply = j(200, {"code": 0, "message": "Success", "request_id": request_id(), "data": {
            "products": out, "total_count": len(products), "next_page_token": f"p{end}" if end < len(products) else ""}})
        reply.kind = "list"
        return reply

    def _orders(self, state, shop, ids):
        orders = self.orders(state, shop)
        found = []
        for order_id in ids.split(","):
            order = orders.get(order_id.strip())
            if order:
                found.append({"id": order.order_id, "status": order.status, "line_items": [
                    {"id": str(state.next_id()), "sku_id": str(l["listing_id"]), "seller_sku": l.get("sku", ""),
                     "product_id": self.listings(state, shop).get(
                         str(l["listing_id"]), Listing(0)).platform_ids.get("product_id", "")}
                    for l in units(order)]})
        reply = j(200, {"code": 0, "message": "Success", "request_id": request_id(), "data": {"orders": found}})
        reply.kind = "order_detail"
        return reply

    def _returns(self, state, shop, body):
        wanted = set((parse_json(body) or {}).get("return_ids") or [])
        records = []
        for order in self.orders(state, shop).values():
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
        shop_id = shop.credentials.get("shop_id") or shop.shop   # the shop the app's secret signs for
        if kind == "returned":
            return_id = str(state.next_id())
            order.returns[return_id] = list(order.lines)
            payload = {"type": 12, "tts_notification_id": str(state.next_id()), "shop_id": shop_id, "timestamp": now,
                       "data": {"order_id": order.order_id, "return_role": "BUYER", "return_type": "RETURN_AND_REFUND",
                                "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE", "return_id": return_id,
                                "create_time": now, "update_time": now}}
        else:
            payload = {"type": 1, "tts_notification_id": str(state.next_id()), "shop_id": shop_id, "timestamp": now,
                       "data": {"order_id": order.order_id, "order_status": order.status, "is_on_hold_order": False,
                                "update_time": now}}
        body = json.dumps(payload).encode()
        c = shop.credentials
        return [({"Content-Type": "application/json",
                  "Authorization": hexmac(c.get("app_secret", ""), c.get("app_key", "").encode() + body)}, body)]

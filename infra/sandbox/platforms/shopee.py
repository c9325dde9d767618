"""Shopee Open Platform v2: signed update_stock, model / item stock reads, order and return detail, and the
order status (code 3) / return_updates_push (code 29) webhooks signed over the callback URL."""
from __future__ import annotations

import hmac
import json
import time

from infra.sandbox.platforms._common import (
    Simulator, fresh, grouped, hexmac, is_qty, j, parse_json, request_id, set_quantities)
from infra.sandbox.state import Listing


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
        if req.method == "GET" and req.path == "/api/v2/product/get_item_list":
            return self._item_list(state, shop, q, err)
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

    @staticmethod
    def _item_and_model(listings: dict[str, Listing], line: dict) -> tuple[str, str]:
        """An order line's (item_id, model_id); model 0 when the listing is the item itself."""
        listing = listings.get(str(line["listing_id"]), Listing(0))
        item_id = listing.platform_ids.get("item_id", str(line["listing_id"]))
        return item_id, str(line["listing_id"]) if str(line["listing_id"]) != item_id else "0"

    def _update(self, state, shop, body, err):
        doc = parse_json(body)
        if not isinstance(doc, dict) or not isinstance(doc.get("item_id"), int) \
                or not isinstance(doc.get("stock_list"), list) or not 0 < len(doc["stock_list"]) <= 50:
            return err(200, "error_param", "item_id and stock_list (1..50 entries) are required.")
        item_id = str(doc["item_id"])
        with state.lock:
            listings = self.listings(state, shop)
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
            set_quantities(listings, plan)
        reply = j(200, {"error": "", "message": "", "warning": "", "request_id": request_id(),
                        "response": {"failure_list": failure, "success_list": success}})
        reply.changes, reply.kind = plan, "stock_update"
        return reply

    def _item_list(self, state, shop, q, err):
        offset, size = q.get("offset", "0"), q.get("page_size", "")
        if not offset.isdigit() or not size.isdigit() or not 1 <= int(size) <= 100:
            return err(200, "error_param", "page_size must be 1-100 and offset a number.")  # sim
        if q.get("item_status") not in (None, "NORMAL"):
            return j(200, {"error": "", "message": "", "request_id": request_id(),
                           "response": {"item": [], "total_count": 0, "has_next_page": False, "next_offset": 0}})
        items = list(grouped(self.listings(state, shop), "item_id"))
        start, end = int(offset), int(offset) + int(size)
        page = [{"item_id": int(i), "item_status": "NORMAL", "update_time": int(time.time())} for i in items[start:end]]
        reply = j(200, {"error": "", "message": "", "request_id": request_id(), "response": {
            "item": page, "total_count": len(items), "has_next_page": end < len(items),
            "next_offset": min(end, len(items))}})
        reply.kind = "list"
        return reply

    def _models(self, state, shop, item_id):
        listings = self.listings(state, shop)
        models = [{"model_id": int(lid), "model_sku": l.seller_sku, "gtin_code": l.barcode,
                   "stock_info_v2": self._stock(l)}
                  for lid, l in listings.items() if l.platform_ids.get("item_id") == item_id and lid != item_id]
        reply = j(200, {"error": "", "message": "", "request_id": request_id(),
                        "response": {"tier_variation": [], "model": models}})
        reply.kind = "read_back"
        return reply

    def _items(self, state, shop, id_list):
        listings = self.listings(state, shop)
        ids = [i for i in id_list.split(",") if i]
        if not 0 < len(ids) <= 50:
            return j(200, {"error": "error_param", "message": "item_id_list: 1-50 ids.", "request_id": request_id()})
        by_item = grouped(listings, "item_id")
        items = []
        for i in ids:
            members = by_item.get(i) or []
            if i in listings and members == [(i, listings[i])]:       # a plain item: the item is the listing
                items.append({"item_id": int(i), "item_name": listings[i].title or f"Item {i}", "has_model": False,
                              "item_sku": listings[i].seller_sku, "gtin_code": listings[i].barcode,
                              "stock_info_v2": self._stock(listings[i])})
            elif members:                                             # an item with models
                items.append({"item_id": int(i), "item_name": members[0][1].title or f"Item {i}", "has_model": True,
                              "item_sku": ""})
        reply = j(200, {"error": "", "message": "", "request_id": request_id(), "response": {"item_list": items}})
        reply.kind = "read_back"
        return reply

    def _orders(self, state, shop, sns):
        orders = self.orders(state, shop)
        listings = self.listings(state, shop)
        found = []
        for sn in sns.split(","):
            order = orders.get(sn)
            if order:
                items = []
                for line in order.lines:
                    item_id, model_id = self._item_and_model(listings, line)
                    items.append({"item_id": int(item_id), "model_id": int(model_id),
                                  "model_sku": line.get("sku", ""), "item_sku": "",
                                  "model_quantity_purchased": int(line["qty"])})
                found.append({"order_sn": sn, "order_status": order.status, "item_list": items})
        reply = j(200, {"error": "", "message": "", "request_id": request_id(), "response": {"order_list": found}})
        reply.kind = "order_detail"
        return reply

    def _return_detail(self, state, shop, return_sn, err):
        listings = self.listings(state, shop)
        for order in self.orders(state, shop).values():
            lines = order.returns.get(return_sn)
            if lines is None:
                continue
            items = []
            for line in lines:
                item_id, model_id = self._item_and_model(listings, line)
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

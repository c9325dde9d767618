"""WooCommerce REST API v3 over plain HTTP: OAuth 1.0a query signatures with nonces, product and variation
batch updates and reads, and the order.created / order.updated webhooks."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import quote

from infra.sandbox.platforms._common import Reply, Simulator, b64mac, fresh, grouped, j, parse_json, utc_iso
from infra.sandbox.state import Listing


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
            if not req.query.get("include"):
                return self._catalogue(state, shop, None, req.query)
            return self._list(state, shop, None, req.query.get("include", ""))
        if req.method == "GET" and len(rest) == 2 and rest[1] == "variations":
            if not req.query.get("include"):
                return self._catalogue(state, shop, rest[0], req.query)
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
            listings = self.listings(state, shop)
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

    def _catalogue(self, state, shop, parent, query):
        """List all products (parent None: simple products and variable parents) or a parent's variations, a
        page at a time, with X-WP-Total / X-WP-TotalPages as WordPress sends them."""
        page, per_page = query.get("page", "1"), query.get("per_page", "10")
        if not page.isdigit() or not per_page.isdigit() or not 1 <= int(per_page) <= 100 or int(page) < 1:
            return j(400, {"code": "rest_invalid_param", "message": "Invalid parameter(s): per_page",
                           "data": {"status": 400}})
        groups = grouped(self.listings(state, shop), "parent_id")
        if parent is None:
            rows = []
            for key, members in groups.items():
                lid, listing = members[0]
                if members == [(key, listing)] and not listing.platform_ids.get("parent_id"):
                    rows.append({"id": int(key), "type": "simple", "name": listing.title or f"Product {key}",
                                 "sku": listing.seller_sku, "global_unique_id": listing.barcode,
                                 "manage_stock": True, "stock_quantity": listing.quantity})
                else:
                    rows.append({"id": int(key), "type": "variable", "name": listing.title or f"Product {key}",
                                 "sku": "", "manage_stock": False, "stock_quantity": None})
        else:
            rows = [{"id": int(lid), "parent_id": int(parent), "sku": l.seller_sku, "global_unique_id": l.barcode,
                     "manage_stock": True, "stock_quantity": l.quantity,
                     "attributes": [{"name": "Option", "option": lid}]}
                    for lid, l in groups.get(parent, []) if l.platform_ids.get("parent_id") == parent]
        size, number = int(per_page), int(page)
        pages = max(1, -(-len(rows) // size))
        reply = j(200, rows[(number - 1) * size:number * size],
                  **{"X-WP-Total": str(len(rows)), "X-WP-TotalPages": str(pages)})
        reply.kind = "list"
        return reply

    def _list(self, state, shop, parent, include):
        listings = self.listings(state, shop)
        wanted = [i for i in include.split(",") if i]
        out = [{"id": int(i), "parent_id": int(parent or 0), "sku": listings[i].seller_sku, "manage_stock": True,
                "stock_quantity": listings[i].quantity}
               for i in wanted if i in listings and listings[i].platform_ids.get("parent_id") == parent]
        reply = j(200, out)
        reply.kind = "read_back"
        return reply

    def webhooks(self, state, shop, order, kind):
        listings = self.listings(state, shop)
        lines = []
        for i, line in enumerate(order.lines):
            listing = listings.get(str(line["listing_id"]), Listing(0))
            parent = listing.platform_ids.get("parent_id")
            lines.append({"id": 500 + i, "product_id": int(parent or line["listing_id"]),
                          "variation_id": int(line["listing_id"]) if parent else 0, "quantity": int(line["qty"]),
                          "sku": line.get("sku") or listing.seller_sku, "name": f"Listing {line['listing_id']}"})
        paid = kind in ("paid", "shipped", "returned")
        now = utc_iso(time.time())[:-1]   # WooCommerce's *_gmt fields carry no zone suffix
        payload = {"id": int(order.order_id), "status": order.status, "currency": "USD",
                   "date_created_gmt": now, "date_modified_gmt": now,
                   "date_paid_gmt": now if paid else None, "line_items": lines,
                   "refunds": [{"id": state.next_id(), "reason": "return", "total": "-1.00"}] if kind == "returned" else []}
        body = json.dumps(payload).encode()
        topic = "order.created" if kind == "created" else "order.updated"
        # home_url('/'): the store's site, whose REST API the shop's api_base_url points at.
        c = shop.credentials
        site = c.get("store_url") or c.get("api_base_url") or f"http://{shop.shop}.example"
        return [({"Content-Type": "application/json", "X-WC-Webhook-Source": site.rstrip("/") + "/",
                  "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": "order",
                  "X-WC-Webhook-Event": topic.split(".")[1],
                  "X-WC-Webhook-Signature": b64mac(shop.credentials.get("webhook_secret", ""), body),
                  "X-WC-Webhook-ID": "1", "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex}, body)]

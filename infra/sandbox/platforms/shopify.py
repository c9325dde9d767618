"""Shopify Admin GraphQL: inventorySetQuantities (absolute) and inventoryAdjustQuantities (relative), both
with @idempotent and an explicit changeFromQuantity from 2026-04, node reads of inventory levels, and
orders/refunds webhooks signed with the app's webhook secret.

An adjustment adds its delta to the level under the state lock checkout takes, so it keeps whatever the
platform sold meanwhile; `available` may go below 0 on an adjustment, as on Shopify."""
from __future__ import annotations

import base64
import json
import time
import uuid

from infra.sandbox.platforms._common import (
    Reply, Simulator, b64mac, is_qty, j, parse_json, set_quantities, utc_iso)

# inventoryAdjustQuantities' bounds on the resulting quantity (INVALID_QUANTITY_TOO_LOW / _TOO_HIGH).
QUANTITY_FLOOR, QUANTITY_CEILING = -2_000_000_000, 2_000_000_000


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
        if "inventoryAdjustQuantities" in query:
            return self._adjust(state, shop, version, query, variables)
        if "productVariants(" in query:
            return self._variants(state, shop, variables)
        if "nodes(" in query:
            return self._read(state, shop, variables)
        return j(200, {"errors": [{"message": "sandbox: unsupported operation",
                                   "extensions": {"code": "UNSUPPORTED"}}]})  # sim

    @staticmethod
    def _idempotency_key(query, variables):
        if "@idempotent" not in query:
            return None
        return variables.get("key") if "$key" in query else query.split('key: "', 1)[-1].split('"', 1)[0]

    def _set(self, state, shop, version, query, variables):
        key = self._idempotency_key(query, variables)
        if version >= "2026-04" and not key:
            return j(200, {"errors": [{"message": "The @idempotent directive is required for this mutation.",
                                       "extensions": {"code": "BAD_REQUEST"}}]})
        with state.lock:
            if key and (self.platform, shop.shop, key) in state.idempotency:
                status, body = state.idempotency[(self.platform, shop.shop, key)]
                return Reply(status, body, {"Content-Type": "application/json"}, kind="stock_update")
            data = variables.get("input") or {}
            listings = self.listings(state, shop)
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
                set_quantities(listings, plan)
                result = {"inventoryAdjustmentGroup": {"id": f"gid://shopify/InventoryAdjustmentGroup/{state.next_id()}"},
                          "userErrors": []}
            reply = j(200, {"data": {"inventorySetQuantities": result},
                            "extensions": {"cost": {"requestedQueryCost": 10, "actualQueryCost": 10}}})
            if key:
                state.idempotency[(self.platform, shop.shop, key)] = (reply.status, reply.body)
        reply.changes, reply.kind = plan, "stock_update"
        return reply

    def _adjust(self, state, shop, version, query, variables):
        key = self._idempotency_key(query, variables)
        if version >= "2026-04" and not key:
            return j(200, {"errors": [{"message": "The @idempotent directive is required for this mutation but was "
                                                  "not provided.", "extensions": {"code": "BAD_REQUEST"}}]})
        data = variables.get("input") or {}
        changes = data.get("changes")
        changes = changes if isinstance(changes, list) else []
        for i, change in enumerate(changes):
            # Checked by the schema before the mutation runs: a GraphQL error, not a userError.
            if version >= "2026-04" and "changeFromQuantity" not in change:
                return j(200, {"errors": [{"message": "InventoryChangeInput must include the following argument: "
                                                      "changeFromQuantity", "path": ["input", "changes", i],
                                           "extensions": {"code": "INVALID_FIELD_ARGUMENTS"}}]})
            delta = change.get("delta")
            if not isinstance(delta, int) or isinstance(delta, bool):
                return j(200, {"errors": [{"message": f"Variable $input of type InventoryAdjustQuantitiesInput! was "
                                                      f"provided invalid value for changes.{i}.delta",
                                           "extensions": {"code": "INVALID_VARIABLE"}}]})  # sim
        params = json.dumps(data, sort_keys=True).encode()
        with state.lock:
            if key:
                seen = state.idempotency.get((self.platform, shop.shop, key))
                if seen is not None:
                    if state.idempotency.get((self.platform, shop.shop, f"{key}#params"), (0, b""))[1] != params:
                        reply = j(200, {"data": {"inventoryAdjustQuantities": {"inventoryAdjustmentGroup": None,
                                  "userErrors": [{"code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH", "field": None,
                                                  "message": "The same idempotency key cannot be used with "
                                                             "different operation parameters."}]}}})
                    else:   # a retry: the first answer again, and no second change
                        reply = Reply(seen[0], seen[1], {"Content-Type": "application/json"})
                    reply.kind = "stock_adjust"
                    return reply
            listings = self.listings(state, shop)
            by_item = {l.platform_ids.get("inventory_item_id"): (lid, l) for lid, l in listings.items()}
            location = f"gid://shopify/Location/{shop.credentials.get('location_id')}"
            errors, plan = [], {}
            if data.get("name") != "available":
                # Shopify adjusts other quantity names too (with a ledgerDocumentUri); the sandbox keeps one.
                errors.append(("INVALID_QUANTITY_NAME", ["input", "name"], "The specified quantity name is invalid."))
            if not data.get("reason"):
                errors.append(("INVALID_REASON", ["input", "reason"], "The specified reason is invalid."))
            if not 0 < len(changes) <= 250:
                errors.append(("INVALID_INPUT", ["input", "changes"], "Between 1 and 250 changes are accepted."))  # sim
            for i, change in enumerate(changes):
                where = ["input", "changes", str(i)]
                item = str(change.get("inventoryItemId", "")).rsplit("/", 1)[-1]
                if item not in by_item:
                    errors.append(("INVALID_INVENTORY_ITEM", where + ["inventoryItemId"],
                                   "The specified inventory item could not be found."))
                    continue
                if change.get("locationId") != location:
                    errors.append(("INVALID_LOCATION", where + ["locationId"],
                                   "The specified location could not be found."))
                    continue
                if change.get("ledgerDocumentUri") is not None:
                    errors.append(("INVALID_AVAILABLE_DOCUMENT", where + ["ledgerDocumentUri"],
                                   "A ledger document URI is not allowed when adjusting available."))
                    continue
                listing_id, listing = by_item[item]
                current = plan.get(listing_id, listing.quantity)
                expected = change.get("changeFromQuantity")
                if expected is not None and expected != current:
                    errors.append(("CHANGE_FROM_QUANTITY_STALE", where + ["changeFromQuantity"],
                                   "The changeFromQuantity argument no longer matches the persisted quantity."))
                    continue
                after = current + change["delta"]
                if after < QUANTITY_FLOOR:
                    errors.append(("INVALID_QUANTITY_TOO_LOW", where + ["delta"],
                                   "The quantity can't be lower than -2,000,000,000."))
                    continue
                if after > QUANTITY_CEILING:
                    errors.append(("INVALID_QUANTITY_TOO_HIGH", where + ["delta"],
                                   "The quantity can't be higher than 2,000,000,000."))
                    continue
                plan[listing_id] = after
            if errors:
                result = {"inventoryAdjustmentGroup": None,
                          "userErrors": [{"code": c, "field": f, "message": m} for c, f, m in errors]}
                plan = {}
            else:
                # Relative to the level as it is now, under the lock checkout takes: no sale is overwritten.
                set_quantities(listings, plan)
                group = f"gid://shopify/InventoryAdjustmentGroup/{state.next_id()}"
                result = {"inventoryAdjustmentGroup": {"id": group}, "userErrors": []}
            reply = j(200, {"data": {"inventoryAdjustQuantities": result},
                            "extensions": {"cost": {"requestedQueryCost": 10, "actualQueryCost": 10}}})
            if key:
                state.idempotency[(self.platform, shop.shop, key)] = (reply.status, reply.body)
                state.idempotency[(self.platform, shop.shop, f"{key}#params")] = (0, params)
        reply.changes, reply.kind = plan, "stock_adjust"
        return reply

    def _variants(self, state, shop, variables):
        first = variables.get("first")
        if not isinstance(first, int) or not 0 < first <= 250:
            return j(200, {"errors": [{"message": "The 'first' argument must be between 1 and 250.",
                                       "extensions": {"code": "BAD_REQUEST"}}]})  # sim
        after = variables.get("after")
        start = 0
        if after:
            try:
                start = int(base64.b64decode(after).decode().split(":", 1)[1])
            except (ValueError, IndexError, UnicodeDecodeError):
                return j(200, {"errors": [{"message": "Invalid cursor.", "extensions": {"code": "BAD_REQUEST"}}]})
        listings = sorted(self.listings(state, shop).items(), key=lambda kv: (len(kv[0]), kv[0]))
        page = listings[start:start + first]
        nodes = [{"id": f"gid://shopify/ProductVariant/{lid}", "sku": l.seller_sku or None, "barcode": l.barcode or None,
                  "displayName": l.title or f"Product {lid}", "inventoryQuantity": l.quantity,
                  "inventoryItem": {"id": f"gid://shopify/InventoryItem/{l.platform_ids.get('inventory_item_id')}"},
                  "product": {"id": f"gid://shopify/Product/{l.platform_ids.get('product_id', lid)}"}} for lid, l in page]
        end = start + len(page)
        cursor = base64.b64encode(f"after:{end}".encode()).decode()
        reply = j(200, {"data": {"productVariants": {"nodes": nodes, "pageInfo": {
            "hasNextPage": end < len(listings), "endCursor": cursor if page else None}}},
            "extensions": {"cost": {"requestedQueryCost": 52, "actualQueryCost": 52}}})
        reply.kind = "list"
        return reply

    def _read(self, state, shop, variables):
        listings = self.listings(state, shop)
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
        # The store's own myshopify.com domain and the moment the event fired, as Shopify stamps every delivery.
        domain = shop.credentials.get("shop_domain") or f"{shop.shop}.myshopify.com"
        return [({"Content-Type": "application/json", "X-Shopify-Topic": self.topics[kind],
                  "X-Shopify-Hmac-Sha256": b64mac(secret, body), "X-Shopify-Shop-Domain": domain,
                  "X-Shopify-API-Version": "2026-04", "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                  "X-Shopify-Triggered-At": utc_iso(time.time(), millis=True)}, body)]

"""Lazada Open Platform: signed /rest calls (sellable stock update and adjust with an XML payload, item and
order-item reads), throttling as HTTP 200 with code ApiCallLimit, and the trade order / reverse order pushes.

AdjustSellableQuantity adds each SKU's delta to its sellable quantity under the state lock checkout takes,
so it keeps whatever the platform sold meanwhile; a request that would leave a SKU below 0 is refused
whole, as Lazada refuses a negative final sellable quantity."""
from __future__ import annotations

import hmac
import json
import time
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl

from infra.sandbox.platforms._common import Simulator, fresh, grouped, hexmac, j, request_id, set_quantities, units


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
        if req.method == "POST" and api_path == "/product/stock/sellable/adjust":
            return self._adjust(state, shop, params.get("payload", ""), err)
        if req.method == "GET" and api_path == "/product/item/get":
            return self._item(state, shop, params.get("item_id", ""))
        if req.method == "GET" and api_path == "/products/get":
            return self._products(state, shop, params, err)
        if req.method == "GET" and api_path == "/order/items/get":
            return self._items(state, shop, params.get("order_id", ""))
        return err("InvalidApiPath", "The specified API path is invalid")  # sim

    @staticmethod
    def _skus(payload, err):
        """The payload's Sku elements, or the error reply for a payload no stock call accepts."""
        try:
            skus = ET.fromstring(payload).findall("./Product/Skus/Sku")
        except ET.ParseError:
            return None, err("InvalidPayload", "payload is not valid XML")  # sim
        if not 0 < len(skus) <= 50:
            return None, err("InvalidPayload", "between 1 and 50 SKUs are accepted per request")  # sim
        return skus, None

    def _update(self, state, shop, payload, err):
        return self._change(state, shop, payload, err, relative=False)

    def _adjust(self, state, shop, payload, err):
        return self._change(state, shop, payload, err, relative=True)

    def _change(self, state, shop, payload, err, relative: bool):
        """Absolute (UpdateSellableQuantity) or relative (AdjustSellableQuantity): the same SKU list, applied
        all or nothing under the lock checkout takes."""
        skus, refused = self._skus(payload, err)
        if refused:
            return refused
        with state.lock:
            listings = self.listings(state, shop)
            plan = {}
            for sku in skus:
                sku_id, item_id = sku.findtext("SkuId", ""), sku.findtext("ItemId", "")
                listing = listings.get(sku_id)
                if listing is None or listing.platform_ids.get("item_id") != item_id:
                    return j(200, {"code": "E0501", "type": "ISP", "request_id": request_id(),
                                   "message": f"SkuId {sku_id} / ItemId {item_id} not found"})  # sim message
                texts = sku.findall(".//SellableQuantity")
                try:
                    qty = sum(int(t.text or "") for t in texts)       # relative: signed, "-20" lowers by 20
                except ValueError:
                    texts = []
                if not texts or (not relative and qty < 0):
                    return j(200, {"code": "E0501", "type": "ISP", "request_id": request_id(),
                                   "message": "SellableQuantity must be an integer" if relative
                                   else "SellableQuantity must be a non-negative integer"})  # sim
                after = plan.get(sku_id, listing.quantity) + qty if relative else qty
                if after < 0:
                    # "The updated final saleable inventory must be greater than or equal to 0, otherwise an
                    # error will be reported." Nothing in the request is applied.
                    return j(200, {"code": "501", "type": "ISP", "request_id": request_id(),
                                   "message": "E501: Update product failed",
                                   "detail": [{"code": "E0501", "field": "bizCheck", "item_id": int(item_id)
                                               if item_id.isdigit() else item_id, "sku_id": sku_id,
                                               "message": f"negative sellable quantity for SkuId {sku_id}"}]})  # sim
                plan[sku_id] = after
            set_quantities(listings, plan)
        reply = j(200, {"code": "0", "request_id": request_id()})
        reply.changes, reply.kind = plan, "stock_adjust" if relative else "stock_update"
        return reply

    def _item(self, state, shop, item_id):
        listings = self.listings(state, shop)
        skus = [{"SkuId": int(lid) if lid.isdigit() else lid, "SellerSku": l.seller_sku, "quantity": l.quantity,
                 "sellableQuantity": l.quantity}
                for lid, l in listings.items() if l.platform_ids.get("item_id") == item_id]
        reply = j(200, {"code": "0", "request_id": request_id(), "data": {"item_id": item_id, "skus": skus}})
        reply.kind = "read_back"
        return reply

    def _products(self, state, shop, params, err):
        offset, limit = params.get("offset", "0"), params.get("limit", "10")
        if not offset.isdigit() or not limit.isdigit() or not 1 <= int(limit) <= 50:
            return err("InvalidParameter", "limit must be 1-50 and offset a number")  # sim
        items = list(grouped(self.listings(state, shop), "item_id").items())
        page = items[int(offset):int(offset) + int(limit)]
        products = [{"item_id": int(iid) if iid.isdigit() else iid, "status": "Active",
                     "attributes": {"name": members[0][1].title or f"Product {iid}"},
                     "skus": [{"SkuId": int(lid) if lid.isdigit() else lid, "SellerSku": l.seller_sku,
                               "quantity": l.quantity, "Status": "active"} for lid, l in members]}
                    for iid, members in page]
        reply = j(200, {"code": "0", "request_id": request_id(),
                        "data": {"total_products": len(items), "products": products}})
        reply.kind = "list"
        return reply

    def _items(self, state, shop, order_id):
        order = self.orders(state, shop).get(order_id)
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
        seller_id = str(c.get("seller_id") or shop.shop)   # the seller the app's secret signs for
        for item_id in order.item_ids:
            if kind == "returned":
                payload = {"seller_id": seller_id, "message_type": 10, "data": {
                    "reverse_order_id": state.next_id(), "reverse_status": "RTM_RECEIVE_ITEM",
                    "trade_order_id": int(order.order_id), "trade_order_line_id": int(item_id),
                    "reverse_order_line_id": state.next_id(), "status_update_time": now}, "timestamp": now,
                    "site": "lazada_sg"}
            else:
                payload = {"seller_id": seller_id, "message_type": 0, "data": {
                    "order_status": order.status, "trade_order_id": order.order_id,
                    "trade_order_line_id": item_id, "status_update_time": now},
                    "timestamp": now * 1000, "site": "lazada_sg"}
            body = json.dumps(payload).encode()
            out.append(({"Content-Type": "application/json",
                         "Authorization": hexmac(c.get("app_secret", ""), str(c.get("app_key", "")).encode() + body)},
                        body))
        return out

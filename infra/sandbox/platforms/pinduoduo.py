"""Pinduoduo open platform: one router (POST /api/router, form-encoded) whose `type` names the API, every
call signed UPPER(MD5(secret + sorted k+v + secret)) and checked as Pinduoduo does; errors as HTTP 200
{"error_response": ...}. Orders are not pushed: each change stamps the order's update time and the
increment order API (pdd.order.number.list.increment.get) answers from the orders it holds, at most 30
minutes a call, 100 a page, times printed in Beijing time. Stock: pdd.goods.quantity.update full (1) or
incremental (2, refused below 0); a SKU marked with platform_ids promotion_slot="1" refuses any decrease, as
goods in a promotion slot (资源位) do. Read-back pdd.goods.detail.get, listing pdd.goods.list.get.
After-sales: a refund placed on an order (kind cancelled: 仅退款, type 2; kind returned: 退货退款, type 3; with
`lines` naming the units refunded, else all of them) is a finished after-sale per line (after_sales_status 10),
stamped with the change's time and answered by pdd.refund.list.increment.get (30 minutes a call at most, 100 a
page, filtered by status and type as asked). Amounts are the simulator's: every unit costs UNIT_PRICE; goods_number
is the line's ordered count and refund_amount the refunded units' price (the adapter's reading of the fields).
A shop registered with `refused_apis` (an app without that permission, e.g. the after-sales one for
pdd.refund.list.increment.get) has each such call refused with an error_response, after its signature is checked
(the code and wording are the simulator's: Pinduoduo publishes no list StockLink could check)."""
from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

from infra.sandbox.platforms._common import Simulator, fresh, grouped, j, request_id, set_quantities

BEIJING = timezone(timedelta(hours=8))
# Native order states (the simulator's names) -> (order_status, refund_status, group_status) Pinduoduo shows.
FIELDS = {
    "group_pending": (1, 1, 0),            # paid, the group not formed yet
    "awaiting_shipment": (1, 1, 1),        # 待发货
    "refunded": (1, 4, 1),                 # refunded before shipment
    "shipped": (2, 1, 1),                  # 已发货待签收
    "received": (3, 1, 1),                 # 已签收
    "refunded_after_shipping": (3, 4, 1),
}


UNIT_PRICE_FEN = 2990               # sim: every unit costs 29.90
AFTER_SALE_TYPE = {"cancelled": 2, "returned": 3}     # 仅退款, 退货退款 (the list request's codes)
REFUND_SUCCESS = 10


def sign(secret: str, params: dict) -> str:
    base = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")
    return hashlib.md5(f"{secret}{base}{secret}".encode()).hexdigest().upper()


def error(code: int, msg: str, sub_msg: str = ""):
    return j(200, {"error_response": {"error_code": code, "error_msg": msg, "sub_code": str(code),
                                      "sub_msg": sub_msg, "request_id": request_id()}})


def beijing(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def as_id(value: str):
    return int(value) if str(value).isdigit() else value


class PinduoduoSim(Simulator):
    platform = "pinduoduo"
    native = {"created": "group_pending", "paid": "awaiting_shipment", "cancelled": "refunded",
              "shipped": "shipped", "returned": "refunded_after_shipping"}

    def fault(self, status):
        if status == 429:
            return error(70031, "调用过于频繁，请调整调用频率")
        return j(status, {"error_response": {"error_code": 50001, "error_msg": "系统错误", "request_id": request_id()}})

    def api_name(self, req):
        return dict(parse_qsl(req.body.decode(errors="replace"))).get("type")

    def handle(self, state, shop, req):
        c = shop.credentials
        if req.method != "POST" or req.path.rstrip("/") != "/api/router":
            return j(404, {"error_response": {"error_code": 404, "error_msg": "not found"}})   # sim
        params = dict(parse_qsl(req.body.decode(errors="replace"), keep_blank_values=True))
        if params.get("client_id") != str(c.get("client_id")):
            return error(10016, "client_id不存在")
        if params.get("access_token") != c.get("access_token"):
            return error(10019, "access_token已过期")
        if not fresh(params.get("timestamp", ""), 600):
            return error(10017, "timestamp不合法")   # sim wording
        if not hmac.compare_digest(params.get("sign", ""), sign(c.get("client_secret", ""), params)):
            return error(10014, "签名验证失败")        # sim wording
        api = params.get("type")
        if api in shop.refused_apis:
            return error(20031, "用户没有该接口的调用权限", f"{api}: 应用未获得该接口所属权限包的授权")   # sim
        if api == "pdd.order.number.list.increment.get":
            return self._increment(state, shop, params)
        if api == "pdd.refund.list.increment.get":
            return self._refunds(state, shop, params)
        if api == "pdd.goods.quantity.update":
            return self._quantity(state, shop, params)
        if api == "pdd.goods.detail.get":
            return self._detail(state, shop, params.get("goods_id", ""))
        if api == "pdd.goods.list.get":
            return self._list(state, shop, params)
        return error(10000, "type不存在")              # sim

    def _increment(self, state, shop, params):
        try:
            start, end = int(params["start_updated_at"]), int(params["end_updated_at"])
            page, size = int(params.get("page") or 1), int(params.get("page_size") or 100)
        except (KeyError, ValueError):
            return error(10000, "参数错误", "start_updated_at / end_updated_at / page")   # sim
        if not 0 <= end - start <= 30 * 60:
            return error(10000, "参数错误", "时间跨度不能超过30分钟")                          # sim wording
        if not 1 <= size <= 100 or page < 1:
            return error(10000, "参数错误", "page_size 1-100")                             # sim
        with state.lock:
            found = sorted((o for o in self.orders(state, shop).values() if start <= int(o.updated_at) <= end),
                           key=lambda o: (o.updated_at, o.order_id))
            rows = [self._order(o) for o in found[(page - 1) * size: page * size]]
        reply = j(200, {"order_sn_increment_get_response": {"total_count": len(found), "order_sn_list": rows}})
        reply.kind = "order_poll"
        return reply

    def _refunds(self, state, shop, params):
        try:
            start, end = int(params["start_updated_at"]), int(params["end_updated_at"])
            status, kind = int(params["after_sales_status"]), int(params["after_sales_type"])
            page, size = int(params.get("page") or 1), int(params.get("page_size") or 100)
        except (KeyError, ValueError):
            return error(10000, "参数错误", "start_updated_at / end_updated_at / after_sales_status / "
                                            "after_sales_type / page")                  # sim
        if not 0 <= end - start <= 30 * 60:
            return error(10000, "参数错误", "时间跨度不能超过30分钟")                          # sim wording
        if not 1 <= size <= 100 or page < 1:
            return error(10000, "参数错误", "page_size 1-100")                             # sim
        with state.lock:
            found = sorted((sale for order in self.orders(state, shop).values()
                            for sale in self.after_sales(order) if start <= int(sale["updated_at"]) <= end
                            and sale["status"] == status and kind in (1, sale["type"])),
                           key=lambda sale: (sale["updated_at"], sale["id"]))
            rows = [self._after_sale(sale) for sale in found[(page - 1) * size: page * size]]
        reply = j(200, {"refund_increment_get_response": {"total_count": len(found), "refund_list": rows}})
        reply.kind = "order_poll"
        return reply

    @staticmethod
    def after_sales(order) -> list[dict]:
        """The order's after-sales (kept in its `returns`, one line each), oldest first."""
        return [sale for sales in order.returns.values() for sale in sales]

    @staticmethod
    def _after_sale(sale: dict) -> dict:
        def yuan(fen: int) -> str:
            return f"{fen // 100}.{fen % 100:02d}"

        return {"id": int(sale["id"]), "order_sn": sale["order_sn"], "after_sales_status": sale["status"],
                "after_sales_type": sale["type"], "goods_id": as_id(sale["goods_id"]), "sku_id": sale["listing_id"],
                "outer_id": sale["sku"], "goods_number": str(sale["bought"]), "goods_price": yuan(UNIT_PRICE_FEN),
                "order_amount": yuan(sale["bought"] * UNIT_PRICE_FEN),
                "refund_amount": yuan(sale["qty"] * UNIT_PRICE_FEN), "discount_amount": "0.00",
                "created_time": beijing(sale["updated_at"]), "updated_time": beijing(sale["updated_at"]),
                "after_sale_reason": "", "tracking_number": "", "speed_refund_flag": 0}

    @staticmethod
    def _order(order) -> dict:
        status, refund, group = FIELDS.get(order.status, FIELDS["awaiting_shipment"])
        return {"order_sn": order.order_id, "order_status": status, "refund_status": refund, "group_status": group,
                "confirm_status": 1 if group == 1 else 0, "trade_type": 0, "updated_at": beijing(order.updated_at),
                "item_list": [{"goods_id": 0, "sku_id": as_id(line["listing_id"]), "goods_count": int(line["qty"]),
                               "outer_id": line.get("sku", "")} for line in order.lines]}

    def _quantity(self, state, shop, params):
        sku_id, goods_id, update_type = params.get("sku_id", ""), params.get("goods_id", ""), params.get("update_type", "1")
        try:
            quantity = int(params.get("quantity", ""))
        except ValueError:
            return error(10000, "参数错误", "quantity")   # sim
        with state.lock:
            listing = self.listings(state, shop).get(sku_id)
            if listing is None or listing.platform_ids.get("goods_id") != goods_id:
                return error(10000, "业务服务错误", f"sku {sku_id} 不存在")   # sim wording
            after = listing.quantity + quantity if update_type == "2" else quantity
            if update_type not in ("1", "2") or after < 0:
                return error(10000, "业务服务错误", "库存不能小于0")        # sim wording
            if after < listing.quantity and listing.platform_ids.get("promotion_slot") == "1":
                return error(10000, "业务服务错误", "商品在资源位上，不能减少库存")
            set_quantities(self.listings(state, shop), {sku_id: after})
        reply = j(200, {"goods_quantity_update_response": {"is_success": True, "request_id": request_id()}})
        reply.changes, reply.kind = {sku_id: after}, "stock_adjust" if update_type == "2" else "stock_update"
        return reply

    def _detail(self, state, shop, goods_id):
        skus = [{"sku_id": as_id(lid), "out_sku_sn": l.seller_sku, "quantity": l.quantity, "is_onsale": 1}
                for lid, l in self.listings(state, shop).items() if l.platform_ids.get("goods_id") == goods_id]
        if not skus:
            return error(10000, "业务服务错误", f"goods {goods_id} 不存在")   # sim wording
        reply = j(200, {"goods_detail_get_response": {"goods_id": as_id(goods_id), "sku_list": skus}})
        reply.kind = "read_back"
        return reply

    def _list(self, state, shop, params):
        page, size = int(params.get("page") or 1), int(params.get("page_size") or 100)
        if not 1 <= size <= 100 or page < 1:
            return error(10000, "参数错误", "page_size 1-100")   # sim
        goods = list(grouped(self.listings(state, shop), "goods_id").items())
        rows = [{"goods_id": as_id(gid), "goods_name": members[0][1].title or f"Goods {gid}", "is_onsale": 1,
                 "goods_quantity": sum(l.quantity for _, l in members),
                 "sku_list": [{"sku_id": as_id(lid), "outer_id": l.seller_sku, "sku_quantity": l.quantity,
                               "is_sku_onsale": 1} for lid, l in members]}
                for gid, members in goods[(page - 1) * size: page * size]]
        reply = j(200, {"goods_list_get_response": {"total_count": len(goods), "goods_list": rows}})
        reply.kind = "list"
        return reply

    def webhooks(self, state, shop, order, kind):
        """Pinduoduo pushes nothing StockLink takes: the change is stamped for the increment order API, and a
        refund (cancelled / returned) becomes a finished after-sale per refunded line."""
        order.updated_at = time.time()
        if kind in AFTER_SALE_TYPE:
            listings = self.listings(state, shop)
            bought = {line["listing_id"]: int(line["qty"]) for line in order.lines}
            for line in order.change_lines or order.lines:
                if line["listing_id"] not in bought:
                    continue        # sim: a refund names only the order's own lines
                sale_id = str(10_000_000 + state.next_id())
                listing = listings.get(line["listing_id"])
                order.returns[sale_id] = [{
                    "id": sale_id, "order_sn": order.order_id, "listing_id": line["listing_id"],
                    "sku": next((l.get("sku", "") for l in order.lines if l["listing_id"] == line["listing_id"]), ""),
                    "goods_id": listing.platform_ids.get("goods_id", "0") if listing else "0",
                    "qty": min(int(line["qty"]), bought[line["listing_id"]]), "bought": bought[line["listing_id"]],
                    "type": AFTER_SALE_TYPE[kind], "status": REFUND_SUCCESS,
                    "updated_at": order.updated_at - order.changed_ago_s}]
        return []

"""Douyin Shop (抖店) open platform: POST /<method as a path>?app_key&method&access_token&timestamp&v&sign&
sign_method with param_json as the body, signed over app_secret + app_key.. method.. param_json.. timestamp..
v2 + app_secret (md5 or hmac-sha256, as sign_method says) and checked as Douyin does, the timestamp in
Beijing time within 10 minutes; answers {"code": 10000, "msg": "success", "data": ...}, errors another code.
Orders are pushed (a JSON array of {tag, msg_id, data as a JSON string}, header event-sign = md5(app_key +
body + app_secret)) and also listed by /order/searchList (update time window, page from 0, size <= 100).
Stock /sku/syncStock full or incremental (idempotent_id required, a result below 0 refused, an id seen
before answered as done and applied once); read-back /sku/stockNum; discovery /product/listV2 + /sku/list."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone

from infra.sandbox.platforms._common import Simulator, grouped, j, parse_json, request_id, set_quantities

BEIJING = timezone(timedelta(hours=8))
TAGS = {"created": "100", "paid": "101", "shipped": "102", "cancelled": "106", "returned": "206"}
# Native order states (the simulator's names) -> the order_status /order/searchList shows.
ORDER_STATUS = {"unpaid": 1, "paid": 2, "shipped": 3, "cancelled": 4, "completed": 5, "part_shipped": 101,
                "returned": 5}


def sign(secret: str, query: dict, param_json: str) -> str:
    plain = (f"{secret}app_key{query.get('app_key', '')}method{query.get('method', '')}param_json{param_json}"
             f"timestamp{query.get('timestamp', '')}v{query.get('v', '')}{secret}")
    if query.get("sign_method") == "hmac-sha256":
        return hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()
    return hashlib.md5(plain.encode()).hexdigest()


def error(code: int, msg: str, sub_msg: str = ""):
    return j(200, {"code": code, "msg": msg, "sub_code": "", "sub_msg": sub_msg, "data": {}, "log_id": request_id()})


def ok(data, kind: str = "other"):
    reply = j(200, {"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "", "data": data, "log_id": request_id()})
    reply.kind = kind
    return reply


def as_id(value):
    return int(value) if str(value).isdigit() else value


def fresh_beijing(stamp: str) -> bool:
    try:
        sent = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).timestamp()
    except (TypeError, ValueError):
        return False
    return abs(time.time() - sent) <= 600


class DouyinSim(Simulator):
    platform = "douyin"
    native = {"created": "unpaid", "paid": "paid", "cancelled": "cancelled", "shipped": "shipped",
              "returned": "returned"}

    def __init__(self):
        self.idempotent: dict[tuple[str, str], int] = {}     # (shop, idempotent_id) -> quantity it set

    def fault(self, status):
        if status == 429:
            return error(50002, "服务繁忙", "调用频繁，请稍后重试")       # sim wording
        return j(status, {"code": 50000, "msg": "系统错误", "data": {}, "log_id": request_id()})

    def handle(self, state, shop, req):
        c = shop.credentials
        param_json = req.body.decode(errors="replace")
        q = req.query
        if req.method != "POST" or q.get("method", "").replace(".", "/") != req.path.strip("/"):
            return error(40001, "method不存在")                                           # sim
        if q.get("app_key") != str(c.get("app_key")) or q.get("v") != "2":
            return error(30001, "app_key不存在")                                         # sim wording
        if q.get("access_token") != c.get("access_token"):
            return error(30005, "access_token已过期")                                    # sim wording
        if not fresh_beijing(q.get("timestamp", "")):
            return error(30007, "timestamp参数不合法")                                   # sim wording
        if not hmac.compare_digest(q.get("sign", ""), sign(c.get("app_secret", ""), q, param_json)):
            return error(30002, "签名错误")                                              # sim wording
        params = parse_json(req.body)
        if not isinstance(params, dict):
            return error(40004, "param_json不合法")                                      # sim
        method = q["method"]
        with state.lock:
            if method == "order.searchList":
                return self._search(state, shop, params)
            if method == "order.orderDetail":
                order = self.orders(state, shop).get(str(params.get("shop_order_id")))
                if order is None:
                    return error(40004, "业务处理失败", "订单不存在")                   # sim wording
                return ok({"shop_order_detail": self._order(order)}, "order_detail")
            if method == "sku.syncStock":
                return self._sync(state, shop, params)
            if method == "sku.stockNum":
                listing = self.listings(state, shop).get(str(params.get("sku_id")))
                if listing is None:
                    return error(40004, "业务处理失败", "sku不存在")                    # sim wording
                return ok({"sku_id": as_id(params["sku_id"]), "stock_num": listing.quantity, "prehold_stock_num": 0},
                          "read_back")
            if method == "product.listV2":
                return self._products(state, shop, params)
            if method == "sku.list":
                pid = str(params.get("product_id"))
                return ok([{"id": as_id(lid), "product_id": as_id(pid), "code": l.seller_sku, "stock_num": l.quantity}
                           for lid, l in grouped(self.listings(state, shop), "product_id").get(pid, [])], "list")
        return error(40001, "method不存在")                                               # sim

    def _search(self, state, shop, params):
        try:
            start, end = int(params["update_time_start"]), int(params["update_time_end"])
            page, size = int(params.get("page") or 0), int(params.get("size") or 10)
        except (KeyError, ValueError, TypeError):
            return error(40004, "参数错误", "update_time_start / update_time_end")     # sim
        if not 1 <= size <= 100 or page < 0:
            return error(40004, "参数错误", "size 1-100")                                # sim
        found = sorted((o for o in self.orders(state, shop).values() if start <= int(o.updated_at) <= end),
                       key=lambda o: (o.updated_at, o.order_id))
        rows = [self._order(o) for o in found[page * size: (page + 1) * size]]
        return ok({"shop_order_list": rows, "total": len(found), "page": page, "size": size}, "order_poll")

    @staticmethod
    def _order(order) -> dict:
        return {"order_id": order.order_id, "order_status": ORDER_STATUS.get(order.status, 2),
                "update_time": int(order.updated_at), "create_time": int(order.updated_at),
                "sku_order_list": [{"order_id": f"{order.order_id}{i}", "sku_id": as_id(line["listing_id"]),
                                    "item_num": int(line["qty"]), "code": line.get("sku", "")}
                                   for i, line in enumerate(order.lines, 1)]}

    def _sync(self, state, shop, params):
        sku_id, incremental = str(params.get("sku_id")), params.get("incremental") is True
        listing = self.listings(state, shop).get(sku_id)
        stock = params.get("stock_num")
        if listing is None or str(listing.platform_ids.get("product_id")) != str(params.get("product_id")):
            return error(40004, "业务处理失败", f"sku {sku_id} 不存在")                 # sim wording
        if not isinstance(stock, int) or isinstance(stock, bool):
            return error(40004, "参数错误", "stock_num")                                  # sim
        key = (shop.shop, str(params.get("idempotent_id") or ""))
        if incremental and not key[1]:
            return error(40004, "参数错误", "incremental=true 时 idempotent_id 必填")    # sim wording
        if incremental and key in self.idempotent:
            return ok({}, "stock_adjust")        # the same change again: already applied
        after = listing.quantity + stock if incremental else stock
        if after < 0:
            return error(40004, "业务处理失败", "更新库存数失败: 库存不能小于0")          # sim wording
        set_quantities(self.listings(state, shop), {sku_id: after})
        if incremental:
            self.idempotent[key] = after
        reply = ok({}, "stock_adjust" if incremental else "stock_update")
        reply.changes = {sku_id: after}
        return reply

    def _products(self, state, shop, params):
        page, size = int(params.get("page") or 1), int(params.get("size") or 10)
        if not 1 <= size <= 100 or page < 1:
            return error(40004, "参数错误", "size 1-100")                                # sim
        products = list(grouped(self.listings(state, shop), "product_id").items())
        rows = [{"product_id": as_id(pid), "name": members[0][1].title or f"Product {pid}", "status": 0}
                for pid, members in products[(page - 1) * size: page * size]]
        return ok({"data": rows, "total": len(products), "page": page, "size": size}, "list")

    def webhooks(self, state, shop, order, kind):
        """One signed push of the kind's tag; the change is stamped for /order/searchList too."""
        now = int(time.time())
        order.updated_at = now
        c = shop.credentials
        data = {"p_id": as_id(order.order_id), "s_ids": [as_id(f"{order.order_id}{i}") for i in range(1, len(order.lines) + 1)],
                "shop_id": as_id(c.get("shop_id") or shop.shop), "order_status": ORDER_STATUS.get(order.status, 2),
                "update_time": now}
        if kind == "returned":
            data.update(aftersale_id=state.next_id(), aftersale_type=0, s_id=as_id(f"{order.order_id}1"))
        body = json.dumps([{"tag": TAGS[kind], "msg_id": str(state.next_id()),
                            "data": json.dumps(data, separators=(",", ":"))}], separators=(",", ":")).encode()
        signature = hashlib.md5(str(c.get("app_key", "")).encode() + body + str(c.get("app_secret", "")).encode())
        return [({"Content-Type": "application/json", "app-id": str(c.get("app_key", "")),
                  "event-sign": signature.hexdigest()}, body)]

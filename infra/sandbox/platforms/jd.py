"""JD open platform (JOS): one router (POST /routerjson, form-encoded) whose `method` names the API, the
business parameters in one JSON `360buy_param_json`, every call signed UPPER(MD5(secret + sorted k+v +
secret)) and checked as JD does, the timestamp ("yyyy-MM-dd HH:mm:ss", Beijing time) within 10 minutes;
answers as {"<method>_responce": {"code": "0", ...}} or {"error_response": {code, zh_desc, en_desc}}. Orders
are not pushed: each change stamps the order's modification time and jingdong.pop.order.enSearch answers
from the orders it holds whose state is asked for, by modification time (dateType 0), 100 a page. Stock:
jingdong.stock.write.updateSkuStock sets a SKU's stock; read-back jingdong.stock.read.findSkuStock, listing
jingdong.sku.read.searchSkuList. Error codes and wording are the simulator's own (marked `sim`)."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

from infra.sandbox.platforms._common import Simulator, j, set_quantities

BEIJING = timezone(timedelta(hours=8))
SKEW_S = 600


def sign(secret: str, params: dict) -> str:
    base = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")
    return hashlib.md5(f"{secret}{base}{secret}".encode()).hexdigest().upper()


def error(code: str, zh: str, en: str = ""):
    return j(200, {"error_response": {"code": code, "zh_desc": zh, "en_desc": en or zh}})


def ok(method: str, body: dict):
    return j(200, {f"{method.replace('.', '_')}_responce": {"code": "0", **body}})


def beijing(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def epoch(text: str) -> float | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).timestamp()
    except (TypeError, ValueError):
        return None


def as_id(value: str):
    return int(value) if str(value).isdigit() else value


class JdSim(Simulator):
    platform = "jd"
    native = {"created": "WAIT_SELLER_STOCK_OUT", "paid": "WAIT_SELLER_STOCK_OUT", "cancelled": "TRADE_CANCELED",
              "shipped": "WAIT_GOODS_RECEIVE_CONFIRM", "returned": "FINISHED_L"}

    def fault(self, status):
        if status == 429:
            return error("67", "调用频率超限", "Call frequency exceeded")          # sim code
        return j(status, {"error_response": {"code": "66", "zh_desc": "平台连接后端服务不可用"}})  # sim

    def handle(self, state, shop, req):
        c = shop.credentials
        if req.method != "POST" or req.path.rstrip("/") != "/routerjson":
            return j(404, {"error_response": {"code": "404", "zh_desc": "not found"}})   # sim
        params = dict(parse_qsl(req.body.decode(errors="replace"), keep_blank_values=True))
        if params.get("app_key") != c.get("app_key"):
            return error("15", "app_key无效")                                        # sim
        if params.get("access_token") != c.get("access_token"):
            return error("18", "access_token无效")                                    # sim
        sent_at = epoch(params.get("timestamp", ""))
        if sent_at is None or abs(time.time() - sent_at) > SKEW_S:
            return error("17", "timestamp无效")                                      # sim
        if not hmac.compare_digest(params.get("sign", ""), sign(c.get("app_secret", ""), params)):
            return error("19", "sign签名无效", "Invalid signature")                   # sim
        try:
            business = json.loads(params.get("360buy_param_json") or "{}")
        except ValueError:
            return error("40", "360buy_param_json格式错误")                           # sim
        method = params.get("method")
        if method == "jingdong.pop.order.enSearch":
            return self._search(state, shop, business)
        if method == "jingdong.stock.write.updateSkuStock":
            return self._update(state, shop, business)
        if method == "jingdong.stock.read.findSkuStock":
            return self._find(state, shop, business)
        if method == "jingdong.sku.read.searchSkuList":
            return self._list(state, shop, business)
        return error("20", "method不存在")                                          # sim

    def _search(self, state, shop, business):
        start, end = epoch(business.get("start_date")), epoch(business.get("end_date"))
        try:
            page, size = int(business.get("page") or 1), int(business.get("page_size") or 100)
        except ValueError:
            page = size = 0
        if start is None or end is None or end < start or not 1 <= size <= 100 or page < 1:
            return error("40", "参数错误: start_date / end_date / page / page_size")    # sim
        states = set(filter(None, str(business.get("order_state") or "").split(",")))
        with state.lock:
            found = sorted((o for o in self.orders(state, shop).values()
                            if start <= int(o.updated_at) <= end and (not states or o.status in states)),
                           key=lambda o: (o.updated_at, o.order_id))
            rows = [self._order(o) for o in found[(page - 1) * size: page * size]]
        reply = ok("jingdong.pop.order.enSearch", {"searchorderinfo_result": {
            "apiResult": {"success": True}, "orderTotal": len(found), "orderInfoList": rows}})
        reply.kind = "order_poll"
        return reply

    def _order(self, order) -> dict:
        return {"orderId": order.order_id, "orderState": order.status, "modified": beijing(order.updated_at),
                "itemInfoList": [{"skuId": str(line["listing_id"]), "itemTotal": str(int(line["qty"])),
                                  "outerSkuId": line.get("sku", "")} for line in order.lines]}

    def _update(self, state, shop, business):
        sku_id, quantity = str(business.get("skuId", "")), business.get("stockNum")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            return error("40", "参数错误: stockNum")                                   # sim
        with state.lock:
            if sku_id not in self.listings(state, shop):
                return error("10400001", f"sku {sku_id} 不存在")                       # sim
            set_quantities(self.listings(state, shop), {sku_id: quantity})
        reply = ok("jingdong.stock.write.updateSkuStock", {"success": True})
        reply.changes, reply.kind = {sku_id: quantity}, "stock_update"
        return reply

    def _find(self, state, shop, business):
        sku_id = str(business.get("skuId", ""))
        listing = self.listings(state, shop).get(sku_id)
        if listing is None:
            return error("10400001", f"sku {sku_id} 不存在")                           # sim
        reply = ok("jingdong.stock.read.findSkuStock", {"skuStocks": [
            {"skuId": as_id(sku_id), "stockNum": listing.quantity, "storeId": 0}]})
        reply.kind = "read_back"
        return reply

    def _list(self, state, shop, business):
        page, size = int(business.get("pageNo") or 1), int(business.get("page_size") or 50)
        if not 1 <= size <= 50 or page < 1:
            return error("40", "参数错误: page_size 1-50")                              # sim
        listings = sorted(self.listings(state, shop).items(), key=lambda kv: (len(kv[0]), kv[0]))
        rows = [{"skuId": as_id(lid), "wareId": as_id(l.platform_ids.get("ware_id") or lid), "outerId": l.seller_sku,
                 "barCode": "", "wareTitle": l.title or f"Ware {lid}", "stockNum": l.quantity, "status": 1}
                for lid, l in listings[(page - 1) * size: page * size]]
        reply = ok("jingdong.sku.read.searchSkuList", {"page": {
            "pageNo": page, "pageSize": size, "totalItem": len(listings), "data": rows}})
        reply.kind = "list"
        return reply

    def webhooks(self, state, shop, order, kind):
        """JD pushes nothing StockLink takes: the change is stamped for the order search."""
        order.updated_at = time.time()
        return []

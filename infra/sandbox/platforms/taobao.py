"""Taobao open platform (TOP): one router (POST /router/rest, form-encoded) whose `method` names the API, every
call signed as TOP does (md5: UPPER(MD5(secret + sorted k+v + secret)); hmac-sha256: UPPER(HMAC(secret,
sorted k+v))) and checked; errors as HTTP 200 {"error_response": {code, msg, sub_code, sub_msg}}. Orders are
not pushed: each change stamps the trade's modified time and puts a message on the shop's TMC queue
(taobao.tmc.messages.consume hands out every unconfirmed message, so one not confirmed comes again;
taobao.tmc.messages.confirm removes them); taobao.trade.fullinfo.get and taobao.trades.sold.increment.get
(at most one day, 100 a page, GMT+8 times) answer from the trades it holds. Stock: taobao.skus.quantity.update
and taobao.item.quantity.update, type 1 full / 2 incremental (refused below 0). Read-back
taobao.item.seller.get, listing taobao.items.onsale.get."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

from infra.sandbox.platforms._common import Simulator, grouped, j, request_id, set_quantities

BEIJING = timezone(timedelta(hours=8))
TOPICS = {"created": "taobao_trade_TradeCreate", "paid": "taobao_trade_TradeBuyerPay",
          "cancelled": "taobao_trade_TradeClose", "shipped": "taobao_trade_TradeSellerShip",
          "returned": "taobao_refund_RefundSuccess"}


def sign(secret: str, params: dict, method: str = "md5") -> str:
    base = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")
    if method == "hmac-sha256":
        return hmac.new(secret.encode(), base.encode(), hashlib.sha256).hexdigest().upper()
    return hashlib.md5(f"{secret}{base}{secret}".encode()).hexdigest().upper()


def error(code: int, msg: str, sub_code: str = "", sub_msg: str = ""):
    body = {"code": code, "msg": msg, "request_id": request_id()}
    if sub_code:
        body.update(sub_code=sub_code, sub_msg=sub_msg)
    return j(200, {"error_response": body})


def beijing(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def parse_beijing(value: str) -> float | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).timestamp()
    except (TypeError, ValueError):
        return None


def as_id(value: str):
    return int(value) if str(value).isdigit() else value


class TaobaoSim(Simulator):
    platform = "taobao"
    native = {"created": "WAIT_BUYER_PAY", "paid": "WAIT_SELLER_SEND_GOODS", "cancelled": "TRADE_CLOSED_BY_TAOBAO",
              "shipped": "WAIT_BUYER_CONFIRM_GOODS", "returned": "TRADE_CLOSED"}

    def fault(self, status):
        if status == 429:
            return error(7, "App Call Limited", "accesscontrol.limited-by-app-access-count",
                         "This ban will last for 1 more seconds")
        return j(status, {"error_response": {"code": 15, "msg": "Remote service error",
                                             "sub_code": "isp.top-remote-connection-error", "request_id": request_id()}})

    @staticmethod
    def queue(shop) -> list[dict]:
        """The shop's TMC queue (its own user group): messages handed out until confirmed."""
        if not hasattr(shop, "tmc_queue"):
            shop.tmc_queue = []
        return shop.tmc_queue

    def handle(self, state, shop, req):
        c = shop.credentials
        if req.method != "POST" or req.path.rstrip("/") != "/router/rest":
            return j(404, {"error_response": {"code": 404, "msg": "not found"}})   # sim
        params = dict(parse_qsl(req.body.decode(errors="replace"), keep_blank_values=True))
        method = params.get("method")
        if params.get("app_key") != str(c.get("app_key")):
            return error(29, "Invalid app Key")
        if params.get("sign_method", "md5") not in ("md5", "hmac-sha256"):
            return error(26, "Invalid sign method")   # sim wording
        stamp = parse_beijing(params.get("timestamp", ""))
        if stamp is None or abs(time.time() - stamp) > 600:
            return error(31, "Invalid timestamp")
        if not hmac.compare_digest(params.get("sign", ""), sign(c.get("app_secret", ""), params,
                                                               params.get("sign_method", "md5"))):
            return error(25, "Invalid signature")
        if not (method or "").startswith("taobao.tmc.") and params.get("session") != c.get("session"):
            return error(27, "Invalid session")
        handlers = {"taobao.tmc.messages.consume": self._consume, "taobao.tmc.messages.confirm": self._confirm,
                    "taobao.trade.fullinfo.get": self._fullinfo, "taobao.trades.sold.increment.get": self._increment,
                    "taobao.skus.quantity.update": self._skus_quantity, "taobao.item.quantity.update": self._item_quantity,
                    "taobao.item.seller.get": self._item, "taobao.items.onsale.get": self._onsale}
        handler = handlers.get(method)
        if handler is None:
            return error(22, "Invalid method")
        return handler(state, shop, params)

    # -- orders -------------------------------------------------------------------------------------------
    def _consume(self, state, shop, params):
        try:
            quantity = int(params.get("quantity") or 100)
        except ValueError:
            quantity = 0
        if not 10 <= quantity <= 200:
            return error(40, "Missing required arguments", "isv.invalid-parameter", "quantity 10-200")   # sim
        with state.lock:
            messages = list(self.queue(shop)[:quantity])
        reply = j(200, {"tmc_messages_consume_response": {"messages": {"tmc_message": messages},
                                                          "request_id": request_id()}})
        reply.kind = "order_poll"
        return reply

    def _confirm(self, state, shop, params):
        ids = {i for i in params.get("s_message_ids", "").split(",") if i}
        if not ids or len(ids) > 200:
            return error(40, "Missing required arguments", "isv.invalid-parameter", "s_message_ids")   # sim
        with state.lock:
            shop.tmc_queue = [m for m in self.queue(shop) if str(m["id"]) not in ids]
        reply = j(200, {"tmc_messages_confirm_response": {"is_success": True, "request_id": request_id()}})
        reply.kind = "order_confirm"
        return reply

    @staticmethod
    def _trade(order) -> dict:
        return {"tid": as_id(order.order_id), "status": order.status, "modified": beijing(order.updated_at),
                "orders": {"order": [{"oid": as_id(order.order_id), "num_iid": as_id(line.get("num_iid") or 0),
                                      "sku_id": str(line["listing_id"]), "outer_sku_id": line.get("sku", ""),
                                      "num": int(line["qty"])} for line in order.lines]}}

    def _fullinfo(self, state, shop, params):
        with state.lock:
            order = self.orders(state, shop).get(params.get("tid", ""))
            trade = self._trade(order) if order else None
        if trade is None:
            return error(15, "Remote service error", "isv.trade-not-exist", "交易不存在")   # sim wording
        reply = j(200, {"trade_fullinfo_get_response": {"trade": trade}})
        reply.kind = "order_detail"
        return reply

    def _increment(self, state, shop, params):
        start, end = parse_beijing(params.get("start_modified", "")), parse_beijing(params.get("end_modified", ""))
        try:
            page, size = int(params.get("page_no") or 1), int(params.get("page_size") or 40)
        except ValueError:
            page, size = 0, 0
        if start is None or end is None or not 0 <= end - start <= 24 * 3600 or not 1 <= size <= 100 or page < 1:
            return error(40, "Missing required arguments", "isv.invalid-parameter",
                         "start_modified/end_modified (<= 1 day), page_no, page_size <= 100")   # sim wording
        with state.lock:
            found = sorted((o for o in self.orders(state, shop).values() if start <= int(o.updated_at) <= end),
                           key=lambda o: (o.updated_at, o.order_id))
            rows = [self._trade(o) for o in found[(page - 1) * size: page * size]]
        reply = j(200, {"trades_sold_increment_get_response": {"total_results": len(found), "has_next": page * size < len(found),
                                                               "trades": {"trade": rows}}})
        reply.kind = "order_poll"
        return reply

    def webhooks(self, state, shop, order, kind):
        """TOP pushes nothing StockLink takes: the change is stamped and queued on the shop's TMC queue."""
        order.updated_at = time.time()
        content = {"tid": as_id(order.order_id), "oid": as_id(order.order_id), "buyer_nick": "t**1",
                   "seller_nick": shop.shop, "status": order.status, "type": "guarantee_trade"}
        self.queue(shop).append({"id": state.next_id(), "topic": TOPICS.get(kind, "taobao_trade_TradeChanged"),
                                 "pub_app_key": "12497914", "pub_time": beijing(order.updated_at),
                                 "user_id": as_id(shop.credentials.get("user_id", "0")), "user_nick": shop.shop,
                                 "content": json.dumps(content, ensure_ascii=False)})
        return []

    # -- stock --------------------------------------------------------------------------------------------
    def _set(self, state, shop, num_iid: str, changes: dict[str, int], update_type: str, method: str):
        if update_type not in ("1", "2"):
            return error(40, "Missing required arguments", "isv.invalid-parameter", "type")   # sim
        with state.lock:
            listings = self.listings(state, shop)
            plan = {}
            for listing_id, value in changes.items():
                listing = listings.get(listing_id)
                if listing is None or listing.platform_ids.get("num_iid") != num_iid:
                    return error(15, "Remote service error", "isv.item-not-exist", f"{listing_id} 不存在")   # sim
                plan[listing_id] = listing.quantity + value if update_type == "2" else value
            if any(v < 0 for v in plan.values()):
                return error(15, "Remote service error", "isv.invalid-quantity", "库存不能小于0")   # sim wording
            set_quantities(listings, plan)
            skus = [{"sku_id": as_id(lid), "quantity": q} for lid, q in plan.items()]
        reply = j(200, {f"{method}_response": {"item": {"num_iid": as_id(num_iid), "skus": {"sku": skus}},
                                               "request_id": request_id()}})
        reply.changes, reply.kind = plan, "stock_adjust" if update_type == "2" else "stock_update"
        return reply

    def _skus_quantity(self, state, shop, params):
        changes = {}
        pairs = [p for p in params.get("skuid_quantities", "").split(";") if p]
        if not 0 < len(pairs) <= 20:
            return error(40, "Missing required arguments", "isv.invalid-parameter", "skuid_quantities 1-20")  # sim
        for pair in pairs:
            sku_id, _, value = pair.partition(":")
            try:
                changes[sku_id] = int(value)
            except ValueError:
                return error(40, "Missing required arguments", "isv.invalid-parameter", pair)   # sim
        return self._set(state, shop, params.get("num_iid", ""), changes, params.get("type", "1"), "skus_quantity_update")

    def _item_quantity(self, state, shop, params):
        num_iid = params.get("num_iid", "")
        try:
            value = int(params.get("quantity", ""))
        except ValueError:
            return error(40, "Missing required arguments", "isv.invalid-parameter", "quantity")   # sim
        listing = params.get("sku_id") or num_iid
        return self._set(state, shop, num_iid, {listing: value}, params.get("type", "1"), "item_quantity_update")

    def _members(self, state, shop, num_iid: str):
        return [(lid, l) for lid, l in self.listings(state, shop).items() if l.platform_ids.get("num_iid") == num_iid]

    def _item(self, state, shop, params):
        num_iid = params.get("num_iid", "")
        with state.lock:
            members = self._members(state, shop, num_iid)
        if not members:
            return error(15, "Remote service error", "isv.item-not-exist", f"{num_iid} 不存在")   # sim
        item = {"num_iid": as_id(num_iid), "title": members[0][1].title or f"Item {num_iid}",
                "num": sum(l.quantity for _, l in members)}
        skus = [{"sku_id": as_id(lid), "quantity": l.quantity, "outer_id": l.seller_sku}
                for lid, l in members if lid != num_iid]
        if skus:
            item["skus"] = {"sku": skus}
        else:
            item["outer_id"] = members[0][1].seller_sku
        reply = j(200, {"item_seller_get_response": {"item": item}})
        reply.kind = "read_back"
        return reply

    def _onsale(self, state, shop, params):
        page, size = int(params.get("page_no") or 1), int(params.get("page_size") or 40)
        if not 1 <= size <= 200 or page < 1:
            return error(40, "Missing required arguments", "isv.invalid-parameter", "page_size 1-200")   # sim
        items = list(grouped(self.listings(state, shop), "num_iid").items())
        rows = [{"num_iid": as_id(iid), "title": members[0][1].title or f"Item {iid}",
                 "num": sum(l.quantity for _, l in members)} for iid, members in items[(page - 1) * size: page * size]]
        reply = j(200, {"items_onsale_get_response": {"total_results": len(items), "items": {"item": rows}}})
        reply.kind = "list"
        return reply

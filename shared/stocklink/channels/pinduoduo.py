"""Pinduoduo (拼多多) open platform adapter: orders are pulled, stock is pushed.

Ingestion: Pinduoduo's order messages come over its websocket message service only, which does not fit
Lambda, so StockLink sends no webhook route here (verify_webhook refuses every delivery) and pulls
`pdd.order.number.list.increment.get` instead (logic/order_poll). Its documentation: "一次请求只能查询时间跨度
为30分钟的增量交易记录，即end_updated_at - start_updated_at<= 30min" (max_poll_window_s = 1800); "通过从后往前
翻页的方式以及结束时间不小于拼多多系统时间前3min可以避免漏单问题" and on `page`: "必须采用倒序的分页方式（从最后
一页往回取）才能避免漏单问题" — a window ends 3 min before now (poll_settle_s = 180) and its pages are read from the
last back to the first: the first call (page 1) tells total_count, then pages total..1 are read (page 1 twice:
an order moving forward while the others are read is seen, never skipped). page_size at most 100.
start/end_updated_at are Unix seconds; `updated_at` in the answer is "yyyy-MM-dd HH:mm:ss" in Beijing time
(GMT+8), read as such (occurred_at carries +08:00). Orders are only listed once paid (there is no unpaid
Pinduoduo order to hold).

Status mapping (order_status 1 待发货 / 2 已发货待签收 / 3 已签收; refund_status 1 无售后或售后关闭 / 2 售后处理中 /
3 退款中 / 4 退款成功; group_status 0 拼团中 / 1 已成团 / 2 团失败; confirm_status 2 已取消), as what has happened
so far, so an order first seen late still takes every step it missed (each step's marker makes a repeat a
duplicate):
- group_status 0 (paid, the group not formed yet, refunded if it fails): hold (CREATED).
- order_status 1: commit (PAID). 2 or 3: commit then ship (PAID, SHIPPED).
- group_status 2 or confirm_status 2, or refund_status 4 before shipment: release (CANCELLED).
- Ambiguous, chosen: refund_status 4 after shipment. The increment API does not say whether the goods came
  back (退货退款) or the buyer was refunded without returning them (仅退款); restocking a unit that never came
  back would offer it twice, so nothing is restocked (the order stays shipped) and a return is received by
  staff when the parcel is there. refund_status 2/3 (after-sale open, refund in progress) change nothing yet.
delivery_id = order_sn:order_status:refund_status:group_status:updated_at — the change's identity; the event
key (platform, shop, order, kind) makes a change read twice (window overlap, a retried window) apply once.

API calls: POST https://gw-api.pinduoduo.com/api/router, form-encoded, system parameters type, client_id,
access_token, timestamp (Unix seconds), data_type=JSON, sign. sign = UPPER(MD5(client_secret + concat(sorted
k + v over every parameter except sign) + client_secret)). Checked (2026-12) against Pinduoduo's published
example, reproduced in tests/unit/channels/test_pinduoduo_adapter.py: open.pinduoduo.com "签名算法"
(https://open.pinduoduo.com/application/document/browse?idStr=8EC06C399636041E), client_secret testSecret ->
E4DE3ED21002510DED352819E7AE6775. Errors come as HTTP 200 {"error_response": {error_code, error_msg,
sub_code, sub_msg}}.

Stock: `pdd.goods.quantity.update` (goods_id, sku_id, quantity, update_type 1 full / 2 incremental), one SKU
per call. Its documentation: "修改商品sku库存，在资源位上的商品不能减少库存" and for incremental updates "若增量
更新时传入的库存为负数，则负数与实际库存之和不能小于0" — relative mode exists, a result below 0 is refused
(relative_below_zero = False), and no idempotency key (relative_idempotent = False). Goods placed in a
promotion slot (资源位) cannot have their stock lowered at all, absolute or relative: the refusal is
classified permanent with the code PROMOTION_SLOT, so the push is recorded as failed with the platform's own
words and reconciliation keeps reporting the listing; lowering it takes the seller taking it off the slot.
The exact error_code of that refusal is not published: it is recognised by its message (资源位), unverified.
Read-back: `pdd.goods.detail.get` (goods_id) -> goods_detail_get_response.sku_list[].{sku_id, quantity}.
Discovery: `pdd.goods.list.get` (page from 1, page_size <= 100) -> goods_list_get_response {total_count,
goods_list[].{goods_id, goods_name, sku_list[].{sku_id, outer_id, sku_quantity}}}. Fields checked (2026-12)
against the pdd SDK's request/response models (docs.rs/pdd 0.1.4: PddOrderNumberListIncrementGet,
PddGoodsQuantityUpdate, PddGoodsDetailGet) and the official Java SDK response classes
(PddOrderNumberListIncrementGetResponse, PddGoodsListGetResponse).

Rate: Pinduoduo meters calls per app and API and publishes no single per-shop figure; 10 calls/s per shop is
assumed (unverified) and a shop's own max_calls_per_second overrides it. Throttling answers are classified
retryable by their code (70031, assumed) or message (频繁/限流).
API hosts: gw-api.pinduoduo.com (the documented gateway), and gw-upload.pinduoduo.com, unused here.

Credentials: client_id, client_secret, access_token (the mall's authorisation), api_base_url? (a sandbox).
listing_id = the sku_id; StockPush/StockAdjust.platform_ids: goods_id (required).
"""
from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping
from urllib.parse import urlencode

from stocklink.channels._common import (
    CallResult,
    Outcome,
    PulledOrdersOnly,
    md5_secret_sandwich,
    by_status,
    check_delta,
    check_quantity,
    positive_qty,
    require,
    require_id,
    text,
    try_json,
)
from stocklink.channels.base import (
    DiscoveredListing,
    HttpCall,
    ListingPage,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderPollPage,
    PayloadInvalid,
    PollWindow,
    pulled_order_lag_s,
    StockAdjust,
    StockPush,
)
from stocklink.outbound_policy import HostRule

PLATFORM = "pinduoduo"
DEFAULT_BASE = "https://gw-api.pinduoduo.com"
ROUTER = "/api/router"
API_HOSTS = HostRule("Pinduoduo open platform", frozenset({"gw-api.pinduoduo.com", "gw-upload.pinduoduo.com"}))
ORDER_INCREMENT = "pdd.order.number.list.increment.get"
QUANTITY_UPDATE = "pdd.goods.quantity.update"
GOODS_DETAIL = "pdd.goods.detail.get"
GOODS_LIST = "pdd.goods.list.get"
PAGE_SIZE = 100                  # documented maximum for the increment order list and the goods list
MAX_WINDOW_S = 30 * 60           # documented: end_updated_at - start_updated_at <= 30 min
SETTLE_S = 3 * 60                # documented: end no later than 3 min before Pinduoduo's time
BEIJING = timezone(timedelta(hours=8))
UPDATE_FULL, UPDATE_INCREMENTAL = "1", "2"
PROMOTION_SLOT = "PROMOTION_SLOT"
_THROTTLE_CODES = {"70031"}                 # assumed (unverified): 调用过于频繁
_THROTTLE_WORDS = ("频繁", "限流")


def api_sign(client_secret: str, params: Mapping[str, str]) -> str:
    """UPPER(MD5(secret + k1v1k2v2... + secret)) over every parameter but sign, keys in ASCII order."""
    return md5_secret_sandwich(client_secret, params)


def beijing_iso(value: str) -> str | None:
    """"2026-03-02 10:15:30" (Beijing time, as Pinduoduo prints it) as ISO 8601 with +08:00, else None."""
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).isoformat()
    except (TypeError, ValueError):
        return None


def kinds_of(order: Mapping) -> list[OrderEventKind]:
    """What has happened to the order so far (see the module docstring), oldest step first."""
    def code(name: str) -> int | None:
        value = order.get(name)
        return int(value) if str(value).lstrip("-").isdigit() else None

    status, refund, group, confirm = (code("order_status"), code("refund_status"), code("group_status"),
                                      code("confirm_status"))
    shipped = status in (2, 3)
    if group == 2 or confirm == 2 or (refund == 4 and not shipped):
        return [OrderEventKind.CANCELLED]
    if group == 0:
        return [OrderEventKind.CREATED]
    if status == 1:
        return [OrderEventKind.PAID]
    if shipped:
        return [OrderEventKind.PAID, OrderEventKind.SHIPPED]
    raise PayloadInvalid(f"order {order.get('order_sn')}: unknown order_status {order.get('order_status')!r}")


class PinduoduoAdapter(PulledOrdersOnly):
    platform = PLATFORM
    api_hosts = API_HOSTS
    batch_size = 1                 # pdd.goods.quantity.update takes one SKU
    rate_per_second = 10.0         # assumed (see the module docstring)
    burst = 10
    webhook_carries_lines = True   # no webhook at all: the poll answers carry the lines
    supports_relative = True
    relative_below_zero = False    # "负数与实际库存之和不能小于0"
    relative_idempotent = False    # no idempotency key
    polls_orders = True
    max_poll_window_s = MAX_WINDOW_S
    poll_settle_s = SETTLE_S
    order_report_lag_s = pulled_order_lag_s(SETTLE_S)   # pulled only: settle + the poller's period and run

    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock

    def build_order_poll(self, credentials: Mapping[str, str], window: PollWindow, page: dict | None) -> HttpCall:
        if not 0 < window.end_s - window.start_s <= MAX_WINDOW_S:
            raise ValueError(f"a Pinduoduo order window lasts 1 s to 30 min, got {window}")
        number = int((page or {}).get("page") or 1)
        return self._signed(credentials, ORDER_INCREMENT, {
            "start_updated_at": str(window.start_s), "end_updated_at": str(window.end_s),
            "is_lucky_flag": "0", "order_status": "5", "refund_status": "5",
            "page": str(number), "page_size": str(PAGE_SIZE)})

    def parse_order_poll(self, shop: str, window: PollWindow, page: dict | None, status: int,
                         body: bytes) -> OrderPollPage:
        answer = self._answer(status, body, "order_sn_increment_get_response")
        events: list[OrderEvent] = []
        for order in answer.get("order_sn_list") or []:
            if not isinstance(order, dict):
                raise PayloadInvalid("order_sn_list holds a non-object")
            events.extend(self._order_events(shop, order))
        number = int((page or {}).get("page") or 1)
        if page is None:       # page 1 tells how many there are: then read them from the last back to page 1
            pages = math.ceil(int(answer.get("total_count") or 0) / PAGE_SIZE)
            following = {"page": pages} if pages > 1 else None
        else:
            following = {"page": number - 1} if number > 1 else None
        return OrderPollPage(tuple(events), following)

    @staticmethod
    def _order_events(shop: str, order: Mapping) -> list[OrderEvent]:
        order_sn = text(order.get("order_sn"))
        if not order_sn:
            raise PayloadInvalid("order without order_sn")
        updated = text(order.get("updated_at"))
        kinds = kinds_of(order)
        lines = []
        for item in order.get("item_list") or []:
            sku_id = text(item.get("sku_id"))
            if not sku_id:
                raise PayloadInvalid(f"order {order_sn}: an item without sku_id")
            lines.append(OrderLine(sku_id, positive_qty(item.get("goods_count"), f"order {order_sn}"),
                                   text(item.get("outer_id")) or None))
        if not lines and kinds != [OrderEventKind.CANCELLED]:
            raise PayloadInvalid(f"order {order_sn} has no item_list")
        delivery = ":".join(text(order.get(k)) for k in ("order_sn", "order_status", "refund_status",
                                                         "group_status")) + f":{updated}"
        return [OrderEvent(PLATFORM, shop, order_sn, kind, tuple(lines), delivery,
                           paid=kind is not OrderEventKind.CREATED, occurred_at=beijing_iso(updated))
                for kind in kinds]

    # -- outbound -------------------------------------------------------------------------------------
    def api_base(self, credentials: Mapping[str, str]) -> str:
        return credentials.get("api_base_url") or DEFAULT_BASE

    def _signed(self, credentials: Mapping[str, str], api_type: str, business: Mapping[str, str]) -> HttpCall:
        client_id, client_secret, token = require(credentials, "client_id", "client_secret", "access_token")
        params = {"type": api_type, "client_id": client_id, "access_token": token,
                  "timestamp": str(int(self.clock())), "data_type": "JSON", **business}
        params["sign"] = api_sign(client_secret, params)
        return HttpCall("POST", f"{self.api_base(credentials).rstrip('/')}{ROUTER}",
                        {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
                        urlencode(params).encode(), API_HOSTS)

    def build_stock_updates(self, credentials: Mapping[str, str], pushes: list[StockPush]) -> list[HttpCall]:
        return [self._quantity(credentials, p.listing_id, p.platform_ids, check_quantity(p.quantity, p.listing_id),
                               UPDATE_FULL) for p in pushes]

    def build_stock_adjustments(self, credentials: Mapping[str, str], adjusts: list[StockAdjust],
                                key: str | None = None) -> list[HttpCall]:
        # `key` has nothing to map to: pdd.goods.quantity.update takes no idempotency key.
        return [self._quantity(credentials, a.listing_id, a.platform_ids, check_delta(a.delta, a.listing_id),
                               UPDATE_INCREMENTAL) for a in adjusts]

    def _quantity(self, credentials, listing_id: str, ids: Mapping[str, str], quantity: int, update_type: str):
        return self._signed(credentials, QUANTITY_UPDATE, {
            "goods_id": require_id(ids, "goods_id", listing_id), "sku_id": listing_id,
            "quantity": str(quantity), "update_type": update_type})

    def build_read_back(self, credentials: Mapping[str, str], listing_ids: list[str],
                        platform_ids: Mapping[str, Mapping[str, str]] | None = None) -> list[HttpCall]:
        """pdd.goods.detail.get per goods: needs `platform_ids[listing_id]['goods_id']`."""
        goods: list[str] = []
        for listing in listing_ids:
            goods_id = require_id((platform_ids or {}).get(listing) or {}, "goods_id", listing)
            if goods_id not in goods:
                goods.append(goods_id)
        return [self._signed(credentials, GOODS_DETAIL, {"goods_id": g}) for g in goods]

    def parse_read_back(self, status: int, body: bytes) -> dict[str, int]:
        answer = self._answer(status, body, "goods_detail_get_response")
        return {text(sku.get("sku_id")): int(sku.get("quantity") or 0) for sku in answer.get("sku_list") or []
                if isinstance(sku, dict) and sku.get("sku_id") is not None}

    def build_list_listings(self, credentials: Mapping[str, str], cursor: dict | None) -> HttpCall:
        page = int((cursor or {}).get("page") or 1)
        return self._signed(credentials, GOODS_LIST, {"page": str(page), "page_size": str(PAGE_SIZE)})

    def parse_list_listings(self, cursor: dict | None, status: int, body: bytes,
                            headers: Mapping[str, str] | None = None) -> ListingPage:
        answer = self._answer(status, body, "goods_list_get_response")
        goods = answer.get("goods_list") or []
        found = []
        for item in goods:
            goods_id, name = text(item.get("goods_id")), text(item.get("goods_name"))
            for sku in item.get("sku_list") or []:
                outer = text(sku.get("outer_id")).strip()
                quantity = sku.get("sku_quantity")
                found.append(DiscoveredListing(text(sku.get("sku_id")), outer, "", name, {"goods_id": goods_id},
                                               int(quantity) if str(quantity).isdigit() else None))
        page = int((cursor or {}).get("page") or 1)
        more = goods and page * PAGE_SIZE < int(answer.get("total_count") or 0)
        return ListingPage(tuple(found), {"page": page + 1} if more else None)

    @staticmethod
    def _answer(status: int, body: bytes, key: str) -> dict:
        payload = try_json(body)
        if status != 200 or not isinstance(payload, dict):
            raise PayloadInvalid(f"Pinduoduo answered HTTP {status}")
        if isinstance(payload.get("error_response"), dict):
            error = payload["error_response"]
            raise PayloadInvalid(f"Pinduoduo error {error.get('error_code')} {error.get('sub_msg') or error.get('error_msg')}")
        answer = payload.get(key)
        if not isinstance(answer, dict):
            raise PayloadInvalid(f"Pinduoduo answer without {key}")
        return answer

    def classify_response(self, status: int, body: bytes,
                          headers: Mapping[str, str] | None = None) -> CallResult:
        payload = try_json(body)
        payload = payload if isinstance(payload, dict) else {}
        error = payload.get("error_response") if isinstance(payload.get("error_response"), dict) else None
        code = text((error or {}).get("error_code"))
        message = text((error or {}).get("sub_msg") or (error or {}).get("error_msg"))
        verdict = by_status(status, headers, code, message)
        if verdict:
            return verdict
        if status == 200 and error is None and payload:
            return CallResult(Outcome.OK)
        if code in _THROTTLE_CODES or any(word in message for word in _THROTTLE_WORDS):
            return CallResult(Outcome.RETRYABLE, code, message)
        if "资源位" in message:
            return CallResult(Outcome.PERMANENT, PROMOTION_SLOT, f"{code} {message}".strip())
        return CallResult(Outcome.PERMANENT, code or str(status), message or "unexpected answer")

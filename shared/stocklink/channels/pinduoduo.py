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
- group_status 2 or confirm_status 2: release (CANCELLED).
- refund_status 4 (退款成功) says an after-sale of the order succeeded, not how many units it took: before
  shipment the order is committed (PAID) and only the refunded units are released, read from the after-sales
  list below; after shipment nothing is restocked from the order list. refund_status 2/3 (after-sale open,
  refund in progress) change nothing yet.
Per-line refunds (after-sales). Each window is also read in `pdd.refund.list.increment.get` (售后列表增量查询),
after its orders (so an order paid and refunded inside one window is committed before its refund is applied),
with the same 30-minute bound, the same paging read from the last page back to the first, page_size at most
100. Request (pdd SDK request models: docs.rs/pdd 0.1.4 PddRefundListIncrementGet, lywzx/pdd-node-sdk
PddRefundListIncrementGet): start_updated_at / end_updated_at (Unix seconds, "开始时间结束时间间距不超过 30 分钟"),
after_sales_status (required; 10 = 退款成功 asked for: only a finished refund moves stock), after_sales_type
(required; 1 = 全部), page, page_size. Answer refund_increment_get_response {total_count, refund_list[].{id
(售后编号), order_sn, after_sales_status, after_sales_type, goods_id, sku_id, outer_id, goods_number (商品数量),
goods_price, order_amount (订单金额, 元), refund_amount (退款金额, 元), updated_time}} (the niltor/open-pdd-net-sdk
GetRefundListIncrementResponseModel and the node SDK's response interface). One after-sale names one goods
and one sku_id: a Pinduoduo order is one goods (its item_list has one entry; StockLink does not rely on it),
so the refund's line is its sku_id. What each after-sale does:
- after_sales_type 2 (仅退款, money back, no goods returned): a part cancellation (PART_CANCELLED) of its units:
  before shipment the order logic releases exactly those units and the rest still ships; after shipment it
  moves nothing (the goods never came back: restocking them would offer them twice).
- after_sales_type 3 (退货退款, goods returned): a return (RETURNED) of its units, restocked once shipped.
- 4 换货 / 5 补寄 / 6 维修 (exchange, resend, repair): nothing (another unit goes out or comes back through
  staff).
Ambiguous, chosen (the documents leave open):
- after_sales_type's codes in the answer: the list request documents 1 全部 2 仅退款 3 退货退款 4 换货 5 缺货补寄
  6 维修, while pdd.refund.information.get documents its own answer as 1 仅退款 2 退货退款 3 换货 4 补寄 5 维修;
  StockLink reads the list's answer with the list request's codes (the same API), unverified against a live
  answer. A type outside 2/3 moves nothing, so a misread exchange never releases stock.
- goods_number is only "商品数量": whether it counts the order's units or the units the after-sale covers is
  not said. The units taken are its share of the money: floor(goods_number * refund_amount / order_amount), at
  most goods_number, all of them when either amount is missing or the refund is the whole order amount. Read
  either way this never releases more than the refund paid for (an order_amount that includes postage
  rounds a full goods refund down by a unit: that unit stays reserved, never oversold, and reconciliation
  shows the drift). A return (goods came back) restocks at least 1 unit when money was refunded.
An after-sale's event key is its own (delivery_id refund-<id>:<sku_id>:<after_sales_status>), so two refunds
of one order are two events and a refund read again by an overlapping window is one.
Without the after-sales permission (售后 API group) an app's refunds call is refused (an error_response, classified
PERMANENT) while its orders are read: the refunds pages are skippable (`skippable_poll_page`, channels/base): a
window whose refunds are refused keeps its applied orders and completes, so the shop's orders keep syncing; a
refund before shipment in it is not released (its units stay committed: under-counted, never oversold) and the
seller is alerted (`pulled_refunds_unread`, logic/order_poll) until a window's refunds are read again. The exact
error_code of that refusal is not published where StockLink could check it: any PERMANENT verdict counts,
never a throttle (70031 / 频繁 / 限流), an answer saying the platform itself failed (系统错误 / 系统繁忙 / 服务繁忙,
classified RETRYABLE, assumed wording), a 5xx or a network error: those fail the window, read again next run.
Rate budget: the after-sales list is one call more per window (and page): >= 2,880 a shop a day at one
window per 30-s run, as many as the order list; PDD meters each API apart (no per-shop figure published).
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
    envelope_answer,
    error_envelope,
    check_delta,
    check_quantity,
    positive_qty,
    require,
    require_id,
    text,
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
REFUND_INCREMENT = "pdd.refund.list.increment.get"
REFUNDS = "refunds"              # the poll cursor's list after a window's orders: its after-sales
REFUND_SUCCESS = 10              # after_sales_status 退款成功
ALL_AFTER_SALES = 1              # after_sales_type 全部 (request)
REFUND_ONLY, RETURN_AND_REFUND = 2, 3   # after_sales_type 仅退款 / 退货退款 (module docstring: assumed codes)
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
_PLATFORM_FAULT_WORDS = ("系统错误", "系统繁忙", "服务繁忙")   # assumed (unverified): the platform failed, not the call


def api_sign(client_secret: str, params: Mapping[str, str]) -> str:
    """UPPER(MD5(secret + k1v1k2v2... + secret)) over every parameter but sign, keys in ASCII order."""
    return md5_secret_sandwich(client_secret, params)


def beijing_iso(value: str) -> str | None:
    """"2026-03-02 10:15:30" (Beijing time, as Pinduoduo prints it) as ISO 8601 with +08:00, else None."""
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).isoformat()
    except (TypeError, ValueError):
        return None


def _code(value) -> int | None:
    return int(value) if str(value).lstrip("-").isdigit() else None


def kinds_of(order: Mapping) -> list[OrderEventKind]:
    """What has happened to the order so far (see the module docstring), oldest step first."""
    status, group, confirm = (_code(order.get(name)) for name in ("order_status", "group_status", "confirm_status"))
    shipped = status in (2, 3)
    if group == 2 or confirm == 2:
        return [OrderEventKind.CANCELLED]
    if group == 0:
        return [OrderEventKind.CREATED]
    if status == 1:
        return [OrderEventKind.PAID]
    if shipped:
        return [OrderEventKind.PAID, OrderEventKind.SHIPPED]
    raise PayloadInvalid(f"order {order.get('order_sn')}: unknown order_status {order.get('order_status')!r}")


def _fen(value) -> int | None:
    """An amount as printed ("29.90" yuan, or a number) in hundredths; None when absent or unreadable."""
    try:
        return round(float(text(value)) * 100) if text(value) else None
    except ValueError:
        return None


def refunded_units(refund: Mapping, goods_back: bool) -> int:
    """Units one after-sale takes (module docstring): goods_number's share of the money, rounded down (a
    return whose goods came back: at least 1 when money was refunded)."""
    number = positive_qty(refund.get("goods_number"), f"after-sale {refund.get('id')}")
    fee, total = _fen(refund.get("refund_amount")), _fen(refund.get("order_amount"))
    if fee is None or not total or fee >= total:
        return number
    units = number * max(0, fee) // total
    return max(1, units) if goods_back and fee > 0 else units


def refund_events(shop: str, refund: Mapping) -> list[OrderEvent]:
    """A finished after-sale: a part cancellation (money only) or a return (goods back) of its sku's units."""
    refund_id, order_sn, sku_id = text(refund.get("id")), text(refund.get("order_sn")), text(refund.get("sku_id"))
    if not refund_id or not order_sn or not sku_id:
        raise PayloadInvalid("an after-sale without id, order_sn or sku_id")
    status = _code(refund.get("after_sales_status"))
    kind = {REFUND_ONLY: OrderEventKind.PART_CANCELLED,
            RETURN_AND_REFUND: OrderEventKind.RETURNED}.get(_code(refund.get("after_sales_type")))
    if status != REFUND_SUCCESS or kind is None:
        return []
    qty = refunded_units(refund, goods_back=kind is OrderEventKind.RETURNED)
    if qty == 0:
        return []
    line = OrderLine(sku_id, qty, text(refund.get("outer_id")) or None)
    return [OrderEvent(PLATFORM, shop, order_sn, kind, (line,), f"refund-{refund_id}:{sku_id}:{status}", paid=True,
                       occurred_at=beijing_iso(text(refund.get("updated_time"))))]


def _backwards(page: dict | None, total: int) -> dict | None:
    """The next page of one list read from the last page back to the first: its first call (no page number
    yet) tells total; then pages total..1 (page 1 read twice). None: the list is read."""
    listed = {"list": page["list"]} if page and page.get("list") else {}
    if page is None or "page" not in page:
        pages = math.ceil(total / PAGE_SIZE)
        return {**listed, "page": pages} if pages > 1 else None
    number = int(page["page"])
    return {**listed, "page": number - 1} if number > 1 else None


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
        """One page of the window's orders, or once they are read (page {"list": "refunds"}) of its after-sales."""
        if not 0 < window.end_s - window.start_s <= MAX_WINDOW_S:
            raise ValueError(f"a Pinduoduo order window lasts 1 s to 30 min, got {window}")
        number = int((page or {}).get("page") or 1)
        span = {"start_updated_at": str(window.start_s), "end_updated_at": str(window.end_s)}
        if (page or {}).get("list") == REFUNDS:
            return self._signed(credentials, REFUND_INCREMENT, {
                **span, "after_sales_status": str(REFUND_SUCCESS), "after_sales_type": str(ALL_AFTER_SALES),
                "page": str(number), "page_size": str(PAGE_SIZE)})
        return self._signed(credentials, ORDER_INCREMENT, {
            **span, "is_lucky_flag": "0", "order_status": "5", "refund_status": "5",
            "page": str(number), "page_size": str(PAGE_SIZE)})

    def parse_order_poll(self, shop: str, window: PollWindow, page: dict | None, status: int,
                         body: bytes) -> OrderPollPage:
        if (page or {}).get("list") == REFUNDS:
            answer = self._answer(status, body, "refund_increment_get_response")
            events = []
            for refund in answer.get("refund_list") or []:
                if not isinstance(refund, dict):
                    raise PayloadInvalid("refund_list holds a non-object")
                events.extend(refund_events(shop, refund))
            return OrderPollPage(tuple(events), _backwards(page, int(answer.get("total_count") or 0)))
        answer = self._answer(status, body, "order_sn_increment_get_response")
        events: list[OrderEvent] = []
        for order in answer.get("order_sn_list") or []:
            if not isinstance(order, dict):
                raise PayloadInvalid("order_sn_list holds a non-object")
            events.extend(self._order_events(shop, order))
        following = _backwards(page, int(answer.get("total_count") or 0))
        return OrderPollPage(tuple(events), following if following is not None else {"list": REFUNDS})

    @staticmethod
    def skippable_poll_page(page: dict | None) -> bool:
        """A window's after-sales pages: they only release stock (module docstring), so a permanent refusal
        (no after-sales permission) may skip them."""
        return (page or {}).get("list") == REFUNDS

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
        return envelope_answer("Pinduoduo", status, body, key, lambda error: (
            f"{error.get('error_code')} {error.get('sub_msg') or error.get('error_msg')}"))

    def classify_response(self, status: int, body: bytes,
                          headers: Mapping[str, str] | None = None) -> CallResult:
        payload, error = error_envelope(body)
        code = text((error or {}).get("error_code"))
        message = text((error or {}).get("sub_msg") or (error or {}).get("error_msg"))
        verdict = by_status(status, headers, code, message)
        if verdict:
            return verdict
        if status == 200 and error is None and payload:
            return CallResult(Outcome.OK)
        if code in _THROTTLE_CODES or any(word in message for word in _THROTTLE_WORDS + _PLATFORM_FAULT_WORDS):
            return CallResult(Outcome.RETRYABLE, code, message)
        if "资源位" in message:
            return CallResult(Outcome.PERMANENT, PROMOTION_SLOT, f"{code} {message}".strip())
        return CallResult(Outcome.PERMANENT, code or str(status), message or "unexpected answer")

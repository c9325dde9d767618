"""JD (京东, JOS — 京东商家开放平台) adapter: orders are pulled, stock is pushed.

Gateway. What the search tools found (2026-12): JD's current developer guide (open.jd.com/v2 dev-guide,
listId=2643, the page of the signing example; mirrored at open.healthjd.com "开放平台-调用API" and
runtime-dashboard.sp.baishan.com "jingdong") names https://api.jd.com/routerjson as the production entry and
https://api-dev.jd.com/routerjson as pre-release; the classic guide (help.jd.com/jos/question-580.html) names
http://gw.api.360buy.com/routerjson (plain HTTP, 6 minutes of skew), and JD Union's router.jd.com is, by a
third-party note quoting JD, no longer maintained. StockLink builds on https://api.jd.com/routerjson; the
older hosts are not allowed (API_HOSTS). NOT verified: whether JD now documents a further, newer gateway
that new apps must use instead — none was found in the stored documentation or code (searched for
routerjsonV2 and 新网关); this is the first thing to re-check against open.jd.com before going live.

Calls: POST https://api.jd.com/routerjson, form-encoded, system parameters method, app_key, access_token,
timestamp ("yyyy-MM-dd HH:mm:ss", Beijing time; JD allows 10 minutes of skew), v=2.0, and the business
parameters as ONE JSON object in `360buy_param_json` (keys in alphabetical order). sign = UPPER(MD5(app_secret
+ concat(sorted k + v over every parameter but sign) + app_secret)). Checked (2026-12) against JD's published
example (open.jd.com/v2/#/doc/dev-guide?listId=2643, app secret "yourappSecret", method jingdong.pop.order.search
-> D70825340F4084360B9362B60DFD7930), reproduced in tests/unit/channels/test_jd_adapter.py. The page itself
could not be read here: the example's input string and result come from a public repository's table of
official signing vectors that cites that page; they reproduce byte for byte, which an invented example
would be unlikely to do. `format` is not
sent: JSON is the only format and the published example signs without it. Answers: HTTP 200 with
{"<method, dots as _>_responce": {"code": "0", ...}} (JD's spelling) or {"error_response": {"code", "zh_desc",
"en_desc"}}.

Ingestion: JD's order messages come over a long connection (JMQ/长连接) that does not fit Lambda, so no
webhook is taken (verify_webhook refuses every delivery) and logic/order_poll pulls
`jingdong.pop.order.enSearch` (the successor of jingdong.pop.order.search; fields checked against the
XiBao/jos Go SDK's PopOrderEnSearchRequest: start_date, end_date, order_state, optional_fields, page,
page_size, sortType, dateType; answer jingdong_pop_order_enSearch_responce.searchorderinfo_result {orderTotal,
apiResult.success, orderInfoList} as in its PopOrderEnSearchResponse). dateType 0 = by modification time
(1 = by creation); start/end in Beijing time. JD's limit on a window's length was not found in its own
words (a third-party note says one month, modification-time search reaching three months back):
StockLink asks for 30 minutes at most (its own choice), ends a window 60 s
before now (poll_settle_s, assumed) and reads pages forward (page_size 100, assumed maximum) while
page * size < orderTotal; the poller's overlap window catches an order that moved between pages.
Orders: orderInfoList[].{orderId, orderState, modified, orderTotalPrice (yuan, a decimal string, unused by
stock logic), itemInfoList[].{skuId, wareId, outerSkuId, itemTotal (a string)}} — field names from the
XiBao/jos SDK's OrderInfo / ItemInfo; not checked against a live answer. An answer whose apiResult.success
is false is refused (an HTTP 200 is not success on its own). `modified` is Beijing time (occurred_at carries +08:00).

Status mapping (orderState; the states and their meanings as listed in the XiBao/jos SDK's OrderInfo, copied
from JD's field documentation), as what has happened so far (each step's marker makes a repeat a duplicate):
- WAIT_SELLER_STOCK_OUT (等待出库): commit (PAID; the order is listed paid, or cash on delivery confirmed).
  WAIT_SEND_CODE (等待发码, LOC service orders only): commit.
- WAIT_GOODS_RECEIVE_CONFIRM (等待确认收货), FINISHED_L (完成): commit then ship.
- TRADE_CANCELED (取消): release (CANCELLED).
- Ambiguous, chosen: LOCKED (已锁定: a cancellation request or risk check holds the order) and POP_ORDER_PAUSE
  (POP暂停) — the order may still go out, so its units stay committed (PAID) and nothing is released until JD
  says TRADE_CANCELED; releasing early would offer units the order may still take. WAIT_SELLER_DELIVERY
  (等待发货, overseas-purchase sellers only, "等待境内发货") — the seller has still to send the parcel on, so it
  is committed, not shipped; a later WAIT_GOODS_RECEIVE_CONFIRM ships it.
- The search asks for these states only (order_state); an answer holding any other state is refused
  (PayloadInvalid): the shop's cursor stays and the lag alert shows it, rather than an order being skipped
  silently.
delivery_id = orderId:orderState:modified.

Refunds: read by the order's state only (no per-line refund, no return). What the search tools found
(2026-12), and why none of it is read:
- `jingdong.pop.afs.soa.refundapply.queryPageList` (退款审核单列表查询, JOS api id 925 / joshome 13151; request
  ids, status, orderId, buyerId, buyerName, applyTimeStart/End, checkTimeStart/End, pageIndex 1-100, pageSize
  1-50, storeId, showSku — JD's Java SDK interface and the seven_jd / PHP SDK request classes). It lists the
  refund applications of orders cancelled before stock-out (取消订单退款), order by order: applyRefundSum (fen)
  and an audit status (0 未审核, 1 审核通过, 2 审核不通过, 3 京东财务审核通过, 4 京东财务审核不通过, 5 人工审核通过,
  6 拦截并退款, 7 青龙拦截成功, 8 青龙拦截失败, 9 强制关单并退款). Such a refund cancels the whole order, which the
  search then shows as TRADE_CANCELED (released whole, below); no per-SKU quantity is documented in what was
  found (what showSku adds is not described), and it has no update-time window to poll.
- `jingdong.asc.query.list` (售后服务单, request updateTimeBegin/End, serviceStatus, orderId, pageNumber,
  pageSize ... — the seven_jd SDK's AscQueryListRequest) and `jingdong.asc.serviceAndRefund.view` are the
  after-sales service orders (returns, exchanges, repairs) after delivery; their answer fields (which SKU,
  how many units, whether the goods came back) were not found in any public document or SDK model here.
Not verifiable, so not built: JD's orders are read from the order search alone, as before. What that does
for an order one of whose SKUs is refunded (tests/unit/channels/test_jd_adapter.py, the example
order_search_part_refunded.json): while JD holds it for the refund request (LOCKED) every unit stays
committed; when JD cancels it (TRADE_CANCELED) the whole order is released; when it ships and finishes, all
its units ship and nothing comes back into stock (a returned parcel is received by staff). Under-counted,
never oversold. Next step once the asc answer's fields are confirmed on open.jd.com: read the service orders
like Pinduoduo's after-sales (a return per SKU and count, channels/pinduoduo.py).

Stock: `jingdong.stock.write.updateSkuStock` (skuId, stockNum, storeId?) sets a SKU's stock (full update).
DESIGN notes it reported as being retired; the official Java SDK also carries
`jingdong.stock.write.increaseSkuStock` (skuId, stockNum, storeId, stockRfId), but whether it accepts a
negative stockNum and whether stockRfId makes a resend apply once is not published in what I could find, so
it is not used (supports_relative = False: absolute, bounded, as TikTok Shop / Shopee). Unverified: the
retirement date of updateSkuStock and its successor's exact contract.
Read-back: `jingdong.stock.read.findSkuStock` (skuId) -> skuStocks[].{skuId, stockNum, storeId}; the entry
without a storeId (or storeId 0, the SKU's own stock) is the quantity shown. Discovery:
`jingdong.sku.read.searchSkuList` (pageNo from 1, page_size <= 50 assumed, skuStatuValue [1] on sale, field)
-> page {data[].{skuId, wareId, outerId, wareTitle, stockNum, barCode}, totalItem}; request fields checked
against the XiBao/jos SDK's SearchSkuListRequest, answer fields unverified.

Rate: JD meters calls per app and API and publishes no per-shop figure here; 10 calls/s per shop is
assumed (unverified) and a shop's own max_calls_per_second overrides it. Throttling is recognised by its
message (频率 / 限流 / 超限), the codes being unpublished.

Credentials: app_key, app_secret, access_token (the shop's authorisation), api_base_url? (a sandbox).
listing_id = the skuId; platform_ids: ware_id (informational).
"""
from __future__ import annotations

import json
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
    check_quantity,
    positive_qty,
    require,
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

PLATFORM = "jd"
DEFAULT_BASE = "https://api.jd.com"
ROUTER = "/routerjson"
API_HOSTS = HostRule("JD open platform (JOS)", frozenset({"api.jd.com", "api-dev.jd.com"}))
ORDER_SEARCH = "jingdong.pop.order.enSearch"
STOCK_UPDATE = "jingdong.stock.write.updateSkuStock"
STOCK_READ = "jingdong.stock.read.findSkuStock"
SKU_LIST = "jingdong.sku.read.searchSkuList"
ORDER_PAGE_SIZE = 100            # assumed maximum
SKU_PAGE_SIZE = 50               # assumed maximum
MAX_WINDOW_S = 30 * 60           # StockLink's own bound (JD's was not found)
SETTLE_S = 60                    # assumed: JD's order index lags the update a little
BEIJING = timezone(timedelta(hours=8))
COMMIT_STATES = {"WAIT_SELLER_STOCK_OUT", "WAIT_SEND_CODE", "WAIT_SELLER_DELIVERY", "LOCKED", "POP_ORDER_PAUSE"}
SHIPPED_STATES = {"WAIT_GOODS_RECEIVE_CONFIRM", "FINISHED_L"}
CANCELLED_STATES = {"TRADE_CANCELED"}
POLLED_STATES = ",".join(sorted(COMMIT_STATES | SHIPPED_STATES | CANCELLED_STATES))
_THROTTLE_WORDS = ("频率", "限流", "超限")


def api_sign(app_secret: str, params: Mapping[str, str]) -> str:
    """UPPER(MD5(secret + k1v1k2v2... + secret)) over every parameter but sign, keys in ASCII order."""
    return md5_secret_sandwich(app_secret, params)


def param_json(business: Mapping) -> str:
    """The business parameters as JD wants them in 360buy_param_json: one JSON object, keys sorted."""
    return json.dumps(business, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def beijing_text(epoch_s: float) -> str:
    return datetime.fromtimestamp(int(epoch_s), BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def beijing_iso(value: str) -> str | None:
    """"2026-03-02 10:15:30" (Beijing time, as JD prints it) as ISO 8601 with +08:00, else None."""
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).isoformat()
    except (TypeError, ValueError):
        return None


def kinds_of(order_state: str, order_id: str = "") -> list[OrderEventKind]:
    """What has happened to the order so far (see the module docstring), oldest step first."""
    if order_state in CANCELLED_STATES:
        return [OrderEventKind.CANCELLED]
    if order_state in COMMIT_STATES:
        return [OrderEventKind.PAID]
    if order_state in SHIPPED_STATES:
        return [OrderEventKind.PAID, OrderEventKind.SHIPPED]
    raise PayloadInvalid(f"order {order_id}: unknown orderState {order_state!r}")


def response_key(method: str) -> str:
    return f"{method.replace('.', '_')}_responce"     # JD's own spelling


class JdAdapter(PulledOrdersOnly):
    platform = PLATFORM
    api_hosts = API_HOSTS
    batch_size = 1                 # updateSkuStock takes one SKU
    rate_per_second = 10.0         # assumed (see the module docstring)
    burst = 10
    webhook_carries_lines = True   # no webhook at all: the poll answers carry the lines
    supports_relative = False
    relative_below_zero = False
    relative_idempotent = False
    polls_orders = True
    max_poll_window_s = MAX_WINDOW_S
    poll_settle_s = SETTLE_S
    order_report_lag_s = pulled_order_lag_s(SETTLE_S)   # pulled only: settle + the poller's period and run

    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock

    def build_order_poll(self, credentials: Mapping[str, str], window: PollWindow, page: dict | None) -> HttpCall:
        if not 0 < window.end_s - window.start_s <= MAX_WINDOW_S:
            raise ValueError(f"a JD order window lasts 1 s to 30 min, got {window}")
        number = int((page or {}).get("page") or 1)
        return self._signed(credentials, ORDER_SEARCH, {
            "start_date": beijing_text(window.start_s), "end_date": beijing_text(window.end_s),
            "order_state": POLLED_STATES, "optional_fields": "orderId,orderState,modified,itemInfoList",
            "dateType": 0, "page": str(number), "page_size": str(ORDER_PAGE_SIZE)})

    def parse_order_poll(self, shop: str, window: PollWindow, page: dict | None, status: int,
                         body: bytes) -> OrderPollPage:
        answer = self._answer(status, body, ORDER_SEARCH)
        result = answer.get("searchorderinfo_result")
        if not isinstance(result, dict):
            raise PayloadInvalid("JD order search answer without searchorderinfo_result")
        outcome = result.get("apiResult")
        if isinstance(outcome, dict) and outcome.get("success") is False:
            raise PayloadInvalid(f"JD order search refused: {outcome.get('chineseErrCode') or outcome.get('englishErrCode')}")
        events: list[OrderEvent] = []
        for order in result.get("orderInfoList") or []:
            if not isinstance(order, dict):
                raise PayloadInvalid("orderInfoList holds a non-object")
            events.extend(self._order_events(shop, order))
        number = int((page or {}).get("page") or 1)
        total = int(result.get("orderTotal") or 0)
        following = {"page": number + 1} if number * ORDER_PAGE_SIZE < total else None
        return OrderPollPage(tuple(events), following)

    @staticmethod
    def _order_events(shop: str, order: Mapping) -> list[OrderEvent]:
        order_id = text(order.get("orderId"))
        if not order_id:
            raise PayloadInvalid("order without orderId")
        state, modified = text(order.get("orderState")), text(order.get("modified"))
        kinds = kinds_of(state, order_id)
        lines = []
        for item in order.get("itemInfoList") or []:
            sku_id = text(item.get("skuId")) if isinstance(item, dict) else ""
            if not sku_id:
                raise PayloadInvalid(f"order {order_id}: an item without skuId")
            lines.append(OrderLine(sku_id, positive_qty(item.get("itemTotal"), f"order {order_id}"),
                                   text(item.get("outerSkuId")) or None))
        if not lines and kinds != [OrderEventKind.CANCELLED]:
            raise PayloadInvalid(f"order {order_id} has no itemInfoList")
        delivery = f"{order_id}:{state}:{modified}"
        return [OrderEvent(PLATFORM, shop, order_id, kind, tuple(lines), delivery, paid=True,
                           occurred_at=beijing_iso(modified)) for kind in kinds]

    # -- outbound -------------------------------------------------------------------------------------
    def api_base(self, credentials: Mapping[str, str]) -> str:
        return credentials.get("api_base_url") or DEFAULT_BASE

    def _signed(self, credentials: Mapping[str, str], method: str, business: Mapping) -> HttpCall:
        app_key, app_secret, token = require(credentials, "app_key", "app_secret", "access_token")
        params = {"method": method, "app_key": app_key, "access_token": token,
                  "timestamp": beijing_text(self.clock()), "v": "2.0", "360buy_param_json": param_json(business)}
        params["sign"] = api_sign(app_secret, params)
        return HttpCall("POST", f"{self.api_base(credentials).rstrip('/')}{ROUTER}",
                        {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
                        urlencode(params).encode(), API_HOSTS)

    def build_stock_updates(self, credentials: Mapping[str, str], pushes: list[StockPush]) -> list[HttpCall]:
        return [self._signed(credentials, STOCK_UPDATE, {
                    "skuId": _sku_number(p.listing_id),
                    "stockNum": check_quantity(p.quantity, p.listing_id)}) for p in pushes]

    def build_stock_adjustments(self, credentials: Mapping[str, str], adjusts: list[StockAdjust],
                                key: str | None = None) -> list[HttpCall]:
        raise NotImplementedError("JD: absolute stock quantities only (see the module docstring)")

    def build_read_back(self, credentials: Mapping[str, str], listing_ids: list[str],
                        platform_ids: Mapping[str, Mapping[str, str]] | None = None) -> list[HttpCall]:
        return [self._signed(credentials, STOCK_READ, {"skuId": _sku_number(listing)})
                for listing in dict.fromkeys(listing_ids)]

    def parse_read_back(self, status: int, body: bytes) -> dict[str, int]:
        answer = self._answer(status, body, STOCK_READ)
        shown: dict[str, int] = {}
        for row in answer.get("skuStocks") or []:
            if not isinstance(row, dict) or row.get("skuId") is None:
                continue
            sku = text(row.get("skuId"))
            if not row.get("storeId") or sku not in shown:   # the SKU's own stock wins over a store's
                shown[sku] = int(row.get("stockNum") or 0)
        return shown

    def build_list_listings(self, credentials: Mapping[str, str], cursor: dict | None) -> HttpCall:
        page = int((cursor or {}).get("page") or 1)
        return self._signed(credentials, SKU_LIST, {
            "pageNo": page, "page_size": SKU_PAGE_SIZE, "skuStatuValue": [1],
            "field": "skuId,wareId,outerId,wareTitle,stockNum,barCode"})

    def parse_list_listings(self, cursor: dict | None, status: int, body: bytes,
                            headers: Mapping[str, str] | None = None) -> ListingPage:
        answer = self._answer(status, body, SKU_LIST)
        page_answer = answer.get("page") if isinstance(answer.get("page"), dict) else {}
        rows = page_answer.get("data") or []
        found = []
        for sku in rows:
            if not isinstance(sku, dict) or sku.get("skuId") is None:
                raise PayloadInvalid("searchSkuList holds a SKU without skuId")
            quantity = sku.get("stockNum")
            found.append(DiscoveredListing(text(sku.get("skuId")), text(sku.get("outerId")).strip(),
                                           text(sku.get("barCode")).strip(), text(sku.get("wareTitle")),
                                           {"ware_id": text(sku.get("wareId"))},
                                           int(quantity) if str(quantity).isdigit() else None))
        page = int((cursor or {}).get("page") or 1)
        more = rows and page * SKU_PAGE_SIZE < int(page_answer.get("totalItem") or 0)
        return ListingPage(tuple(found), {"page": page + 1} if more else None)

    @staticmethod
    def _answer(status: int, body: bytes, method: str) -> dict:
        answer = envelope_answer("JD", status, body, response_key(method), lambda error: (
            f"{error.get('code')} {error.get('zh_desc') or error.get('en_desc')}"))
        if text(answer.get("code") or "0") != "0":
            raise PayloadInvalid(f"JD error {answer.get('code')}")
        return answer

    def classify_response(self, status: int, body: bytes,
                          headers: Mapping[str, str] | None = None) -> CallResult:
        payload, error = error_envelope(body)
        code = text((error or {}).get("code"))
        message = text((error or {}).get("zh_desc") or (error or {}).get("en_desc"))
        verdict = by_status(status, headers, code, message)
        if verdict:
            return verdict
        if status == 200 and error is None and payload:
            answer = next(iter(payload.values()))
            if isinstance(answer, dict) and text(answer.get("code") or "0") != "0":
                return CallResult(Outcome.PERMANENT, text(answer.get("code")), "JD business error")
            return CallResult(Outcome.OK)
        if any(word in message for word in _THROTTLE_WORDS):
            return CallResult(Outcome.RETRYABLE, code, message)
        return CallResult(Outcome.PERMANENT, code or str(status), message or "unexpected answer")


def _sku_number(listing_id: str) -> int:
    """JD's skuId is a number (Long in the SDK): a listing id that is not one is a caller's error."""
    if not str(listing_id).isdigit():
        raise ValueError(f"a JD listing id is the numeric skuId, got {listing_id!r}")
    return int(listing_id)

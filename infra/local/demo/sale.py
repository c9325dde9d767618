"""The flash sale: buyers placing one-unit orders through the simulators' /_sandbox/orders from many threads
at once (each orders only while the platform still shows stock; the shop's checkout refuses what its listing
no longer shows), then the platforms left to settle. When the simulators deliver webhooks late (a shop's
delivery settings), an order is judged once its webhooks have been delivered: the sale flushes the
simulators' deliveries and reads StockLink's answers from their delivery log."""
from __future__ import annotations

import heapq
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from infra.local.demo import measure
from infra.local.demo.client import PLATFORMS, SHOP, Api, Sandbox, http
from infra.local.demo.seed import FLASH_SKU, Catalog


@dataclass
class Order:
    platform: str
    sku: str
    qty: int = 1
    shown: int | None = None       # what the platform showed the buyer
    t_sent: float = 0.0            # time.time() when the order was placed on the platform
    t_done: float = 0.0            # when the platform's webhook had been answered by StockLink
    status: str = "pending"        # refused (platform showed too few) | applied | oversold | error
                                   # (scheduled: accepted, its webhooks not delivered yet)
    order_id: str = ""
    shortfall: int = 0
    detail: str = ""
    delivery_ids: list[int] = field(default_factory=list)   # its webhooks in the simulator's delivery log


# --- buyers --------------------------------------------------------------------------------------------------

def place(sandbox: Sandbox, catalog: Catalog, order: Order, check_listing: bool = True,
          enforce_listed: bool | None = None) -> Order:
    """One buyer: looks at the listing, orders if the platform still shows enough (a platform refuses to sell
    what it shows as gone), and records StockLink's answer to the platform's webhook (or, when the platform
    delivers it later, the order as scheduled). `enforce_listed` overrides the shop's checkout setting (the
    demo's shops refuse what the listing no longer shows, seed.seed)."""
    lid = catalog.listings[(order.platform, order.sku)]
    if check_listing and not _shows_enough(sandbox, order, lid):
        order.status = "refused"
        return order
    doc = {"platform": order.platform, "shop": SHOP, "kind": "paid",
           "lines": [{"listing_id": lid, "qty": order.qty, "sku": order.sku}]}
    if enforce_listed is not None:
        doc["enforce_listed"] = enforce_listed
    order.t_sent = time.time()
    status, body = http("POST", f"{sandbox.base}/_sandbox/orders", doc)
    order.t_done = time.time()
    if status == 409:          # the platform's checkout found the listing sold out meanwhile
        order.status = "refused"
        return order
    order.order_id = str(body.get("order_id", ""))
    if status == 200 and body.get("scheduled"):
        # The platform took the order; its webhooks go out later (resolve_scheduled judges it then).
        order.status, order.t_done = "scheduled", 0.0
        order.delivery_ids = [int(d["delivery_id"]) for d in body["scheduled"]]
        return order
    order.delivery_ids = [int(d["delivery_id"]) for d in body.get("deliveries") or [] if "delivery_id" in d]
    _record_answer(order, status, body)
    return order


def resolve_scheduled(orders: list[Order], deliveries: list[dict]) -> None:
    """Judges each scheduled order by its webhooks in the delivery log, as `place` judges an inline answer;
    t_done becomes when StockLink answered the last of them. An order whose webhooks are still pending (the
    flush timed out) is an error."""
    by_id = {int(d["delivery_id"]): d for d in deliveries}
    for order in orders:
        if order.status != "scheduled":
            continue
        records = [by_id.get(i) for i in order.delivery_ids]
        if any(r is None or r.get("done_at") is None for r in records):
            order.status, order.detail = "error", f"webhook(s) {order.delivery_ids} still pending after the flush"
            continue
        order.t_done = max(r["done_at"] for r in records)
        _record_answer(order, 200, {"order_id": order.order_id,
                                    "deliveries": [{"status": r["status"], "body": r["body"],
                                                    "attempts": len(r["attempts"])} for r in records]})


def _shows_enough(sandbox: Sandbox, order: Order, lid: str) -> bool:
    """The buyer's look at the listing (recorded in order.shown): does the platform show enough units?"""
    rows = sandbox.control("GET", "listings", query=f"?platform={order.platform}&shop={SHOP}")["listings"]
    order.shown = next((r["quantity"] for r in rows if r["listing_id"] == lid), 0)
    return order.shown >= order.qty


def _record_answer(order: Order, status: int, body: dict) -> None:
    """Judges the order by StockLink's answers to the platform's webhook(s): applied, oversold or error."""
    deliveries = body.get("deliveries") or []
    outcomes = []
    for d in deliveries:
        try:
            outcomes.extend(json.loads(d.get("body") or "{}").get("outcomes") or [])
        except ValueError:
            pass
    if status != 200 or not deliveries or any(d.get("status") != 200 for d in deliveries):
        order.status, order.detail = "error", json.dumps(body)[:300]
    elif any(o.get("status") == "oversold" for o in outcomes):
        order.status = "oversold"
        order.shortfall = sum(int(s.get("shortfall") or 0) for o in outcomes for s in (o.get("shortfall") or []))
        order.detail = json.dumps([o.get("shortfall") for o in outcomes])[:300]
    elif outcomes and all(o.get("status") == "applied" for o in outcomes):
        order.status = "applied"
    else:
        order.status, order.detail = "error", json.dumps(outcomes)[:300]


def run_orders(sandbox: Sandbox, catalog: Catalog, orders: list[Order], threads: int = 16, sale_s: float = 0.0,
               retry_s: float = 1.0) -> list[Order]:
    """Every order placed by `threads` buyers at once (each `place`d with the shop's checkout settings); with
    `sale_s`, a timed sale: the orders arrive evenly over that many seconds and a buyer whose platform shows
    too few units looks again every `retry_s` until the sale ends (buyers refresh a flash sale's page)."""
    if sale_s <= 0:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(lambda o: place(sandbox, catalog, o), orders))
    start = time.monotonic()
    end = start + sale_s
    due = [(start + sale_s * i / len(orders), i) for i in range(len(orders))]
    heapq.heapify(due)
    lock = threading.Lock()

    def buyer() -> None:
        while True:
            with lock:
                if not due:
                    return
                at, i = heapq.heappop(due)
            if at >= end:
                continue                       # the sale is over: this buyer's last look stays refused
            time.sleep(max(0.0, at - time.monotonic()))
            order = orders[i]
            place(sandbox, catalog, order)
            if order.status == "refused" and time.monotonic() + retry_s < end:
                with lock:
                    heapq.heappush(due, (time.monotonic() + retry_s, i))

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(buyer) for _ in range(threads)]:
            future.result()
    return orders


def interleave(*streams: list[Order]) -> list[Order]:
    """Orders of several platforms mixed evenly, so every platform keeps selling through the whole sale."""
    total = sum(len(s) for s in streams)
    keyed = [((i + 0.5) / len(s), k, o) for k, s in enumerate(streams) for i, o in enumerate(s)]
    return [o for _, _, o in sorted(keyed, key=lambda t: (t[0], t[1]))][:total]


def flash_orders(tiktok: int, shopee: int, lazada: int, sku: str = FLASH_SKU) -> list[Order]:
    return interleave([Order("tiktok", sku) for _ in range(tiktok)], [Order("shopee", sku) for _ in range(shopee)],
                      [Order("lazada", sku) for _ in range(lazada)])


# --- the sale ------------------------------------------------------------------------------------------------

@dataclass
class SaleResult:
    orders: list[Order]
    calls: list[dict]
    start_units: dict[str, int]
    elapsed_s: float
    settle_s: float
    off_after: list
    pool_after: dict[str, int]
    shown_after: dict[tuple[str, str], int]
    computed_after: dict[tuple[str, str], int]
    deliveries: list[dict] = field(default_factory=list)   # the simulators' delivery log for the sale
    flush_s: float = 0.0                                    # waiting for late webhooks after the last order
    shown_at_end: dict[tuple[str, str], int] = field(default_factory=dict)   # what each platform still offered
                                                                               # when the buyers stopped

    def summary(self, catalog: Catalog) -> dict:
        return measure.summarize(self, catalog)


def run_sale(api: Api, sandbox: Sandbox, catalog: Catalog, orders: list[Order], threads: int = 16,
             settle_timeout: float = 90.0, flush_timeout: float = 300.0, sale_s: float = 0.0) -> SaleResult:
    """Places the orders, waits until every late webhook has been delivered (or given up after its retries;
    `flush_timeout` bounds the wait) and the platforms settle, then reads the call and delivery logs."""
    skus = sorted({o.sku for o in orders})
    start_units = measure.pool_available(api, catalog.skus)
    since = time.time()
    t0 = time.monotonic()
    done = run_orders(sandbox, catalog, orders, threads, sale_s)
    elapsed = time.monotonic() - t0
    listed_at_end = sandbox.listings()
    sandbox.flush(flush_timeout)
    flushed = time.monotonic() - t0 - elapsed
    deliveries = sandbox.deliveries(since)
    resolve_scheduled(done, deliveries)
    off = measure.wait_in_sync(api, sandbox, catalog, settle_timeout, skus)
    settle = time.monotonic() - t0 - elapsed
    calls = sandbox.calls(since)
    shown = sandbox.listings()
    return SaleResult(done, calls, start_units, elapsed, settle, off, measure.pool_available(api, skus),
                      {(p, sku): shown.get((p, catalog.listings[(p, sku)])) for p in PLATFORMS for sku in skus},
                      measure.computed(api, skus), deliveries, flushed,
                      {(p, sku): listed_at_end.get((p, catalog.listings[(p, sku)])) for p in PLATFORMS for sku in skus})

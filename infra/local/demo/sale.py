"""The flash sale: buyers placing one-unit orders through the simulators' /_sandbox/orders from many threads
at once (each orders only while the platform still shows stock), then the platforms left to settle."""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

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
    order_id: str = ""
    shortfall: int = 0
    detail: str = ""


# --- buyers --------------------------------------------------------------------------------------------------

def place(sandbox: Sandbox, catalog: Catalog, order: Order, check_listing: bool = True) -> Order:
    """One buyer: looks at the listing, orders if the platform still shows enough (a platform refuses to sell
    what it shows as gone), and records StockLink's answer to the platform's webhook."""
    lid = catalog.listings[(order.platform, order.sku)]
    if check_listing and not _shows_enough(sandbox, order, lid):
        order.status = "refused"
        return order
    order.t_sent = time.time()
    status, body = http("POST", f"{sandbox.base}/_sandbox/orders",
                        {"platform": order.platform, "shop": SHOP, "kind": "paid", "enforce_listed": True,
                         "lines": [{"listing_id": lid, "qty": order.qty, "sku": order.sku}]})
    order.t_done = time.time()
    if status == 409:          # the platform's checkout found the listing sold out meanwhile
        order.status = "refused"
        return order
    order.order_id = str(body.get("order_id", ""))
    _record_answer(order, status, body)
    return order


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


def run_orders(sandbox: Sandbox, catalog: Catalog, orders: list[Order], threads: int = 16) -> list[Order]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda o: place(sandbox, catalog, o), orders))


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

    def summary(self, catalog: Catalog) -> dict:
        return measure.summarize(self, catalog)


def run_sale(api: Api, sandbox: Sandbox, catalog: Catalog, orders: list[Order], threads: int = 16,
             settle_timeout: float = 90.0) -> SaleResult:
    skus = sorted({o.sku for o in orders})
    start_units = measure.pool_available(api, catalog.skus)
    since = time.time()
    t0 = time.monotonic()
    done = run_orders(sandbox, catalog, orders, threads)
    elapsed = time.monotonic() - t0
    off = measure.wait_in_sync(api, sandbox, catalog, settle_timeout, skus)
    settle = time.monotonic() - t0 - elapsed
    calls = sandbox.calls(since)
    shown = sandbox.listings()
    return SaleResult(done, calls, start_units, elapsed, settle, off, measure.pool_available(api, skus),
                      {(p, sku): shown.get((p, catalog.listings[(p, sku)])) for p in PLATFORMS for sku in skus},
                      measure.computed(api, skus))

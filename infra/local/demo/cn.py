"""The Chinese-marketplace story (`make demo ARGS="--story cn"`): one seller's shops on Taobao, JD, Pinduoduo and
Douyin Shop selling from two warehouses, every order arriving the platform's way:

- Douyin Shop pushes it (a signed webhook to /webhooks/douyin/{shop});
- Taobao puts a message on the shop's TMC queue, which the order poller consumes (and confirms);
- JD and Pinduoduo only show it in their incremental order APIs, which the poller reads window by window; the
  windows end the platform's settle time before now (Pinduoduo asks for 3 minutes), so their orders reach
  StockLink minutes, not seconds, after the buyer paid.

Buyers order the everyday SKUs on all four platforms over `sale_s` seconds (a buyer orders only what the
platform still shows), and a last-units SKU that has fewer units than its buyers want: with the last-units
guard on, StockLink offers each of its units on one platform at a time, so the slow pulled platforms cannot
sell a unit another platform has sold meanwhile. The report gives, per platform: orders, how many StockLink
applied and how late (order -> applied), how many every other platform reflected and how late (order -> the
last other platform showing it), from the simulators' own call logs and StockLink's reservations.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from infra.local.demo import measure
from infra.local.demo.client import SHOP, Api, Sandbox, http
from infra.local.demo.seed import Catalog, open_shop

CN_PLATFORMS = ("taobao", "jd", "pinduoduo", "douyin")
WAREHOUSES = (("wh-shanghai", "Shanghai DC", 1), ("wh-guangzhou", "Guangzhou DC", 2))
LAST_UNITS_SKU = "CN-LAST"
HOW = {"taobao": "TMC queue, consumed by the poller", "jd": "incremental order API, pulled",
       "pinduoduo": "incremental order API, pulled", "douyin": "push (webhook)"}

# Credentials the simulators check (the values tests use).
CREDENTIALS = {
    "taobao": {"app_key": "12497914", "app_secret": "tb-secret", "session": "tb-session", "user_id": "2200000001",
               "sign_method": "hmac-sha256"},
    "jd": {"app_key": "jd-key", "app_secret": "jd-secret", "access_token": "jd-token"},
    "pinduoduo": {"client_id": "pdd-client", "client_secret": "pdd-secret", "access_token": "pdd-token"},
    "douyin": {"app_key": "7152331588175513101", "app_secret": "douyin-secret", "access_token": "dy-token",
               "shop_id": "4463798"},
}


def listing_for(platform: str, n: int) -> tuple[str, dict]:
    """(listing id, platform ids) of SKU number n: a Taobao SKU in an item (num_iid), a JD SKU of a ware, a
    Pinduoduo SKU of a goods, a Douyin SKU of a product."""
    if platform == "taobao":
        return f"48{n:011d}", {"num_iid": f"60{n:010d}"}
    if platform == "jd":
        return f"1000{n:08d}", {"ware_id": f"1000{n:04d}"}
    if platform == "pinduoduo":
        return f"118{n:07d}", {"goods_id": f"35{n:07d}"}
    if platform == "douyin":
        return f"1736{n:015d}", {"product_id": f"36{n:017d}"}
    raise ValueError(platform)


def cn_stock(n_skus: int, last_units: int) -> dict[str, dict[str, int]]:
    """Everyday SKUs with 40..120 units split 60/40 over the two warehouses, and the last-units SKU."""
    units = {}
    for n in range(1, n_skus + 1):
        total = 40 + (n * 29) % 81
        units[f"CN-{n:03d}"] = {"wh-shanghai": total * 3 // 5, "wh-guangzhou": total - total * 3 // 5}
    units[LAST_UNITS_SKU] = {"wh-shanghai": last_units // 2, "wh-guangzhou": last_units - last_units // 2}
    return units


def seed_cn(api: Api, sandbox: Sandbox, units: dict[str, dict[str, int]]) -> Catalog:
    """Warehouses, SKUs, the four shops (simulator + StockLink, checkout refusing what a listing no longer
    shows), a listing per SKU per platform, then the goods received (StockLink pushes them everywhere)."""
    catalog = Catalog({sku: n for n, sku in enumerate(units, start=1)}, units)
    for wid, name, priority in WAREHOUSES:
        api.call("PUT", f"/warehouses/{wid}", {"name": name, "region": "cn", "priority": priority})
    for sku in units:
        api.call("PUT", f"/skus/{sku}", {"name": f"Demo item {sku}"})
    for platform in CN_PLATFORMS:
        creds = {**CREDENTIALS[platform], "api_base_url": f"{sandbox.base}/{platform}/{SHOP}"}
        open_shop(api, sandbox, catalog, platform, creds, listing_for)
        for sku, n in catalog.skus.items():
            lid, ids = listing_for(platform, n)
            api.call("PUT", f"/listings/{platform}/{SHOP}/{lid}", {"components": [{"sku": sku, "qty": 1}],
                                                                   "platform_ids": ids})
    for wid, _, _ in WAREHOUSES:
        lines = [{"sku": sku, "qty": per[wid]} for sku, per in units.items() if per.get(wid)]
        api.call("POST", "/stock/receipts", {"warehouse_id": wid, "lines": lines, "reference": f"cn-po-{wid}"})
    return catalog


@dataclass
class CnOrder:
    platform: str
    sku: str
    qty: int = 1
    status: str = "pending"      # refused (the platform showed too few) | placed | applied | oversold
    order_id: str = ""
    t_sent: float = 0.0          # when the buyer paid on the platform
    seen_at: float | None = None        # when this demo first found its reservation (looking every second)
    applied_at: float | None = None     # the reservation's created_at: the poll run's start for a pulled order
                                        # (a run's clock), so never later than the reservation was written


def story_orders(n_skus: int, per_platform: int, last_units_orders: int) -> list[CnOrder]:
    """Every platform's buyers in turn: `per_platform` everyday orders each (SKUs in rotation) and
    `last_units_orders` each for the last-units SKU, interleaved so every platform sells all along."""
    orders = []
    for i in range(max(per_platform, last_units_orders)):
        for k, platform in enumerate(CN_PLATFORMS):
            if i < per_platform:
                orders.append(CnOrder(platform, f"CN-{(i * len(CN_PLATFORMS) + k) % n_skus + 1:03d}"))
            if i < last_units_orders:
                orders.append(CnOrder(platform, LAST_UNITS_SKU))
    return orders


def place(sandbox: Sandbox, catalog: Catalog, order: CnOrder) -> None:
    """A buyer: looks at the listing, pays if the platform shows enough (its checkout refuses otherwise)."""
    lid = catalog.listings[(order.platform, order.sku)]
    shown = sandbox.control("GET", "listings", query=f"?platform={order.platform}&shop={SHOP}")["listings"]
    if next((r["quantity"] for r in shown if r["listing_id"] == lid), 0) < order.qty:
        order.status = "refused"
        return
    order.t_sent = time.time()
    status, body = http("POST", f"{sandbox.base}/_sandbox/orders", {
        "platform": order.platform, "shop": SHOP, "kind": "paid",
        "lines": [{"listing_id": lid, "qty": order.qty, "sku": order.sku}]})
    if status == 409:
        order.status = "refused"
    elif status != 200:
        raise RuntimeError(f"placing an order on {order.platform}: HTTP {status} {body}")
    else:
        order.status, order.order_id = "placed", str(body["order_id"])


def check_applied(api: Api, order: CnOrder) -> None:
    """The order's reservation in StockLink, if it has one yet: applied (or oversold: units presold)."""
    status, body = http("GET", f"{api.url}/reservations/{order.platform}:{SHOP}:{order.order_id}",
                        headers=api.headers)
    if status != 200:
        return
    order.seen_at = time.time()
    order.applied_at = int(body["created_at"]) / 1000
    presold = sum(int(a.get("presold") or 0) for a in body.get("allocations") or [])
    order.status = "oversold" if presold else "applied"


class Looker:
    """Looks for every placed order's reservation once a second, in its own thread from the first buyer on,
    so order -> applied is measured to the second for every platform (the buyers keep paying meanwhile)."""

    def __init__(self, api: Api, orders: list[CnOrder]):
        self.api, self.orders = api, orders
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-cn-looker", daemon=True)

    def __enter__(self) -> "Looker":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            for o in [o for o in self.orders if o.status == "placed"]:
                check_applied(self.api, o)

    def wait(self, timeout: float, out) -> None:
        """Until StockLink has taken in every order a platform accepted (or `timeout`), with a progress line
        every 20 s: the pulled platforms' orders arrive minutes later."""
        deadline, last_line = time.monotonic() + timeout, time.monotonic()
        while any(o.status == "placed" for o in self.orders) and time.monotonic() < deadline:
            if time.monotonic() - last_line >= 20:
                last_line = time.monotonic()
                out("demo: taken in by StockLink so far: " + ", ".join(
                    f"{p} {sum(1 for o in self.orders if o.platform == p and o.status in ('applied', 'oversold'))}/"
                    f"{sum(1 for o in self.orders if o.platform == p and o.status != 'refused')}"
                    for p in CN_PLATFORMS))
            time.sleep(0.5)


def reflected_lags(orders: list[CnOrder], calls: list[dict], catalog: Catalog, start: dict[str, int]
                   ) -> dict[int, float | None]:
    """Per everyday order StockLink applied (by id()): seconds from the buyer's payment until every *other*
    platform had been set, after StockLink applied it, to a quantity that includes it (at most the SKU's start
    minus every unit StockLink had applied by then: quantities only fall here), or None if one never was."""
    by_listing: dict[tuple[str, str], list[tuple[float, int]]] = {}
    for c in measure.stock_updates(calls):
        for lid, qty in (c.get("listings") or {}).items():
            by_listing.setdefault((c["platform"], str(lid)), []).append((c["ts"], int(qty)))
    for series in by_listing.values():
        series.sort()
    sold: dict[str, int] = {}
    out: dict[int, float | None] = {}
    for o in sorted((o for o in orders if o.status == "applied" and o.sku != LAST_UNITS_SKU),
                    key=lambda o: o.applied_at):
        sold[o.sku] = sold.get(o.sku, 0) + o.qty
        bound = start[o.sku] - sold[o.sku]
        landed = []
        for platform in CN_PLATFORMS:
            if platform != o.platform:
                series = by_listing.get((platform, catalog.listings[(platform, o.sku)]), [])
                landed.append(next((ts for ts, qty in series if ts >= o.applied_at - 0.5 and qty <= bound), None))
        out[id(o)] = None if None in landed else max(0.0, max(landed) - o.t_sent)
    return out


def _s(values: list[float], q: float | None) -> float | None:
    if not values:
        return None
    return round(max(values) if q is None else measure.percentile(values, q), 1)


def cn_summary(api: Api, sandbox: Sandbox, catalog: Catalog, orders: list[CnOrder], calls: list[dict],
               start: dict[str, int], last_units: int) -> dict:
    lags = reflected_lags(orders, calls, catalog, start)
    platforms = {}
    for p in CN_PLATFORMS:
        mine = [o for o in orders if o.platform == p]
        everyday = [o for o in mine if o.sku != LAST_UNITS_SKU and o.status in ("applied", "oversold")]
        taken_in = [o.seen_at - o.t_sent for o in mine if o.seen_at is not None]
        reflected = [lags[id(o)] for o in everyday if lags.get(id(o)) is not None]
        platforms[p] = {
            "how": HOW[p], "orders": len(mine), "refused": sum(1 for o in mine if o.status == "refused"),
            "accepted": sum(1 for o in mine if o.status != "refused"),
            "applied": sum(1 for o in mine if o.status in ("applied", "oversold")),
            "oversold": sum(1 for o in mine if o.status == "oversold"),
            "not_taken_in": sum(1 for o in mine if o.status == "placed"),
            "applied_p50_s": _s(taken_in, 50), "applied_max_s": _s(taken_in, None),
            "everyday_applied": len(everyday), "reflected": len(reflected),
            "reflected_p50_s": _s(reflected, 50), "reflected_max_s": _s(reflected, None)}
    last = [o for o in orders if o.sku == LAST_UNITS_SKU]
    return {
        "story": "cn", "platforms": platforms,
        "orders": len(orders), "oversold_orders": sum(1 for o in orders if o.status == "oversold"),
        "not_taken_in": sum(1 for o in orders if o.status == "placed"),
        "last_units": {"sku": LAST_UNITS_SKU, "units": last_units, "orders": len(last),
                       "sold": sum(o.qty for o in last if o.status in ("applied", "oversold")),
                       "refused": sum(1 for o in last if o.status == "refused"),
                       "oversold": sum(1 for o in last if o.status == "oversold")},
        "pool_after": measure.pool_available(api, catalog.skus),
        "out_of_sync": [list(m) for m in measure.mismatches(api, sandbox, catalog)],
        "ledger_problems": measure.ledger_check(api, catalog.skus),
    }


def report_lines(s: dict, poll_s: float) -> list[str]:
    lines = ["", "=== Taobao, JD, Pinduoduo and Douyin Shop from two warehouses ===",
             f"  {'platform':10}{'orders arrive by':36}{'orders':>7}{'refused':>8}{'applied':>8}{'oversold':>9}"
             f"{'order->applied p50/max s':>26}{'reflected':>10}{'order->reflected p50/max s':>28}"]
    for p, r in s["platforms"].items():
        lines.append(f"  {p:10}{r['how']:36}{r['orders']:>7}{r['refused']:>8}{r['applied']:>8}{r['oversold']:>9}"
                     f"{_pair(r['applied_p50_s'], r['applied_max_s']):>26}"
                     f"{str(r['reflected']) + '/' + str(r['everyday_applied']):>10}"
                     f"{_pair(r['reflected_p50_s'], r['reflected_max_s']):>28}")
    lu = s["last_units"]
    lines.append(f"  last units ({lu['sku']}, {lu['units']} units, the guard on): {lu['orders']} buyers, {lu['sold']} "
                 f"units sold, {lu['refused']} refused (their platform showed 0), {lu['oversold']} oversold")
    lines.append(f"  oversold orders: {s['oversold_orders']}; orders a platform took that StockLink never saw: "
                 f"{s['not_taken_in']}")
    lines.append("  every listing of every SKU in sync afterwards: " + ("yes" if not s["out_of_sync"] else
                 "NO: " + ", ".join(f"{p} {sku} shows {shown}, StockLink {want}" for p, sku, shown, want in s["out_of_sync"])))
    lines.append("  ledger replay: " + ("exact for every SKU and warehouse" if not s["ledger_problems"]
                                        else "; ".join(s["ledger_problems"])))
    lines.append("  (order->applied: until this demo found StockLink's reservation, looking every second; order->reflected: "
                 "until the last other platform had been set to a quantity including it, from the simulators' call logs)")
    lines.append(f"  (the order poller ran every {poll_s:g} s; JD's and Pinduoduo's order APIs are read up to their "
                 "settle time before now, Pinduoduo's 3 min as it asks: their orders arrive minutes late; the "
                 "last-units guard offers each of the last units on one platform at a time)")
    return lines


def _pair(a, b) -> str:
    return "-" if a is None else f"{a:g} / {b:g}"


def run_cn_story(api_url: str, token: str, sandbox_base: str, *, n_skus: int = 8, per_platform: int = 6,
                 last_units: int = 6, last_units_orders: int = 3, sale_s: float = 20.0, poll_s: float = 30.0,
                 wait_s: float = 420.0, out=print) -> dict:
    """Seeds the four shops, turns the last-units guard on, places the orders over `sale_s` seconds, waits
    (at most `wait_s`) until StockLink has taken in every order a platform accepted and the platforms have
    settled, and reports. `poll_s`: the order poller's interval (for the report's note)."""
    api, sandbox = Api(api_url, token), Sandbox(sandbox_base)
    api.call("PUT", "/allocation/last-units", {"enabled": True})
    t0 = time.monotonic()
    units = cn_stock(n_skus, last_units)
    catalog = seed_cn(api, sandbox, units)
    out(f"demo: seeded {len(WAREHOUSES)} warehouses, {len(units)} SKUs, shops on {', '.join(CN_PLATFORMS)} in "
        f"{time.monotonic() - t0:.1f} s; waiting for the first sync")
    t1 = time.monotonic()
    off = measure.wait_in_sync(api, sandbox, catalog, timeout=120)
    out(f"demo: initial sync {'complete' if not off else f'INCOMPLETE ({len(off)} listings differ)'} in "
        f"{time.monotonic() - t1:.1f} s")
    orders = story_orders(n_skus, per_platform, last_units_orders)
    out(f"demo: {len(orders)} buyers over {sale_s:g} s: {per_platform} everyday orders on each platform, "
        f"{last_units_orders} each for {LAST_UNITS_SKU} ({last_units} units)")
    start = measure.pool_available(api, catalog.skus)
    since = time.time()
    began = time.monotonic()
    with Looker(api, orders) as looker:
        for i, order in enumerate(orders):
            time.sleep(max(0.0, began + sale_s * i / len(orders) - time.monotonic()))
            place(sandbox, catalog, order)
        out(f"demo: buyers done ({sum(1 for o in orders if o.status != 'refused')} orders accepted by the "
            "platforms); waiting for StockLink to take in every one (the pulled platforms' arrive minutes later)")
        looker.wait(wait_s, out)
    measure.wait_in_sync(api, sandbox, catalog, timeout=90)
    summary = cn_summary(api, sandbox, catalog, orders, sandbox.calls(since), start, last_units)
    summary["took_s"] = round(time.monotonic() - t0, 1)
    for line in report_lines(summary, poll_s):
        out(line)
    return summary

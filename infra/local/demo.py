"""`make demo` (`python -m infra.local.cli local --demo`): StockLink with the marketplace simulators.

What it does, once the local runtime answers GET /health:
  1. starts the simulators (infra/sandbox) on loopback, in this process;
  2. seeds three warehouses, 20 SKUs, one shop per platform (Shopify, TikTok Shop, Shopee, Lazada,
     WooCommerce) pointed at its simulator, and a listing for every SKU on every platform;
  3. receives the stock and waits until every simulator shows StockLink's quantities;
  4. runs the story: a TikTok Shop flash sale (200 one-unit orders for a SKU with 120 units) while Shopee
     and Lazada keep selling it, every order placed through the simulator's /_sandbox/orders from many
     threads at once, as buyers would (a buyer orders only while the platform still shows stock);
  5. waits for the platforms to settle and prints what happened (see `report_lines`).

Measured figures come from the simulators' own call logs (`/_sandbox/calls`: every stock call the
platforms received, with its time and the quantities it set) and from StockLink's API, never from
StockLink's internal counters alone. `tests/bench/sync_latency.py` runs the same machinery headless.
"""
from __future__ import annotations

import json
import statistics
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

SHOP = "demo"
PLATFORMS = ("shopify", "tiktok", "shopee", "lazada", "woocommerce")
WAREHOUSES = (("wh-east", "East DC", 1), ("wh-west", "West DC", 2), ("wh-central", "Central store", 3))
FLASH_SKU = "DEMO-FLASH"

# Credentials the simulators check (the same test values tests/sandbox uses) and the path suffix of
# each platform's api_base_url.
CREDENTIALS = {
    "shopify": ({"access_token": "shpat_sandbox", "location_id": "40642626", "webhook_secret": "whsec-shopify"}, ""),
    "tiktok": ({"app_key": "6a1b2c3d4e5f6", "app_secret": "tiktok-secret", "access_token": "TTP_sandbox",
                "shop_cipher": "ROW_sandbox"}, ""),
    "shopee": ({"partner_id": "2001887", "partner_key": "shopee-partner-key", "shop_id": "14701711",
                "access_token": "shopee-token"}, ""),
    "lazada": ({"app_key": "100001", "app_secret": "lazada-secret", "access_token": "lazada-token"}, "/rest"),
    "woocommerce": ({"consumer_key": "ck_sandbox", "consumer_secret": "cs_sandbox", "webhook_secret": "whsec-woo"},
                    ""),
}


def listing_for(platform: str, n: int) -> tuple[str, dict]:
    """(listing id, platform ids) of SKU number n on a platform, in the shape each simulator expects:
    Shopify variant + inventory item, TikTok SKU in a product, Shopee model in an item, Lazada SkuId in an
    item, WooCommerce simple product."""
    if platform == "shopify":
        return f"80{n:04d}", {"inventory_item_id": f"50{n:04d}"}
    if platform == "tiktok":
        return f"17296{n:05d}", {"product_id": f"17290{n:05d}"}
    if platform == "shopee":
        return f"60{n:04d}", {"item_id": f"70{n:04d}", "model_id": f"60{n:04d}"}
    if platform == "lazada":
        return f"12{n:06d}", {"item_id": f"55{n:05d}"}
    if platform == "woocommerce":
        return f"9{n:03d}", {}
    raise ValueError(platform)


# --- HTTP helpers -------------------------------------------------------------------------------------------

def http(method: str, url: str, doc=None, headers: dict | None = None, timeout: float = 60.0) -> tuple[int, dict]:
    data = json.dumps(doc).encode() if doc is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
            return resp.status, (json.loads(body) if body else {})
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body)
        except ValueError:
            return exc.code, {"error": body.decode(errors="replace")}


class Api:
    """StockLink's HTTP API with the dev token."""

    def __init__(self, url: str, token: str):
        self.url, self.headers = url.rstrip("/"), {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, doc=None, ok=(200, 201)) -> dict:
        status, body = http(method, self.url + path, doc, self.headers)
        if status not in ok:
            raise RuntimeError(f"{method} {path}: HTTP {status} {body}")
        return body


class Sandbox:
    """The simulators' control plane."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def control(self, method: str, name: str, doc=None, query: str = "") -> dict:
        status, body = http(method, f"{self.base}/_sandbox/{name}{query}", doc)
        if status != 200:
            raise RuntimeError(f"sandbox {method} {name}: HTTP {status} {body}")
        return body

    def listings(self, platform: str | None = None) -> dict[tuple[str, str], int]:
        query = f"?shop={SHOP}" + (f"&platform={platform}" if platform else "")
        return {(r["platform"], r["listing_id"]): r["quantity"]
                for r in self.control("GET", "listings", query=query)["listings"]}

    def calls(self, since: float = 0.0) -> list[dict]:
        return self.control("GET", "calls", query=f"?since={since}")["calls"]


def start_sandbox(port: int = 0):
    """The simulators in a daemon thread of this process; falls back to a free port if `port` is taken."""
    from http.server import ThreadingHTTPServer

    from infra.sandbox.server import Sandbox as SandboxState, make_handler

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256   # the default backlog of 5 resets connections when many buyers order at once

    handler = make_handler(SandboxState())
    try:
        server = Server(("127.0.0.1", port), handler)
    except OSError:
        server = Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, name="stocklink-sandbox", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# --- seeding ------------------------------------------------------------------------------------------------

@dataclass
class Catalog:
    skus: dict[str, int]                                # sku -> number used for its listing ids
    units: dict[str, dict[str, int]]                    # sku -> warehouse -> units received
    listings: dict[tuple[str, str], str] = field(default_factory=dict)   # (platform, sku) -> listing id

    def sku_of(self, platform: str, listing_id: str) -> str | None:
        for (p, sku), lid in self.listings.items():
            if p == platform and lid == listing_id:
                return sku
        return None


def demo_stock(n_skus: int, flash_units: int) -> dict[str, dict[str, int]]:
    """The flash SKU split over the three warehouses, the others with 15..220 units each."""
    share = (flash_units // 2, flash_units // 3)
    units = {FLASH_SKU: {"wh-east": share[0], "wh-west": share[1], "wh-central": flash_units - sum(share)}}
    for n in range(1, n_skus):
        total = 15 + (n * 37) % 206
        units[f"DEMO-{n:03d}"] = {"wh-east": total // 2, "wh-west": total // 4, "wh-central": total - total // 2 - total // 4}
    return units


def seed(api: Api, sandbox: Sandbox, units: dict[str, dict[str, int]], threads: int = 8) -> Catalog:
    catalog = Catalog({sku: n for n, sku in enumerate(units, start=1)}, units)
    for wid, name, priority in WAREHOUSES:
        api.call("PUT", f"/warehouses/{wid}", {"name": name, "region": "local", "priority": priority})
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda sku: api.call("PUT", f"/skus/{sku}", {"name": f"Demo item {sku}"}), units))
    for platform in PLATFORMS:
        creds, suffix = CREDENTIALS[platform]
        hook = f"{api.url}/webhooks/{platform}/{SHOP}"
        creds = {**creds, "api_base_url": f"{sandbox.base}/{platform}/{SHOP}{suffix}"}
        if platform == "shopee":
            creds["callback_url"] = hook        # Shopee signs the callback URL it calls
        sandbox.control("POST", "shops", {"platform": platform, "shop": SHOP, "credentials": creds,
                                          "webhook_url": hook})
        rows = []
        for sku, n in catalog.skus.items():
            lid, ids = listing_for(platform, n)
            catalog.listings[(platform, sku)] = lid
            rows.append({"listing_id": lid, "quantity": 0, "platform_ids": ids, "seller_sku": sku})
        sandbox.control("PUT", "listings", {"platform": platform, "shop": SHOP, "listings": rows})
        api.call("PUT", f"/shops/{platform}/{SHOP}", creds)

    def put_listing(key):
        platform, sku = key
        lid, ids = listing_for(platform, catalog.skus[sku])
        api.call("PUT", f"/listings/{platform}/{SHOP}/{lid}", {"components": [{"sku": sku, "qty": 1}],
                                                               "platform_ids": ids})

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(put_listing, list(catalog.listings)))
    # Goods in last: the receipts are what StockLink pushes to every platform.
    for wid, _, _ in WAREHOUSES:
        lines = [{"sku": sku, "qty": per[wid]} for sku, per in units.items() if per.get(wid)]
        api.call("POST", "/stock/receipts", {"warehouse_id": wid, "lines": lines, "reference": f"demo-po-{wid}"})
    return catalog


def pool_available(api: Api, skus) -> dict[str, int]:
    return {sku: int(api.call("GET", f"/skus/{sku}/stock")["totals"]["available"]) for sku in skus}


def computed(api: Api, skus) -> dict[tuple[str, str], int]:
    """(platform, sku) -> the quantity StockLink computes for that listing now."""
    out = {}
    for sku in skus:
        for row in api.call("GET", f"/skus/{sku}/channels")["listings"]:
            out[(row["platform"], sku)] = row["computed_qty"]
    return out


def mismatches(api: Api, sandbox: Sandbox, catalog: Catalog, skus=None) -> list[tuple[str, str, int, int]]:
    """(platform, sku, shown, computed) for every listing whose simulator differs from StockLink."""
    skus = list(skus or catalog.skus)
    want = computed(api, skus)
    shown = sandbox.listings()
    return [(p, sku, shown.get((p, catalog.listings[(p, sku)])), want[(p, sku)])
            for (p, sku) in sorted(want) if shown.get((p, catalog.listings[(p, sku)])) != want[(p, sku)]]


def wait_in_sync(api: Api, sandbox: Sandbox, catalog: Catalog, timeout: float = 90.0, skus=None) -> list:
    """Polls until every simulator shows StockLink's quantity; returns what still differs (empty = in sync)."""
    deadline = time.monotonic() + timeout
    while True:
        off = mismatches(api, sandbox, catalog, skus)
        if not off or time.monotonic() > deadline:
            return off
        time.sleep(0.5)


# --- buyers ---------------------------------------------------------------------------------------------------

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


def place(sandbox: Sandbox, catalog: Catalog, order: Order, check_listing: bool = True) -> Order:
    """One buyer: looks at the listing, orders if the platform still shows enough (a platform refuses to sell
    what it shows as gone), and records StockLink's answer to the platform's webhook."""
    lid = catalog.listings[(order.platform, order.sku)]
    if check_listing:
        rows = sandbox.control("GET", "listings", query=f"?platform={order.platform}&shop={SHOP}")["listings"]
        order.shown = next((r["quantity"] for r in rows if r["listing_id"] == lid), 0)
        if order.shown < order.qty:
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
    return order


def run_orders(sandbox: Sandbox, catalog: Catalog, orders: list[Order], threads: int = 16) -> list[Order]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda o: place(sandbox, catalog, o), orders))


def interleave(*streams: list[Order]) -> list[Order]:
    """Orders of several platforms mixed evenly, so every platform keeps selling through the whole sale."""
    total = sum(len(s) for s in streams)
    keyed = [((i + 0.5) / len(s), k, o) for k, s in enumerate(streams) for i, o in enumerate(s)]
    return [o for _, _, o in sorted(keyed, key=lambda t: (t[0], t[1]))][:total]


# --- analysis --------------------------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] if ordered else float("nan")


def stock_updates(calls: list[dict]) -> list[dict]:
    return [c for c in calls if c.get("kind") == "stock_update" and not c.get("fault") and c.get("status") == 200]


def order_lags(orders: list[Order], calls: list[dict], catalog: Catalog, start_units: dict[str, int]
               ) -> list[dict[str, float | None]]:
    """Per applied order (in answer order), per *other* platform: seconds from StockLink answering the
    platform's webhook until that simulator was set to a quantity that includes the order (≤ start −
    units of every order of that SKU answered by then; quantities only fall during a sale), or None if
    it never was."""
    by_listing: dict[tuple[str, str], list[tuple[float, int]]] = {}
    for c in stock_updates(calls):
        for lid, qty in (c.get("listings") or {}).items():
            by_listing.setdefault((c["platform"], str(lid)), []).append((c["ts"], int(qty)))
    for series in by_listing.values():
        series.sort()
    sold: dict[str, int] = {}
    out = []
    for o in sorted((o for o in orders if o.status == "applied"), key=lambda o: o.t_done):
        sold[o.sku] = sold.get(o.sku, 0) + o.qty
        bound = max(0, start_units[o.sku] - sold[o.sku])
        lags: dict[str, float | None] = {}
        for platform in PLATFORMS:
            if platform != o.platform:
                series = by_listing.get((platform, catalog.listings[(platform, o.sku)]), [])
                landed = next((ts for ts, qty in series if ts >= o.t_sent and qty <= bound), None)
                lags[platform] = None if landed is None else max(0.0, landed - o.t_done)
        out.append(lags)
    return out


def sync_latencies(orders: list[Order], calls: list[dict], catalog: Catalog, start_units: dict[str, int]
                   ) -> tuple[list[float], int]:
    """Per applied order: seconds until every *other* simulator includes it (the slowest of order_lags).
    Returns (samples, orders never reflected)."""
    samples, missing = [], 0
    for lags in order_lags(orders, calls, catalog, start_units):
        if None in lags.values():
            missing += 1
        else:
            samples.append(max(lags.values(), default=0.0))
    return samples, missing


def stale_pushes(calls: list[dict]) -> int:
    """Pushes that raised a listing during a sale (a late, stale value landing after a newer one)."""
    last: dict[tuple[str, str], int] = {}
    stale = 0
    for c in sorted(stock_updates(calls), key=lambda c: c["ts"]):
        for lid, qty in (c.get("listings") or {}).items():
            key = (c["platform"], str(lid))
            if key in last and int(qty) > last[key]:
                stale += 1
            last[key] = int(qty)
    return stale


def ledger_check(api: Api, skus) -> list[str]:
    """Replays each SKU's ledger per warehouse; returns the differences from the stock items (empty = exact)."""
    problems = []
    for sku in skus:
        stock = {w["warehouse_id"]: w for w in api.call("GET", f"/skus/{sku}/stock")["warehouses"]}
        totals: dict[str, dict[str, int]] = {}
        for e in api.call("GET", f"/ledger?sku={sku}")["entries"]:
            t = totals.setdefault(e["warehouse_id"], {"on_hand": 0, "reserved": 0, "available": 0})
            t["on_hand"] += e["on_hand_delta"]
            t["reserved"] += e["reserved_delta"]
            t["available"] += e["available_delta"]
        for wid in set(stock) | set(totals):
            have = {k: int(stock.get(wid, {}).get(k, 0)) for k in ("on_hand", "reserved", "available")}
            if totals.get(wid, {"on_hand": 0, "reserved": 0, "available": 0}) != have:
                problems.append(f"{sku}@{wid}: ledger {totals.get(wid)} vs stock {have}")
    return problems


def alert_levels(api: Api) -> dict[str, int]:
    try:
        alerts = api.call("GET", "/alerts?status=all")["alerts"]
    except RuntimeError:
        return {}
    levels: dict[str, int] = {}
    for a in alerts:
        levels[a.get("level", "?")] = levels.get(a.get("level", "?"), 0) + 1
    return levels


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
        placed = [o for o in self.orders if o.status in ("applied", "oversold")]
        oversold = [o for o in self.orders if o.status == "oversold"]
        updates = stock_updates(self.calls)
        zero_at: dict[str, float] = {}     # platform -> when StockLink's 0 for the SKU first landed there
        for c in sorted(updates, key=lambda c: c["ts"]):
            for lid, qty in (c.get("listings") or {}).items():
                sku = catalog.sku_of(c["platform"], str(lid))
                if int(qty) == 0:
                    zero_at.setdefault(f"{c['platform']}#{sku}", c["ts"])
        beyond = [o for o in oversold if zero_at.get(f"{o.platform}#{o.sku}", float("inf")) <= o.t_sent]
        listing_updates = sum(len(c.get("listings") or {}) for c in updates)
        applied = [o for o in self.orders if o.status == "applied"]
        naive = sum(len(PLATFORMS) for _ in applied)
        lat, missing = sync_latencies(self.orders, self.calls, catalog, self.start_units)
        by_platform = {}
        for o in self.orders:
            row = by_platform.setdefault(o.platform, {"tried": 0, "refused": 0, "applied": 0, "oversold": 0, "error": 0})
            row["tried"] += 1
            row[o.status if o.status in row else "error"] += 1
        return {
            "orders": len(self.orders), "placed": len(placed), "applied": len(applied),
            "refused_by_platform": sum(1 for o in self.orders if o.status == "refused"),
            "errors": sum(1 for o in self.orders if o.status == "error"),
            "error_samples": [o.detail for o in self.orders if o.status == "error"][:3],
            "by_platform": by_platform,
            "oversold_orders": len(oversold),
            "oversold_units": sum(o.shortfall or o.qty for o in oversold),
            "oversold_in_flight": len(oversold) - len(beyond),
            "oversold_beyond_in_flight": len(beyond),
            "stock_calls": len(updates), "listing_updates": listing_updates,
            "naive_listing_updates": naive, "coalesced": max(0, naive - listing_updates),
            "calls_per_order": round(len(updates) / len(placed), 3) if placed else None,
            "stale_pushes": stale_pushes(self.calls),
            "latency_samples": len(lat), "latency_not_reflected": missing,
            "latency_p50_ms": round(percentile(lat, 50) * 1000, 1) if lat else None,
            "latency_p99_ms": round(percentile(lat, 99) * 1000, 1) if lat else None,
            "latency_max_ms": round(max(lat) * 1000, 1) if lat else None,
            "latency_mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else None,
            "elapsed_s": round(self.elapsed_s, 2), "settle_s": round(self.settle_s, 2),
            "out_of_sync_after": [list(x) for x in self.off_after],
        }


def run_sale(api: Api, sandbox: Sandbox, catalog: Catalog, orders: list[Order], threads: int = 16,
             settle_timeout: float = 90.0) -> SaleResult:
    skus = sorted({o.sku for o in orders})
    start_units = pool_available(api, catalog.skus)
    since = time.time()
    t0 = time.monotonic()
    done = run_orders(sandbox, catalog, orders, threads)
    elapsed = time.monotonic() - t0
    off = wait_in_sync(api, sandbox, catalog, settle_timeout, skus)
    settle = time.monotonic() - t0 - elapsed
    calls = sandbox.calls(since)
    shown = sandbox.listings()
    return SaleResult(done, calls, start_units, elapsed, settle, off, pool_available(api, skus),
                      {(p, sku): shown.get((p, catalog.listings[(p, sku)])) for p in PLATFORMS for sku in skus},
                      computed(api, skus))


# --- the story ---------------------------------------------------------------------------------------------------

def flash_orders(tiktok: int, shopee: int, lazada: int, sku: str = FLASH_SKU) -> list[Order]:
    return interleave([Order("tiktok", sku) for _ in range(tiktok)], [Order("shopee", sku) for _ in range(shopee)],
                      [Order("lazada", sku) for _ in range(lazada)])


def run_demo(api_url: str, token: str, sandbox_base: str, *, flash_units: int = 120, flash_orders_n: int = 200,
             side_orders: int | None = None, n_skus: int = 20, threads: int = 16, out=print) -> dict:
    api, sandbox = Api(api_url, token), Sandbox(sandbox_base)
    t0 = time.monotonic()
    out(f"demo: simulators at {sandbox.base} (GET {sandbox.base}/_sandbox/listings?shop={SHOP})")
    units = demo_stock(n_skus, flash_units)
    catalog = seed(api, sandbox, units)
    out(f"demo: seeded {len(WAREHOUSES)} warehouses, {len(catalog.skus)} SKUs, {len(PLATFORMS)} shops, "
        f"{len(catalog.listings)} listings in {time.monotonic() - t0:.1f} s; waiting for the first sync")
    t1 = time.monotonic()
    off = wait_in_sync(api, sandbox, catalog, timeout=120)
    out(f"demo: initial sync {'complete' if not off else f'INCOMPLETE ({len(off)} listings differ)'} "
        f"in {time.monotonic() - t1:.1f} s")
    side = side_orders if side_orders is not None else max(2, flash_orders_n // 10)
    orders = flash_orders(flash_orders_n, side, side)
    out(f"demo: flash sale on TikTok Shop: {flash_orders_n} orders for {FLASH_SKU} ({flash_units} units), "
        f"Shopee and Lazada selling it too ({side} orders each), {threads} buyers at once")
    sale = run_sale(api, sandbox, catalog, orders, threads)
    summary = sale.summary(catalog)
    summary["ledger_problems"] = ledger_check(api, catalog.skus)
    summary["alerts"] = alert_levels(api)
    summary["flash_units"] = flash_units
    summary["pool_after"] = sale.pool_after.get(FLASH_SKU)
    summary["shown_after"] = {p: sale.shown_after.get((p, FLASH_SKU)) for p in PLATFORMS}
    summary["computed_after"] = {p: sale.computed_after.get((p, FLASH_SKU)) for p in PLATFORMS}
    summary["all_listings_in_sync"] = not mismatches(api, sandbox, catalog)
    for line in report_lines(summary):
        out(line)
    return summary


def report_lines(s: dict) -> list[str]:
    lines = ["", "=== flash sale ==="]
    for p, row in sorted(s["by_platform"].items()):
        lines.append(f"  {p:8} tried {row['tried']:4}  sold {row['applied']:4}  oversold {row['oversold']:3}  "
                     f"refused (platform showed 0) {row['refused']:4}  errors {row['error']}")
    lines.append(f"  units: {s['flash_units']} in the pool, {s['placed']} orders accepted by platforms, "
                 f"{s['applied']} reserved by StockLink")
    lines.append(f"  oversold: {s['oversold_beyond_in_flight']} beyond in-flight; "
                 f"{s['oversold_in_flight']} order(s) ({s['oversold_units']} unit(s)) in flight = accepted by a "
                 f"platform before StockLink's 0 had landed there (recorded as oversold reservations)")
    lines.append("  final quantities (shown by the platform / computed by StockLink), pool available "
                 f"{s['pool_after']}:")
    lines.append("    " + "  ".join(f"{p} {s['shown_after'][p]}/{s['computed_after'][p]}" for p in PLATFORMS))
    lines.append(f"  every listing of every SKU in sync afterwards: {s['all_listings_in_sync']}")
    lines.append(f"  pushes: {s['stock_calls']} platform calls setting {s['listing_updates']} listing quantities; "
                 f"one push per listing per order would be {s['naive_listing_updates']} -> {s['coalesced']} coalesced; "
                 f"{s['calls_per_order']} calls per order; stale pushes {s['stale_pushes']}")
    lines.append(f"  sync latency (webhook answered -> every other platform shows it): p50 {s['latency_p50_ms']} ms, "
                 f"p99 {s['latency_p99_ms']} ms, max {s['latency_max_ms']} ms over {s['latency_samples']} orders"
                 + (f", {s['latency_not_reflected']} never reflected" if s["latency_not_reflected"] else ""))
    lines.append(f"  sale took {s['elapsed_s']} s, platforms settled {s['settle_s']} s later")
    lines.append(f"  ledger replay: {'exact for every SKU and warehouse' if not s['ledger_problems'] else s['ledger_problems']}")
    if s["alerts"]:
        lines.append("  alerts (GET /alerts): " + ", ".join(f"{k} {v}" for k, v in sorted(s["alerts"].items())))
    else:
        lines.append("  alerts (GET /alerts): none")
    if s["errors"]:
        lines.append(f"  order errors: {s['errors']} e.g. {s['error_samples']}")
    return lines

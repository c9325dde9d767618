"""Measuring the demo from the outside: StockLink's API against what the simulators show, the simulators'
call logs (per-order sync lags, latency percentiles, coalesced and stale pushes) and delivery logs (how late
webhooks reached StockLink, retries, failures, reordering), oversold counts, and a replay of the ledger
against the stock items."""
from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING

from infra.local.demo.client import PLATFORMS, Api, Sandbox
from infra.local.demo.seed import FLASH_SKU, Catalog

if TYPE_CHECKING:
    from infra.local.demo.sale import Order, SaleResult


# --- StockLink against the simulators -----------------------------------------------------------------------

def pool_available(api: Api, skus) -> dict[str, int]:
    return {sku: int(api.call("GET", f"/skus/{sku}/stock")["totals"]["available"]) for sku in skus}


def computed(api: Api, skus) -> dict[tuple[str, str], int]:
    """(platform, sku) -> the quantity StockLink expects that listing to show now: what its allocation
    computes, or, while the last-units guard holds the SKU, what it counts the platform may still sell."""
    out = {}
    for sku in skus:
        view = api.call("GET", f"/skus/{sku}/channels")
        guarded = (view.get("allocation") or {}).get("mode") == "guarded"
        for row in view["listings"]:
            out[(row["platform"], sku)] = row["shown"] if guarded and row.get("shown") is not None \
                else row["computed_qty"]
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


# --- the call logs ------------------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] if ordered else float("nan")


STOCK_CALLS = ("stock_update", "stock_adjust")     # absolute sets and relative changes


def stock_updates(calls: list[dict]) -> list[dict]:
    """The platform calls that changed a listing's quantity and were accepted."""
    return [c for c in calls if c.get("kind") in STOCK_CALLS and not c.get("fault") and c.get("status") == 200]


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


# --- the delivery logs -------------------------------------------------------------------------------------

def delivery_delays(deliveries: list[dict]) -> list[float]:
    """Per delivered webhook: seconds from the platform's checkout until the webhook StockLink accepted was
    sent (the delay the platform drew, plus failed attempts and their backoff)."""
    return [d["attempts"][-1]["ts"] - d["created"] for d in deliveries
            if d.get("state") == "delivered" and d.get("attempts")]


def answer_times(deliveries: list[dict]) -> list[float]:
    """Per delivered webhook: seconds StockLink took to answer it (the attempt it accepted)."""
    return [d["attempts"][-1]["elapsed_ms"] / 1000 for d in deliveries
            if d.get("state") == "delivered" and d.get("attempts")]


def out_of_order(deliveries: list[dict]) -> int:
    """Webhooks first sent before a webhook of an earlier checkout of the same shop had been sent."""
    overtaking = 0
    by_shop: dict[tuple[str, str], list[dict]] = {}
    for d in deliveries:
        if d.get("attempts"):
            by_shop.setdefault((d["platform"], d["shop"]), []).append(d)
    for records in by_shop.values():
        latest = float("-inf")
        for d in sorted(records, key=lambda d: (d["created"], d["delivery_id"])):
            sent = d["attempts"][0]["ts"]
            overtaking += sent < latest
            latest = max(latest, sent)
    return overtaking


def _ms(values: list[float], q: float | None) -> float | None:
    if not values:
        return None
    return round((max(values) if q is None else percentile(values, q)) * 1000, 1)


def delivery_summary(deliveries: list[dict]) -> dict:
    """The sale's webhooks: how late they reached StockLink, how long it took to answer, retries, failures,
    and how many overtook an earlier order's webhook."""
    delays, answers = delivery_delays(deliveries), answer_times(deliveries)
    return {
        "deliveries": len(deliveries),
        "delivery_delay_p50_ms": _ms(delays, 50), "delivery_delay_p99_ms": _ms(delays, 99),
        "delivery_delay_max_ms": _ms(delays, None),
        "webhook_answer_p50_ms": _ms(answers, 50), "webhook_answer_p99_ms": _ms(answers, 99),
        "delivery_retries": sum(max(0, len(d.get("attempts") or []) - 1) for d in deliveries),
        "delivery_failures": sum(1 for d in deliveries if d.get("state") == "failed"),
        "delivery_pending": sum(1 for d in deliveries if d.get("state") not in ("delivered", "failed")),
        "deliveries_out_of_order": out_of_order(deliveries),
    }


# --- StockLink's own records --------------------------------------------------------------------------------

def ledger_check(api: Api, skus) -> list[str]:
    """Replays each SKU's ledger per warehouse; returns the differences from the stock items (empty = exact)."""
    counters = ("on_hand", "reserved", "available", "in_transit")
    problems = []
    for sku in skus:
        stock = {w["warehouse_id"]: w for w in api.call("GET", f"/skus/{sku}/stock")["warehouses"]}
        totals: dict[str, dict[str, int]] = {}
        for e in api.every("/ledger", "entries", sku=sku):
            t = totals.setdefault(e["warehouse_id"], dict.fromkeys(counters, 0))
            for name in counters:
                t[name] += e.get(f"{name}_delta", 0)
        for wid in set(stock) | set(totals):
            have = {k: int(stock.get(wid, {}).get(k, 0)) for k in counters}
            if totals.get(wid, dict.fromkeys(counters, 0)) != have:
                problems.append(f"{sku}@{wid}: ledger {totals.get(wid)} vs stock {have}")
    return problems


def alert_levels(api: Api) -> dict[str, int]:
    try:
        alerts = api.every("/alerts", "alerts", status="all")
    except RuntimeError:
        return {}
    levels: dict[str, int] = {}
    for a in alerts:
        levels[a.get("level", "?")] = levels.get(a.get("level", "?"), 0) + 1
    return levels


# --- the sale's summary -------------------------------------------------------------------------------------

def summarize(sale: SaleResult, catalog: Catalog) -> dict:
    """The sale's figures: orders by outcome and platform, oversold orders, pushes, sync latency."""
    placed = [o for o in sale.orders if o.status in ("applied", "oversold")]
    oversold = [o for o in sale.orders if o.status == "oversold"]
    updates = stock_updates(sale.calls)
    beyond = oversold_beyond_in_flight(oversold, updates, catalog)
    listing_updates = sum(len(c.get("listings") or {}) for c in updates)
    applied = [o for o in sale.orders if o.status == "applied"]
    naive = sum(len(PLATFORMS) for _ in applied)
    lat, missing = sync_latencies(sale.orders, sale.calls, catalog, sale.start_units)
    return {
        "orders": len(sale.orders), "placed": len(placed), "applied": len(applied),
        "refused_by_platform": sum(1 for o in sale.orders if o.status == "refused"),
        "errors": sum(1 for o in sale.orders if o.status == "error"),
        "error_samples": [o.detail for o in sale.orders if o.status == "error"][:3],
        "by_platform": by_platform(sale.orders),
        "oversold_orders": len(oversold),
        "oversold_units": sum(o.shortfall or o.qty for o in oversold),
        "oversold_in_flight": len(oversold) - len(beyond),
        "oversold_beyond_in_flight": len(beyond),
        "stock_calls": len(updates), "listing_updates": listing_updates,
        "naive_listing_updates": naive, "coalesced": max(0, naive - listing_updates),
        "calls_per_order": round(len(updates) / len(placed), 3) if placed else None,
        "stale_pushes": stale_pushes(sale.calls),
        "latency_samples": len(lat), "latency_not_reflected": missing,
        "latency_p50_ms": round(percentile(lat, 50) * 1000, 1) if lat else None,
        "latency_p99_ms": round(percentile(lat, 99) * 1000, 1) if lat else None,
        "latency_max_ms": round(max(lat) * 1000, 1) if lat else None,
        "latency_mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else None,
        "elapsed_s": round(sale.elapsed_s, 2), "settle_s": round(sale.settle_s, 2),
        "out_of_sync_after": [list(x) for x in sale.off_after],
        **delivery_summary(sale.deliveries), "flush_s": round(sale.flush_s, 2),
    }


def oversold_beyond_in_flight(oversold: list[Order], updates: list[dict], catalog: Catalog) -> list[Order]:
    """Oversold orders a platform accepted after StockLink's 0 for the SKU had already landed there."""
    zero_at: dict[str, float] = {}     # platform -> when StockLink's 0 for the SKU first landed there
    for c in sorted(updates, key=lambda c: c["ts"]):
        for lid, qty in (c.get("listings") or {}).items():
            sku = catalog.sku_of(c["platform"], str(lid))
            if int(qty) == 0:
                zero_at.setdefault(f"{c['platform']}#{sku}", c["ts"])
    return [o for o in oversold if zero_at.get(f"{o.platform}#{o.sku}", float("inf")) <= o.t_sent]


def by_platform(orders: list[Order]) -> dict[str, dict[str, int]]:
    """Per platform: orders tried, refused by the platform, applied, oversold and failed."""
    out: dict[str, dict[str, int]] = {}
    for o in orders:
        row = out.setdefault(o.platform, {"tried": 0, "refused": 0, "applied": 0, "oversold": 0, "error": 0})
        row["tried"] += 1
        row[o.status if o.status in row else "error"] += 1
    return out


def flash_summary(api: Api, sandbox: Sandbox, catalog: Catalog, sale: SaleResult, flash_units: int,
                  sku: str = FLASH_SKU) -> dict:
    """The sale's summary plus the ledger replay, the alerts raised and the flash SKU's final quantities."""
    summary = sale.summary(catalog)
    summary["ledger_problems"] = ledger_check(api, catalog.skus)
    summary["alerts"] = alert_levels(api)
    summary["flash_units"] = flash_units
    summary["sku"] = sku
    summary["pool_after"] = sale.pool_after.get(sku)
    summary["shown_after"] = {p: sale.shown_after.get((p, sku)) for p in PLATFORMS}
    summary["computed_after"] = {p: sale.computed_after.get((p, sku)) for p in PLATFORMS}
    summary["all_listings_in_sync"] = not mismatches(api, sandbox, catalog)
    summary["units_sold"] = units_sold(sale, sku, flash_units)
    summary["sell_through_pct"] = round(100 * summary["units_sold"] / flash_units, 1) if flash_units else None
    summary["offered_at_end"] = {p: sale.shown_at_end.get((p, sku)) for p in PLATFORMS}
    return summary


def units_sold(sale: SaleResult, sku: str, units: int) -> int:
    """Units of `sku` sold by the end of the sale: the orders platforms accepted, up to the units that exist
    (an oversold order sold nothing that was there)."""
    accepted = sum(o.qty for o in sale.orders if o.sku == sku and o.status in ("applied", "oversold"))
    return min(units, accepted)

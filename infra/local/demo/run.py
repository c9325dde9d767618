"""The demo wired together (what `python -m infra.local.cli local --demo` runs once the simulators are up):
seed, first sync, the flash sale, the measurements and the report."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from infra.local.demo.client import PLATFORMS, SHOP, Api, Sandbox
from infra.local.demo.measure import flash_summary, wait_in_sync
from infra.local.demo.report import report_lines
from infra.local.demo.sale import flash_orders, run_sale
from infra.local.demo.seed import FLASH_SKU, SHARED_FLASH_SKU, WAREHOUSES, Catalog, demo_stock, seed
from infra.sandbox.delivery import describe_delay, parse_delay

ALLOCATIONS = ("shared", "guarded", "both")


def run_demo(api_url: str, token: str, sandbox_base: str, *, flash_units: int = 120, flash_orders_n: int = 200,
             side_orders: int | None = None, n_skus: int = 20, threads: int = 16, webhook_delay="0",
             reorder: bool = False, allocation: str = "guarded", enforce_listed: bool = True, sale_s: float = 30.0,
             out=print) -> dict:
    """`webhook_delay` (seconds: 1, "0-3", [0, 3]) and `reorder` are every shop's webhook delivery in its
    simulator; `enforce_listed` every shop's checkout refusing what its listing no longer shows;
    `allocation`: "guarded" turns StockLink's last-units guard on (PUT /allocation/last-units: while a SKU is at
    risk each unit is offered on one platform only) and declares the flash sale ahead (PUT /skus/{sku}/sale:
    guarded from its start), "shared" leaves every platform showing the whole pool, "both" runs the guarded
    sale and then the same sale of a second SKU with the guard off, and prints them side by side (the
    summary is the guarded one's, with the shared one's under "shared"). `sale_s`: the orders arrive over that
    many seconds, buyers who find a listing sold out look again until the end (0: all at once)."""
    if allocation not in ALLOCATIONS:
        raise ValueError(f"allocation must be one of {ALLOCATIONS}")
    delay = parse_delay(webhook_delay)
    delivery = {"webhook_delay_s": list(delay), "reorder": reorder}
    api, sandbox = Api(api_url, token), Sandbox(sandbox_base)
    # "both": the rule off, so that only the declared sale is guarded and the other SKU shows the shared pool
    api.call("PUT", "/allocation/last-units", {"enabled": allocation == "guarded"})
    out(f"demo: simulators at {sandbox.base} (GET {sandbox.base}/_sandbox/listings?shop={SHOP}); webhooks "
        f"delivered {_delay_text(delay)}{', out of order' if reorder else ''}; checkout "
        f"{'refuses' if enforce_listed else 'does not refuse'} what a listing no longer shows")
    flash_skus = (FLASH_SKU, SHARED_FLASH_SKU) if allocation == "both" else (FLASH_SKU,)
    catalog = seed_and_sync(api, sandbox, n_skus, flash_units, out, delivery=delivery, enforce_listed=enforce_listed,
                            flash_skus=flash_skus)
    if allocation in ("guarded", "both"):
        declare_flash_sale(api, sale_s, out)
    side = side_orders if side_orders is not None else max(2, flash_orders_n // 10)
    story = dict(flash_units=flash_units, flash_orders_n=flash_orders_n, side=side, threads=threads, sale_s=sale_s)
    settings = {"webhook_delay_s": describe_delay(*delay), "reorder": reorder, "enforce_listed": enforce_listed,
                "sale_s": sale_s}
    if allocation != "both":
        summary = {**one_sale(api, sandbox, catalog, FLASH_SKU, out=out, **story), **settings,
                   "allocation": allocation}
        for line in report_lines(summary):
            out(line)
        return summary
    guarded = {**one_sale(api, sandbox, catalog, FLASH_SKU, out=out, **story), **settings, "allocation": "guarded"}
    shared = {**one_sale(api, sandbox, catalog, SHARED_FLASH_SKU, out=out, **story), **settings,
              "allocation": "shared"}
    for label, summary in (("guarded", guarded), ("shared", shared)):
        out(f"\n--- {summary['sku']}: allocation {label} ---")
        for line in report_lines(summary)[2:]:
            out(line)
    for line in side_by_side(guarded, shared):
        out(line)
    return {**guarded, "shared": shared}


def one_sale(api: Api, sandbox: Sandbox, catalog: Catalog, sku: str, *, flash_units: int, flash_orders_n: int,
             side: int, threads: int, sale_s: float, out=print) -> dict:
    orders = flash_orders(flash_orders_n, side, side, sku=sku)
    pace = f"arriving over {sale_s:g} s, buyers looking again while sold out" if sale_s > 0 else "all at once"
    out(f"demo: flash sale on TikTok Shop: {flash_orders_n} orders for {sku} ({flash_units} units), "
        f"Shopee and Lazada selling it too ({side} orders each), {threads} buyers, {pace}")
    sale = run_sale(api, sandbox, catalog, orders, threads, sale_s=sale_s)
    return flash_summary(api, sandbox, catalog, sale, flash_units, sku=sku)


def side_by_side(guarded: dict, shared: dict) -> list[str]:
    """The two sales' figures in two columns."""
    rows = [("orders accepted by the platforms", "placed"), ("oversold orders", "oversold_orders"),
            ("units sold by the end of the sale", "units_sold"), ("sell-through %", "sell_through_pct"),
            ("buyers refused (listing showed 0)", "refused_by_platform"), ("platform calls per order", "calls_per_order"),
            ("ledger replays exactly", "ledger_problems")]
    lines = ["", f"=== side by side: {guarded['flash_units']} units, the same buyers ===",
             f"  {'':36}{'guarded':>12}{'shared':>12}"]
    for label, key in rows:
        values = [s.get(key) for s in (guarded, shared)]
        if key == "ledger_problems":
            values = ["yes" if not v else "NO" for v in values]
        lines.append(f"  {label:36}{str(values[0]):>12}{str(values[1]):>12}")
    return lines


def _delay_text(delay: tuple[float, float]) -> str:
    low, high = delay
    if high == 0:
        return "at once"
    return f"{low:g} s late" if low == high else f"{low:g}-{high:g} s late"


def seed_and_sync(api: Api, sandbox: Sandbox, n_skus: int, flash_units: int, out=print, *,
                  delivery: dict | None = None, enforce_listed: bool = True,
                  flash_skus: tuple[str, ...] = (FLASH_SKU,)) -> Catalog:
    """Seeds the demo catalogue and waits for StockLink's first push to land on every platform."""
    t0 = time.monotonic()
    catalog = seed(api, sandbox, demo_stock(n_skus, flash_units, flash_skus), delivery=delivery,
                   enforce_listed=enforce_listed)
    out(f"demo: seeded {len(WAREHOUSES)} warehouses, {len(catalog.skus)} SKUs, {len(PLATFORMS)} shops, "
        f"{len(catalog.listings)} listings in {time.monotonic() - t0:.1f} s; waiting for the first sync")
    t1 = time.monotonic()
    off = wait_in_sync(api, sandbox, catalog, timeout=120)
    out(f"demo: initial sync {'complete' if not off else f'INCOMPLETE ({len(off)} listings differ)'} "
        f"in {time.monotonic() - t1:.1f} s")
    return catalog


def declare_flash_sale(api: Api, sale_s: float, out=print, timeout: float = 60.0) -> None:
    """The seller announces the flash sale: StockLink splits the SKU's units between the platforms before the
    first buyer (platforms that take only absolute numbers are cut to 0 and refilled with their share once
    their drain is over); waits until every unit is offered once and no platform is draining."""
    until = datetime.now(timezone.utc) + timedelta(seconds=max(600.0, sale_s * 4))
    api.call("PUT", f"/skus/{FLASH_SKU}/sale", {"until": until.isoformat()})
    t0 = time.monotonic()
    allocation: dict = {}
    while time.monotonic() - t0 < timeout:
        allocation = api.call("GET", f"/skus/{FLASH_SKU}/channels")["allocation"]
        channels = allocation["channels"]
        if not any(c["draining"] for c in channels) and sum(max(0, c["shown"]) for c in channels) == \
                allocation["available"]:
            break
        time.sleep(0.5)
    shares = ", ".join(f"{c['listing'].split('#')[0]} {c['shown']}" for c in allocation.get("channels", []))
    out(f"demo: flash sale declared (PUT /skus/{FLASH_SKU}/sale): units split in {time.monotonic() - t0:.1f} s: "
        f"{shares}")

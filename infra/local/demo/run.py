"""The demo wired together (what `python -m infra.local.cli local --demo` runs once the simulators are up):
seed, first sync, the flash sale, the measurements and the report."""
from __future__ import annotations

import time

from infra.local.demo.client import PLATFORMS, SHOP, Api, Sandbox
from infra.local.demo.measure import flash_summary, wait_in_sync
from infra.local.demo.report import report_lines
from infra.local.demo.sale import flash_orders, run_sale
from infra.local.demo.seed import FLASH_SKU, WAREHOUSES, Catalog, demo_stock, seed


def run_demo(api_url: str, token: str, sandbox_base: str, *, flash_units: int = 120, flash_orders_n: int = 200,
             side_orders: int | None = None, n_skus: int = 20, threads: int = 16, out=print) -> dict:
    api, sandbox = Api(api_url, token), Sandbox(sandbox_base)
    out(f"demo: simulators at {sandbox.base} (GET {sandbox.base}/_sandbox/listings?shop={SHOP})")
    catalog = seed_and_sync(api, sandbox, n_skus, flash_units, out)
    side = side_orders if side_orders is not None else max(2, flash_orders_n // 10)
    orders = flash_orders(flash_orders_n, side, side)
    out(f"demo: flash sale on TikTok Shop: {flash_orders_n} orders for {FLASH_SKU} ({flash_units} units), "
        f"Shopee and Lazada selling it too ({side} orders each), {threads} buyers at once")
    sale = run_sale(api, sandbox, catalog, orders, threads)
    summary = flash_summary(api, sandbox, catalog, sale, flash_units)
    for line in report_lines(summary):
        out(line)
    return summary


def seed_and_sync(api: Api, sandbox: Sandbox, n_skus: int, flash_units: int, out=print) -> Catalog:
    """Seeds the demo catalogue and waits for StockLink's first push to land on every platform."""
    t0 = time.monotonic()
    catalog = seed(api, sandbox, demo_stock(n_skus, flash_units))
    out(f"demo: seeded {len(WAREHOUSES)} warehouses, {len(catalog.skus)} SKUs, {len(PLATFORMS)} shops, "
        f"{len(catalog.listings)} listings in {time.monotonic() - t0:.1f} s; waiting for the first sync")
    t1 = time.monotonic()
    off = wait_in_sync(api, sandbox, catalog, timeout=120)
    out(f"demo: initial sync {'complete' if not off else f'INCOMPLETE ({len(off)} listings differ)'} "
        f"in {time.monotonic() - t1:.1f} s")
    return catalog

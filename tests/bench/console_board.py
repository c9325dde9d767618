"""The stock board's first page with many SKUs, as a person sees it: the API's answer and the console's page.

    python -m tests.bench.console_board [--skus 10000] [--runs 5]

Starts `python -m infra.local.cli local --in-memory`, creates the SKUs (PUT /skus, 16 threads) and receives
stock for them in one warehouse (receipts of 90 lines), then times GET /stock/board?limit=50 over HTTP and the
console's board in headless Chromium (/usr/bin/chromium), from navigation until the counts and the first rows
are on screen. Prints figures; asserts nothing on time. Without GET /stock/board it says so and stops.
"""
from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.e2e.runtime_process import RuntimeProcess

PAGE = 50


def seed(rt: RuntimeProcess, n: int) -> float:
    t0 = time.perf_counter()
    s = requests.Session()
    s.headers.update(rt.headers)
    s.put(f"{rt.url}/warehouses/wh-bench", json={"name": "Bench", "priority": 1}).raise_for_status()
    skus = [f"BENCH-{i:06d}" for i in range(n)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda sku: s.put(f"{rt.url}/skus/{sku}", json={"name": f"Bench item {sku}"}).raise_for_status(),
                      skus))
    def receive(start: int) -> None:   # a receipt holds at most 90 lines; some SKUs get none (zero stock)
        lines = [{"sku": sku, "qty": (i * 7) % 40} for i, sku in enumerate(skus[start:start + 90], start)
                 if (i * 7) % 40]
        s.post(f"{rt.url}/stock/receipts", json={"warehouse_id": "wh-bench", "reference": f"bench-{start}",
                                                 "lines": lines}).raise_for_status()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(receive, range(0, n, 90)))
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS, _ensure_console_built

    _ensure_console_built()
    rt = RuntimeProcess("--in-memory").start()
    try:
        probe = requests.get(f"{rt.url}/stock/board?limit=1", headers=rt.headers, timeout=30)
        if probe.status_code in (404, 405):
            print(f"GET /stock/board answers {probe.status_code}: this StockLink has no board yet; nothing to time")
            return
        print(f"seeded {args.skus} SKUs in {seed(rt, args.skus):.1f} s")
        api_ms = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            requests.get(f"{rt.url}/stock/board?limit={PAGE}", headers=rt.headers, timeout=60).raise_for_status()
            api_ms.append((time.perf_counter() - t0) * 1000)
        from playwright.sync_api import sync_playwright

        page_ms = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{rt.url}/console/signin")
            page.fill("#token", rt.token)
            page.locator("button[type=submit]").click()
            page.wait_for_selector("[data-table='stock-board'] td[data-col='sku']")
            for _ in range(args.runs):
                t0 = time.perf_counter()
                page.goto(f"{rt.url}/console/")
                page.wait_for_selector("[data-count='normal']")
                page.wait_for_selector("[data-table='stock-board'] td[data-col='sku']")
                page_ms.append((time.perf_counter() - t0) * 1000)
            browser.close()
        print(f"GET /stock/board?limit={PAGE} with {args.skus} SKUs: median {statistics.median(api_ms):.0f} ms, "
              f"max {max(api_ms):.0f} ms ({args.runs} runs)")
        print(f"console board, navigation to counts and first {PAGE} rows on screen: median "
              f"{statistics.median(page_ms):.0f} ms, max {max(page_ms):.0f} ms ({args.runs} runs)")
    finally:
        rt.stop()


if __name__ == "__main__":
    main()

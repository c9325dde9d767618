"""Listing discovery of --shops shops x --listings listings (one shop per platform, cycling): each adapter walks
its platform's product-list API against the simulators (signed calls, real pagination), then the listings are
matched to a --skus catalogue. Prints per shop the list calls, the wall time here, and the time the platform's
documented call rate sets (calls / the adapter's rate_per_second: the bound a real shop imposes, since every
call takes a slot of the shop's limiter); then the matching time and the report's counts.

Run: PYTHONPATH=shared:. .venv/bin/python tests/bench/discovery.py [--shops 5] [--listings 2000] [--skus 10000]
Layout per platform: a third of the listings grouped three to a product (variants / models / variations), the
rest one to a product; 90 % carry a seller SKU of the catalogue, 5 % a code no SKU has, 5 % none.
"""
from __future__ import annotations

import argparse
import sys
import time

sys.path[:0] = ["shared", "."]

from infra.sandbox.server import serve  # noqa: E402
from stocklink.channels.registry import PLATFORMS, adapter_for  # noqa: E402
from stocklink.domain.listing_match import match_listings  # noqa: E402
from tests.sandbox.conftest import send  # noqa: E402
from tests.sandbox.test_sandbox_channels import SETUPS  # noqa: E402
from tests.sandbox_support import control  # noqa: E402


def layout(platform: str, n: int) -> list[dict]:
    rows = []
    for i in range(n):
        lid = str(1_000_000 + i)
        group = str(5_000_000 + i // 3) if i < n // 3 else str(6_000_000 + i)
        grouped = group.startswith("5")
        ids = {"shopify": {"inventory_item_id": str(2_000_000 + i)}, "tiktok": {"product_id": group},
               "shopee": {"item_id": group, "model_id": lid} if grouped else {"item_id": lid},
               "lazada": {"item_id": group},
               "woocommerce": {"parent_id": group} if grouped else {}}[platform]
        code = f"SKU-{i:05d}" if i % 20 < 18 else ("" if i % 20 == 18 else f"OLD-{i}")
        rows.append({"listing_id": lid, "quantity": i % 9, "seller_sku": code, "title": f"Item {i}",
                     "platform_ids": ids})
    return rows


def walk(adapter, credentials) -> tuple[list, int]:
    found, cursor, calls = [], None, 0
    while True:
        status, headers, body = send(adapter.build_list_listings(credentials, cursor))
        calls += 1
        page = adapter.parse_list_listings(cursor, status, body, {k.lower(): v for k, v in headers.items()})
        found += page.listings
        if page.cursor is None:
            return found, calls
        cursor = page.cursor


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shops", type=int, default=5)
    parser.add_argument("--listings", type=int, default=2000)
    parser.add_argument("--skus", type=int, default=10_000)
    args = parser.parse_args()
    server, _ = serve()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    catalogue = {f"SKU-{i:05d}": {"name": f"Item {i}", "barcode": ""} for i in range(args.skus)}
    print(f"discovery: {args.shops} shops x {args.listings} listings, catalogue {args.skus} SKUs")
    print(f"{'shop':<16}{'calls':>7}{'found':>7}{'wall s':>9}{'at rate s':>11}{'match s':>9}"
          f"{'mapped':>8}{'unmapped':>10}{'conflicts':>11}")
    totals = {"calls": 0, "wall": 0.0, "rate": 0.0, "match": 0.0}
    for n in range(args.shops):
        platform = PLATFORMS[n % len(PLATFORMS)]
        shop = f"bench{n}"
        setup = SETUPS[platform]
        credentials = {**setup.credentials, "api_base_url": f"{base}/{platform}/{shop}{setup.base_suffix}"}
        control(base, "POST", "shops", {"platform": platform, "shop": shop, "credentials": setup.credentials})
        control(base, "PUT", "listings", {"platform": platform, "shop": shop, "listings": layout(platform, args.listings)})
        adapter = adapter_for(platform)
        started = time.perf_counter()
        found, calls = walk(adapter, credentials)
        wall = time.perf_counter() - started
        started = time.perf_counter()
        report = match_listings([{"listing_id": d.listing_id, "seller_sku": d.seller_sku, "barcode": d.barcode,
                                  "title": d.title, "platform_ids": d.platform_ids, "quantity": d.quantity}
                                 for d in found], catalogue)
        matched = time.perf_counter() - started
        at_rate = calls / adapter.rate_per_second
        summary = report.summary()
        print(f"{platform + '/' + shop:<16}{calls:>7}{len(found):>7}{wall:>9.2f}{at_rate:>11.1f}{matched:>9.2f}"
              f"{summary['mapped']:>8}{summary['unmapped']:>10}{summary['conflicts']:>11}")
        totals["calls"] += calls
        totals["wall"] += wall
        totals["rate"] += at_rate
        totals["match"] += matched
    print(f"{'total':<16}{totals['calls']:>7}{'':>7}{totals['wall']:>9.2f}{totals['rate']:>11.1f}{totals['match']:>9.2f}")
    print("(shops run in parallel in production, each within its own limiter: the slowest shop's 'at rate' is the "
          "wall time a seller waits, plus the per-call latency of the real platform)")
    server.shutdown()


if __name__ == "__main__":
    main()

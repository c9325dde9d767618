"""Sync latency: an order webhook answered by StockLink → every other marketplace simulator shows the new
quantity. Headless run of the demo's machinery (infra/local/demo/).

    python -m tests.bench.sync_latency [--orders 500] [--buyers 8] [--skus 20] [--units 400] [--rate 0]
                                       [--webhook-delay 0] [--reorder] [--no-enforce-listed]

Starts the local runtime in this process (DynamoDB Local, moto, real worker pools; in memory) and the
simulators on loopback, seeds 3 warehouses, the SKUs, one shop per platform and every listing, then places
`--orders` one-unit paid orders spread over the five platforms and the SKUs through the simulators'
/_sandbox/orders (`--buyers` at once; `--rate` orders/s in total, 0 = as fast as they go). Latency is read
from the simulators' own call logs. The shops' checkouts refuse what their listings no longer show (as the
demo's; `--no-enforce-listed` lets buyers past it), and `--webhook-delay` / `--reorder` make the simulators
deliver webhooks late / out of order (then the latency counts from StockLink's answer to the late webhook;
the webhook delay itself is printed apart). Also prints how channel_push drained its queue (invocations,
events per batch, handler time). Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

from infra.local.demo import sale as demo_sale
from infra.local.demo.client import PLATFORMS, Api, Sandbox, start_sandbox
from infra.local.demo.measure import order_lags, percentile, stock_updates, wait_in_sync
from infra.local.demo.seed import demo_stock, seed
from tests.e2e.runtime_process import free_port


def instrument(pool) -> list[tuple[float, float, int]]:
    """Records (started, finished, events in the batch) per invocation of a worker pool."""
    records: list[tuple[float, float, int]] = []
    real_invoke = pool.invoke

    def invoke(event, request_id=None):
        started = time.time()
        try:
            return real_invoke(event, request_id)
        finally:
            records.append((started, time.time(), len(event.get("Records") or [event])))

    pool.invoke = invoke            # the queue pollers (and the async runner) call self.invoke
    return records


def cpu_seconds(runtime) -> dict[str, float]:
    """CPU time used so far (user + system) by each part of the local system, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")

    def of(pid: int) -> float:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            return 0.0

    out = {"this process (moto, gateway, bus, simulators, buyers)": of(os.getpid())}
    process = getattr(runtime.ddb, "process", None)
    if process is not None:
        out["DynamoDB Local"] = of(process.pid)
    for name, pool in runtime.pools.items():
        out[name] = sum(of(w.proc.pid) for w in pool.workers if w.proc is not None)
    return out


def lag_by_platform(sale, catalog) -> dict[str, list[float]]:
    """Per platform: the demo's per-order lags (measure.order_lags) of the orders that platform reflected."""
    out: dict[str, list[float]] = {p: [] for p in PLATFORMS}
    for lags in order_lags(sale.orders, sale.calls, catalog, sale.start_units):
        for platform, lag in lags.items():
            if lag is not None:
                out[platform].append(lag)
    return out


def call_gaps(sale) -> dict[str, list[float]]:
    """Per platform: seconds between consecutive stock-update calls it accepted during the sale. A shop at
    its call budget shows gaps of one window (500 ms for WooCommerce's 2 calls/s); longer ones are windows
    its pushes did not use."""
    times: dict[str, list[float]] = {p: [] for p in PLATFORMS}
    for c in sorted(stock_updates(sale.calls), key=lambda c: c["ts"]):
        times[c["platform"]].append(c["ts"])
    return {p: [b - a for a, b in zip(ts, ts[1:])] for p, ts in times.items()}


def read_backs(sale) -> dict[str, int]:
    """Reconciliation's read-back calls per platform during the sale (they share the shop's call budget)."""
    out = {p: 0 for p in PLATFORMS}
    for c in sale.calls:
        if c.get("kind") == "read_back" and c.get("platform") in out:
            out[c["platform"]] += 1
    return out


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.0f}" if values else "-"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--buyers", type=int, default=8)
    parser.add_argument("--skus", type=int, default=20)
    parser.add_argument("--units", type=int, default=400, help="units per SKU (enough that nothing sells out)")
    parser.add_argument("--rate", type=float, default=0.0, help="orders per second in total; 0 = unpaced")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--webhook-delay", default="0",
                        help="simulators deliver webhooks this late: seconds (1) or a uniform range (0-3)")
    parser.add_argument("--reorder", action="store_true", help="webhooks may overtake each other")
    parser.add_argument("--no-enforce-listed", action="store_true",
                        help="checkouts accept orders beyond what the listing shows")
    args = parser.parse_args(argv)
    delivery = {"webhook_delay_s": args.webhook_delay, "reorder": args.reorder, "seed": args.seed}

    from infra.local.runtime import LocalRuntime

    runtime = LocalRuntime(port=free_port(), in_memory=True, dev_token="bench-token", relay=None)
    server = None
    try:
        t0 = time.monotonic()
        runtime.start()
        ok, detail = runtime.wait_healthy(90)
        if not ok:
            raise SystemExit(f"runtime not healthy: {detail}")
        push_records = instrument(runtime.pools["channel_push"])
        server, base = start_sandbox(0)
        api, sandbox = Api(runtime.url, runtime.dev_token), Sandbox(base)
        units = demo_stock(args.skus, args.units)
        units = {sku: {w: max(q, args.units // 3) for w, q in per.items()} for sku, per in units.items()}
        catalog = seed(api, sandbox, units, delivery=delivery, enforce_listed=not args.no_enforce_listed)
        off = wait_in_sync(api, sandbox, catalog, timeout=120)
        print(f"runtime + seed + first sync: {time.monotonic() - t0:.1f} s"
              + (f" ({len(off)} listings still differ)" if off else ""), flush=True)

        rng = random.Random(args.seed)
        skus = list(catalog.skus)
        orders = [demo_sale.Order(rng.choice(PLATFORMS), rng.choice(skus)) for _ in range(args.orders)]
        if args.rate > 0:
            gap = 1.0 / args.rate
            start = time.monotonic()
            for i, o in enumerate(orders):
                o.detail = str(start + i * gap)   # not before this time (paced buyers)
            real_place = demo_sale.place

            def paced(sb, cat, o, check_listing=True, **kwargs):
                delay = float(o.detail) - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                o.detail = ""
                return real_place(sb, cat, o, check_listing, **kwargs)

            demo_sale.place = paced
        push_records.clear()
        cpu_before, wall_before = cpu_seconds(runtime), time.monotonic()
        sale = demo_sale.run_sale(api, sandbox, catalog, orders, threads=args.buyers)
        cpu = {k: v - cpu_before.get(k, 0.0) for k, v in cpu_seconds(runtime).items()}
        wall = time.monotonic() - wall_before
        s = sale.summary(catalog)
        lags = lag_by_platform(sale, catalog)
        gaps, reads = call_gaps(sale), read_backs(sale)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        runtime.stop()

    runs = [f - st for st, f, _ in push_records]
    sizes = [n for _, _, n in push_records]
    print(f"orders: {s['orders']} ({s['applied']} applied, {s['oversold_orders']} oversold, "
          f"{s['refused_by_platform']} refused by a platform, {s['errors']} errors) in {s['elapsed_s']} s "
          f"= {s['applied'] / s['elapsed_s']:.1f} orders/s; {args.buyers} buyers"
          + (f", paced at {args.rate}/s" if args.rate else ""))
    print(f"sync latency p50 {s['latency_p50_ms']} ms  p99 {s['latency_p99_ms']} ms  max {s['latency_max_ms']} ms  "
          f"mean {s['latency_mean_ms']} ms  ({s['latency_samples']} orders; {s['latency_not_reflected']} never reflected)")
    print("  per platform p50/p99 ms: " + ", ".join(f"{p} {ms(v, 50)}/{ms(v, 99)}" for p, v in lags.items()))
    print(f"webhooks (delay {args.webhook_delay} s{', reordered' if args.reorder else ''}): checkout -> sent "
          f"p50 {s['delivery_delay_p50_ms']} ms  p99 {s['delivery_delay_p99_ms']} ms, answered in p50 "
          f"{s['webhook_answer_p50_ms']} ms  p99 {s['webhook_answer_p99_ms']} ms ({s['deliveries']} webhooks); "
          f"{s['delivery_retries']} retries, {s['delivery_failures']} failed, {s['deliveries_out_of_order']} out "
          f"of order; all delivered {s['flush_s']} s after the last order")
    print(f"platform calls: {s['stock_calls']} ({s['calls_per_order']} per order), {s['listing_updates']} listing "
          f"updates vs {s['naive_listing_updates']} without coalescing; stale pushes {s['stale_pushes']}")
    print("  stock-update call gaps per platform p50/p90/p99 ms: "
          + ", ".join(f"{p} {ms(v, 50)}/{ms(v, 90)}/{ms(v, 99)}" for p, v in gaps.items()))
    print("  reconciliation read-back calls during the sale: " + ", ".join(f"{p} {n}" for p, n in reads.items()))
    print(f"channel_push: {len(runs)} invocations for {sum(sizes)} events (batch mean "
          f"{statistics.fmean(sizes) if sizes else 0:.1f}, max {max(sizes, default=0)}); "
          f"handler p50 {ms(runs, 50)} ms p99 {ms(runs, 99)} ms"
          + (f" mean {statistics.fmean(runs) * 1000:.0f} ms" if runs else ""))
    print(f"platforms settled {s['settle_s']} s after the last order; out of sync afterwards: "
          f"{len(s['out_of_sync_after'])}")
    busy = sorted(((v, k) for k, v in cpu.items() if v >= 0.05), reverse=True)
    print(f"CPU during the sale ({wall:.0f} s wall, {os.cpu_count()} cores; load average at the end "
          f"{os.getloadavg()[0]:.1f}): " + ", ".join(f"{k} {v:.1f} s" for v, k in busy))
    return s


if __name__ == "__main__":
    main(sys.argv[1:])

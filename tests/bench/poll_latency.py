"""Pull ingestion: order placed on a simulator -> reflected in the pool -> the other channels' listings updated,
p50 / p99 per pulled platform, and the platform API calls the poller spends per order.

    python -m tests.bench.poll_latency [--minutes 10] [--per-minute 4] [--period 30]

In-process, as tests/integration runs (moto, the handlers called in this process, the simulators on
loopback), on a virtual clock: `time.time` runs `offset` ahead of the wall clock, so the deployed schedule
(the poller every `--period` s) is replayed without waiting for it. Each pulled platform (Taobao by TMC,
JD, Pinduoduo, and Douyin's and Amazon's fallback polls, their push / SQS paths left out) has one shop
listing one SKU beside three webhook channels (TikTok, Lazada, Shopify); orders of one unit are placed on
each at a steady `--per-minute` rate (each at a random point of its slot, seeded); the clock then jumps to each scheduled tick, the poller
runs (logic/order_poll.run_poll, timed on the wall clock), and the events it published go to channel_push
(timed too), which updates the other channels' simulators.

Per order, printed twice:
- with the deployed schedule: placed -> the end of the poll run that applied it (pool), -> the end of the
  channel_push run after it (other channels). Dominated by how long the order waits for a run that reads it:
  the interval (uniform: p50 about half of it) plus the platform's settle time (a window ends that long
  before now: Pinduoduo 180 s, JD / Douyin 60 s, Amazon 120 s and windows at most every 300 s; Taobao's TMC
  queue has none).
- processing only: the poll run's and channel_push's own wall time — what the latency would be if a run
  started the moment an order became readable.
API calls per order: the poller's platform calls in steady state (after the first run's backfill) divided
by the orders it applied, per platform. Prints figures; asserts nothing. The processing figures are moto's
in-process DynamoDB on a shared 2-core machine, not DynamoDB's latency: read them as an upper bound.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from contextlib import contextmanager

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for _key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ.setdefault(_key, "testing")

SKU = "TEE-RED-M"
UNITS = 100_000
# platform -> (credentials, listing id, platform ids); the same fixtures as the integration tests
PULLED = {
    "taobao": ({"app_key": "12497914", "app_secret": "tb-secret", "session": "tb-session", "user_id": "2200000001"},
               "4800000000001", {"num_iid": "600000000001"}),
    "jd": ({"app_key": "jd-key", "app_secret": "jd-secret", "access_token": "jd-token"},
           "100012345678", {"ware_id": "10001234"}),
    "pinduoduo": ({"client_id": "pdd-client", "client_secret": "pdd-secret", "access_token": "pdd-token"},
                  "1180000001", {"goods_id": "350000001"}),
    "douyin": ({"app_key": "7152331588175513101", "app_secret": "douyin-secret", "access_token": "dy-token",
                "shop_id": "4463798"}, "1736000000000000001", {"product_id": "3600123456789012345"}),
    "amazon": ({"client_id": "amzn1.application-oa2-client.sandbox", "client_secret": "lwa-secret",
                "refresh_token": "Atzr|sandbox-refresh", "seller_id": "A3TH9S8BH6GOGM",
                "marketplace_id": "ATVPDKIKX0DER"}, SKU, {"product_type": "SHIRT"}),
}


class VirtualClock:
    """`time.time` = the wall clock + offset; `at(t)` moves the offset so that it reads t now."""

    def __init__(self):
        self.real = time.time
        self.offset = 0.0

    def __call__(self) -> float:
        return self.real() + self.offset

    def at(self, t: float) -> None:
        self.offset = t - self.real()


@contextmanager
def world(clock: VirtualClock):
    """moto tables + the simulators + the shops and listings; yields (sandbox base url, staff API client)."""
    from infra.sandbox.server import serve
    from stocklink.config import LOOPBACK_FLAG, settings
    from tests.integration.conftest import STAFF_TOKEN, moto_env, as_admin
    from tests.integration.apigw import ApiClient
    from tests.integration.test_channel_sync import SHOPS
    from tests.sandbox_support import control

    os.environ[LOOPBACK_FLAG] = "1"
    settings.cache_clear()
    real_time = time.time
    time.time = clock                      # simulators, adapters' stamps, now_ms: one virtual clock
    server, _sandbox = serve()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with moto_env() as bus:
            from functions.staff_api.handler import handler as staff_handler
            from stocklink.channels.registry import adapter_for
            from stocklink.logic import order_poll
            from stocklink.logic.sync import platform_calls

            for platform in PULLED:
                adapter_for(platform).clock = clock        # their default clock was bound before the patch
            order_poll.BACKFILL_S = 900                    # the first run's backfill stays small
            platform_calls.BACKOFF_BASE_S, platform_calls.BACKOFF_CAP_S = 0.01, 0.05
            staff = ApiClient(staff_handler, STAFF_TOKEN)
            admin = as_admin(staff)
            staff.put("/warehouses/wh-a", {"name": "Shenzhen A", "region": "cn-south", "priority": 1})
            staff.put(f"/skus/{SKU}", {"name": "Red tee M", "price": 19.9, "unit_cost": 6.5})
            staff.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": SKU, "qty": UNITS}],
                                           "reference": "PO-1"})
            staff.put("/allocation/last-units", {"enabled": False})
            shops = {p: (creds, "", listing, ids) for p, (creds, listing, ids) in PULLED.items()}
            shops.update({p: v for p, v in SHOPS.items()})
            for platform, (creds, suffix, listing, ids) in shops.items():
                api = f"{base}/{platform}/s1{suffix}"
                creds = {**creds, "api_base_url": api}
                if platform == "amazon":
                    creds["lwa_url"] = f"{api}/auth/o2/token"
                # webhooks (Douyin's push) go nowhere: its fallback poll is what is measured
                control(base, "POST", "shops", {"platform": platform, "shop": "s1", "credentials": creds,
                                                "webhook_url": "http://127.0.0.1:9/unused"})
                control(base, "PUT", "listings", {"platform": platform, "shop": "s1", "listings": [
                    {"listing_id": listing, "quantity": 0, "platform_ids": ids, "seller_sku": SKU}]})
                admin.put(f"/shops/{platform}/s1", creds)
                staff.put(f"/listings/{platform}/s1/{listing}", {"components": [{"sku": SKU, "qty": 1}],
                                                                 "platform_ids": ids})
            run_bus(bus)
            yield base, bus
    finally:
        time.time = real_time
        server.shutdown()
        server.server_close()


def run_bus(bus) -> float:
    """channel_push for every stock event published since the last drain; its wall time."""
    from functions.channel_push.handler import handler
    from tests.integration.apigw import LambdaContext

    started = time.perf_counter()
    for event in bus.drain():
        if event["detail-type"] in ("stock.changed", "order.oversold"):
            handler(event, LambdaContext())
    return time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="virtual minutes of steady orders")
    parser.add_argument("--per-minute", type=float, default=4.0, help="orders a minute per platform")
    parser.add_argument("--period", type=int, default=30, help="the poller's schedule (s); deployed: 30")
    args = parser.parse_args(argv)

    from stocklink.channels.registry import adapter_for
    from tests.sandbox_support import control

    clock = VirtualClock()
    with world(clock) as (base, bus):
        from stocklink.logic.order_poll import run_poll
        from stocklink.store import repository

        start = clock()
        first = run_poll(int(start * 1000), budget_ms=600_000)      # the backfill: cursors from here on
        run_bus(bus)
        print(f"first run (backfill of {len(first['shops'])} shops): {first['calls']} platform calls")

        gap = 60.0 / args.per_minute
        platforms = list(PULLED)
        phase = random.Random(19)        # each order somewhere in its slot: not locked to the poller's ticks
        placements = sorted((start + 1 + (i + phase.random()) * gap, platform)
                            for i in range(int(args.minutes * args.per_minute)) for platform in platforms)
        horizon = max(t for t, _ in placements) + 900                # room for the slowest path (Amazon)
        ticks = [start + args.period * n for n in range(1, int((horizon - start) // args.period) + 1)]
        timeline = sorted([(t, 0, p) for t, p in placements] + [(t, 1, None) for t in ticks])

        pending: dict[str, tuple[str, float]] = {}                 # reservation id -> (platform, placed at)
        pool: dict[str, list[float]] = {p: [] for p in platforms}
        channels: dict[str, list[float]] = {p: [] for p in platforms}
        poll_s: list[float] = []
        push_s: list[float] = []
        calls = {p: 0 for p in platforms}
        applied = {p: 0 for p in platforms}
        for t, is_tick, platform in timeline:
            clock.at(t)
            if not is_tick:
                listing = PULLED[platform][1]
                placed = control(base, "POST", "orders", {"platform": platform, "shop": "s1", "kind": "paid",
                                                          "lines": [{"listing_id": listing, "qty": 1, "sku": SKU}]})
                pending[f"{platform}:s1:{placed['order_id']}"] = (platform, t)
                continue
            began = time.perf_counter()
            report = run_poll(int(t * 1000), budget_ms=25_000)
            poll_s.append(time.perf_counter() - began)
            pooled_at = clock()
            push_s.append(run_bus(bus))
            pushed_at = clock()
            for shop in report["shops"]:
                calls[shop["platform"]] += shop["calls"]
                applied[shop["platform"]] += shop["applied"]
                if shop["error"]:
                    print(f"  {shop['platform']}: {shop['error']}")
            for rid, (p, placed_at) in list(pending.items()):
                if repository.get_reservation(rid) is not None:
                    pool[p].append(pooled_at - placed_at)
                    channels[p].append(pushed_at - placed_at)
                    del pending[rid]
            if not pending and t > placements[-1][0]:
                break

        orders = len(placements) // len(platforms)
        print(f"\n{orders} orders per platform at {args.per_minute:g}/min each, poller every {args.period} s "
              f"(virtual clock); {len(pending)} not reflected")
        print(f"\n{'platform':<10} {'settle':>6} {'interval':>8} | {'to pool p50':>11} {'p99':>6} | "
              f"{'to channels p50':>15} {'p99':>6} | {'calls/order':>11}")
        for p in platforms:
            adapter = adapter_for(p)
            interval = max(args.period, getattr(adapter, "min_poll_interval_s", 0) or 0)
            if getattr(adapter, "consumes_messages", False):
                interval = args.period              # the queue is read every run; the windows are the sweep
            settle = 0 if getattr(adapter, "consumes_messages", False) else adapter.poll_settle_s
            per_order = calls[p] / applied[p] if applied[p] else float("nan")
            print(f"{p:<10} {settle:>5}s {interval:>7}s | {percentile(pool[p], .5):>10.1f}s "
                  f"{percentile(pool[p], .99):>5.1f}s | {percentile(channels[p], .5):>14.1f}s "
                  f"{percentile(channels[p], .99):>5.1f}s | {per_order:>11.2f}")
        runs = len(poll_s)
        print("calls/order: the poller's platform calls / the orders it applied, steady state; every run costs a "
              "shop at least its empty read (Taobao: one consume; others: one window page per run that reads one)")
        print(f"runs: {runs}; platform calls per run, all shops: {sum(calls.values()) / max(runs, 1):.1f}")
        print(f"\nprocessing only (wall time, all {len(PULLED)} shops in one run): poll run "
              f"p50 {percentile(poll_s, .5) * 1000:.0f} ms p99 {percentile(poll_s, .99) * 1000:.0f} ms; "
              f"channel_push after it p50 {percentile(push_s, .5) * 1000:.0f} ms "
              f"p99 {percentile(push_s, .99) * 1000:.0f} ms")
        busy = [a + b for a, b in zip(poll_s, push_s)]
        print(f"  order readable -> other channels updated, if a run started at once: "
              f"p50 {percentile(busy, .5) * 1000:.0f} ms p99 {percentile(busy, .99) * 1000:.0f} ms")
        print("  what dominates: the wait for a run that reads the order — the settle time plus the interval "
              "(uniform: p50 ~ half of it), not the processing")


if __name__ == "__main__":
    main(sys.argv[1:])

"""channel_push's own CPU per order, and where it goes: functions/channel_push/handler.py driven in this
process with one stock.changed per order (SKUs listed on the five simulated platforms) at a steady rate.

    PYTHONPATH=shared:. python -m tests.bench.push_profile [--orders 100] [--rate 5] [--top 30] [--save-profile F]

Starts the local runtime (DynamoDB Local, moto; in memory) and the simulators, seeds the demo catalogue and
stops the bus (the runtime's own channel_push does not push), then sells one unit per order through the staff
API and hands the handler an SQS batch holding that order's stock.changed. CPU is counted for the threads
that run the push (the caller's and the channel-push pools'), read from /proc, so the runtime, the simulators
and DynamoDB Local sharing this machine are left out. Every push thread runs under cProfile; the merged
profile is summarised by kind (serialisation, validation, pynamodb, logging/metrics, boto3 set-up, signing,
HTTP) and its top cumulative entries printed. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import collections
import cProfile
import io
import json
import os
import pstats
import threading
import time

import botocore.client

from tests.bench.push_requests import channel_push_world
from tests.integration.apigw import LambdaContext

_TICKS = os.sysconf("SC_CLK_TCK")

# Profile entries by kind: the first pattern found in "file:function" names the kind. A builtin (dict.get,
# isinstance, str.join, ...) counts for the kind of the code that called it.
KINDS = [
    ("serialisation", ("json/", "botocore/serialize", "botocore/parsers", "pynamodb/attributes")),
    ("validation", ("botocore/validate", "pydantic")),
    ("pynamodb model conversion", ("pynamodb/",)),
    ("logging/metrics", ("logging/", "aws_lambda_powertools/")),
    ("boto3 client set-up", ("boto3/session", "botocore/session", "botocore/client.py:create_client",
                             "botocore/loaders")),
    ("AWS request signing (SigV4)", ("botocore/auth", "botocore/signers")),
    ("botocore events/hooks", ("botocore/hooks",)),
    ("botocore request plumbing", ("botocore/",)),
    ("platform request signing", ("hmac", "hashlib", "stocklink/channels")),
    ("HTTP", ("urllib3/", "http/client", "email/", "socket", "ssl")),
    ("threads, locks, queues", ("threading", "concurrent/", "queue")),
    ("stocklink's own code", ("stocklink/", "functions/")),
]

def thread_cpu(native_ids) -> dict[int, tuple[float, float]]:
    """(user, system) CPU seconds of each thread of this process, from /proc."""
    out = {}
    for tid in native_ids:
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[tid] = (int(fields[11]) / _TICKS, int(fields[12]) / _TICKS)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return out


def push_threads() -> set[int]:
    return {t.native_id for t in threading.enumerate()
            if t.name.startswith("channel-push") or t is threading.main_thread()}


class Profiles:
    """One cProfile per push thread (cProfile sees only the thread that enables it), timed by the thread's
    own CPU clock (not wall time: waits on the network would swamp it), merged at the end. Only while `on`:
    cProfile costs several times the CPU it measures, so the unprofiled figure must run without it (before,
    the pools' tasks were profiled in both runs and the "unprofiled" figure was mostly cProfile's)."""

    def __init__(self):
        self.by_thread: dict[int, cProfile.Profile] = {}
        self.lock = threading.Lock()
        self.on = False

    def wrap(self, fn):
        def run(*args, **kwargs):
            if not self.on:
                return fn(*args, **kwargs)
            with self.lock:
                profile = self.by_thread.setdefault(threading.get_ident(), cProfile.Profile(time.thread_time))
            profile.enable()
            try:
                return fn(*args, **kwargs)
            finally:
                profile.disable()
        return run

    def stats(self) -> pstats.Stats | None:
        profiles = list(self.by_thread.values())
        if not profiles:
            return None
        stats = pstats.Stats(profiles[0], stream=io.StringIO())
        for profile in profiles[1:]:
            stats.add(profile)
        return stats


def _kind(filename: str, function: str) -> str:
    label = f"{filename}:{function}"
    return next((name for name, patterns in KINDS if any(p in label for p in patterns)), "other")


def by_kind(stats: pstats.Stats) -> dict[str, float]:
    """Own (tottime) seconds per kind; a builtin's own time is shared among its callers' kinds by what
    each caller spent in it."""
    out = {name: 0.0 for name, _ in KINDS} | {"other": 0.0}
    for (filename, _, function), (_, _, tottime, _, callers) in stats.stats.items():
        if filename == "~" and callers:
            for (caller_file, _, caller_function), caller_stats in callers.items():
                out[_kind(caller_file, caller_function)] += caller_stats[2]
        else:
            out[_kind(filename, function)] += tottime
    return out

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--save-profile", metavar="PATH", help="also write the merged profile (pstats) there")
    args = parser.parse_args(argv)
    with channel_push_world() as (api, catalog):
        os.environ["POWERTOOLS_METRICS_NAMESPACE"] = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "StockLink")

        from functions.channel_push import handler as push_handler
        from stocklink.logic.sync import executors

        profiles = Profiles()
        original_submit = executors.ThreadPoolExecutor.submit
        executors.ThreadPoolExecutor.submit = lambda self, fn, *a, **k: original_submit(self, profiles.wrap(fn),
                                                                                        *a, **k)
        warehouse = api.call("GET", "/warehouses")["warehouses"][0]["warehouse_id"]
        skus = [s for s in catalog.skus if s != "DEMO-FLASH"]
        platforms = ["shopify", "tiktok", "shopee", "lazada", "woocommerce"]

        def order(i: int) -> dict:
            sku = skus[i % len(skus)]
            snapshot = api.call("POST", "/stock/adjustments", {"warehouse_id": warehouse, "sku": sku, "delta": -1,
                                                               "reason": "damaged"})
            detail = {"sku": sku, "warehouse_id": warehouse, "cause": "reserve",
                      "source": f"{platforms[i % len(platforms)]}:demo"}
            if isinstance(snapshot, dict) and snapshot.get("total_available") is not None:
                detail["total_available"] = snapshot["total_available"]
            return {"detail-type": "stock.changed", "source": "stocklink", "detail": detail,
                    "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}

        def invoke(events: list[dict]):
            batch = {"Records": [{"messageId": f"m{i}", "receiptHandle": f"r{i}", "eventSource": "aws:sqs",
                                  "body": json.dumps(e)} for i, e in enumerate(events)]}
            call = profiles.wrap(push_handler.handler)
            return call(batch, LambdaContext())

        for i in range(10):                      # warm: clients, pools, caches
            invoke([order(i)])

        def run(first: int, n: int) -> tuple[float, float]:
            """(user, system) CPU seconds of the push threads over n orders paced at --rate."""
            user = system = 0.0
            period = 1.0 / args.rate
            time.sleep(1.1)                     # a fresh call window for every shop
            started = time.perf_counter()
            for i in range(n):
                event = order(first + i)        # the staff API's CPU is not counted: it runs before the window
                tids = push_threads()
                before = thread_cpu(tids)
                window[0] = True
                invoke([event])
                window[0] = False
                tids |= push_threads()
                after = thread_cpu(tids)
                for tid, (u, s) in after.items():
                    u0, s0 = before.get(tid, (0.0, 0.0))
                    user, system = user + u - u0, system + s - s0
                left = started + (i + 1) * period - time.perf_counter()
                if left > 0:
                    time.sleep(left)
            return user, system

        requests: collections.Counter = collections.Counter()
        in_requests = [0.0]          # thread CPU seconds spent inside AWS requests (botocore, HTTP, signing)
        cpu_lock = threading.Lock()
        window = [False]
        original_call = botocore.client.BaseClient._make_api_call

        def counting(self, operation, params):
            if not window[0] or operation == "ReceiveMessage":     # not the staff API's, nor the runtime's pollers
                return original_call(self, operation, params)
            started = time.thread_time()
            try:
                return original_call(self, operation, params)
            finally:
                spent = time.thread_time() - started
                with cpu_lock:
                    requests[operation] += 1
                    in_requests[0] += spent

        botocore.client.BaseClient._make_api_call = counting
        user, system = run(10, args.orders)
        botocore.client.BaseClient._make_api_call = original_call
        cpu = user + system
        print(f"\nchannel_push CPU per order: {cpu / args.orders * 1000:.1f} ms "
              f"(user {user / args.orders * 1000:.1f}, system {system / args.orders * 1000:.1f}; "
              f"{cpu:.2f} s over {args.orders} orders at {args.rate}/s, 5 platforms; thread CPU from /proc)")
        n_requests = sum(requests.values())
        print(f"AWS requests per order: {n_requests / args.orders:.1f} "
              f"{ {op: round(n / args.orders, 1) for op, n in sorted(requests.items())} }")
        print(f"  of the CPU per order, inside those requests: {in_requests[0] / args.orders * 1000:.1f} ms "
              f"({in_requests[0] / max(1, n_requests) * 1000:.2f} ms per request: botocore, signing, HTTP); "
              f"everything else (platform calls, planning, threads, logging): "
              f"{(cpu - in_requests[0]) / args.orders * 1000:.1f} ms")
        profiles.by_thread.clear()
        profiles.on = True
        profiled_orders = max(1, args.orders // 2)
        cpu = sum(run(10 + args.orders, profiled_orders))
        print(f"with cProfile on: {cpu / profiled_orders * 1000:.1f} ms per order over {profiled_orders} orders")
        stats = profiles.stats()
        if stats is not None and args.save_profile:
            stats.dump_stats(args.save_profile)
        if stats is not None:
            kinds = by_kind(stats)
            total = sum(kinds.values()) or 1.0
            print("profile (own time by kind, % of profiled):")
            for name, seconds in sorted(kinds.items(), key=lambda kv: -kv[1]):
                print(f"  {name:<28} {seconds / profiled_orders * 1000:6.2f} ms/order  {seconds / total * 100:5.1f}%")
            out = io.StringIO()
            stats.stream = out
            stats.sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(args.top)
            print(out.getvalue())


if __name__ == "__main__":
    main()

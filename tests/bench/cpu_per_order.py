"""CPU per order, per process of the local system, with the AWS requests each call makes.

    python -m tests.bench.cpu_per_order [--n 300] [--drain 10]

Starts `python -m infra.local.cli local --in-memory` as its own process (as `make run` does), warms it, then
makes `--n` calls of each kind one after another from this process over HTTP: a one-line reservation, its
commit, a new Shopify orders/create webhook and a redelivery of it. Before and after each kind it reads every
process's CPU time (user + system) from /proc — the runtime process (gateway, moto, event routing), DynamoDB
Local, and each function's worker containers — after giving the consumers up to `--drain` seconds to go
quiet. Then, in this process on moto, it counts the AWS requests each kind of call makes (botocore layer,
tests/bench/ddb_requests.py) and prints both side by side. Prints figures; asserts nothing (Linux only).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import statistics
import time
import uuid
from collections import defaultdict
from pathlib import Path

import requests

from tests.e2e.runtime_process import RuntimeProcess

SHOP = "cpu-bench.myshopify.com"
SHOP_SECRET = "cpu-bench-webhook-secret"
TICK = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """Every descendant of `pid` (from /proc's parent links)."""
    parents: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents[ppid].append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def _role(pid: int) -> str:
    """A process's part of the system: a function's worker pool, DynamoDB Local, or something else."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return "other"
    if "infra.local._worker" in argv:
        return argv[argv.index("infra.local._worker") + 2] + " workers"
    if any("DynamoDBLocal" in a for a in argv) or (argv and argv[0].endswith("java")):
        return "DynamoDB Local"
    return "other"


def cpu_by_part(runtime_pid: int) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    out["runtime process (gateway, moto, event routing)"] = _cpu_of(runtime_pid)
    for pid in _children(runtime_pid):
        out[_role(pid)] += _cpu_of(pid)
    return dict(out)


def drain(runtime_pid: int, limit_s: float) -> None:
    """Wait until no part of the system used more than 20 ms of CPU in the last half second (or limit_s)."""
    deadline = time.monotonic() + limit_s
    last = cpu_by_part(runtime_pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_by_part(runtime_pid)
        if sum(now.values()) - sum(last.values()) < 0.02:
            return
        last = now


def shopify_order(order_id: int, delivery: str) -> tuple[bytes, dict]:
    body = json.dumps({"id": order_id, "financial_status": "pending", "line_items": [
        {"id": 1, "variant_id": 5, "sku": "CPU-HOT", "quantity": 1}]}).encode()
    signature = base64.b64encode(hmac.new(SHOP_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return body, {"X-Shopify-Topic": "orders/create", "X-Shopify-Hmac-Sha256": signature,
                  "X-Shopify-Webhook-Id": delivery, "X-Shopify-Shop-Domain": SHOP,
                  "X-Shopify-Triggered-At": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "Content-Type": "application/json"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def measure_processes(n: int, drain_s: float) -> tuple[dict[str, dict[str, float]], dict[str, list[float]]]:
    rt = RuntimeProcess("--in-memory").start()
    session = requests.Session()
    session.headers.update(rt.headers)
    run = uuid.uuid4().hex[:6]
    try:
        url = rt.url
        for method, path, body in [
            ("PUT", "/warehouses/WH-CPU", {"name": "CPU bench", "region": "local", "priority": 1}),
            ("PUT", "/skus/CPU-HOT", {"name": "Hot item", "price": 9.9}),
            ("POST", "/stock/receipts", {"warehouse_id": "WH-CPU", "lines": [{"sku": "CPU-HOT", "qty": 100000}],
                                         "reference": f"cpu-{run}"}),
            ("PUT", f"/shops/shopify/{SHOP}", {"webhook_secret": SHOP_SECRET, "shop_domain": SHOP}),
        ]:
            session.request(method, url + path, json=body, timeout=60).raise_for_status()

        def reserve(i: int, tag: str) -> requests.Response:
            return session.post(f"{url}/reservations", timeout=60, json={
                "reservation_id": f"{tag}-{run}-{i}", "channel": "storefront",
                "lines": [{"sku": "CPU-HOT", "qty": 1}]})

        def webhook(i: int, delivery: str) -> requests.Response:
            body, headers = shopify_order(10_000_000 + i, delivery)
            return requests.post(f"{url}/webhooks/shopify/{SHOP}", data=body, headers=headers, timeout=60)

        kinds = {
            "reservation": lambda i: reserve(i, "r"),
            "commit": lambda i: session.post(f"{url}/reservations/r-{run}-{i}/commit", timeout=60),
            "order webhook": lambda i: webhook(i, f"d-{run}-{i}"),          # a new Shopify order
            "redelivery": lambda i: webhook(i, f"d-{run}-{i}"),             # the same delivery again
        }
        for i in range(20):                                   # warm every worker container and code path
            reserve(i, "warm")
            session.post(f"{url}/reservations/warm-{run}-{i}/commit", timeout=60)
            webhook(5_000_000 + i, f"warm-{run}-{i}")
        drain(rt.proc.pid, drain_s)

        per_call: dict[str, dict[str, float]] = {}
        latency: dict[str, list[float]] = {}
        for kind, call in kinds.items():
            before = cpu_by_part(rt.proc.pid)
            times = []
            for i in range(n):
                started = time.perf_counter()
                answer = call(i)
                times.append((time.perf_counter() - started) * 1000)
                if answer.status_code >= 300:
                    raise SystemExit(f"{kind} {i}: HTTP {answer.status_code} {answer.text[:300]}")
            drain(rt.proc.pid, drain_s)
            after = cpu_by_part(rt.proc.pid)
            per_call[kind] = {part: (after.get(part, 0.0) - before.get(part, 0.0)) * 1000 / n for part in after}
            latency[kind] = times
        return per_call, latency
    finally:
        rt.stop() if hasattr(rt, "stop") else rt.kill()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="calls of each kind")
    parser.add_argument("--drain", type=float, default=10.0, help="seconds the consumers get to go quiet")
    args = parser.parse_args(argv)

    per_call, latency = measure_processes(args.n, args.drain)
    from tests.bench import ddb_requests
    requests_per_call = ddb_requests.main(50, quiet=True)

    kinds = list(per_call)
    parts = sorted((p for p in {p for cpu in per_call.values() for p in cpu}
                    if max(per_call[k].get(p, 0.0) for k in kinds) >= 0.05),       # parts that did nothing: left out
                   key=lambda p: -max(per_call[k].get(p, 0.0) for k in kinds))
    width = max(len(p) for p in parts) + 2
    print(f"\nCPU per call (ms), {args.n} calls of each kind one after another, {os.cpu_count()} cores")
    print("".ljust(width) + "".join(k.rjust(16) for k in kinds))
    for part in parts:
        print(part.ljust(width) + "".join(f"{per_call[k].get(part, 0.0):16.1f}" for k in kinds))
    print("total".ljust(width) + "".join(f"{sum(per_call[k].values()):16.1f}" for k in kinds))
    print("latency p50 / p99 (ms)".ljust(width)
          + "".join(f"{statistics.median(latency[k]):.0f} / {percentile(latency[k], 99):.0f}".rjust(16)
                    for k in kinds))
    labels = dict(zip(kinds, ddb_requests.LABELS))
    print("DynamoDB requests per call".ljust(width)
          + "".join(f"{requests_per_call.get(labels[k], {}).get('dynamodb', 0.0):16.2f}" for k in kinds))
    print("other AWS requests per call".ljust(width)
          + "".join(f"{requests_per_call.get(labels[k], {}).get('other', 0.0):16.2f}" for k in kinds))


if __name__ == "__main__":
    main()

"""Flash sale against the local runtime: 120 units, 200 one-unit reservations from 32 threads.

    python -m tests.bench.flash_sale [--units 120] [--orders 200] [--threads 32] [--warmup 200]

Starts `python -m infra.local.cli local --in-memory` (DynamoDB Local, real worker pools), goes through the
HTTP API only, and prints oversold units, throughput and latency. Prints figures; asserts nothing on time.

First `--warmup` reservations of another SKU go through the gateway, not measured (a sale on a running
system meets warm containers and a warm DynamoDB Local). Then it measures the ceiling: DynamoDB Local of the
same runtime alone, the same number of one-unit guarded TransactWriteItems (stock decremented under a
condition, a reservation put if absent, a ledger entry) from the same number of threads, straight from this
process; the sale's throughput is printed as a fraction of that.
"""
from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.bench.cpu_per_order import cpu_by_part, drain
from tests.e2e.runtime_process import RuntimeProcess


CLIENT = "this process (the buyers' HTTP clients)"


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def raw_dynamodb(endpoint: str, units: int, orders: int, threads: int) -> float:
    """Guarded reservations per second that DynamoDB Local itself sustains, with nothing in between."""
    import boto3
    from botocore.config import Config

    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing", config=Config(max_pool_connections=threads))
    table = f"raw-flash-{uuid.uuid4().hex[:6]}"
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}])
    ddb.put_item(TableName=table, Item={"pk": {"S": "stock#FLASH"}, "sk": {"S": "WH"}, "available": {"N": str(units)}})

    def reserve(i: int) -> None:
        try:
            ddb.transact_write_items(TransactItems=[
                {"Update": {"TableName": table, "Key": {"pk": {"S": "stock#FLASH"}, "sk": {"S": "WH"}},
                            "UpdateExpression": "SET available = available - :one",
                            "ConditionExpression": "available >= :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                {"Put": {"TableName": table, "Item": {"pk": {"S": f"resv#{i}"}, "sk": {"S": "-"}},
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"TableName": table, "Item": {"pk": {"S": "ledger#FLASH"}, "sk": {"S": f"{i:08d}"}}}},
            ])
        except ddb.exceptions.TransactionCanceledException:
            pass                          # sold out or a conflict: a refused reservation, as the API's 409

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(reserve, range(orders)))
    return orders / (time.perf_counter() - started)


def _create_sku(url: str, headers: dict, warehouse: str, sku: str, units: int) -> None:
    for method, path, body in [
        ("PUT", f"/skus/{sku}", {"name": "Flash sale item", "price": 19.9}),
        ("POST", "/stock/receipts", {"warehouse_id": warehouse, "lines": [{"sku": sku, "qty": units}],
                                     "reference": f"receipt-{sku}"}),
    ]:
        resp = requests.request(method, url + path, json=body, headers=headers, timeout=60)
        resp.raise_for_status()


def run(units: int, orders: int, threads: int, warmup: int = 0) -> dict:
    rt = RuntimeProcess("--in-memory").start()
    try:
        url, headers = rt.url, rt.headers
        run_id = uuid.uuid4().hex[:6]
        sku, warehouse = f"FLASH-{run_id}", f"WH-FLASH-{run_id}"
        resp = requests.put(f"{url}/warehouses/{warehouse}", headers=headers, timeout=60,
                            json={"name": "Flash warehouse", "region": "local", "priority": 1})
        resp.raise_for_status()
        _create_sku(url, headers, warehouse, sku, units)

        local = threading.local()

        def reserve(i: int, item: str = sku, prefix: str = "flash") -> tuple[int, float]:
            session = getattr(local, "session", None) or requests.Session()
            local.session = session
            started = time.perf_counter()
            resp = session.post(f"{url}/reservations", headers=headers, timeout=120, json={
                "reservation_id": f"{prefix}-{run_id}-{i}", "channel": "storefront",
                "lines": [{"sku": item, "qty": 1}]})
            return resp.status_code, (time.perf_counter() - started) * 1000

        if warmup:
            # A sale on another SKU first, so that the measured one meets warm containers (their clients made,
            # their caches filled) and a warm DynamoDB Local, as a sale on a running system does.
            _create_sku(url, headers, warehouse, f"WARM-{run_id}", warmup)
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(lambda i: reserve(i, f"WARM-{run_id}", "warm"), range(warmup)))
        raw_per_s = raw_dynamodb(f"http://127.0.0.1:{rt.ddb_port()}", units, orders, threads)
        drain(rt.proc.pid, 10)
        cpu_before, client_before = cpu_by_part(rt.proc.pid), _own_cpu()
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(reserve, range(orders)))
        elapsed = time.perf_counter() - started
        cpu_during, client_after = cpu_by_part(rt.proc.pid), _own_cpu()
        drain(rt.proc.pid, 10)         # the sale's pushes and alerts are its cost too
        cpu_after = cpu_by_part(rt.proc.pid)
        cpu_ms = {part: (cpu_after[part] - cpu_before.get(part, 0.0)) * 1000 / orders for part in cpu_after}
        cpu_ms[CLIENT] = (client_after - client_before) * 1000 / orders
        busy_s = sum(cpu_during.values()) - sum(cpu_before.values()) + client_after - client_before

        stock = requests.get(f"{url}/skus/{sku}/stock", headers=headers, timeout=60).json()
        latencies = [ms for _, ms in results]
        held = sum(1 for status, _ in results if status == 201)
        refused = sum(1 for status, _ in results if status == 409)
        return {
            "units": units, "orders": orders, "threads": threads,
            "held": held, "refused": refused, "errors": orders - held - refused,
            "oversold": max(0, held - units),
            "final_available": sum(w["available"] for w in stock["warehouses"]),
            "final_reserved": sum(w["reserved"] for w in stock["warehouses"]),
            "elapsed_s": elapsed, "requests_per_s": orders / elapsed, "held_per_s": held / elapsed,
            "p50_ms": statistics.median(latencies), "p99_ms": percentile(latencies, 99),
            "max_ms": max(latencies), "raw_per_s": raw_per_s, "cpu_ms": cpu_ms,
            "cores_busy": busy_s / elapsed, "cores": os.cpu_count(), "warmup": warmup,
        }
    finally:
        rt.stop()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=120)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=200,
                        help="reservations of another SKU made first, not measured (0: measure a cold runtime)")
    args = parser.parse_args(argv)
    r = run(args.units, args.orders, args.threads, args.warmup)
    print(f"flash sale: {r['units']} units, {r['orders']} one-unit reservations from {r['threads']} threads "
          f"(local runtime, DynamoDB Local in memory; {r['warmup']} reservations of another SKU first)")
    print(f"  held {r['held']}  refused (409) {r['refused']}  other errors {r['errors']}")
    print(f"  oversold units: {r['oversold']}   final available: {r['final_available']}   "
          f"final reserved: {r['final_reserved']}")
    print(f"  {r['requests_per_s']:.1f} reservation requests/s ({r['held_per_s']:.1f} held/s) over "
          f"{r['elapsed_s']:.2f} s")
    print(f"  latency p50 {r['p50_ms']:.0f} ms  p99 {r['p99_ms']:.0f} ms  max {r['max_ms']:.0f} ms")
    print(f"  DynamoDB Local alone: {r['raw_per_s']:.1f} guarded transactions/s from {r['threads']} threads; "
          f"through the gateway {r['requests_per_s'] / r['raw_per_s']:.2f} of that")
    print("  CPU per reservation request (ms), by process, the sale and what followed it:")
    for part, ms in sorted(r["cpu_ms"].items(), key=lambda kv: -kv[1]):
        if ms >= 0.05:
            print(f"    {part:<50} {ms:6.1f}")
    print(f"    {'total':<50} {sum(r['cpu_ms'].values()):6.1f}")
    print(f"  during the sale: {r['cores_busy']:.2f} of {r['cores']} cores busy (all processes, buyers included)")


if __name__ == "__main__":
    main()

"""AWS requests made by one channel_push batch, by operation: stock changes of 1, 4 and 10 SKUs, each
listed on the five simulated platforms, merged into one handle_events call; each first for SKUs the
container has not pushed ("new": their listings are read) and then again ("again": listings kept under the
catalog's listings version, logic/sync/config.py).

    python -m tests.bench.push_requests [--detail]    (--detail: every request with its table and keys)

Starts the local runtime (DynamoDB Local, moto; in memory) and the simulators, seeds the demo catalogue,
stops the bus (so the runtime's own channel_push does not push first), then changes stock through the
staff API and runs batch.handle_events in this process, counting calls at the botocore layer.
Prints figures; asserts nothing.
"""
from __future__ import annotations

import collections
import contextlib
import os
import sys
import time
from typing import Iterator

import botocore.client

from infra import topology
from infra.local.demo.client import Api, Sandbox, start_sandbox
from infra.local.demo.measure import wait_in_sync
from infra.local.demo.seed import demo_stock, seed
from infra.local.runtime import LocalRuntime
from infra.local.workers import function_environment
from tests.e2e.runtime_process import free_port


def _describe(params: dict) -> str:
    """Table and key attributes of a DynamoDB request, short."""
    def key(k):
        return "/".join(str(next(iter(v.values()))) for v in (k or {}).values())
    if "RequestItems" in params:
        return "; ".join(f"{t}: {[key(k) for k in (v.get('Keys') or [])]}" for t, v in params["RequestItems"].items())
    if "TransactItems" in params:
        return "; ".join(f"{op} {body.get('TableName')} {key(body.get('Key') or {})}"
                         for item in params["TransactItems"] for op, body in item.items())
    return f"{params.get('TableName', params.get('QueueUrl', ''))} {key(params.get('Key'))} " \
           f"{params.get('IndexName', '')} {params.get('KeyConditionExpression', '')}"


@contextlib.contextmanager
def channel_push_world() -> Iterator[tuple[Api, object]]:
    """The local runtime with the demo's 20 SKUs listed on the five simulators and in sync; this process set
    up as a channel_push container (its environment), the runtime's own event routing stopped so only the
    bench pushes. Yields (the staff API client, the seeded catalogue)."""
    runtime = LocalRuntime(port=free_port(), in_memory=True, dev_token="bench-token", relay=None)
    server = None
    try:
        runtime.start()
        runtime.wait_healthy(90)
        server, base = start_sandbox(0)
        api, sandbox = Api(runtime.url, runtime.dev_token), Sandbox(base)
        catalog = seed(api, sandbox, demo_stock(20, 400))
        wait_in_sync(api, sandbox, catalog, timeout=120)
        push_fn = next(f for f in topology.FUNCTIONS if f.name == "channel_push")
        os.environ.update(function_environment(push_fn, ddb_endpoint=runtime.ddb.endpoint_url,
                                               aws_endpoint=runtime.moto.endpoint_url))
        runtime.bus.stop()
        yield api, catalog
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        runtime.stop()


def main(argv: list[str] | None = None) -> None:
    with channel_push_world() as (api, catalog):
        from stocklink.logic.sync import batch
        from stocklink.time import now_ms

        warehouse = api.call("GET", "/warehouses")["warehouses"][0]["warehouse_id"]
        skus = [s for s in catalog.skus if s != "DEMO-FLASH"]
        calls: collections.Counter = collections.Counter()
        original = botocore.client.BaseClient._make_api_call

        detail = "--detail" in (argv or [])

        def counting(self, operation, params):
            calls[operation] += 1
            if detail:
                print(f"    {operation:<18} {_describe(params)}")
            return original(self, operation, params)

        def changed(chosen):
            events = []
            for sku in chosen:
                api.call("POST", "/stock/adjustments", {"warehouse_id": warehouse, "sku": sku, "delta": -1,
                                                        "reason": "damaged"})
                events.append({"detail-type": "stock.changed", "source": "stocklink", "detail": {"sku": sku},
                               "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
            return events

        batch.handle_events(changed(skus[-1:]), now_ms)      # warm: connections, caches
        offset = 0
        for k in (1, 4, 10):
            chosen = skus[offset:offset + k]
            offset += k
            # first SKUs this container has not pushed yet, then the same SKUs again (their listings cached)
            for label, events in (("new", changed(chosen)), ("again", None)):
                events = events or changed(chosen)
                time.sleep(1.1)               # a fresh call window for every shop
                calls.clear()
                botocore.client.BaseClient._make_api_call = counting
                started = time.perf_counter()
                result = batch.handle_events(events, now_ms)
                elapsed = time.perf_counter() - started
                botocore.client.BaseClient._make_api_call = original
                dynamodb = {op: n for op, n in sorted(calls.items()) if op != "ReceiveMessage"}
                print(f"{k:>2} SKUs x 5 shops ({label:<5}): {sum(dynamodb.values())} AWS requests {dynamodb}; "
                      f"{result.report.pushed} listings pushed in {result.report.calls} platform calls; "
                      f"{elapsed * 1000:.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])

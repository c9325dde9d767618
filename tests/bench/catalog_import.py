"""A catalogue import of --skus SKUs x --warehouses warehouses (one column per warehouse): the dry run (one
POST), the apply (imports_run invocations, continued on the bus) and a second dry run of the same sheet (all
unchanged); wall time and AWS requests (DynamoDB, EventBridge) of each, counted at the botocore layer.

Run: PYTHONPATH=shared:. .venv/bin/python tests/bench/catalog_import.py [--skus 10000] [--warehouses 3] [--moto]
The handlers run in this process against DynamoDB Local (started here; events are captured, not sent; the
tokens secret on moto). --moto puts the tables on moto instead: its TransactWriteItems copies whole tables and
costs seconds per chunk at this size, so only its request counts mean anything.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import time

sys.path[:0] = ["shared", "."]
import tests.conftest  # noqa: E402,F401  (fake credentials, table names, moto patches)

os.environ.update({"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"})

import botocore.client  # noqa: E402

CALLS: collections.Counter = collections.Counter()
_original = botocore.client.BaseClient._make_api_call


def _counting(self, operation_name, api_params):
    CALLS[f"{self.meta.service_model.service_name}:{operation_name}"] += 1
    return _original(self, operation_name, api_params)


def report(label: str, seconds: float) -> None:
    for key in [k for k in CALLS if k.startswith("sqs:")]:
        del CALLS[key]                  # the test harness reading the bus back, not StockLink
    total = sum(CALLS.values())
    top = ", ".join(f"{k} {v}" for k, v in CALLS.most_common(6))
    print(f"{label:28} {seconds:8.1f} s  {total:7d} requests  ({top})", flush=True)
    CALLS.clear()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--warehouses", type=int, default=3)
    parser.add_argument("--moto", action="store_true", help="tables on moto instead of DynamoDB Local")
    args = parser.parse_args()
    if args.moto:
        return run(args, None)
    from infra.local.dynamodb_local import DynamoDBLocal
    with DynamoDBLocal() as ddb:
        run(args, ddb.endpoint_url)


def run(args, endpoint: str | None) -> None:
    from functions.imports_api.handler import handler as imports_api
    from functions.imports_run.handler import handler as imports_run
    from functions.staff_api.handler import handler as staff_api
    from infra.local.api_cli import split_parts
    from stocklink import events
    from tests.integration.apigw import ApiClient
    from tests.integration.conftest import STAFF_TOKEN, moto_env
    from tests.integration.test_catalog_import import ShortContext

    warehouses = [f"wh-{n}" for n in range(args.warehouses)]
    text = "sku,name,barcode,category,price,unit cost," + ",".join(warehouses) + "\n" + "".join(
        f"S{i:06d},Product {i},69{i:011d},cat{i % 20},{10 + i % 9}.5,{3 + i % 4},"
        + ",".join(str((i + w) % 50 + 1) for w in range(args.warehouses)) + "\n" for i in range(args.skus))
    parts = split_parts(text)
    print(f"{args.skus} SKUs x {args.warehouses} warehouses: {len(text.encode()) / 1e6:.2f} MB CSV in "
          f"{len(parts)} part(s)", flush=True)
    with moto_env() as bus:
        published = _tables_on(endpoint) if endpoint else None
        staff, api = ApiClient(staff_api, STAFF_TOKEN), ApiClient(imports_api, STAFF_TOKEN)
        for n, wid in enumerate(warehouses):
            staff.put(f"/warehouses/{wid}", {"name": wid, "priority": n})
        botocore.client.BaseClient._make_api_call = _counting

        def dry_run() -> dict:
            job: dict = {}
            for number, (part, first) in enumerate(parts, start=1):
                query = {"parts": str(len(parts)), "part": str(number), "first_line": str(first),
                         **({"import_id": job["import_id"]} if job else {})}
                job = api.post("/imports/catalog", raw=part.encode(), query=query).body
            return job

        CALLS.clear()
        start = time.perf_counter()
        job = dry_run()
        report(f"dry run ({job['progress']['chunks']} chunks)", time.perf_counter() - start)
        start = time.perf_counter()
        api.post(f"/imports/{job['import_id']}/apply", {"accept_adjustments": "all"})
        invocations = 0
        def pending_runs() -> list[dict]:
            if published is None:
                return [e for e in bus.drain() if e["detail-type"] == events.IMPORT_REQUESTED]
            found = [{"detail": d} for t, d in published if t == events.IMPORT_REQUESTED]
            published.clear()
            return found

        while pending := pending_runs():
            for event in pending:
                imports_run(event, ShortContext(100))      # ~100 chunks per invocation, then it continues
                invocations += 1
        status = api.get(f"/imports/{job['import_id']}").body["status"]
        report(f"apply ({invocations} runs, {status})", time.perf_counter() - start)
        start = time.perf_counter()
        again = dry_run()
        report(f"second dry run ({again['summary']['unchanged_skus']} same)", time.perf_counter() - start)


def _tables_on(endpoint: str) -> list:
    """Every store model on DynamoDB Local with fresh tables; bus events captured into the returned list."""
    import boto3

    from infra.local.provision import create_tables
    from stocklink import bus
    from tests.concurrency.conftest import ALL_MODELS

    client = boto3.client("dynamodb", endpoint_url=endpoint)
    for name in client.list_tables()["TableNames"]:
        client.delete_table(TableName=name)
    create_tables(client)
    for model in ALL_MODELS:
        model.Meta.host = endpoint
        model._connection = None
    published: list = []
    bus.publish_returning_failed = lambda detail_type, details: published.extend(
        (detail_type, d) for d in details) or []
    return published


if __name__ == "__main__":
    main()

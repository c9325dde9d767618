"""What one stock board page costs for a large catalogue: 10,000 SKUs x 2 warehouses on DynamoDB Local.

    PYTHONPATH=shared:. .venv/bin/python tests/bench/board_page.py [--skus 10000] [--warehouses 2] [--runs 5]

Starts DynamoDB Local in memory (infra.local.dynamodb_local), seeds the catalogue (a SKU document each), the
stock items and the forecast's plan facts with BatchWriteItem, then asks for board pages through the logic
layer (stocklink.logic.board.stock_board: every read and the assembly, no HTTP) and prints each page's time
(first: fresh clients and thread pool; warm: median of --runs, each reading again unless noted) and its
DynamoDB requests, counted at the botocore layer. Prints figures; asserts nothing on time (the machine's
load moves them: DynamoDB Local answers a 5,000-item scan page in ~0.6 s here, real DynamoDB in ~0.1 s).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import statistics
import sys
import time

os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_REGION": "us-east-1", "POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"})
sys.path[:0] = ["shared", "."]

import boto3  # noqa: E402
import botocore.client  # noqa: E402

CALLS: collections.Counter = collections.Counter()
_original = botocore.client.BaseClient._make_api_call


def _counting(self, operation, params):
    if self.meta.service_model.service_name == "dynamodb":
        CALLS[operation] += 1
    return _original(self, operation, params)


def _batch_put(client, table: str, items: list[dict]) -> None:
    for start in range(0, len(items), 25):
        request = {table: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or None


def seed(client, skus: int, warehouses: int) -> None:
    from stocklink.store import keys
    from stocklink.store.models import CatalogItem, StockItem
    from stocklink.store.sales_models import ForecastItem

    rng = random.Random(16)
    catalog, stock, plans = [], [], []
    for w in range(warehouses):
        catalog.append({"pk": {"S": keys.WAREHOUSE}, "sk": {"S": f"wh-{w}"},
                        "data": {"S": json.dumps({"warehouse_id": f"wh-{w}", "name": f"Warehouse {w}", "priority": w})}})
    for n in range(skus):
        sku = f"SKU-{n:06d}"
        catalog.append({"pk": {"S": keys.SKU}, "sk": {"S": sku}, "data": {"S": json.dumps(
            {"sku": sku, "name": f"Product {n} colour {n % 17} size {n % 5}", "price": 19.9, "unit_cost": 6.5,
             "category": f"cat-{n % 40}"})}})
        for w in range(warehouses):
            on_hand = rng.choice([0, 3, 12, 40, 150, 900])
            reserved = min(on_hand, rng.randint(0, 5))
            stock.append({"sku": {"S": sku}, "warehouse_id": {"S": f"wh-{w}"}, "on_hand": {"N": str(on_hand)},
                          "reserved": {"N": str(reserved)}, "available": {"N": str(on_hand - reserved)},
                          "in_transit": {"N": str(rng.choice([0, 0, 0, 20]))}, "version": {"N": "1"},
                          "updated_at": {"N": "1700000000000"}})
        if n % 4:                                       # three in four SKUs have been forecast
            plans.append({"pk": {"S": keys.PLAN_PK}, "sk": {"S": sku}, "data": {"S": json.dumps(
                {"d": round(rng.uniform(0.1, 8), 4), "ss": round(rng.uniform(0, 30), 3),
                 "abc": rng.choice("ABC")})}})
    _batch_put(client, CatalogItem.Meta.table_name, catalog)
    _batch_put(client, StockItem.Meta.table_name, stock)
    _batch_put(client, ForecastItem.Meta.table_name, plans)


def measure(label: str, query: dict, runs: int, cached: bool = False) -> dict:
    """`cached`: the container's reads kept from the call before (the next page within READ_SECONDS);
    otherwise every run reads again, as a page after READ_SECONDS or in another container does."""
    from stocklink.logic import board
    from stocklink.store import board as board_store

    times, first_ms = [], None
    for run in range(runs + 1):
        if not cached:
            board_store._reads.forget()
        CALLS.clear()
        started = time.perf_counter()
        body = board.stock_board(query)
        elapsed = (time.perf_counter() - started) * 1000
        if run == 0:
            first_ms, requests = elapsed, dict(CALLS)
        else:
            times.append(elapsed)
    print(f"{label:<44} first {first_ms:7.0f} ms, warm median {statistics.median(times):6.0f} ms; "
          f"{sum(requests.values())} DynamoDB requests ({', '.join(f'{k} {v}' for k, v in sorted(requests.items()))}); "
          f"{len(body['rows'])} rows of {body['total']}, counts {body['counts']}")
    return body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--warehouses", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from infra.local.dynamodb_local import DynamoDBLocal
    from infra.local.provision import create_tables
    from tests.concurrency.conftest import ALL_MODELS

    with DynamoDBLocal() as ddb:
        for model in ALL_MODELS:
            model.Meta.host = ddb.endpoint_url
            model._connection = None
        client = boto3.client("dynamodb", endpoint_url=ddb.endpoint_url)
        create_tables(client)
        started = time.perf_counter()
        seed(client, args.skus, args.warehouses)
        print(f"seeded {args.skus} SKUs x {args.warehouses} warehouses in {time.perf_counter() - started:.0f} s "
              f"(DynamoDB Local, in memory)")
        botocore.client.BaseClient._make_api_call = _counting
        first = measure("first page (100 rows, by SKU)", {}, args.runs)
        measure("next page, reads kept (within READ_SECONDS)", {"cursor": first["next"]}, args.runs, cached=True)
        measure("sort=days_of_cover desc, limit=50", {"sort": "days_of_cover", "order": "desc", "limit": "50"},
                args.runs)
        measure("warehouse_id=wh-1 status=low", {"warehouse_id": "wh-1", "status": "low"}, args.runs)
        measure("q=colour 3 abc=A", {"q": "colour 3", "abc": "A"}, args.runs)
        botocore.client.BaseClient._make_api_call = _original


if __name__ == "__main__":
    main()

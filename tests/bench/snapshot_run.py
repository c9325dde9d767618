"""How long a daily snapshot run and a report take for a large catalogue, against DynamoDB Local.

Run: PYTHONPATH=shared:. .venv/bin/python -m tests.bench.snapshot_run [--skus 10000] [--warehouses 3]
Seeds SKUs (cost, price), their stock in every warehouse and one day's sales counters, snapshots two
consecutive days (the second carries the first's running sums), then asks for the turnover report over
both days: its first page (reads two day partitions) and its second (the container's cache). Prints
times, rows written, DynamoDB requests; never fails on time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time

os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_REGION": "us-east-1", "POWERTOOLS_LOG_LEVEL": "WARNING", "EVENT_BUS_NAME": "stocklink"})
sys.path[:0] = ["shared", "."]

import boto3  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--warehouses", type=int, default=3)
    args = parser.parse_args()
    from infra.local.dynamodb_local import DynamoDBLocal
    from infra.local.provision import create_tables
    from tests.concurrency.conftest import ALL_MODELS

    with DynamoDBLocal() as ddb:
        create_tables(boto3.client("dynamodb", endpoint_url=ddb.endpoint_url))
        for model in ALL_MODELS:
            model.Meta.host = ddb.endpoint_url
            model._connection = None
        from stocklink.logic import reports, snapshots
        from stocklink.store.keys import SKU, WAREHOUSE, sales_pk
        from stocklink.store.models import CatalogItem, StockItem
        from stocklink.store.sales_models import ForecastItem

        days = ["2026-06-01", "2026-06-02"]
        warehouses = [f"wh-{i}" for i in range(args.warehouses)]
        started = time.perf_counter()
        with CatalogItem.batch_write() as catalog, StockItem.batch_write() as stock, \
                ForecastItem.batch_write() as counters:
            for wh in warehouses:
                catalog.save(CatalogItem(WAREHOUSE, wh, data={"name": wh, "priority": 1}))
            for n in range(args.skus):
                sku = f"SKU-{n:06d}"
                catalog.save(CatalogItem(SKU, sku, data={"sku": sku, "name": sku, "price": 10 + n % 7,
                                                         "unit_cost": 4 + n % 5}))
                for i, wh in enumerate(warehouses):
                    on_hand = (n * 7 + i) % 40
                    stock.save(StockItem(sku, wh, on_hand=on_hand, reserved=0, available=on_hand, in_transit=0))
                if n % 3 == 0:
                    for day in days:
                        for pk in (sales_pk(sku), sales_pk(sku, warehouse_id=warehouses[0])):
                            counters.save(ForecastItem(pk, day, qty=n % 4 + 1, lines=1))
        print(f"seeded {args.skus:,} SKUs x {args.warehouses} warehouses in {time.perf_counter() - started:.1f} s")

        calls = {"n": 0}

        def count(**_):
            calls["n"] += 1

        for model in {m._get_connection().connection for m in ALL_MODELS}:
            model.client.meta.events.register("before-call.dynamodb", count)
        for day in days:
            calls["n"] = 0
            started, cpu = time.perf_counter(), time.process_time()
            state = snapshots.run(f"daily-{day}", snapshots.day_start_ms(day) + snapshots.DAY_MS + 600_000)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            print(f"snapshot {day}: {state['skus']:,} SKUs, {state['rows']:,} rows in {wall:.1f} s "
                  f"({state['rows'] / wall:,.0f} rows/s; this process's CPU {cpu:.1f} s), "
                  f"{calls['n']:,} DynamoDB requests, {state['pages']} pages")
        for label in ("first page", "second page (cached partitions)"):
            calls["n"] = 0
            started = time.perf_counter()
            answer = reports.report("turnover", {"from": days[0], "to": days[1], "limit": "100"},
                                    dt.date.fromisoformat(days[1]))
            print(f"GET /reports/turnover, {label}: {1000 * (time.perf_counter() - started):.0f} ms, "
                  f"{answer['total_rows']:,} SKUs ranked, {calls['n']} DynamoDB requests, "
                  f"summary {answer['summary']['value']}")


if __name__ == "__main__":
    main()

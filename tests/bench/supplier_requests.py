"""DynamoDB requests per supplier call, counted at the botocore layer (moto backend), and the wall time of each
in-process call (moto's, so only a relative figure).

Run: PYTHONPATH=shared:. .venv/bin/python tests/bench/supplier_requests.py [--suppliers 5] [--skus 200]
A SKU quoted by --suppliers suppliers, each with 24 receipts; a page of --skus SKUs whose terms the forecast
run and GET /replenishment read (terms_for), half of them still on the old named settings (migrate_legacy).
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import time

os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_REGION": "us-east-1", "POWERTOOLS_LOG_LEVEL": "ERROR", "EVENT_BUS_NAME": "stocklink",
                   "POWERTOOLS_METRICS_DISABLED": "true"})
sys.path[:0] = ["shared", "."]

import boto3  # noqa: E402
import botocore.client  # noqa: E402
from moto import mock_aws  # noqa: E402

CALLS: collections.Counter = collections.Counter()
_original = botocore.client.BaseClient._make_api_call
DAY_MS = 86_400_000
T0 = 1_775_000_000_000            # 2026-03-31


def _counting(self, operation_name, api_params):
    CALLS[f"{self.meta.service_model.service_name}:{operation_name}"] += 1
    return _original(self, operation_name, api_params)


def measure(label: str, action, n: int = 1) -> None:
    CALLS.clear()
    start = time.perf_counter()
    for i in range(n):
        action(i)
    elapsed_ms = (time.perf_counter() - start) * 1000 / n
    ops = {k.split(":")[1]: v / n for k, v in sorted(CALLS.items()) if k.startswith("dynamodb:")}
    detail = ", ".join(f"{op} {v:g}" for op, v in ops.items())
    print(f"{label}: {sum(ops.values()):g} DynamoDB requests ({detail}); {elapsed_ms:.1f} ms on moto")


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("--suppliers", type=int, default=5)
    args.add_argument("--skus", type=int, default=200)
    opts = args.parse_args()
    from infra.local.provision import create_tables

    with mock_aws():
        create_tables(boto3.client("dynamodb"))
        boto3.client("secretsmanager").create_secret(Name="stocklink/api-tokens", SecretString='{"tokens": {}}')
        from stocklink.logic import suppliers
        from stocklink.store import catalog
        from stocklink.store.keys import SUPPLIER_PK
        from stocklink.store.sales_models import ForecastItem

        skus = [f"SKU-{i:04d}" for i in range(opts.skus)]
        for sku in skus:
            catalog.put_sku(sku, {"sku": sku, "name": sku}, T0)
        botocore.client.BaseClient._make_api_call = _counting
        body = suppliers.SupplierRecordIn(name="Acme", currency="CNY", lead_time_days=10, moq=50)
        quote = suppliers.QuoteIn.model_validate({"price_breaks": [{"min_qty": 50, "unit_price": 4.0}]})
        ids = [f"sup-{n}" for n in range(opts.suppliers)]
        measure("PUT /suppliers/{id}", lambda i: suppliers.put_supplier(ids[i], body, T0), len(ids))
        measure("PUT /suppliers/{id}/quotes/{sku}", lambda i: suppliers.put_quote(ids[i], skus[0], quote, T0),
                len(ids))

        def receipt(i: int) -> None:
            sid = ids[i % len(ids)]
            ordered = T0 - (i % 300) * DAY_MS - 20 * DAY_MS
            suppliers.record_receipt(sid, skus[0], ordered, "2026-01-01", ordered + (8 + i % 7) * DAY_MS, 100,
                                     i % 3, 4.0, reference=f"R-{i}")
        measure("record_receipt (one receipt)", receipt, 24 * len(ids))
        measure("GET /suppliers/{id}/scorecard", lambda i: suppliers.scorecard(ids[0], T0), 10)
        measure(f"GET /skus/{{sku}}/suppliers ({len(ids)} suppliers)",
                lambda i: suppliers.sku_suppliers(skus[0], None, T0), 10)

        for n, sku in enumerate(skus):     # half the page on the old settings, half on chosen suppliers
            if n % 2:
                ForecastItem(SUPPLIER_PK, sku, data={"sku": sku, "supplier": f"Old {n % 7}", "lead_time_days": 9.0,
                                                     "moq": 10}, updated_at=T0).save()
            else:
                suppliers.put_quote(ids[n % len(ids)], sku, quote, T0)
        measure(f"terms_for({len(skus)} SKUs, half not migrated)", lambda i: suppliers.terms_for(skus))
        measure(f"migrate_legacy({len(skus)} SKUs, {len(skus) // 2} to migrate)",
                lambda i: suppliers.migrate_legacy(skus, T0))
        measure(f"migrate_legacy({len(skus)} SKUs, none left)", lambda i: suppliers.migrate_legacy(skus, T0))
        measure(f"terms_for({len(skus)} SKUs, all migrated)", lambda i: suppliers.terms_for(skus))
        botocore.client.BaseClient._make_api_call = _original


if __name__ == "__main__":
    main()

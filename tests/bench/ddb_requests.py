"""DynamoDB requests per reservation and per webhook, counted at the botocore layer (moto backend).

Run: PYTHONPATH=shared:. .venv/bin/python tests/bench/ddb_requests.py
Counts every AWS API call the handler makes, by service and operation, averaged over N orders.
"""
from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import json
import os
import sys
import time

os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_REGION": "us-east-1", "POWERTOOLS_LOG_LEVEL": "ERROR", "EVENT_BUS_NAME": "stocklink",
                   "POWERTOOLS_METRICS_DISABLED": "true"})  # request counts only: no EMF lines on stdout
sys.path[:0] = ["shared", "."]

import boto3  # noqa: E402
import botocore.client  # noqa: E402
from moto import mock_aws  # noqa: E402

CALLS: collections.Counter = collections.Counter()
_original = botocore.client.BaseClient._make_api_call


def _counting(self, operation_name, api_params):
    CALLS[f"{self.meta.service_model.service_name}:{operation_name}"] += 1
    return _original(self, operation_name, api_params)


# What main() measures, in order (tests/bench/cpu_per_order.py prints the figures beside its CPU table).
LABELS = ("POST /reservations (1 line, 1 warehouse)", "POST /reservations/{id}/commit",
          "Shopify orders/create webhook", "Shopify orders/create redelivery (duplicate)")


def _measure(label: str, n: int, action, results: dict, quiet: bool) -> None:
    CALLS.clear()
    for i in range(n):
        action(i)
    per = {k: v / n for k, v in sorted(CALLS.items())}
    ddb = sum(v for k, v in per.items() if k.startswith("dynamodb:"))
    results[label] = {"dynamodb": ddb, "other": sum(per.values()) - ddb}
    if quiet:
        return
    ddb_ops = ", ".join(f"{k.split(':')[1]} {v:.2f}" for k, v in per.items() if k.startswith("dynamodb:"))
    others = ", ".join(f"{k} {v:.2f}" for k, v in per.items() if not k.startswith("dynamodb:")) or "none"
    print(f"{label}: {ddb:.2f} DynamoDB requests per call ({ddb_ops}); other AWS calls: {others}")


def main(n: int = 50, quiet: bool = False) -> dict[str, dict[str, float]]:
    """AWS requests per call of each kind in LABELS: {"dynamodb": n, "other": n}."""
    results: dict[str, dict[str, float]] = {}
    from infra.local.provision import create_tables
    from tests.integration.apigw import ApiClient

    with mock_aws():
        create_tables(boto3.client("dynamodb"))
        boto3.client("events").create_event_bus(Name="stocklink")
        boto3.client("secretsmanager").create_secret(Name="stocklink/api-tokens", SecretString=json.dumps(
            {"tokens": {"t": {"name": "bench", "roles": ["admin"]}}}))
        from functions.staff_api.handler import handler as staff_handler
        from functions.storefront_api.handler import handler as storefront_handler
        from functions.webhook_ingest.handler import handler as webhook_handler
        staff, storefront, hooks = ApiClient(staff_handler, "t"), ApiClient(storefront_handler, "t"), ApiClient(webhook_handler, None)
        staff.put("/warehouses/wh-a", {"name": "A", "priority": 1})
        staff.put("/skus/HOT", {"name": "hot"})
        staff.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "HOT", "qty": 100000}], "reference": "PO"})
        staff.put("/shops/shopify/bench.myshopify.com", {"webhook_secret": "s"})
        storefront.post("/reservations", {"reservation_id": "warm", "channel": "web", "lines": [{"sku": "HOT", "qty": 1}]})

        botocore.client.BaseClient._make_api_call = _counting
        _measure(LABELS[0], n, lambda i: storefront.post("/reservations", {
            "reservation_id": f"r{i}", "channel": "web", "lines": [{"sku": "HOT", "qty": 1}]}), results, quiet)
        _measure(LABELS[1], n, lambda i: storefront.post(f"/reservations/r{i}/commit"), results, quiet)

        def webhook(i, topic="orders/create", delivery="d"):
            body = json.dumps({"id": i, "financial_status": "pending", "line_items": [
                {"id": 1, "variant_id": 5, "sku": "HOT", "quantity": 1}]}).encode()
            sig = base64.b64encode(hmac.new(b"s", body, hashlib.sha256).digest()).decode()
            hooks.post("/webhooks/shopify/bench.myshopify.com", raw=body, headers={
                "X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": sig, "X-Shopify-Webhook-Id": f"{delivery}{i}",
                "X-Shopify-Shop-Domain": "bench.myshopify.com",
                "X-Shopify-Triggered-At": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        _measure(LABELS[2], n, webhook, results, quiet)
        _measure(LABELS[3], n, lambda i: webhook(i, delivery="again"), results, quiet)
        botocore.client.BaseClient._make_api_call = _original
    return results


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)

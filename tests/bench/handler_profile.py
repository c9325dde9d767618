"""Handler CPU per call, in-process, against DynamoDB Local (EventBridge and Secrets Manager on moto).

Run: PYTHONPATH=shared:. .venv/bin/python -m tests.bench.handler_profile [--n 300] [--top 25] [--sort tottime]
CPU is this process's time.process_time(), so DynamoDB Local's own work (another process, the JVM) is not
counted; moto's EventBridge PutEvents is, and is shown apart (its share of the profile) so it can be
subtracted. DynamoDB Local's requests pass moto's botocore hook as passthrough URLs (otherwise each was matched
against every AWS service's URL patterns: ~1 ms of a reservation that no Lambda pays). On a shared machine
the per-call CPU moves by 1-2 ms from run to run: compare interleaved runs, and the profile's function-call
counts, which do not move. Prints per-call CPU for a storefront reservation, its commit, a new Shopify order and its
redelivery, then the top cumulative entries of a cProfile of the reservations and of the webhooks, grouped
into: serialisation, validation, pynamodb conversion, logging/metrics, boto3/botocore, moto.
"""
from __future__ import annotations

import argparse
import base64
import cProfile
import hashlib
import hmac
import io
import json
import os
import pstats
import sys
import time

os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_REGION": "us-east-1", "POWERTOOLS_LOG_LEVEL": "INFO", "EVENT_BUS_NAME": "stocklink"})
sys.path[:0] = ["shared", "."]

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

GROUPS = {  # profile entries (file path fragments) by what they spend CPU on
    "moto (stand-in for EventBridge/Secrets; not the handler's on AWS)": ("/moto/",),
    # the HTTP exchange below botocore: urllib3, http.client and the email module it parses headers with
    "HTTP (urllib3, http.client, email headers, socket)": ("/urllib3/", "/http/client.py", "/email/", "/socket.py"),
    "boto3/botocore (client set-up, request signing, serialising, parsing)": ("/botocore/", "/boto3/"),
    "pynamodb model conversion": ("/pynamodb/",),
    "validation (pydantic)": ("/pydantic/", "/pydantic_core/"),
    "logging/metrics (powertools)": ("/aws_lambda_powertools/logging", "/aws_lambda_powertools/metrics",
                                     "/logging/"),
    "serialisation (json)": ("/json/",),
}


def _webhook_body(i: int) -> bytes:
    return json.dumps({"id": i, "financial_status": "pending", "line_items": [
        {"id": 1, "variant_id": 5, "sku": "HOT", "quantity": 1}]}).encode()


def _dynamodb_local_passes_through(endpoint_url: str) -> dict:
    """moto's botocore hook sees every request of the process: without this, each DynamoDB request was
    matched against every AWS service's URL patterns (~1.5 ms per call, none of it the handler's on AWS)."""
    import re

    return {"core": {"passthrough": {"urls": [re.escape(endpoint_url) + ".*"]}}}


def _group_times(stats: pstats.Stats) -> dict[str, float]:
    """Own (tottime) seconds per group, so nothing is counted twice."""
    totals = dict.fromkeys(GROUPS, 0.0)
    totals["StockLink code"] = 0.0
    totals["other (powertools resolver, stdlib, builtins)"] = 0.0
    for (path, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        for group, fragments in GROUPS.items():
            if any(f in path for f in fragments):
                totals[group] += tottime
                break
        else:
            own = "/shared/stocklink/" in path or "/functions/" in path
            totals["StockLink code" if own else "other (powertools resolver, stdlib, builtins)"] += tottime
    return totals


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--sort", default="cumulative", help="pstats order of the listing (tottime: own time)")
    parser.add_argument("--save", metavar="DIR", help="also write each profile to DIR/<label>.prof (pstats)")
    args = parser.parse_args()
    from infra.local.dynamodb_local import DynamoDBLocal
    from infra.local.provision import create_tables
    from tests.concurrency.conftest import ALL_MODELS
    from tests.integration.apigw import ApiClient

    with DynamoDBLocal() as ddb, mock_aws(config=_dynamodb_local_passes_through(ddb.endpoint_url)):
        create_tables(boto3.client("dynamodb", endpoint_url=ddb.endpoint_url))
        for model in ALL_MODELS:
            model.Meta.host = ddb.endpoint_url
            model._connection = None
        boto3.client("events").create_event_bus(Name="stocklink")
        boto3.client("secretsmanager").create_secret(Name="stocklink/api-tokens", SecretString=json.dumps(
            {"tokens": {"t": {"name": "bench", "roles": ["admin"]}}}))
        from functions.staff_api.handler import handler as staff_handler
        from functions.storefront_api.handler import handler as storefront_handler
        from functions.webhook_ingest.handler import handler as webhook_handler
        staff, store = ApiClient(staff_handler, "t"), ApiClient(storefront_handler, "t")
        hooks = ApiClient(webhook_handler, None)
        staff.put("/warehouses/wh-a", {"name": "A", "priority": 1})
        staff.put("/skus/HOT", {"name": "hot"})
        receipt = staff.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO",
                                                 "lines": [{"sku": "HOT", "qty": 100000}]})
        assert receipt.status in (200, 201), receipt.body
        staff.put("/shops/shopify/bench.myshopify.com", {"webhook_secret": "s"})

        def reserve(i):
            r = store.post("/reservations", {"reservation_id": f"r{i}", "channel": "web",
                                             "lines": [{"sku": "HOT", "qty": 1}]})
            assert r.status in (200, 201), r.body

        def commit(i):
            r = store.post(f"/reservations/r{i}/commit")
            assert r.status == 200, r.body

        def webhook(i, delivery="d"):
            body = _webhook_body(i)
            sig = base64.b64encode(hmac.new(b"s", body, hashlib.sha256).digest()).decode()
            r = hooks.post("/webhooks/shopify/bench.myshopify.com", raw=body, headers={
                "X-Shopify-Topic": "orders/create", "X-Shopify-Hmac-Sha256": sig,
                "X-Shopify-Webhook-Id": f"{delivery}{i}",
                "X-Shopify-Shop-Domain": "bench.myshopify.com",
                "X-Shopify-Triggered-At": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
            assert r.status == 200, r.body

        sink = io.StringIO()  # the handlers' log lines (INFO, as deployed) are written, not shown
        old_stdout, sys.stdout = sys.stdout, sink
        profiles, results = {}, {}
        try:
            for i in range(20):   # warm: imports, clients, caches
                reserve(-1 - i)
                webhook(-1 - i)
            actions = (("POST /reservations", reserve), ("POST /reservations/{id}/commit", commit),
                       ("Shopify orders/create", webhook),
                       ("Shopify redelivery", lambda i: webhook(i, delivery="again")))
            for label, action in actions:     # CPU without the profiler
                start = time.process_time()
                for i in range(args.n):
                    action(i)
                results[label] = (time.process_time() - start) / args.n * 1000
            for label, action in actions:     # then a profile (CPU clock: waiting on DynamoDB Local is not counted)
                profiler = cProfile.Profile(time.process_time)
                profiler.enable()
                for i in range(args.n, 2 * args.n):
                    action(i)
                profiler.disable()
                profiles[label] = profiler
                if args.save:
                    os.makedirs(args.save, exist_ok=True)
                    profiler.dump_stats(os.path.join(args.save, label.replace("/", "_").replace(" ", "_") + ".prof"))
        finally:
            sys.stdout = old_stdout
    print(f"Handler CPU per call (process_time, n={args.n}, no profiler):")
    for label, ms in results.items():
        print(f"  {label:32s} {ms:6.2f} ms")
    for label in ("POST /reservations", "Shopify orders/create"):
        stats = pstats.Stats(profiles[label])
        total = sum(v for v in _group_times(stats).values())
        print(f"\n{label}: own CPU by group (ms per call, profiled)")
        for group, seconds in sorted(_group_times(stats).items(), key=lambda kv: -kv[1]):
            print(f"  {group:60s} {seconds / args.n * 1000:6.2f}  ({seconds / total:5.1%})")
        out = io.StringIO()
        pstats.Stats(profiles[label], stream=out).sort_stats(args.sort).print_stats(args.top)
        lines = [line for line in out.getvalue().splitlines() if line.strip()]
        print("\n".join(line.replace(os.getcwd() + "/", "").replace(".venv/lib/python3.11/site-packages/", "")
                        for line in lines[-(args.top + 1):]))


if __name__ == "__main__":
    main()

"""Stock change -> SNS publish latency through the real alert handler on moto (in-process).

Measures, per stock.changed event, the time from handing the event to the alert function to SNS
accepting the publish (state read, decision, publish, conditional write). Excludes EventBridge delivery
(not modelled by moto). Run: python -m tests.bench.alert_latency [N]

`--local [N]`: through the local runtime (DynamoDB Local + moto + worker processes): a stock receipt by
HTTP that takes a fresh SKU below its floor -> gateway -> staff_api -> bus -> alert function -> SNS ->
the console queue (timed to the console record), then until GET /alerts lists it. p50 / p99 / max.
Run: python -m tests.bench.alert_latency --local 40
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ.setdefault(k, "testing")


def main(n: int = 300) -> dict:
    import boto3
    from moto import mock_aws

    with mock_aws():
        from infra.local.provision import create_tables
        create_tables(boto3.client("dynamodb"))
        arn = boto3.client("sns").create_topic(Name="stocklink-alerts")["TopicArn"]
        os.environ["ALERTS_TOPIC_ARN"] = arn
        from stocklink.config import settings
        settings.cache_clear()
        from stocklink import notifications
        from stocklink.logic.alerting import bus_events, grading, rules_api
        from stocklink.store.models import StockItem
        notifications.reset_clients()
        rules_api.put_rule("sku", "BENCH", {"safety_stock": n}, 0)
        publish_at: list[float] = []
        real_publish = grading.publish

        def timed(alert):
            mid = real_publish(alert)
            publish_at.append(time.perf_counter())
            return mid

        grading.publish = timed
        lat_publish, lat_all = [], []
        for i in range(n):
            available = n - i
            StockItem("BENCH", "wh", on_hand=available, available=available, reserved=0, version=i + 1).save()
            event = {"detail-type": "stock.changed", "detail": {"sku": "BENCH", "warehouse_id": "wh",
                                                                "available": available}}
            before = len(publish_at)
            t0 = time.perf_counter()
            bus_events.handle_event(event, int(time.time() * 1000))
            t1 = time.perf_counter()
            lat_all.append(t1 - t0)
            if len(publish_at) > before:
                lat_publish.append(publish_at[-1] - t0)
    q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000  # noqa: E731
    result = {"events": n, "published": len(lat_publish),
              "all_events_ms": {"p50": round(q(lat_all, .5), 2), "p99": round(q(lat_all, .99), 2)},
              "change_to_publish_ms": {"p50": round(statistics.median(lat_publish) * 1000, 2),
                                       "max": round(max(lat_publish) * 1000, 2)} if lat_publish else None}
    print(json.dumps(result, indent=2))
    return result


def main_local(n: int = 40) -> dict:
    """Stock change by HTTP -> alert on the console queue and at GET /alerts, through the local runtime."""
    import uuid

    import requests

    from infra.local.runtime import LocalRuntime
    from infra.local.dynamodb_local import free_port

    runtime = LocalRuntime(port=free_port(), in_memory=True, dev_token="bench-token", relay=None)
    to_console, to_api, misses = [], [], 0
    try:
        runtime.start()
        ok, detail = runtime.wait_healthy(120)
        if not ok:
            raise SystemExit(f"runtime not healthy: {detail}")
        url, headers = runtime.url, {"Authorization": "Bearer bench-token"}
        s = requests.Session()
        s.headers.update(headers)
        assert s.put(f"{url}/warehouses/wh-bench", json={"name": "Bench", "priority": 1}, timeout=30).ok
        run = uuid.uuid4().hex[:6]
        for i in range(n + 3):                      # the first 3 warm the workers and are not counted
            sku = f"AL-{run}-{i}"
            assert s.put(f"{url}/skus/{sku}", json={"name": sku}, timeout=30).ok
            key = f"low_stock#{sku}#wh:wh-bench"
            seen = len(runtime.topics.delivered)
            t0 = time.perf_counter()
            r = s.post(f"{url}/stock/receipts", timeout=30, json={
                "warehouse_id": "wh-bench", "lines": [{"sku": sku, "qty": 5}], "reference": f"r-{sku}"})
            assert r.status_code == 201, r.text
            t_console = t_api = None
            deadline = time.perf_counter() + 30
            while time.perf_counter() < deadline and (t_console is None or t_api is None):
                if t_console is None and any(d["message"].get("key") == key
                                             for d in list(runtime.topics.delivered)[seen:]):
                    t_console = time.perf_counter() - t0
                if t_api is None:
                    listed = s.get(f"{url}/alerts", params={"status": "open"}, timeout=30).json()["alerts"]
                    if any(a["id"] == key for a in listed):
                        t_api = time.perf_counter() - t0
                time.sleep(0.005)
            if i < 3:
                continue
            if t_console is None or t_api is None:
                misses += 1
                continue
            to_console.append(t_console)
            to_api.append(t_api)
    finally:
        runtime.stop()
    q = lambda xs, p: round(sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000, 1) if xs else None  # noqa: E731
    result = {"mode": "local runtime", "changes": n, "missed": misses,
              "http_change_to_console_queue_ms": {"p50": q(to_console, .5), "p99": q(to_console, .99),
                                                  "max": q(to_console, 1.0)},
              "http_change_to_get_alerts_ms": {"p50": q(to_api, .5), "p99": q(to_api, .99), "max": q(to_api, 1.0)}}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--local":
        main_local(int(sys.argv[2]) if len(sys.argv) > 2 else 40)
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)

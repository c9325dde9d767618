"""Stock change -> SNS publish latency through the real alert handler on moto (in-process).

Measures, per stock.changed event, the time from handing the event to the alert function to SNS
accepting the publish (state read, decision, publish, conditional write). Excludes EventBridge delivery
(not modelled by moto). Run: python -m tests.bench.alert_latency [N]
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
        from stocklink.logic import alerting
        from stocklink.store.models import StockItem
        alerting._sns.cache_clear()
        alerting.put_rule("sku", "BENCH", {"safety_stock": n}, 0)
        publish_at: list[float] = []
        real_publish = alerting.publish

        def timed(alert):
            mid = real_publish(alert)
            publish_at.append(time.perf_counter())
            return mid

        alerting.publish = timed
        lat_publish, lat_all = [], []
        for i in range(n):
            available = n - i
            StockItem("BENCH", "wh", on_hand=available, available=available, reserved=0, version=i + 1).save()
            event = {"detail-type": "stock.changed", "detail": {"sku": "BENCH", "warehouse_id": "wh",
                                                                "available": available}}
            before = len(publish_at)
            t0 = time.perf_counter()
            alerting.handle_event(event, int(time.time() * 1000))
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


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)

"""Alerts through the real handlers on moto: bus events -> alert function -> state in DynamoDB -> SNS
(read back through real SNS -> SQS subscriptions), the alerts API, and the scheduled tick."""
from __future__ import annotations

import json
import uuid

import boto3
import pytest

from tests.integration.apigw import ApiClient, LambdaContext
from tests.integration.conftest import STAFF_TOKEN

SKU = "TEE-RED-M"


class Topic:
    """The alerts topic on moto plus SQS subscriptions that record what SNS delivered."""

    def __init__(self, arn: str):
        self.arn = arn
        self.sns, self.sqs = boto3.client("sns"), boto3.client("sqs")

    def queue(self, name: str, policy: str | None = None) -> str:
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attrs = {"FilterPolicy": policy, "FilterPolicyScope": "MessageAttributes"} if policy else {}
        self.sns.subscribe(TopicArn=self.arn, Protocol="sqs", Endpoint=arn, Attributes=attrs)
        return url

    def drain(self, url: str) -> list[dict]:
        """SNS envelopes delivered to a queue: {"alert": Alert dict, "attributes": {name: value}}."""
        out = []
        while True:
            msgs = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not msgs:
                return out
            for m in msgs:
                env = json.loads(m["Body"])
                out.append({"alert": json.loads(env["Message"]),
                            "attributes": {k: v["Value"] for k, v in env.get("MessageAttributes", {}).items()}})
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture
def topic(aws, monkeypatch):
    from stocklink import notifications
    from stocklink.config import settings
    from stocklink.logic.alerting import notify

    arn = boto3.client("sns").create_topic(Name="stocklink-alerts")["TopicArn"]
    monkeypatch.setenv("ALERTS_TOPIC_ARN", arn)
    monkeypatch.setenv("NOTIFY_RETRY_BASE_DELAY", "0.001")
    settings.cache_clear()
    notifications.reset_clients()
    yield Topic(arn)
    settings.cache_clear()
    notifications.reset_clients()


@pytest.fixture
def alerts_api(topic) -> ApiClient:
    from functions.alerts_api.handler import handler
    return ApiClient(handler, STAFF_TOKEN)


def sqs_batch(events: list[dict], bodies: list[str] | None = None) -> tuple[dict, list[str]]:
    """An SQS event as Lambda's event source hands it over: one record per EventBridge event (the body is
    the event as EventBridge delivers it to a queue target), plus raw `bodies`. Returns (event, ids)."""
    records = []
    for body in [json.dumps(e) for e in events] + list(bodies or []):
        records.append({"messageId": str(uuid.uuid4()), "receiptHandle": "rh", "body": body,
                        "eventSource": "aws:sqs", "awsRegion": "us-east-1",
                        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:alerts-on-events"})
    return {"Records": records}, [r["messageId"] for r in records]


class BatchFailed(RuntimeError):
    """The alert function reported records in batchItemFailures: SQS would redeliver them."""


class AlertFn:
    """Feeds every event the bus captured to the alert function as the rule does: through its queue, in
    SQS batches of up to `batch_size` records. Returns the alerts published (read off grading.publish)."""

    def __init__(self, bus):
        from functions.alerts.handler import handler
        from infra.topology import EVENT_RULES

        self.handler, self.bus, self.seen = handler, bus, []
        (rule,) = [r for r in EVENT_RULES if r.function == "alerts"]
        self.types = set(rule.detail_types)
        self.batch_size = rule.queue.batch_size

    def deliver(self, events: list[dict]) -> list[dict]:
        from stocklink.logic.alerting import grading

        sent, inner = [], grading.publish

        def spy(alert):
            message_id = inner(alert)
            sent.append({"id": alert.id, "key": alert.key, "event": alert.event, "severity": alert.severity})
            return message_id

        grading.publish = spy
        try:
            for start in range(0, len(events), self.batch_size):
                answer = self.handler(sqs_batch(events[start:start + self.batch_size])[0], LambdaContext())
                if answer["batchItemFailures"]:
                    raise BatchFailed(f"{len(answer['batchItemFailures'])} record(s) failed")
        finally:
            grading.publish = inner
        return sent

    def pump(self) -> list[dict]:
        events = [e for e in self.bus.drain() if e["detail-type"] in self.types]
        self.seen += events
        return self.deliver(events)

    def replay(self) -> list[dict]:
        return self.deliver(self.seen)

    def tick(self) -> dict:
        return self.handler({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}},
                            LambdaContext())


@pytest.fixture
def alert_fn(aws, topic) -> AlertFn:
    return AlertFn(aws)


@pytest.fixture
def warehouse(staff, alert_fn):
    staff.put("/warehouses/wh-a", {"name": "Shenzhen A", "priority": 1})
    staff.put("/warehouses/wh-b", {"name": "Dongguan B", "priority": 2})
    staff.put(f"/skus/{SKU}", {"name": "Red tee M"})
    return staff


def test_flash_sale_of_200_orders_notifies_once_per_level_crossed(warehouse, storefront, alerts_api, alert_fn,
                                                                   topic):
    everything = topic.queue("all-alerts")
    assert alerts_api.put(f"/alert-rules/sku/{SKU}", {"safety_stock": 300, "abc_class": "A"}).status == 200
    warehouse.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": SKU, "qty": 200}],
                                       "reference": "PO-1"})
    assert alert_fn.pump() == []  # 200 of a 300 safety stock is 67 %: fine

    for n in range(200):
        answer = storefront.post("/reservations", {"reservation_id": f"flash-{n}", "channel": "tiktok",
                                                   "lines": [{"sku": SKU, "qty": 1}]})
        assert answer.status == 201, answer.body
        alert_fn.pump()  # each stock.changed reaches the queue and the function as it happens

    assert len(alert_fn.seen) == 201
    delivered = topic.drain(everything)
    assert [(d["alert"]["event"], d["alert"]["severity"]) for d in delivered] == [
        ("raised", "yellow"), ("raised", "orange"), ("raised", "red")]
    # crossings happen exactly at the lines: < 50 %, < 30 %, < 10 % of 300
    assert [d["alert"]["facts"]["available"] for d in delivered] == [149, 89, 29]
    red = delivered[-1]
    assert red["attributes"] == {"severity": "red", "kind": "low_stock", "event": "raised", "sku": SKU,
                                 "warehouse": "wh-a", "abc_class": "A"}

    # EventBridge and SQS deliver at least once: replaying all 201 events (in batches) sends nothing more
    assert alert_fn.replay() == []
    assert topic.drain(everything) == []

    listed = alerts_api.get("/alerts", query={"status": "open"}).body["alerts"]
    assert [(a["id"], a["level"], a["status"]) for a in listed] == [(f"low_stock#{SKU}#wh:wh-a", "red", "open")]
    assert listed[0]["title"].startswith("[RED] Low stock")


def test_filter_policies_route_through_real_sns_subscriptions(warehouse, alerts_api, alert_fn, topic):
    from stocklink.alerts.messages import filter_policy

    red_only = topic.queue("red-only", filter_policy({"severity": ["red"]}))
    wh_b = topic.queue("wh-b-only", filter_policy({"warehouse": ["wh-b"]}))
    oversell = topic.queue("oversell", filter_policy({"kind": ["oversell"], "match_missing": []}))
    alerts_api.put("/alert-rules/global", {"default_safety_stock": 100})
    warehouse.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": SKU, "qty": 40}],
                                       "reference": "PO-A"})   # 40 % -> yellow in wh-a
    warehouse.post("/stock/receipts", {"warehouse_id": "wh-b", "lines": [{"sku": SKU, "qty": 5}],
                                       "reference": "PO-B"})   # below the floor -> red in wh-b
    sent = alert_fn.pump()
    assert sorted((s["severity"], s["key"]) for s in sent) == [
        ("red", f"low_stock#{SKU}#wh:wh-b"), ("yellow", f"low_stock#{SKU}#wh:wh-a")]

    got_red = topic.drain(red_only)
    assert [(d["attributes"]["severity"], d["attributes"]["warehouse"]) for d in got_red] == [("red", "wh-b")]
    got_b = topic.drain(wh_b)
    assert [d["alert"]["key"] for d in got_b] == [f"low_stock#{SKU}#wh:wh-b"]
    assert topic.drain(oversell) == []


def test_ack_stops_repeats_until_it_worsens(warehouse, alerts_api, alert_fn, topic, monkeypatch):
    from stocklink.logic.alerting import views

    q = topic.queue("acks")
    alerts_api.put(f"/alert-rules/sku/{SKU}", {"safety_stock": 100})
    warehouse.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": SKU, "qty": 40}],
                                       "reference": "PO-1"})
    alert_fn.pump()
    assert [d["alert"]["severity"] for d in topic.drain(q)] == ["yellow"]
    key = f"low_stock#{SKU}#wh:wh-a"

    # 25 h later the scheduled tick repeats an unacknowledged yellow (cooldown 24 h)
    import stocklink.time as clock
    real = clock.now_ms()
    monkeypatch.setattr("functions.alerts.handler.now_ms", lambda: real + 25 * 3600 * 1000)
    assert len(alert_fn.tick()["sent"]) == 1
    assert [d["alert"]["event"] for d in topic.drain(q)] == ["repeat"]

    answer = alerts_api.post(f"/alerts/{key.replace('#', '%23')}/ack")
    assert answer.status == 200, answer.body
    assert answer.body["status"] == "acked" and answer.body["acked_by"] == "alice"
    assert alerts_api.get("/alerts", query={"status": "unacked"}).body["alerts"] == []

    monkeypatch.setattr("functions.alerts.handler.now_ms", lambda: real + 80 * 3600 * 1000)
    assert alert_fn.tick()["sent"] == []
    assert topic.drain(q) == []

    # worse than what was acknowledged still gets through
    warehouse.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": -35,
                                          "reason": "damaged"})
    alert_fn.pump()
    assert [(d["alert"]["event"], d["alert"]["severity"]) for d in topic.drain(q)] == [("raised", "red")]
    assert views.list_alerts("open")["alerts"][0]["status"] == "open"


def test_ack_of_unknown_alert_is_404_and_needs_staff(alerts_api):
    assert alerts_api.post("/alerts/low_stock%23NOPE%23all/ack").status == 404
    anonymous = ApiClient(alerts_api.handler, None)
    assert anonymous.get("/alerts").status == 401


def test_alert_rules_validate_and_resolve_global_abc_sku(alerts_api):
    from stocklink.logic.alerting.rules_api import sku_settings

    assert alerts_api.put("/alert-rules/global", {"floor_units": 5}).status == 200
    assert alerts_api.put("/alert-rules/abc/a", {"yellow_pct": 70}).status == 200
    assert alerts_api.put(f"/alert-rules/sku/{SKU}", {"abc_class": "A", "red_pct": 20,
                                                      "safety_stock": 50}).status == 200
    bad = alerts_api.put("/alert-rules/global", {"yellow_pct": 5, "orange_pct": 30})
    assert bad.status == 400 and "yellow_pct" in bad.body["message"]
    assert alerts_api.put("/alert-rules/global", {"nonsense": 1}).status == 400
    assert alerts_api.put("/alert-rules/abc/A", {"safety_stock": 3}).status == 400

    thresholds, abc, safety = sku_settings(SKU)
    assert (thresholds.floor_units, thresholds.yellow_pct, thresholds.red_pct, abc, safety) == (5, 70, 20, "A", 50)
    other, abc2, _ = sku_settings("OTHER")
    assert (other.yellow_pct, abc2) == (50, None)
    listed = alerts_api.get("/alert-rules").body
    assert listed["abc"] == {"A": {"yellow_pct": 70}} and listed["global"] == {"floor_units": 5}


def test_oversell_and_unmapped_events_raise_one_alert_each(aws, alert_fn, topic):
    from stocklink import bus
    from stocklink.events import ORDER_OVERSOLD, ORDER_UNMAPPED

    q = topic.queue("incidents")
    for n in range(20):  # twenty oversold orders of one SKU in a flash sale: one notification
        bus.publish(ORDER_OVERSOLD, [{"platform": "shopee", "shop": "s1", "order_id": f"o{n}",
                                      "sku": SKU, "shortfall": 1}])
    bus.publish(ORDER_UNMAPPED, [{"platform": "lazada", "shop": "l1", "order_id": "o9",
                                  "unmapped": [{"listing_id": "L-77", "seller_sku": "MYSTERY", "qty": 1}]}])
    alert_fn.pump()
    got = [(d["attributes"]["kind"], d["attributes"]["severity"], d["attributes"].get("channel"))
           for d in topic.drain(q)]
    assert got == [("oversell", "red", "shopee"), ("unmapped_sku", "orange", "lazada")]

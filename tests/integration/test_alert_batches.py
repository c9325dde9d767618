"""The alert function fed by its SQS queue (topology: alerts-on-events, QueueDelivery), through the real
handler on moto: stock.changed events of one SKU in a batch are graded once per (SKU, warehouse) and send
exactly the alerts one-by-one processing sends; a failing group fails only its own records; an unreadable
record is reported, never dropped; a redelivered batch sends nothing twice."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.integration.apigw import LambdaContext
from tests.integration.test_alerting import alert_fn, alerts_api, sqs_batch, topic  # noqa: F401 - fixtures

BATCHED, SOLO = "TEE-BATCH", "TEE-SOLO"


def invoke(event: dict) -> dict:
    from functions.alerts.handler import handler
    return handler(event, LambdaContext())


def failures(answer: dict) -> list[str]:
    return [f["itemIdentifier"] for f in answer["batchItemFailures"]]


def alert_rule_events(bus) -> list[dict]:
    from infra.topology import EVENT_RULES
    (rule,) = [r for r in EVENT_RULES if r.function == "alerts"]
    return [e for e in bus.drain() if e["detail-type"] in rule.detail_types]


def seen(alerts: list[dict], sku: str) -> list[tuple]:
    """What a subscriber reads, with the SKU's name taken out so two SKUs' alerts compare."""
    out = []
    for d in alerts:
        a = d["alert"]
        norm = lambda v: json.loads(json.dumps(v).replace(sku, "SKU"))  # noqa: E731
        out.append((norm(a["key"]), a["event"], a["severity"], norm(a["title"]), norm(a["action"]),
                    a["facts"].get("available"), norm(a["facts"].get("warehouses")),
                    norm({k: v for k, v in d["attributes"].items()})))
    return sorted(out)


@pytest.fixture
def count_stock_reads(monkeypatch):
    """Calls of repository.stock_items (the stock table Query for one SKU's items), per SKU."""
    from stocklink.store import repository

    calls: Counter = Counter()
    real = repository.stock_items

    def counted(sku):
        calls[sku] += 1
        return real(sku)

    monkeypatch.setattr(repository, "stock_items", counted)
    return calls


@pytest.fixture
def two_skus(staff, alerts_api, alert_fn):
    """Two SKUs with the same stock in two warehouses (200 in wh-a, 160 in wh-b, safety stock 300)."""
    staff.put("/warehouses/wh-a", {"name": "Shenzhen A", "priority": 1})
    staff.put("/warehouses/wh-b", {"name": "Dongguan B", "priority": 2})
    for sku in (BATCHED, SOLO):
        staff.put(f"/skus/{sku}", {"name": sku})
        assert alerts_api.put(f"/alert-rules/sku/{sku}", {"safety_stock": 300, "abc_class": "A"}).status == 200
        for wh, qty in (("wh-a", 200), ("wh-b", 160)):
            assert staff.post("/stock/receipts", {"warehouse_id": wh, "lines": [{"sku": sku, "qty": qty}],
                                                  "reference": f"PO-{sku}-{wh}"}).status == 201
    return staff


def test_a_batch_of_one_skus_changes_sends_the_alerts_one_by_one_processing_sends(
        two_skus, storefront, aws, topic, count_stock_reads):
    q = topic.queue("all")
    both = alert_rule_events(aws)
    assert invoke(sqs_batch([e for e in both if e["detail"]["sku"] == BATCHED])[0]) == {"batchItemFailures": []}
    for e in both:
        if e["detail"]["sku"] == SOLO:
            invoke(e)
    assert topic.drain(q) == []       # 67 % and 53 % of the safety stock: fine
    count_stock_reads.clear()

    batched_alerts, solo_alerts, batched_reads, solo_reads = [], [], [], []
    for rnd in range(10):
        # a round of a flash sale, the same for both SKUs: 6 orders of 3 (wh-a), 4 corrections of -4 (wh-b)
        for sku in (BATCHED, SOLO):
            for n in range(6):
                assert storefront.post("/reservations", {"reservation_id": f"{sku}-{rnd}-{n}", "channel": "tiktok",
                                                         "lines": [{"sku": sku, "qty": 3}]}).status == 201
            for n in range(4):
                assert two_skus.post("/stock/adjustments", {"warehouse_id": "wh-b", "sku": sku, "delta": -4,
                                                            "reason": "damaged"}).status == 201
        events = alert_rule_events(aws)
        mine = {sku: [e for e in events if e["detail"]["sku"] == sku] for sku in (BATCHED, SOLO)}
        assert len(mine[BATCHED]) == len(mine[SOLO]) == 10

        count_stock_reads.clear()
        answer = invoke(sqs_batch(mine[BATCHED])[0])       # the queue hands the 10 over at once
        assert answer == {"batchItemFailures": []}
        batched_reads.append(count_stock_reads[BATCHED])
        batched_alerts.append(seen(topic.drain(q), BATCHED))

        count_stock_reads.clear()
        for e in mine[SOLO]:                               # as ten asynchronous invocations would
            invoke(e)
        solo_reads.append(count_stock_reads[SOLO])
        solo_alerts.append(seen(topic.drain(q), SOLO))

    # the same alerts, round by round (yellow, orange, red per warehouse, each once)
    assert batched_alerts == solo_alerts
    flat = [(key, event, severity) for rnd in batched_alerts for key, event, severity, *_ in rnd]
    assert sorted(flat) == sorted([("low_stock#SKU#wh:wh-a", "raised", s) for s in ("yellow", "orange", "red")]
                                  + [("low_stock#SKU#wh:wh-b", "raised", s) for s in ("yellow", "orange", "red")])
    # one read of the SKU's stock items (both warehouses) per batch, instead of one per event
    assert batched_reads == [1] * 10
    assert solo_reads == [10] * 10


def test_events_of_a_warehouse_without_a_stored_item_are_graded_one_by_one_as_before(aws, topic):
    q = topic.queue("gone")
    from stocklink.logic.alerting import rules_api
    assert rules_api.put_rule("sku", "GONE-1", {"safety_stock": 100}, 0) and rules_api.put_rule(
        "sku", "GONE-2", {"safety_stock": 100}, 0)

    def events(sku):
        return [{"detail-type": "stock.changed", "source": "stocklink", "time": f"2025-06-01T10:00:0{n}Z",
                 "detail": {"sku": sku, "warehouse_id": "wh-gone", "available": available, "on_hand": available}}
                for n, available in enumerate((40, 20, 5))]

    assert invoke(sqs_batch(events("GONE-1"))[0]) == {"batchItemFailures": []}
    batched = seen(topic.drain(q), "GONE-1")
    for e in events("GONE-2"):
        invoke(e)
    assert batched == seen(topic.drain(q), "GONE-2")
    # the event's own figures, each graded: no stored version orders them
    assert [(s[2], s[5]) for s in sorted(batched, key=lambda s: -s[5])] == [
        ("yellow", 40), ("orange", 20), ("red", 5)]


def test_a_failing_group_fails_only_its_records_and_a_redelivery_sends_nothing_twice(
        staff, aws, topic, monkeypatch):
    from stocklink import bus
    from stocklink.events import ORDER_OVERSOLD
    from stocklink.logic.alerting import rules_api

    q = topic.queue("partial")
    staff.put("/warehouses/wh-a", {"name": "A", "priority": 1})
    for sku in ("OK-1", "BAD-1"):
        staff.put(f"/skus/{sku}", {"name": sku})
        rules_api.put_rule("sku", sku, {"safety_stock": 100}, 0)
        staff.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": sku, "qty": 5}],
                                       "reference": f"PO-{sku}"})
        staff.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": sku, "delta": -1, "reason": "count"})
    bus.publish(ORDER_OVERSOLD, [{"platform": "shopee", "shop": "s1", "order_id": "o1", "sku": "HOT",
                                  "shortfall": 1}])
    events = alert_rule_events(aws)
    assert Counter(e["detail"]["sku"] for e in events) == {"OK-1": 2, "BAD-1": 2, "HOT": 1}
    batch, ids = sqs_batch(events, bodies=["not an event", "[1, 2]"])
    bad_ids = {i for i, e in zip(ids, events) if e["detail"]["sku"] == "BAD-1"}

    real_settings = rules_api.sku_settings

    def throttled(sku):
        if sku == "BAD-1":
            raise RuntimeError("ProvisionedThroughputExceededException")
        return real_settings(sku)

    monkeypatch.setattr(rules_api, "sku_settings", throttled)
    answer = invoke(batch)
    # BAD-1's two records and the two unreadable ones come back; the rest is acknowledged
    assert set(failures(answer)) == bad_ids | set(ids[-2:])
    assert len(failures(answer)) == 4
    first = sorted((d["alert"]["key"], d["alert"]["event"], d["alert"]["severity"]) for d in topic.drain(q))
    assert first == [("low_stock#OK-1#wh:wh-a", "raised", "red"), ("oversell#HOT#all", "raised", "red")]

    # SQS redelivers (here: the whole batch again, as a visibility timeout lapse would): only BAD-1 sends
    monkeypatch.setattr(rules_api, "sku_settings", real_settings)
    answer = invoke(batch)
    assert set(failures(answer)) == set(ids[-2:])       # unreadable stays unreadable: on to the DLQ
    again = [(d["alert"]["key"], d["alert"]["event"], d["alert"]["severity"]) for d in topic.drain(q)]
    assert again == [("low_stock#BAD-1#wh:wh-a", "raised", "red")]
    assert failures(invoke(batch)) == ids[-2:] and topic.drain(q) == []


def test_a_failing_warehouse_fails_only_the_records_naming_it(staff, aws, topic, monkeypatch):
    from stocklink.logic.alerting import grading, rules_api

    q = topic.queue("per-warehouse")
    for wh, prio in (("wh-a", 1), ("wh-b", 2)):
        staff.put(f"/warehouses/{wh}", {"name": wh, "priority": prio})
    staff.put("/skus/SPLIT", {"name": "split"})
    rules_api.put_rule("sku", "SPLIT", {"safety_stock": 100}, 0)
    for wh in ("wh-a", "wh-b"):
        staff.post("/stock/receipts", {"warehouse_id": wh, "lines": [{"sku": "SPLIT", "qty": 5}],
                                       "reference": f"PO-{wh}"})
        staff.post("/stock/adjustments", {"warehouse_id": wh, "sku": "SPLIT", "delta": -1, "reason": "count"})
    events = alert_rule_events(aws)
    batch, ids = sqs_batch(events)
    wh_b = {i for i, e in zip(ids, events) if e["detail"]["warehouse_id"] == "wh-b"}
    assert len(wh_b) == 2 and len(ids) == 4

    real_observe = grading.observe

    def flaky(obs, now_ms, edit=None, known=None):
        if obs.key.scope == "wh:wh-b":
            raise RuntimeError("ConditionalCheckFailed storm")
        return real_observe(obs, now_ms, edit, known)

    monkeypatch.setattr(grading, "observe", flaky)
    assert set(failures(invoke(batch))) == wh_b
    assert [d["alert"]["key"] for d in topic.drain(q)] == ["low_stock#SPLIT#wh:wh-a"]
    monkeypatch.setattr(grading, "observe", real_observe)
    retry, _ = sqs_batch([e for i, e in zip(ids, events) if i in wh_b])
    assert failures(invoke(retry)) == []
    assert [d["alert"]["key"] for d in topic.drain(q)] == ["low_stock#SPLIT#wh:wh-b"]


def test_a_failed_publish_fails_the_group_and_the_outbox_sends_it_once(staff, aws, topic, monkeypatch):
    from stocklink.logic.alerting import grading, rules_api
    from stocklink.store import alert_models

    q = topic.queue("outbox")
    staff.put("/warehouses/wh-a", {"name": "A", "priority": 1})
    staff.put("/skus/PUB", {"name": "pub"})
    rules_api.put_rule("sku", "PUB", {"safety_stock": 100}, 0)
    staff.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "PUB", "qty": 5}], "reference": "PO"})
    batch, ids = sqs_batch(alert_rule_events(aws))
    real_publish = grading.publish

    def broken(alert):
        raise RuntimeError("SNS unreachable")

    monkeypatch.setattr(grading, "publish", broken)
    assert failures(invoke(batch)) == ids
    (pending,) = alert_models.outbox()
    monkeypatch.setattr(grading, "publish", real_publish)
    # the retry re-grades the same stored version: stale, nothing sent twice ...
    assert failures(invoke(batch)) == []
    assert topic.drain(q) == []
    # ... and the tick sends what the failed publish left in the outbox, once
    from tests.integration.test_alert_sources import real_now_ms, tick_at
    assert tick_at(monkeypatch, real_now_ms() + grading.PENDING_GRACE_MS + 1000)["republished"] == 1
    (sent,) = topic.drain(q)
    assert (sent["alert"]["key"], sent["alert"]["id"]) == ("low_stock#PUB#wh:wh-a", pending["alert"]["id"])
    assert alert_models.outbox() == []


def test_the_scheduled_tick_and_a_bare_event_still_work_without_a_queue(staff, aws, topic):
    from stocklink.logic.alerting import rules_api

    q = topic.queue("direct")
    staff.put("/warehouses/wh-a", {"name": "A", "priority": 1})
    staff.put("/skus/BARE", {"name": "bare"})
    rules_api.put_rule("sku", "BARE", {"safety_stock": 100}, 0)
    staff.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "BARE", "qty": 5}], "reference": "PO"})
    (event,) = alert_rule_events(aws)
    answer = invoke(event)
    assert [(s["key"], s["severity"]) for s in answer["sent"]] == [("low_stock#BARE#wh:wh-a", "red")]
    assert set(invoke({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})) == {
        "sent", "republished"}
    assert [d["alert"]["key"] for d in topic.drain(q)] == ["low_stock#BARE#wh:wh-a"]


def test_a_skus_pass_reads_its_alert_states_in_one_request(two_skus, storefront, aws, topic, monkeypatch):
    """A SKU's grading pass has one alert key per rule and warehouse (and per listing): their stored states are
    read together (one BatchGetItem), not a GetItem each; what is sent is unchanged (the test above)."""
    import botocore.client

    invoke(sqs_batch(alert_rule_events(aws))[0])
    for n in range(3):
        assert storefront.post("/reservations", {"reservation_id": f"states-{n}", "channel": "tiktok",
                                                 "lines": [{"sku": BATCHED, "qty": 3}]}).status == 201
    assert two_skus.post("/stock/adjustments", {"warehouse_id": "wh-b", "sku": BATCHED, "delta": -4,
                                                "reason": "damaged"}).status == 201
    events = [e for e in alert_rule_events(aws) if e["detail"]["sku"] == BATCHED]
    calls: Counter = Counter()
    real = botocore.client.BaseClient._make_api_call

    def counting(self, operation, params):
        tables = params.get("TableName") or ",".join(params.get("RequestItems") or ())
        calls[(operation, tables)] += 1
        return real(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    assert invoke(sqs_batch(events)[0]) == {"batchItemFailures": []}
    alert_reads = {op: n for (op, table), n in calls.items() if "alerts" in table and op in ("GetItem", "BatchGetItem")}
    # two warehouse passes and the listings' pass: a BatchGetItem each at most, and no state read one by one
    assert alert_reads.get("GetItem", 0) <= 1, calls          # the SKU's alert settings (rule docs)
    assert 1 <= alert_reads.get("BatchGetItem", 0) <= 3, calls

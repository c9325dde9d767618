"""The local EventBridge (infra/local/bus.py) on moto: a queued rule (topology.QueueDelivery) delivers bus
events to its SQS queue, pollers hand the function batches of records, records the function reports in
batchItemFailures come back, and after max_receive_count receives they sit in the rule's DLQ."""
from __future__ import annotations

import json
import threading
import time

import boto3
import pytest
from moto import mock_aws

from infra.local.bus import EventBus
from infra.local.workers import REGION, InvocationResult
from infra.topology import EventRule, QueueDelivery


class InProcessMoto:
    """What the local runtime's MotoServer offers the bus: boto3 clients (here on moto in process)."""

    def client(self, name: str):
        return boto3.client(name, region_name=REGION)


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_a_queued_rule_hands_batches_and_dead_letters_what_keeps_failing():
    rule = EventRule("push-on-stock", ("stock.changed",), "channel_push",
                     queue=QueueDelivery(batch_size=10, max_concurrency=2, max_receive_count=2, retry_after_s=0))
    batches: list[list[str]] = []
    lock = threading.Lock()

    def invoke(function: str, event: dict) -> InvocationResult:
        assert function == "channel_push"
        skus = [json.loads(r["body"])["detail"]["sku"] for r in event["Records"]]
        with lock:
            batches.append(skus)
        bad = [r["messageId"] for r, sku in zip(event["Records"], skus) if sku == "BROKEN"]
        return InvocationResult(True, {"batchItemFailures": [{"itemIdentifier": i} for i in bad]})

    with mock_aws():
        bus = EventBus(InProcessMoto(), [rule], dispatch=lambda fn, e: None, invoke=invoke,
                       concurrency=lambda fn: 4)
        bus.provision()
        events = boto3.client("events", region_name=REGION)
        entries = [{"Source": "stocklink", "DetailType": "stock.changed", "EventBusName": "stocklink",
                    "Detail": json.dumps({"sku": sku})} for sku in ("A", "B", "C", "BROKEN", "D")]
        assert events.put_events(Entries=entries)["FailedEntryCount"] == 0
        bus.start()          # the five events are already waiting: they come in batches, not one by one
        try:
            assert wait_for(lambda: bus.dead_letters(rule.name) == 1)
        finally:
            bus.stop()

    delivered = [sku for batch in batches for sku in batch]
    assert sorted(sku for sku in delivered if sku != "BROKEN") == ["A", "B", "C", "D"]   # each exactly once
    assert delivered.count("BROKEN") == 2                                               # max_receive_count
    assert max(len(batch) for batch in batches) > 1
    assert bus.delivered == 4


def test_a_queued_rule_needs_a_synchronous_invoke():
    rule = EventRule("push-on-stock", ("stock.changed",), "channel_push", queue=QueueDelivery())
    with mock_aws():
        bus = EventBus(InProcessMoto(), [rule], dispatch=lambda fn, e: None)
        bus.provision()
        with pytest.raises(ValueError, match="synchronous invoke"):
            bus.start()


def test_a_batching_window_gathers_more_than_one_receive_and_acknowledges_them_all():
    """A rule with a window hands over up to batch_size records gathered over several receives (SQS gives
    at most 10 a call), deletes what succeeded and returns what failed, 10 entries per SQS batch call."""
    rule = EventRule("sales-on-stock", ("stock.changed",), "sales_aggregate",
                     queue=QueueDelivery(batch_size=40, max_batching_window_s=3, max_concurrency=2,
                                         max_receive_count=2, retry_after_s=0))
    batches: list[list[str]] = []
    lock = threading.Lock()

    def invoke(function: str, event: dict) -> InvocationResult:
        skus = [json.loads(r["body"])["detail"]["sku"] for r in event["Records"]]
        with lock:
            batches.append(skus)
        bad = [r["messageId"] for r, sku in zip(event["Records"], skus) if sku.startswith("BROKEN")]
        return InvocationResult(True, {"batchItemFailures": [{"itemIdentifier": i} for i in bad]})

    skus = [f"S{i:02d}" for i in range(21)] + [f"BROKEN{i:02d}" for i in range(12)]
    with mock_aws():
        bus = EventBus(InProcessMoto(), [rule], dispatch=lambda fn, e: None, invoke=invoke,
                       concurrency=lambda fn: 1)
        bus.provision()
        events = boto3.client("events", region_name=REGION)
        for start in range(0, len(skus), 10):      # PutEvents takes 10 entries a call
            entries = [{"Source": "stocklink", "DetailType": "stock.changed", "EventBusName": "stocklink",
                        "Detail": json.dumps({"sku": sku})} for sku in skus[start:start + 10]]
            assert events.put_events(Entries=entries)["FailedEntryCount"] == 0
        bus.start()
        try:
            assert wait_for(lambda: bus.dead_letters(rule.name) == 12)
        finally:
            bus.stop()

    assert len(batches[0]) == len(skus)                      # one invocation for everything waiting
    delivered = [sku for batch in batches for sku in batch]
    assert sorted(s for s in delivered if s.startswith("S")) == skus[:21]      # each good one exactly once
    assert all(delivered.count(s) == 2 for s in skus[21:])  # the 12 failures came back, then dead-lettered
    assert bus.delivered == 21


def test_records_sent_during_the_window_join_the_batch_which_goes_once_full():
    """The window waits on the queue (woken by each send), so records put while it is open join the first
    batch, and a batch that reaches batch_size goes at once rather than at the window's end (10 s here)."""
    rule = EventRule("sales-on-stock", ("stock.changed",), "sales_aggregate",
                     queue=QueueDelivery(batch_size=5, max_batching_window_s=10, max_concurrency=2))
    batches: list[list[str]] = []
    first_in = threading.Event()

    def invoke(function: str, event: dict) -> InvocationResult:
        batches.append([json.loads(r["body"])["detail"]["sku"] for r in event["Records"]])
        return InvocationResult(True, {"batchItemFailures": []})

    def put(sku: str) -> None:
        events.put_events(Entries=[{"Source": "stocklink", "DetailType": "stock.changed",
                                    "EventBusName": "stocklink", "Detail": json.dumps({"sku": sku})}])

    with mock_aws():
        bus = EventBus(InProcessMoto(), [rule], dispatch=lambda fn, e: None, invoke=invoke,
                       concurrency=lambda fn: 1)
        bus.provision()
        events = boto3.client("events", region_name=REGION)
        bus.start()
        try:
            put("A")
            # the poller has taken A once the queue shows nothing visible; the rest arrive in its window
            first_in.set() if wait_for(lambda: bus.queues.depth(bus.queue_urls[rule.name]) == 0) else None
            for sku in "BCDE":
                put(sku)
            assert wait_for(lambda: bus.delivered == 5)
        finally:
            bus.stop()

    assert first_in.is_set()
    assert batches == [["A", "B", "C", "D", "E"]]

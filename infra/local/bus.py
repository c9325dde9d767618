"""The local EventBridge: the `stocklink` bus on moto, one rule per topology EventRule, each rule -> an SQS
queue on moto -> a poller thread -> an asynchronous invocation of the rule's function.

Handlers publish exactly as in AWS (events.put_events on EVENT_BUS_NAME); the rules' patterns are built
from the same topology entries the CDK stack uses.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Callable, Iterable

from infra.local.workers import ACCOUNT_ID, REGION

log = logging.getLogger("stocklink.local")

BUS_NAME = "stocklink"


def rule_pattern(rule) -> dict:
    return {"source": [rule.source], "detail-type": list(rule.detail_types)}


def scheduled_event(schedule_name: str, now: datetime | None = None) -> dict:
    """The payload EventBridge sends a target for a scheduled rule."""
    now = now or datetime.now(timezone.utc)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{schedule_name}"],
        "detail": {},
    }


class EventBus:
    """Provisions the bus and rules on moto and routes matched events to function pools."""

    def __init__(self, moto, rules: Iterable, dispatch: Callable[[str, dict], object],
                 bus_name: str = BUS_NAME, wait_seconds: int = 1):
        self.moto = moto
        self.rules = tuple(rules)
        self.dispatch = dispatch          # (function name, event) -> async invocation
        self.bus_name = bus_name
        self.wait_seconds = wait_seconds  # SQS long poll: an event is picked up as soon as it lands
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.queue_urls: dict[str, str] = {}
        self.delivered = 0

    def provision(self) -> None:
        events, sqs = self.moto.client("events"), self.moto.client("sqs")
        try:
            events.create_event_bus(Name=self.bus_name)
        except events.exceptions.ResourceAlreadyExistsException:
            pass
        for rule in self.rules:
            queue_name = f"stocklink-local-{rule.name}"
            url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            events.put_rule(Name=rule.name, EventBusName=self.bus_name, State="ENABLED",
                            EventPattern=json.dumps(rule_pattern(rule)))
            events.put_targets(Rule=rule.name, EventBusName=self.bus_name,
                               Targets=[{"Id": f"{rule.function}-queue", "Arn": arn}])
            self.queue_urls[rule.name] = url

    def start(self) -> None:
        for rule in self.rules:
            t = threading.Thread(target=self._poll, args=(rule, self.queue_urls[rule.name]), daemon=True,
                                 name=f"bus-{rule.name}")
            t.start()
            self._threads.append(t)

    def _poll(self, rule, url: str) -> None:
        sqs = self.moto.client("sqs")
        while not self._stop.is_set():
            try:
                messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                               WaitTimeSeconds=self.wait_seconds).get("Messages", [])
            except Exception:  # noqa: BLE001 - moto stopping, or a transient error: poll again
                if self._stop.wait(0.2):
                    return
                continue
            for message in messages:
                try:
                    event = json.loads(message["Body"])
                except ValueError:
                    log.error("bus rule %s: dropping a non-JSON message", rule.name)
                else:
                    # Handed to Lambda's async queue: from here retries/dead-letters are the pool's job.
                    self.dispatch(rule.function, event)
                    self.delivered += 1
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=self.wait_seconds + 2)


class Scheduler:
    """Invokes each schedule's function every `every_seconds` (or `interval_override`); one run at a time."""

    def __init__(self, schedules: Iterable, invoke: Callable[[str, dict], object],
                 interval_override: float | None = None):
        self.schedules = tuple(schedules)
        self.invoke = invoke  # (function name, event) -> InvocationResult, synchronous
        self.interval_override = interval_override
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.runs: dict[str, int] = {s.name: 0 for s in self.schedules}

    def interval(self, schedule) -> float:
        return float(self.interval_override or schedule.every_seconds)

    def start(self) -> None:
        for schedule in self.schedules:
            t = threading.Thread(target=self._loop, args=(schedule,), daemon=True, name=f"sched-{schedule.name}")
            t.start()
            self._threads.append(t)

    def _loop(self, schedule) -> None:
        interval = self.interval(schedule)
        next_run = time.monotonic() + interval
        while not self._stop.wait(max(0.0, next_run - time.monotonic())):
            # Synchronous call in this schedule's own thread: two runs of one schedule never overlap.
            try:
                result = self.invoke(schedule.function, scheduled_event(schedule.name))
                if result is not None and not getattr(result, "ok", True):
                    log.error("schedule %s: %s failed: %s", schedule.name, schedule.function,
                              (result.traceback or result.error or "").strip())
            except Exception:  # noqa: BLE001 - the next tick tries again
                log.exception("schedule %s failed", schedule.name)
            self.runs[schedule.name] += 1
            # A run longer than the interval skips the missed ticks rather than queueing them.
            next_run += interval * max(1, int((time.monotonic() - next_run) // interval) + 1)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)

"""The local EventBridge: the `stocklink` bus on moto, one rule per topology EventRule, each rule -> an SQS
queue on moto -> a poller thread -> an asynchronous invocation of the rule's function.

A rule with `queue` (topology.QueueDelivery) is delivered as in AWS to an SQS queue with a redrive to
`<rule>-dlq`, drained by up to max_concurrency pollers, each handing the function a batch of records
(an SQS event) synchronously and acting on its batchItemFailures, as Lambda's event source mapping does.

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

from infra.local.queues import MotoQueues, Received
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


def queue_arn(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def create_redriven_queue(sqs, name: str, visibility_timeout_s: int, max_receive_count: int) -> tuple[str, str]:
    """(queue URL, its `<name>-dlq` URL): a queue whose messages move to the DLQ after N receives."""
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    url = sqs.create_queue(QueueName=name, Attributes={
        "VisibilityTimeout": str(visibility_timeout_s),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn(sqs, dlq),
                                     "maxReceiveCount": max_receive_count})})["QueueUrl"]
    return url, dlq


def invoke_with_batch(queues: MotoQueues, url: str, msgs: list[Received], invoke: Callable[[str, dict], object],
                      function: str, label: str, retry_after_s: int, record_extra: dict | None = None) -> int:
    """What Lambda's SQS event source does with one batch: invoke `function` with the records and wait;
    records it reports in batchItemFailures (all of them if it failed) become visible again after
    retry_after_s (the queue's redrive moves them to its DLQ after N receives), the rest are deleted.
    Returns how many were deleted."""
    records = [{"messageId": m.message_id, "receiptHandle": m.receipt_handle, "body": m.body,
                "eventSource": "aws:sqs", **(record_extra or {})} for m in msgs]
    failed = {m.message_id for m in msgs}
    try:
        result = invoke(function, {"Records": records})
        if getattr(result, "ok", False):
            failed = {f["itemIdentifier"] for f in (result.payload or {}).get("batchItemFailures", [])}
        else:
            log.error("%s: %s failed: %s", label, function,
                      (getattr(result, "traceback", None) or getattr(result, "error", "") or "").strip())
    except Exception:  # noqa: BLE001 - the whole batch is retried
        log.exception("%s", label)
    # As Lambda's event source does: delete what succeeded, make what failed visible again later.
    queues.retry_later(url, [m.receipt_handle for m in msgs if m.message_id in failed], retry_after_s)
    return queues.delete(url, [m.receipt_handle for m in msgs if m.message_id not in failed])


class EventBus:
    """Provisions the bus and rules on moto and routes matched events to function pools."""

    def __init__(self, moto, rules: Iterable, dispatch: Callable[[str, dict], object],
                 bus_name: str = BUS_NAME, wait_seconds: int = 1,
                 invoke: Callable[[str, dict], object] | None = None,
                 concurrency: Callable[[str], int] | None = None):
        self.moto = moto
        self.queues = MotoQueues()        # the pollers' side of moto's SQS, without HTTP round trips
        self.rules = tuple(rules)
        self.dispatch = dispatch          # (function name, event) -> async invocation
        self.invoke = invoke              # (function name, event) -> synchronous invocation (queued rules)
        self.concurrency = concurrency or (lambda function: 1)   # warm containers of a function
        self.dlq_urls: dict[str, str] = {}
        self.bus_name = bus_name
        self.wait_seconds = wait_seconds  # SQS long poll: an event is picked up as soon as it lands
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.queue_urls: dict[str, str] = {}
        self.delivered = 0                # events handed to functions (pollers add under _count_lock)
        self._count_lock = threading.Lock()

    def provision(self) -> None:
        events, sqs = self.moto.client("events"), self.moto.client("sqs")
        try:
            events.create_event_bus(Name=self.bus_name)
        except events.exceptions.ResourceAlreadyExistsException:
            pass
        for rule in self.rules:
            queue_name = f"stocklink-local-{rule.name}"
            delivery = getattr(rule, "queue", None)
            if delivery is None:
                url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
            else:
                url, self.dlq_urls[rule.name] = create_redriven_queue(
                    sqs, queue_name, delivery.visibility_timeout_s, delivery.max_receive_count)
            arn = queue_arn(sqs, url)
            events.put_rule(Name=rule.name, EventBusName=self.bus_name, State="ENABLED",
                            EventPattern=json.dumps(rule_pattern(rule)))
            events.put_targets(Rule=rule.name, EventBusName=self.bus_name,
                               Targets=[{"Id": f"{rule.function}-queue", "Arn": arn}])
            self.queue_urls[rule.name] = url

    def start(self) -> None:
        for rule in self.rules:
            delivery = getattr(rule, "queue", None)
            if delivery is None:
                pollers, target = 1, self._poll
            else:
                if self.invoke is None:
                    raise ValueError(f"rule {rule.name} is queued: EventBus needs a synchronous invoke")
                pollers, target = max(1, min(delivery.max_concurrency, self.concurrency(rule.function))), self._drain
            for i in range(pollers):
                t = threading.Thread(target=target, args=(rule, self.queue_urls[rule.name]), daemon=True,
                                     name=f"bus-{rule.name}-{i}")
                t.start()
                self._threads.append(t)

    def _drain(self, rule, url: str) -> None:
        """One poller of a queued rule: batches of up to batch_size records handed to the function."""
        delivery = rule.queue
        extra = {"eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:stocklink-local-{rule.name}",
                 "awsRegion": REGION}
        while not self._stop.is_set():
            msgs = self.queues.receive_batch(url, delivery.batch_size, delivery.max_batching_window_s,
                                             self.wait_seconds, self._stop)
            if msgs:
                done = invoke_with_batch(self.queues, url, msgs, self.invoke, rule.function,
                                         f"bus rule {rule.name}", delivery.retry_after_s, extra)
                with self._count_lock:
                    self.delivered += done

    def dead_letters(self, rule_name: str) -> int:
        """Records of a queued rule that ended in its dead-letter queue."""
        return self.queues.depth(self.dlq_urls[rule_name])

    def _poll(self, rule, url: str) -> None:
        while not self._stop.is_set():
            messages = self.queues.receive(url, 10, self.wait_seconds, self._stop)
            for message in messages:
                try:
                    event = json.loads(message.body)
                except ValueError:
                    log.error("bus rule %s: dropping a non-JSON message", rule.name)
                else:
                    # Handed to Lambda's async queue: from here retries/dead-letters are the pool's job.
                    self.dispatch(rule.function, event)
                    with self._count_lock:
                        self.delivered += 1
            # Acknowledged once handed over; moto stopping: undeleted events are redelivered.
            self.queues.delete(url, [m.receipt_handle for m in messages])

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=self.wait_seconds + 2)


class Scheduler:
    """Invokes each schedule's function every `every_seconds` (or `interval_override`, or its own entry in
    `intervals`: schedule name -> seconds); one run of a schedule at a time, also when `run_now` asks for one
    between its ticks (the local runtime's POST /_local/schedules/{name}: tests and the demo)."""

    def __init__(self, schedules: Iterable, invoke: Callable[[str, dict], object],
                 interval_override: float | None = None, intervals: dict[str, float] | None = None):
        self.schedules = tuple(schedules)
        self.invoke = invoke  # (function name, event) -> InvocationResult, synchronous
        self.interval_override = interval_override
        self.intervals = dict(intervals or {})
        unknown = set(self.intervals) - {s.name for s in self.schedules}
        if unknown:
            raise ValueError(f"no such schedule: {', '.join(sorted(unknown))}")
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.runs: dict[str, int] = {s.name: 0 for s in self.schedules}
        self._running = {s.name: threading.Lock() for s in self.schedules}

    def interval(self, schedule) -> float:
        return float(self.intervals.get(schedule.name) or self.interval_override or schedule.every_seconds)

    def start(self) -> None:
        for schedule in self.schedules:
            t = threading.Thread(target=self._loop, args=(schedule,), daemon=True, name=f"sched-{schedule.name}")
            t.start()
            self._threads.append(t)

    def schedule(self, name: str):
        """The schedule called `name` (KeyError if there is none)."""
        for schedule in self.schedules:
            if schedule.name == name:
                return schedule
        raise KeyError(name)

    def run_now(self, name: str):
        """One run of the schedule now, in the caller's thread, after the run in progress if there is one;
        returns the function's InvocationResult."""
        schedule = self.schedule(name)
        return self._run(schedule)

    def _run(self, schedule):
        with self._running[schedule.name]:     # two runs of one schedule never overlap
            started = time.perf_counter()
            result = self.invoke(schedule.function, scheduled_event(schedule.name))
            if result is not None and not getattr(result, "ok", True):
                log.error("schedule %s: %s failed: %s", schedule.name, schedule.function,
                          (result.traceback or result.error or "").strip())
            else:       # one line per pass on the terminal of `make run`
                log.info("schedule %s: %s ran in %.0f ms", schedule.name, schedule.function,
                         (time.perf_counter() - started) * 1000)
            self.runs[schedule.name] += 1
            return result

    def _loop(self, schedule) -> None:
        interval = self.interval(schedule)
        next_run = time.monotonic() + interval
        while not self._stop.wait(max(0.0, next_run - time.monotonic())):
            try:
                self._run(schedule)
            except Exception:  # noqa: BLE001 - the next tick tries again
                log.exception("schedule %s failed", schedule.name)
            # A run longer than the interval skips the missed ticks rather than queueing them.
            next_run += interval * max(1, int((time.monotonic() - next_run) // interval) + 1)

    def stop(self) -> None:
        # One shared deadline: a long scheduled run (e.g. the daily forecast) must not hold up Ctrl-C;
        # its worker process is stopped by the pool right after.
        self._stop.set()
        deadline = time.monotonic() + 5
        for t in self._threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))


def topic_arn(topic_name: str) -> str:
    """ARN of a topology Topic on moto (deterministic, so workers learn it before the topic exists)."""
    return f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:stocklink-{topic_name}"


class Topics:
    """topology.TOPICS on moto's SNS, each with a console queue (every delivered message is printed and
    kept for `stocklink alerts tail`), and topology.TOPIC_QUEUES: an SQS queue subscribed to its topic,
    a redrive to `<name>-dlq` after max_receive_count receives, polled and handed to the consumer
    function as an SQS event with partial batch failures, as Lambda's event source mapping does."""

    def __init__(self, moto, topics: Iterable, topic_queues: Iterable, invoke: Callable[[str, dict], object],
                 echo: Callable[[str], None] | None = None, wait_seconds: int = 1, retry_after_s: int = 2):
        self.moto, self.topics, self.topic_queues = moto, tuple(topics), tuple(topic_queues)
        self.invoke, self.wait_seconds, self.retry_after_s = invoke, wait_seconds, retry_after_s
        self.echo = echo or (lambda line: log.info("%s", line))
        self.queues = MotoQueues()
        self.arns: dict[str, str] = {}
        self.queue_urls: dict[str, str] = {}
        self.dlq_urls: dict[str, str] = {}
        self.console_urls: dict[str, str] = {}
        self.delivered: list[dict] = []   # every message each console queue received, newest last
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def env(self) -> dict[str, str]:
        env = {t.env: topic_arn(t.name) for t in self.topics}
        if self.topic_queues:
            # the alert tick reports these DLQs' depth (by queue name: the URLs exist after provision)
            env["DEAD_LETTER_QUEUES"] = json.dumps({f"{q.name}-dlq": f"stocklink-local-{q.name}-dlq"
                                                    for q in self.topic_queues})
        return env

    def provision(self) -> None:
        sns, sqs = self.moto.client("sns"), self.moto.client("sqs")
        for t in self.topics:
            self.arns[t.name] = sns.create_topic(Name=f"stocklink-{t.name}")["TopicArn"]
            url = sqs.create_queue(QueueName=f"stocklink-local-{t.name}-console")["QueueUrl"]
            sns.subscribe(TopicArn=self.arns[t.name], Protocol="sqs", Endpoint=queue_arn(sqs, url))
            self.console_urls[t.name] = url
        for q in self.topic_queues:
            url, dlq = create_redriven_queue(sqs, f"stocklink-local-{q.name}", q.visibility_timeout_s,
                                             q.max_receive_count)
            if getattr(q, "topic", None):   # a platform queue (topology.PLATFORM_QUEUES) has no topic
                sns.subscribe(TopicArn=self.arns[q.topic], Protocol="sqs", Endpoint=queue_arn(sqs, url))
            self.queue_urls[q.name], self.dlq_urls[q.name] = url, dlq

    def start(self) -> None:
        for name, url in self.console_urls.items():
            self._spawn(self._console, name, url)
        for q in self.topic_queues:
            self._spawn(self._consume, q, self.queue_urls[q.name])

    def _spawn(self, target, *args) -> None:
        t = threading.Thread(target=target, args=args, daemon=True, name=f"topic-{args[0]}")
        t.start()
        self._threads.append(t)

    def _console(self, topic_name: str, url: str) -> None:
        while not self._stop.is_set():
            for m in self.queues.receive(url, 10, self.wait_seconds, self._stop):
                try:
                    env = json.loads(m.body)
                    message = json.loads(env.get("Message", "{}"))
                    attrs = {k: v.get("Value") for k, v in (env.get("MessageAttributes") or {}).items()}
                except ValueError:
                    message, attrs = {"raw": m.body}, {}
                record = {"topic": topic_name, "message": message, "attributes": attrs,
                          "received_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
                self.delivered.append(record)
                del self.delivered[:-1000]
                self.echo(format_alert(record))
                self.queues.delete(url, [m.receipt_handle])

    def _consume(self, q, url: str) -> None:
        while not self._stop.is_set():
            msgs = self.queues.receive(url, q.batch_size, self.wait_seconds, self._stop)
            if msgs:
                invoke_with_batch(self.queues, url, msgs, self.invoke, q.function, f"topic queue {q.name}",
                                  self.retry_after_s)

    def dead_letters(self, name: str) -> int:
        return self.queues.depth(self.dlq_urls[name])

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=self.wait_seconds + 2)


def format_alert(record: dict) -> str:
    """One console line per delivered alert."""
    m, a = record.get("message") or {}, record.get("attributes") or {}
    if "title" in m:
        return f"ALERT {a.get('severity', m.get('severity', '?')).upper():6} {m['title']} — {m.get('action', '')}"
    return f"ALERT {json.dumps(m)[:200]}"

"""The StockLink event bus and one rule per topology.EVENT_RULES entry.

A rule without `queue` targets its function directly (asynchronous invocation, retries, DLQ). A rule with
`queue` (topology.QueueDelivery) targets an SQS queue that the function drains through an event source
mapping in batches with partial batch failures; records failing max_receive_count times move to the
queue's dead-letter queue, and events EventBridge cannot deliver to the queue go to a delivery DLQ."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs import pascal

# EventBridge retries delivery with backoff for up to max_event_age; then the event goes to the DLQ.
TARGET_RETRY_ATTEMPTS = 8
TARGET_MAX_EVENT_AGE = cdk.Duration.hours(2)


class Bus(Construct):
    def __init__(self, scope: Construct, id: str, *, bus_name: str) -> None:
        super().__init__(scope, id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=bus_name)
        self.queues: dict[str, sqs.Queue] = {}

    def add_rules(self, rules, functions: dict[str, lambda_.Function], dlq_factory) -> dict[str, events.Rule]:
        created = {}
        for rule in rules:
            if rule.function not in functions:
                raise ValueError(f"event rule {rule.name} targets unknown function {rule.function!r}")
            retry = dict(dead_letter_queue=dlq_factory(f"{rule.name}-delivery", eventbridge_target=True),
                         retry_attempts=TARGET_RETRY_ATTEMPTS, max_event_age=TARGET_MAX_EVENT_AGE)
            delivery = getattr(rule, "queue", None)
            if delivery is None:
                target = targets.LambdaFunction(functions[rule.function], **retry)
            else:
                queue = self._queue(rule, delivery, dlq_factory)
                target = targets.SqsQueue(queue, **retry)
                functions[rule.function].add_event_source(event_sources.SqsEventSource(
                    queue, batch_size=delivery.batch_size, report_batch_item_failures=True,
                    max_concurrency=delivery.max_concurrency,
                    max_batching_window=cdk.Duration.seconds(delivery.max_batching_window_s)
                    if delivery.max_batching_window_s else None))
                self.queues[rule.name] = queue
                if delivery.requeue:             # e.g. the last-units guard's "a drain is over", later
                    queue.grant_send_messages(functions[rule.function])
                    functions[rule.function].add_environment("REQUEUE_QUEUE", queue.queue_url)
            created[rule.name] = events.Rule(
                self, pascal(rule.name),
                event_bus=self.bus,
                description=f"{rule.source} {', '.join(rule.detail_types)} -> {rule.function}",
                event_pattern=events.EventPattern(source=[rule.source], detail_type=list(rule.detail_types)),
                targets=[target],
            )
        return created

    def _queue(self, rule, delivery, dlq_factory) -> sqs.Queue:
        if delivery.batch_size > 10 and delivery.max_batching_window_s < 1:
            raise ValueError(f"rule {rule.name}: a batch above 10 needs a batching window of at least 1 s")
        return sqs.Queue(
            self, f"{pascal(rule.name)}Queue",
            # SSE-SQS: EventBridge can send to it without a customer key policy
            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(delivery.visibility_timeout_s),
            retention_period=cdk.Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=dlq_factory(f"{rule.name}-dlq", eventbridge_target=False),
                max_receive_count=delivery.max_receive_count),
        )

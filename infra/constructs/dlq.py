"""Dead-letter queues for asynchronous targets (EventBridge rule targets, async Lambda invocations)."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs import acknowledge, pascal


class DeadLetterQueues(Construct):
    """Creates one encrypted, SSL-only queue per name on first use."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.queues: dict[str, sqs.Queue] = {}

    def __call__(self, name: str, *, eventbridge_target: bool) -> sqs.Queue:
        """eventbridge_target: the queue is an EventBridge target's DLQ (cdk-nag cannot see that use;
        a Lambda function's DeadLetterConfig it can)."""
        if name not in self.queues:
            queue = sqs.Queue(
                self, pascal(name),
                # SSE-SQS rather than KMS: EventBridge can deliver to it without a customer key policy.
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=cdk.Duration.days(14),  # the maximum: time to notice and redrive
            )
            if eventbridge_target:
                acknowledge(queue, "AwsSolutions-SQS3",
                            "This queue is itself the dead-letter queue of an EventBridge rule target; a DLQ "
                            "of a DLQ would only move the problem.")
            self.queues[name] = queue
        return self.queues[name]

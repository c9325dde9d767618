"""Queues platforms deliver to directly, from topology.PLATFORM_QUEUES (Amazon SP-API notifications).

Per queue: SSE-SQS encryption (a sender in another account needs no key policy: Amazon's publisher
cannot use a customer key of ours), SSL only, a redrive to its own DLQ after max_receive_count receives,
and a queue policy whose only Allow is sqs:SendMessage + sqs:GetQueueAttributes for the platform's
publishing account (the Notifications API's createDestination checks it may send). The consumer gets an
SQS event source with partial batch failures; CDK grants it receive / delete on this queue only.
"""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs import pascal

PUBLISHER_ACTIONS = ["sqs:SendMessage", "sqs:GetQueueAttributes"]


class PlatformQueues(Construct):
    def __init__(self, scope: Construct, id: str, *, specs, functions: dict[str, lambda_.Function]) -> None:
        super().__init__(scope, id)
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        for spec in specs:
            if spec.function not in functions:
                raise ValueError(f"platform queue {spec.name}: unknown function {spec.function!r}")
            if not (spec.publisher_account.isdigit() and len(spec.publisher_account) == 12):
                raise ValueError(f"platform queue {spec.name}: publisher_account must be a 12-digit AWS account")
            cid = pascal(spec.name)
            dlq = sqs.Queue(self, f"{cid}Dlq", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                            retention_period=cdk.Duration.days(14))
            queue = sqs.Queue(
                self, f"{cid}Queue", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                visibility_timeout=cdk.Duration.seconds(spec.visibility_timeout_s),
                retention_period=cdk.Duration.days(4),
                dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=spec.max_receive_count))
            queue.add_to_resource_policy(iam.PolicyStatement(
                sid="PlatformPublisherSends", actions=PUBLISHER_ACTIONS, resources=[queue.queue_arn],
                principals=[iam.AccountPrincipal(spec.publisher_account)]))
            functions[spec.function].add_event_source(event_sources.SqsEventSource(
                queue, batch_size=spec.batch_size, report_batch_item_failures=True))
            self.queues[spec.name], self.dead_letter_queues[spec.name] = queue, dlq

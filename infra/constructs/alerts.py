"""Alert topics from topology.TOPICS and their queue consumers from topology.TOPIC_QUEUES.

Per topic: a customer-managed KMS key (rotation on) encrypting an SSL-only SNS topic; publishers get
sns:Publish plus the two KMS actions publishing needs, managers get Subscribe / Unsubscribe /
(Get|Set)SubscriptionAttributes on the topic and its subscriptions only; both learn the ARN from the
topic's env variable. Per topic queue: an SSL-only SQS queue subscribed to the topic (SNS envelope, so
message attributes travel), a redrive to its own DLQ after max_receive_count receives, and an SQS event
source on the consumer function with partial batch failures.
"""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs import acknowledge, logical_id, pascal

MANAGE_ACTIONS = ["sns:Subscribe", "sns:Unsubscribe", "sns:SetSubscriptionAttributes",
                  "sns:GetSubscriptionAttributes", "sns:ListSubscriptionsByTopic"]


class AlertTopics(Construct):
    def __init__(self, scope: Construct, id: str, *, topics, topic_queues,
                 functions: dict[str, lambda_.Function]) -> None:
        super().__init__(scope, id)
        self.topics: dict[str, sns.Topic] = {}
        self.keys: dict[str, kms.Key] = {}
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}

        for spec in topics:
            cid = pascal(spec.name)
            key = kms.Key(self, f"{cid}TopicKey", enable_key_rotation=True,
                          removal_policy=cdk.RemovalPolicy.DESTROY, pending_window=cdk.Duration.days(7),
                          description=f"StockLink {spec.name} topic")
            topic = sns.Topic(self, f"{cid}Topic", display_name=f"StockLink {spec.name}", master_key=key,
                              enforce_ssl=True)
            self.topics[spec.name], self.keys[spec.name] = topic, key
            for name in spec.publishers + spec.managers:
                if name not in functions:
                    raise ValueError(f"topic {spec.name}: unknown function {name!r}")
                functions[name].add_environment(spec.env, topic.topic_arn)
            for name in spec.publishers:
                # sns:Publish on this topic, and (CDK adds it) kms:Decrypt + kms:GenerateDataKey* on its key
                topic.grant_publish(functions[name])
                acknowledge(functions[name].role, "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                            f"{name} publishes to the KMS-encrypted {spec.name} topic; CDK's grant_publish adds "
                            "GenerateDataKey* (the key's data-key variants) on that one key only.")
            for name in spec.managers:
                fn = functions[name]
                fn.add_to_role_policy(iam.PolicyStatement(
                    actions=MANAGE_ACTIONS, resources=[topic.topic_arn, f"{topic.topic_arn}:*"]))
                acknowledge(fn.role, f"AwsSolutions-IAM5[Resource::<{logical_id(topic)}>:*]",
                            f"{name} manages subscriptions of the {spec.name} topic; a subscription ARN is the "
                            "topic ARN plus an id SNS assigns at subscribe time, so only topicArn:* can name them.")
            # SNS delivering to the queue below needs the key for the messages it hands on
            key.grant(iam.ServicePrincipal("sns.amazonaws.com"), "kms:GenerateDataKey*", "kms:Decrypt")

        for spec in topic_queues:
            if spec.topic not in self.topics:
                raise ValueError(f"topic queue {spec.name}: unknown topic {spec.topic!r}")
            if spec.function not in functions:
                raise ValueError(f"topic queue {spec.name}: unknown function {spec.function!r}")
            cid = pascal(spec.name)
            key = self.keys[spec.topic]
            dlq = sqs.Queue(self, f"{cid}Dlq", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key,
                            enforce_ssl=True, retention_period=cdk.Duration.days(14))
            # cdk-nag sees the redrive below: no SQS3 finding for a queue used as a DLQ
            queue = sqs.Queue(
                self, f"{cid}Queue",
                encryption=sqs.QueueEncryption.KMS, encryption_master_key=key, enforce_ssl=True,
                visibility_timeout=cdk.Duration.seconds(spec.visibility_timeout_s),
                retention_period=cdk.Duration.days(4),
                dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=spec.max_receive_count),
            )
            self.topics[spec.topic].add_subscription(subscriptions.SqsSubscription(queue))
            functions[spec.function].add_event_source(event_sources.SqsEventSource(
                queue, batch_size=spec.batch_size, report_batch_item_failures=True))
            self.queues[spec.name], self.dead_letter_queues[spec.name] = queue, dlq

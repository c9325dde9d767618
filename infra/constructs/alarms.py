"""Alarms: a message in any dead-letter queue means an event was lost to its target; say so."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs import pascal


class Alarms(Construct):
    def __init__(self, scope: Construct, id: str, *, dead_letter_queues: dict[str, sqs.IQueue],
                 email: str | None = None) -> None:
        super().__init__(scope, id)
        # A customer key: CloudWatch cannot publish to a topic under the AWS-managed aws/sns key.
        key = kms.Key(self, "TopicKey", enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.DESTROY,
                      pending_window=cdk.Duration.days(7), description="StockLink alarm topic")
        key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = sns.Topic(self, "Topic", display_name="StockLink alarms", master_key=key, enforce_ssl=True)
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for name, queue in dead_letter_queues.items():
            alarm = cloudwatch.Alarm(
                self, f"{pascal(name)}NotEmpty",
                alarm_description=f"StockLink dead-letter queue {name} holds messages: inspect and redrive",
                metric=queue.metric_approximate_number_of_messages_visible(
                    period=cdk.Duration.minutes(5), statistic="Maximum"),
                threshold=1, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(actions.SnsAction(self.topic))
            self.alarms[name] = alarm

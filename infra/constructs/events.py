"""The StockLink event bus and one rule per topology.EVENT_RULES entry."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constructs import pascal

# EventBridge retries delivery with backoff for up to max_event_age; then the event goes to the DLQ.
TARGET_RETRY_ATTEMPTS = 8
TARGET_MAX_EVENT_AGE = cdk.Duration.hours(2)


class Bus(Construct):
    def __init__(self, scope: Construct, id: str, *, bus_name: str) -> None:
        super().__init__(scope, id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=bus_name)

    def add_rules(self, rules, functions: dict[str, lambda_.IFunction], dlq_factory) -> dict[str, events.Rule]:
        created = {}
        for rule in rules:
            if rule.function not in functions:
                raise ValueError(f"event rule {rule.name} targets unknown function {rule.function!r}")
            created[rule.name] = events.Rule(
                self, pascal(rule.name),
                event_bus=self.bus,
                description=f"{rule.source} {', '.join(rule.detail_types)} -> {rule.function}",
                event_pattern=events.EventPattern(source=[rule.source], detail_type=list(rule.detail_types)),
                targets=[targets.LambdaFunction(
                    functions[rule.function],
                    dead_letter_queue=dlq_factory(f"{rule.name}-delivery", eventbridge_target=True),
                    retry_attempts=TARGET_RETRY_ATTEMPTS,
                    max_event_age=TARGET_MAX_EVENT_AGE,
                )],
            )
        return created

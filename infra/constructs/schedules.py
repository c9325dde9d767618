"""Schedules from topology.SCHEDULES.

EventBridge rates have a 1-minute minimum. A schedule of every_seconds >= 60 is a plain rate rule; one
below 60 (it must divide 60) is a 1-minute rule starting an Express state machine that invokes the
function 60/every_seconds times, separated by Waits of every_seconds: 30 s -> Invoke, Wait 30 s, Invoke.
"""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.constructs import acknowledge, logical_id, pascal
from infra.constructs.events import TARGET_MAX_EVENT_AGE, TARGET_RETRY_ATTEMPTS


def ticks(every_seconds: int) -> int:
    """How many invocations one 1-minute run makes; raises for rates EventBridge cannot express."""
    if every_seconds <= 0:
        raise ValueError("every_seconds must be positive")
    if every_seconds >= 60:
        if every_seconds % 60:
            raise ValueError(f"every_seconds={every_seconds}: rates of a minute or more must be whole minutes")
        return 1
    if 60 % every_seconds:
        raise ValueError(f"every_seconds={every_seconds}: sub-minute schedules must divide 60")
    return 60 // every_seconds


def scheduled_payload(name: str, tick: int) -> sfn.TaskInput:
    # Shaped like EventBridge's "Scheduled Event" so one handler serves rate rules and sub-minute runs.
    return sfn.TaskInput.from_object({
        "source": "stocklink.schedule",
        "detail-type": "Scheduled Event",
        "time": sfn.JsonPath.string_at("$$.State.EnteredTime"),
        "detail": {"schedule": name, "tick": tick},
    })


class Schedules(Construct):
    def __init__(self, scope: Construct, id: str, *, schedules, functions: dict[str, lambda_.IFunction],
                 dlq_factory, log_retention: logs.RetentionDays) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.rules: dict[str, events.Rule] = {}
        self.state_machines: dict[str, sfn.StateMachine] = {}
        for schedule in schedules:
            if schedule.function not in functions:
                raise ValueError(f"schedule {schedule.name} targets unknown function {schedule.function!r}")
            fn = functions[schedule.function]
            cid = pascal(schedule.name)
            count = ticks(schedule.every_seconds)
            retry = dict(dead_letter_queue=dlq_factory(f"{schedule.name}-delivery", eventbridge_target=True),
                         retry_attempts=TARGET_RETRY_ATTEMPTS, max_event_age=TARGET_MAX_EVENT_AGE)
            if count == 1:
                target = targets.LambdaFunction(fn, **retry)
                rate = cdk.Duration.minutes(schedule.every_seconds // 60)
            else:
                machine = self._state_machine(cid, schedule, fn, count, log_retention, stack)
                self.state_machines[schedule.name] = machine
                target = targets.SfnStateMachine(machine, **retry)
                rate = cdk.Duration.minutes(1)
            self.rules[schedule.name] = events.Rule(
                self, f"{cid}Rule", schedule=events.Schedule.rate(rate), targets=[target],
                description=f"{schedule.name}: {schedule.function} every {schedule.every_seconds} s")

    def _state_machine(self, cid, schedule, fn, count, log_retention, stack) -> sfn.StateMachine:
        chain = None
        for tick in range(count):
            # Event (async) invocation: ticks stay every_seconds apart however long a run takes; failures
            # go to the function's own dead-letter queue.
            invoke = tasks.LambdaInvoke(
                self, f"{cid}Invoke{tick + 1}", state_name=f"Invoke {tick + 1}",
                lambda_function=fn, invocation_type=tasks.LambdaInvocationType.EVENT,
                payload=scheduled_payload(schedule.name, tick + 1), result_path=sfn.JsonPath.DISCARD,
                retry_on_service_exceptions=False,
            )
            # A short retry only: CDK's default (6 attempts, backoff 2) could outlast the next tick.
            invoke.add_retry(errors=["Lambda.ServiceException", "Lambda.AWSLambdaException",
                                     "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
                             max_attempts=2, interval=cdk.Duration.seconds(1), backoff_rate=2)
            steps = [invoke]
            if tick + 1 < count:
                steps.append(sfn.Wait(self, f"{cid}Wait{tick + 1}", state_name=f"Wait {tick + 1}",
                                      time=sfn.WaitTime.duration(cdk.Duration.seconds(schedule.every_seconds))))
            for step in steps:
                chain = step if chain is None else chain.next(step)
        # /aws/vendedlogs/ keeps CloudWatch Logs' account-wide resource policy from growing per log group.
        log_group = logs.LogGroup(self, f"{cid}Logs", retention=log_retention,
                                  removal_policy=cdk.RemovalPolicy.DESTROY,
                                  log_group_name=f"/aws/vendedlogs/states/{stack.stack_name}-{schedule.name}")
        machine = sfn.StateMachine(
            self, f"{cid}StateMachine",
            state_machine_type=sfn.StateMachineType.EXPRESS,
            definition_body=sfn.DefinitionBody.from_chainable(chain),
            # The run lasts (count-1)*every_seconds plus a few seconds of invokes; Express allows 5 minutes.
            timeout=cdk.Duration.seconds(60 + 30),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            comment=f"{schedule.name}: {count} invocations of {schedule.function}, {schedule.every_seconds} s apart",
        )
        acknowledge(machine, f"AwsSolutions-IAM5[Resource::<{logical_id(fn)}.Arn>:*]",
                    "lambda:InvokeFunction on the function's own versions/aliases (ARN:*), as CDK's LambdaInvoke "
                    "grants it; the resource is this one function.")
        acknowledge(machine, "AwsSolutions-IAM5[Resource::*]",
                    "CloudWatch Logs delivery actions (logs:CreateLogDelivery, PutResourcePolicy, ...) that Step "
                    "Functions needs for logging do not support resource-level permissions; X-Ray put actions neither.")
        return machine

"""Growing the topology grows the stack with no CDK change (infra_synth.ALT_TOPOLOGY)."""
from __future__ import annotations

import pytest
from infra_synth import ALT_TOPOLOGY, check_dlq, check_sub_minute_schedule, refs, role_statements

from infra.constructs.schedules import ticks


def test_grown_topology_synthesizes_clean_under_cdk_nag(alt):
    assert alt.violations == []


def test_new_event_rule_targets_its_function_with_dlq_and_retry_policy(alt):
    (rule_spec,) = ALT_TOPOLOGY.EVENT_RULES
    notify_lid = alt.lid(alt.stack.functions["notify"])
    rules = [r["Properties"] for r in alt.of_type("AWS::Events::Rule").values() if "EventPattern" in r["Properties"]]
    (rule,) = rules
    assert rule["EventPattern"] == {"source": ["stocklink"], "detail-type": list(rule_spec.detail_types)}
    assert rule["EventBusName"] == {"Ref": next(iter(alt.of_type("AWS::Events::EventBus")))}
    (target,) = rule["Targets"]
    assert refs(target["Arn"]) == {notify_lid}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0 and target["RetryPolicy"]["MaximumEventAgeInSeconds"] > 0
    check_dlq(alt, target["DeadLetterConfig"]["Arn"])
    # The function itself is invoked asynchronously, so failed invocations land in its own DLQ too.
    check_dlq(alt, alt.resources[notify_lid]["Properties"]["DeadLetterConfig"]["TargetArn"])


def test_function_without_table_access_gets_no_dynamodb_permission(alt):
    role_lid = alt.resources[alt.lid(alt.stack.functions["notify"])]["Properties"]["Role"]["Fn::GetAtt"][0]
    actions = {a for st in role_statements(alt, role_lid)
               for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
    assert actions, "it can still write its logs and its DLQ"
    assert not [a for a in actions if a.startswith(("dynamodb:", "events:", "secretsmanager:"))]


def test_new_route_and_read_only_function(alt):
    methods = [m for m in alt.of_type("AWS::ApiGateway::Method").values()
               if m["Properties"]["HttpMethod"] != "OPTIONS"]          # OPTIONS: the console's CORS preflights
    assert len(methods) == len(ALT_TOPOLOGY.ROUTES)
    forecast_lid = alt.lid(alt.stack.functions["forecast"])
    role_lid = alt.resources[forecast_lid]["Properties"]["Role"]["Fn::GetAtt"][0]
    written = [a for st in role_statements(alt, role_lid) for a in st["Action"] if a in ("dynamodb:PutItem", "dynamodb:UpdateItem")]
    assert written == []


def test_20s_schedule_makes_three_invocations_per_minute(alt):
    (schedule,) = [s for s in ALT_TOPOLOGY.SCHEDULES if s.every_seconds == 20]
    check_sub_minute_schedule(alt, schedule)


def test_schedule_of_minutes_is_a_plain_rate_rule_on_the_function(alt):
    (schedule,) = [s for s in ALT_TOPOLOGY.SCHEDULES if s.every_seconds >= 60]
    assert schedule.name not in alt.stack.schedules.state_machines
    rule = alt.resources[alt.lid(alt.stack.schedules.rules[schedule.name])]["Properties"]
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    (target,) = rule["Targets"]
    assert refs(target["Arn"]) == {alt.lid(alt.stack.functions[schedule.function])}
    check_dlq(alt, target["DeadLetterConfig"]["Arn"])


@pytest.mark.parametrize("seconds, expected", [(30, 2), (20, 3), (15, 4), (60, 1), (86400, 1)])
def test_ticks_per_minute(seconds, expected):
    assert ticks(seconds) == expected


@pytest.mark.parametrize("seconds", [45, 7, 90, 0])
def test_schedules_eventbridge_cannot_express_are_refused(seconds):
    with pytest.raises(ValueError):
        ticks(seconds)

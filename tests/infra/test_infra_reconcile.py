"""The reconcile slice of the synthesized stack: its role has what a pass needs and nothing more, the
30 s schedule is a 1-minute rule starting an Express machine (Invoke → Wait 30 s → Invoke), and the two
report routes reach the staff API behind the token check."""
from __future__ import annotations

from infra_synth import check_sub_minute_schedule, refs, role_statements

from infra import topology


def _actions(statement) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _role(synth):
    fn = synth.resources[synth.lid(synth.stack.functions["reconcile"])]["Properties"]
    return fn, fn["Role"]["Fn::GetAtt"][0]


WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def test_reconcile_role_has_what_a_pass_needs_and_no_more(synth):
    _, role_lid = _role(synth)
    assert not synth.resources[role_lid]["Properties"].get("ManagedPolicyArns")
    names = {synth.lid(t): name for name, t in synth.stack.tables.items()}
    readable, writable, services = set(), set(), set()
    for st in role_statements(synth, role_lid):
        assert st["Effect"] == "Allow" and st["Resource"] != "*"
        actions = _actions(st)
        services |= {a.split(":")[0] for a in actions}
        assert not any(a.endswith(":*") for a in actions)
        ddb = {a for a in actions if a.startswith("dynamodb:")}
        if ddb:
            touched = {names[r] for r in refs(st["Resource"])}
            readable |= touched
            if ddb & WRITES:
                writable |= touched
        if "events:PutEvents" in actions:
            (bus,) = refs(st["Resource"])
            assert synth.resources[bus]["Type"] == "AWS::Events::EventBus"
        if any(a.startswith("secretsmanager:") for a in actions):
            assert actions <= {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
            assert st["Resource"]["Fn::Join"][1][-1] == ":secret:stocklink/shops/*"   # shop credentials only
    # Holds: stock + ledger + reservations (release transactions); catalog: lease, cursors, dirty markers,
    # reports, sync state; events: read only (unmapped orders); shop credentials: read; anomalies: PutEvents.
    assert readable == {"stock", "ledger", "reservations", "catalog", "events"}
    assert writable == {"stock", "ledger", "reservations", "catalog"}
    assert services == {"dynamodb", "events", "secretsmanager", "logs", "sqs"}   # sqs: its async DLQ only
    assert not ({"alerts", "forecast"} & readable)


def test_reconcile_runs_every_30s_through_an_express_machine_with_a_wait(synth):
    (schedule,) = [s for s in topology.SCHEDULES if s.function == "reconcile"]
    assert schedule.every_seconds == 30
    check_sub_minute_schedule(synth, schedule)


def test_reconcile_timeout_fits_between_two_passes(synth):
    fn, _ = _role(synth)
    assert fn["Timeout"] == topology.function("reconcile").timeout_s < 30


def test_report_routes_reach_the_staff_api_behind_the_token(synth):
    wanted = {("GET", "/reconciliation/last"), ("GET", "/reconciliation/history")}
    routes = {(r.method, r.path): r for r in topology.ROUTES}
    assert wanted <= set(routes)
    assert all(routes[k].function == "staff_api" and routes[k].auth == "token" for k in wanted)
    staff_lid = synth.lid(synth.stack.functions["staff_api"])
    methods = [m["Properties"] for m in synth.of_type("AWS::ApiGateway::Method").values()
               if m["Properties"]["HttpMethod"] == "GET"]
    resources = {lid: r["Properties"]["PathPart"] for lid, r in synth.of_type("AWS::ApiGateway::Resource").items()}
    reconciling = [m for m in methods if resources.get(m["ResourceId"].get("Ref")) in ("last", "history")]
    assert len(reconciling) == 2
    assert all(staff_lid in refs(m["Integration"]["Uri"]) for m in reconciling)

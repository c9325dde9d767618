"""Synthesis and template helpers for tests/infra (a unique module name: other suites have conftests too).

Every synth here uses the skip-deps layer (only stocklink/ in it), so tests never run pip;
test_infra_layer.py builds the real layer on its own.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from infra import topology  # noqa: E402
from infra.app import build_app  # noqa: E402
from infra.constructs import logical_id  # noqa: E402
from infra.topology import EventRule, Function, Schedule  # noqa: E402

STACK = "StockLinkStack"


@dataclass
class Synth:
    stack: object
    outdir: Path
    template: dict                                # the parent stack's template (outputs, parameters)
    violations: list[tuple[str, str, str]]       # (severity, rule, construct path), unacknowledged
    acknowledgements: list[tuple[str, str, str]]  # (construct path, rule id, reason)
    templates: dict[str, dict] = field(default_factory=dict)   # file name -> template, parent first
    resources: dict = field(default_factory=dict)  # every stack's resources by logical id (merged_resources)

    def of_type(self, cfn_type: str) -> dict:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}

    def lid(self, construct) -> str:
        return logical_id(construct)

    def resource_counts(self) -> dict[str, int]:
        return {name: len(t["Resources"]) for name, t in self.templates.items()}


def synthesize(outdir: Path, topo=None, **context) -> Synth:
    ctx = {"stocklink:skipLayerDeps": "true", **{f"stocklink:{k}": v for k, v in context.items()}}
    app, stack = build_app(str(outdir), context=ctx, **({"topology": topo} if topo else {}))
    try:
        app.synth()
    except RuntimeError as exc:  # cdk-nag findings fail synth; the report says which
        if "ValidationFailed" not in str(exc):
            raise
    violations = []
    report = outdir / "validation-report.json"
    if report.exists():
        for plugin in json.loads(report.read_text())["pluginReports"]:
            for v in plugin["violations"]:
                for c in v["violatingConstructs"]:
                    violations.append((v["severity"], v["ruleName"], c["constructPath"]))
    acknowledgements = []
    # The nested stacks' constructs are recorded in the parent's metadata too.
    for path, entries in json.loads((outdir / f"{STACK}.metadata.json").read_text()).items():
        for entry in entries:
            if entry["type"] == "aws:cdk:acknowledged-rules":
                for rule, reason in entry["data"].items():
                    acknowledgements.append((path.lstrip("/"), rule.split("::", 1)[-1], reason))
    template = json.loads((outdir / f"{STACK}.template.json").read_text())
    templates = {f"{STACK}.template.json": template}
    resources = merged_resources(outdir, template, templates, _nested_template_files(stack))
    return Synth(stack, outdir, template, violations, acknowledgements, templates, resources)


def _nested_template_files(stack) -> dict[str, str]:
    """Logical id of each nested stack's AWS::CloudFormation::Stack resource in the parent -> its template."""
    import aws_cdk as cdk
    return {stack.resolve(stack.get_logical_id(nested.nested_stack_resource)): nested.template_file
            for nested in stack.node.find_all() if isinstance(nested, cdk.NestedStack)}


def merged_resources(outdir: Path, template: dict, templates: dict[str, dict], files: dict[str, str]) -> dict:
    """The parent's and every nested stack's resources by logical id, read as one template: in a nested
    template a Ref to one of its parameters becomes the value the parent passes (a function's Fn::GetAtt
    Arn, the API's Ref, ...), and in the parent a nested stack's output becomes its value, so an assertion
    reads a reference the same wherever CDK put the resource. Fills `templates` with the nested ones."""
    resources = dict(template["Resources"])
    outputs: dict[tuple[str, str], object] = {}
    nested_lids = {lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::CloudFormation::Stack"}
    assert nested_lids == set(files), (nested_lids, files)
    for lid, name in sorted(files.items()):
        nested = json.loads((outdir / name).read_text())
        templates[name] = nested
        passed = template["Resources"][lid]["Properties"].get("Parameters", {})
        nested_resources = _substitute(nested["Resources"], passed)
        clash = set(nested_resources) & set(resources)
        assert not clash, f"logical ids in more than one template: {sorted(clash)}"
        resources.update(nested_resources)
        for key, output in nested.get("Outputs", {}).items():
            outputs[(lid, f"Outputs.{key}")] = _substitute(output["Value"], passed)
    return _resolve_outputs(resources, outputs) if outputs else resources


def _substitute(value, parameters: dict):
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in parameters:
            return parameters[value["Ref"]]
        return {k: _substitute(v, parameters) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, parameters) for v in value]
    return value


def _resolve_outputs(value, outputs: dict):
    if isinstance(value, dict):
        if set(value) == {"Fn::GetAtt"} and tuple(value["Fn::GetAtt"]) in outputs:
            return outputs[tuple(value["Fn::GetAtt"])]
        return {k: _resolve_outputs(v, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_outputs(v, outputs) for v in value]
    return value


# A topology grown the way the lead will grow it: a function with no table access fed by an event rule,
# a 20-second and a 5-minute schedule, one more route. The CDK code must deploy it unchanged.
ALT_TOPOLOGY = SimpleNamespace(
    TABLES=topology.TABLES,
    FUNCTIONS=topology.FUNCTIONS + (
        Function("notify", "functions.notify.handler.handler", "Alert fan-out", memory_mb=256, timeout_s=10),
        Function("forecast", "functions.forecast.handler.handler", "Daily forecast", memory_mb=1024,
                 timeout_s=300, tables={"stock": "read", "ledger": "read", "catalog": "read"}),
    ),
    ROUTES=topology.ROUTES + (topology.Route("GET", "/alerts/{alert_id}", "notify", "token"),),
    EVENT_RULES=(EventRule("notify-on-stock", ("stock.changed", "stock.oversold"), "notify"),),
    SCHEDULES=(Schedule("notify-every-20s", 20, "notify"), Schedule("forecast-every-5m", 300, "forecast")),
)


def refs(value) -> set[str]:
    """Logical ids referenced (Ref / Fn::GetAtt) anywhere inside a template value."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        for v in value.values():
            found |= refs(v)
    elif isinstance(value, list):
        for v in value:
            found |= refs(v)
    return found


def resource_paths(s: Synth) -> dict[str, str]:
    """API Gateway resource logical id -> its path (/skus/{sku})."""
    api_lid = next(iter(s.of_type("AWS::ApiGateway::RestApi")))
    resources = s.of_type("AWS::ApiGateway::Resource")

    def path(lid: str) -> str:
        props = resources[lid]["Properties"]
        parent = props["ParentId"]
        prefix = "" if parent == {"Fn::GetAtt": [api_lid, "RootResourceId"]} else path(parent["Ref"])
        return f"{prefix}/{props['PathPart']}"

    return {lid: path(lid) for lid in resources}


def role_statements(s: Synth, role_lid: str) -> list[dict]:
    """Every statement granted to the role: its inline policies, and the managed policies CDK attaches to
    it when an inline policy outgrows IAM's size limit (the "Overflow" policies: same grants, more room)."""
    statements = []
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for policy in s.of_type(kind).values():
            if {"Ref": role_lid} in (policy["Properties"].get("Roles") or []):
                statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def definition(machine: dict) -> dict:
    """State machine definition with tokens rendered as ${LogicalId} / ${LogicalId.Attr}."""
    body = machine["Properties"]["DefinitionString"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    text = ""
    for part in parts:
        if isinstance(part, str):
            text += part
        elif "Ref" in part:
            text += "${" + part["Ref"] + "}"
        else:
            text += "${" + ".".join(part["Fn::GetAtt"]) + "}"
    return json.loads(text)


def check_sub_minute_schedule(s, schedule):
    machine_lid = s.lid(s.stack.schedules.state_machines[schedule.name])
    machine = s.resources[machine_lid]["Properties"]
    assert machine["StateMachineType"] == "EXPRESS"
    assert machine["LoggingConfiguration"]["Level"] == "ALL"
    assert machine["TracingConfiguration"]["Enabled"] is True
    rule = s.resources[s.lid(s.stack.schedules.rules[schedule.name])]["Properties"]
    assert rule["ScheduleExpression"] == "rate(1 minute)"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": machine_lid}
    states = definition(s.resources[machine_lid])["States"]
    fn_arn = "${" + s.lid(s.stack.functions[schedule.function]) + ".Arn}"
    # Walk the chain: Invoke, Wait every_seconds, Invoke, ... covering one minute.
    name, kinds = definition(s.resources[machine_lid])["StartAt"], []
    while name:
        state = states[name]
        if state["Type"] == "Wait":
            assert state["Seconds"] == schedule.every_seconds
            kinds.append("wait")
        else:
            assert state["Parameters"]["FunctionName"] == fn_arn
            assert state["Parameters"]["InvocationType"] == "Event"
            kinds.append("invoke")
        name = state.get("Next")
    count = 60 // schedule.every_seconds
    assert kinds == ["invoke", "wait"] * (count - 1) + ["invoke"]
    return target


def check_dlq(s, arn):
    (queue_lid,) = refs(arn)
    queue = s.resources[queue_lid]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    ssl_denied = False
    for policy in s.of_type("AWS::SQS::QueuePolicy").values():
        if {"Ref": queue_lid} in policy["Properties"]["Queues"]:
            for st in policy["Properties"]["PolicyDocument"]["Statement"]:
                if st["Effect"] == "Deny" and st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false":
                    ssl_denied = True
    assert ssl_denied, f"{queue_lid} must refuse non-TLS requests"

"""CDK constructs of the StockLink stack, one per concern, each built from infra.topology."""
from __future__ import annotations

import re

import aws_cdk as cdk
from constructs import IConstruct


def pascal(name: str) -> str:
    """Topology names (snake/kebab case) -> CDK construct ids, e.g. staff_api -> StaffApi."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


NAG_AUDIT_CONTEXT = "stocklink:nagAudit"


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on a construct (and its children); a reason is mandatory.

    With context stocklink:nagAudit=true nothing is acknowledged, so a synth lists every finding the
    acknowledgements hide (reviewers, and the test that no acknowledgement is stale).
    """
    if len(reason.strip()) < 20:
        raise ValueError(f"acknowledgement of {rule_id} needs a real reason, got {reason!r}")
    if str(construct.node.try_get_context(NAG_AUDIT_CONTEXT)).lower() == "true":
        return
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))


def logical_id(construct: IConstruct) -> str:
    """CloudFormation logical id of an L2 construct's resource, as cdk-nag prints it in finding ids."""
    stack = cdk.Stack.of(construct)
    return stack.resolve(stack.get_logical_id(construct.node.default_child))

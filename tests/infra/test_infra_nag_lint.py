"""cdk-nag AwsSolutions and cfn-lint on the synthesized template."""
from __future__ import annotations

from pathlib import Path

from cfnlint.api import lint_file

from infra import topology

# W3005: CDK adds an explicit DependsOn on a role that a GetAtt already implies. Harmless and CDK's choice.
ALLOWED_LINT_WARNINGS = {"W3005"}


def test_no_unacknowledged_cdk_nag_findings(synth):
    listing = "\n".join(f"{sev} {rule} at {path}" for sev, rule, path in synth.violations)
    assert not synth.violations, f"{len(synth.violations)} unacknowledged cdk-nag findings:\n{listing}"


def test_every_acknowledgement_has_a_reason_and_hides_a_real_finding(synth, audit):
    assert synth.acknowledgements
    hidden = audit.violations
    stale = []
    for path, rule, reason in synth.acknowledgements:
        assert len(reason) >= 40, f"{rule} at {path}: reason too thin: {reason!r}"
        if not any(r == rule and (p == path or p.startswith(path + "/")) for _, r, p in hidden):
            stale.append(f"{rule} at {path}")
    assert not stale, "acknowledgements that match no finding (remove them):\n" + "\n".join(stale)
    # The counts for the report: findings hidden by acknowledgements, by severity.
    errors = sum(1 for sev, _, _ in hidden if sev == "error")
    print(f"\ncdk-nag: {len(synth.acknowledgements)} acknowledgements hide {errors} errors and "
          f"{len(hidden) - errors} warnings; unacknowledged: {len(synth.violations)}")


def test_cfn_lint_finds_no_errors_in_any_template(synth):
    """The parent and every nested stack's template."""
    assert len(synth.templates) > 1
    for name in synth.templates:
        matches = lint_file(Path(synth.outdir / name))
        problems = [m for m in matches if m.rule.id.startswith("E")
                    or (m.rule.id.startswith("W") and m.rule.id not in ALLOWED_LINT_WARNINGS)]
        assert not problems, name + ":\n" + "\n".join(f"{m.rule.id} {m.message} ({m.path})" for m in problems)


def test_cdk_nag_checks_the_nested_route_stacks_too(synth, audit):
    """The route stacks' methods are checked (their findings show without acknowledgements) and the
    acknowledgements reach them (none shows with)."""
    unauthorized = [path for _, rule, path in audit.violations
                    if rule == "AwsSolutions-APIG4" and "/Api/Routes" in path]
    assert len(unauthorized) >= len(topology.ROUTES)     # every route's method (and the CORS preflights)
    assert not [path for _, _, path in synth.violations if "/Api/Routes" in path]

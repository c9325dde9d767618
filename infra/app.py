#!/usr/bin/env python3
"""CDK app: `cdk synth` / `cdk deploy` (cdk.json) or `python infra/app.py` from the repo root.

Context (cdk.json or -c):
  stocklink:skipLayerDeps=true   layer holds only the stocklink package (fast synth for tests;
                                 same as STOCKLINK_LAYER_SKIP_DEPS=1). Never deploy that.
  stocklink:retainData=false     tables are deleted with the stack (development stacks only).
  stocklink:nag=false            skip the cdk-nag AwsSolutions checks.
  stocklink:waf=true             add an AWS WAF web ACL to the API stage (a per-address rate limit on the
                                 platform webhooks; infra/constructs/waf.py). Off by default: priced per ACL.
  stocklink:apiRoutes=detached   one-off first deploy when moving a stack deployed before the route stacks
                                 (infra/README.md, "Route stacks"): the API answers only GET /maintenance.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# `python infra/app.py` puts infra/ first on sys.path, where infra/constructs would shadow the
# `constructs` library; the app imports infra.* and stocklink.* from the repo root and shared/ instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO_ROOT / "infra"]
for path in (str(REPO_ROOT / "shared"), str(REPO_ROOT)):
    if path not in sys.path:
        sys.path.insert(0, path)
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.stacks.stocklink_stack import StockLinkStack  # noqa: E402


def _flag(app: cdk.App, key: str, default: bool) -> bool:
    value = app.node.try_get_context(key)
    if value is None:
        return default
    return str(value).lower() not in ("false", "0", "no", "")


def build_app(outdir: str = "cdk.out", *, context: dict | None = None, **stack_kwargs) -> tuple[cdk.App, StockLinkStack]:
    app = cdk.App(outdir=outdir, context=context or {})
    skip = _flag(app, "stocklink:skipLayerDeps", os.environ.get("STOCKLINK_LAYER_SKIP_DEPS", "") not in ("", "0", "false"))
    stack = StockLinkStack(app, "StockLinkStack", skip_layer_deps=skip,
                           retain_data=_flag(app, "stocklink:retainData", True),
                           waf=_flag(app, "stocklink:waf", False), **stack_kwargs)
    if _flag(app, "stocklink:nag", True):
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def main() -> None:
    app, _ = build_app(outdir=os.environ.get("CDK_OUTDIR", "cdk.out"))
    app.synth()


if __name__ == "__main__":
    main()

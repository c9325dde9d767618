"""Session fixtures: each synthesis costs seconds (node start + synth, DESIGN.md §6), so it happens once."""
from __future__ import annotations

import pytest
from infra_synth import ALT_TOPOLOGY, Synth, synthesize


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("cdk"))


@pytest.fixture(scope="session")
def audit(tmp_path_factory) -> Synth:
    """Same app with every acknowledgement switched off: the findings they hide."""
    return synthesize(tmp_path_factory.mktemp("cdk-audit"), nagAudit="true")


@pytest.fixture(scope="session")
def alt(tmp_path_factory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("cdk-alt"), ALT_TOPOLOGY)


@pytest.fixture(scope="session")
def with_waf(tmp_path_factory) -> Synth:
    """The app with the optional WAF web ACL (context stocklink:waf=true)."""
    return synthesize(tmp_path_factory.mktemp("cdk-waf"), waf="true")


@pytest.fixture(scope="session")
def detached(tmp_path_factory) -> Synth:
    """Step 1 of moving a stack deployed before the route stacks (context stocklink:apiRoutes=detached)."""
    return synthesize(tmp_path_factory.mktemp("cdk-detached"), apiRoutes="detached")

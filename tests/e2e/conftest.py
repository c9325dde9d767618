"""Fixtures that start the local runtime.

`local_runtime`: the real thing, `python -m infra.local.cli local --in-memory` as a subprocess, exactly as
`make run` starts it (see runtime_process.RuntimeProcess, also used by tests that need their own start).
"""
from __future__ import annotations

import pytest

from tests.e2e.runtime_process import handlers_exist, running


@pytest.fixture(scope="session")
def local_runtime():
    if not handlers_exist("staff_api"):
        pytest.skip("functions/staff_api is not written yet: GET /health cannot answer")
    with running("--in-memory") as runtime:
        yield runtime

"""`stocklink sandbox` runs the marketplace simulators alone, as a process, answering their control API."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

from tests.e2e.runtime_process import REPO_ROOT, free_port


def test_stocklink_sandbox_serves_the_simulators():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "infra.local.cli", "sandbox", "--port", str(port)],
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline()
        assert first.strip() == f"sandbox listening on http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sandbox/listings", timeout=10) as reply:
            assert reply.status == 200 and json.loads(reply.read()) == {"listings": []}
    finally:
        proc.terminate()
        proc.wait(timeout=10)

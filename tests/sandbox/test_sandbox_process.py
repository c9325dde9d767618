"""`python -m infra.sandbox --port P` runs as its own process."""
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_runs_as_a_module():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "shared")])}
    proc = subprocess.Popen([sys.executable, "-m", "infra.sandbox", "--port", "0"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("sandbox listening on http://127.0.0.1:")
        base = line.split()[-1]
        with urllib.request.urlopen(f"{base}/_sandbox/listings", timeout=10) as response:
            assert json.loads(response.read()) == {"listings": []}
    finally:
        proc.terminate()
        proc.wait(timeout=10)

"""Cold import per function: median of 5 fresh processes, from process start to handler import done.

    python -m tests.bench.cold_import [--runs 5]

Each run is a new interpreter with the function's environment (as its Lambda container gets it), so
nothing is warm. Prints figures; asserts nothing about time. "process CPU" (user + system time of the child,
interpreter start included) moves far less than wall time when the machine is busy.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from infra import topology
from infra.local.workers import REPO_ROOT, function_environment

CHILD = """
import time, importlib, json
t0 = time.perf_counter()
module, attr = {target!r}.rsplit(".", 1)
getattr(importlib.import_module(module), attr)
print(json.dumps({{"done": time.time(), "import_ms": (time.perf_counter() - t0) * 1000,
                  "cpu_ms": time.process_time() * 1000}}))
"""


def measure(fn, runs: int) -> dict:
    # Endpoints are never called during import; unreachable ones make any accidental call fail loudly.
    env = function_environment(fn, ddb_endpoint="http://127.0.0.1:9", aws_endpoint="http://127.0.0.1:9")
    totals, imports, cpus = [], [], []
    for _ in range(runs):
        started = time.time()
        out = subprocess.run([sys.executable, "-c", CHILD.format(target=fn.handler)], cwd=REPO_ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
        result = json.loads(out.stdout.strip().splitlines()[-1])
        totals.append((result["done"] - started) * 1000)
        imports.append(result["import_ms"])
        cpus.append(result["cpu_ms"])
    return {"total_ms": statistics.median(totals), "import_ms": statistics.median(imports),
            "cpu_ms": statistics.median(cpus),
            "min_ms": min(totals), "max_ms": max(totals)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"cold import, median of {args.runs} fresh processes (python {sys.version.split()[0]})")
    print(f"{'function':<16} {'handler':<42} {'start->imported':>15} {'import only':>12} {'min':>7} {'max':>7} "
          f"{'process CPU':>12}")
    for fn in topology.FUNCTIONS:
        r = measure(fn, args.runs)
        if "error" in r:
            print(f"{fn.name:<16} {fn.handler:<42} error: {r['error']}")
            continue
        print(f"{fn.name:<16} {fn.handler:<42} {r['total_ms']:>12.0f} ms {r['import_ms']:>9.0f} ms "
              f"{r['min_ms']:>7.0f} {r['max_ms']:>7.0f} {r['cpu_ms']:>9.0f} ms")


if __name__ == "__main__":
    main()

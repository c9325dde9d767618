"""Cold import per function: median of 5 fresh processes, from process start to handler import done.

    python -m tests.bench.cold_import [--runs 5] [--only NAME ...] [--breakdown [--top 10]] [--no-bytecode]

Each run is a new interpreter with the function's environment (as its Lambda container gets it), so
nothing is warm. Prints figures; asserts nothing about time. "process CPU" (user + system time of the child,
interpreter start included) moves far less than wall time when the machine is busy.

`--breakdown` adds `--runs` more fresh processes per function under `python -X importtime` and prints where
its import goes, as medians: the time by package (self times summed, so the groups add up to the whole
import; StockLink's own modules grouped by subpackage) and the costliest single imports (cumulative, nested
ones included). -X importtime slows imports down: read its figures as shares, the table's as the times.

Every module has its bytecode (.pyc), StockLink's own written by the first run as a local runtime worker
writes it. `--no-bytecode` points the children at an empty bytecode cache they may not write to, so every
module is compiled from source: what a Lambda container does with a layer that carries no .pyc for its
Python version (infra/layer.py installs with --no-compile).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

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

# One line of `-X importtime`: "import time: <self us> | <cumulative us> | <indent><module>".
_IMPORTTIME_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)")


_EMPTY_BYTECODE_CACHE: str | None = None     # set by --no-bytecode


def _environment(fn) -> dict:
    # Endpoints are never called during import; unreachable ones make any accidental call fail loudly.
    env = function_environment(fn, ddb_endpoint="http://127.0.0.1:9", aws_endpoint="http://127.0.0.1:9")
    if _EMPTY_BYTECODE_CACHE:
        env.update(PYTHONPYCACHEPREFIX=_EMPTY_BYTECODE_CACHE, PYTHONDONTWRITEBYTECODE="1")   # stays empty
    return env


def measure(fn, runs: int) -> dict:
    env = _environment(fn)
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


def package_of(module: str) -> str:
    """The group an import is charged to: its top-level package, or `stocklink.<subpackage>` for our own."""
    parts = module.split(".")
    if parts[0] in ("stocklink", "functions") and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def parse_importtime(stderr: str) -> tuple[dict[str, float], list[tuple[str, float]]]:
    """({package: self ms}, [(module, cumulative ms)]) from `-X importtime` output."""
    by_package: dict[str, float] = defaultdict(float)
    cumulative: list[tuple[str, float]] = []
    for line in stderr.splitlines():
        match = _IMPORTTIME_LINE.match(line)
        if match is None:   # the header line, or the child's own output
            continue
        self_us, cumulative_us, module = match.groups()
        by_package[package_of(module)] += int(self_us) / 1000
        cumulative.append((module, int(cumulative_us) / 1000))
    return dict(by_package), cumulative


def print_breakdown(fn, runs: int, top: int) -> None:
    """Per package and per module, the median over `runs` fresh processes under -X importtime."""
    packages: dict[str, list[float]] = defaultdict(list)
    modules: dict[str, list[float]] = defaultdict(list)
    totals = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-X", "importtime", "-c", CHILD.format(target=fn.handler)],
                             cwd=REPO_ROOT, env=_environment(fn), capture_output=True, text=True, timeout=120)
        by_package, cumulative = parse_importtime(out.stderr)
        totals.append(sum(by_package.values()))
        for name, ms in by_package.items():
            packages[name].append(ms)
        for name, ms in cumulative:
            modules[name].append(ms)
    # A package missing from a run counts 0 there; the chain down to our own handler module is the whole.
    median = {name: statistics.median(values + [0.0] * (runs - len(values))) for name, values in packages.items()}
    costliest = {name: statistics.median(values) for name, values in modules.items()
                 if not fn.handler.startswith(name + ".")}
    print(f"    all imports {statistics.median(totals):.0f} ms (-X importtime adds its own cost; medians of {runs})")
    print("    by package (self ms):  " + ", ".join(
        f"{name} {ms:.0f}" for name, ms in sorted(median.items(), key=lambda item: -item[1])[:top]))
    print("    costliest (cumul. ms): " + ", ".join(
        f"{name} {ms:.0f}" for name, ms in sorted(costliest.items(), key=lambda item: -item[1])[:top]))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these functions (topology names)")
    parser.add_argument("--breakdown", action="store_true",
                        help="per function, where the import goes (--runs more runs under -X importtime)")
    parser.add_argument("--top", type=int, default=10, help="entries per breakdown line")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="compile every module from source, as a layer without .pyc does")
    args = parser.parse_args(argv)
    global _EMPTY_BYTECODE_CACHE
    if args.no_bytecode:
        _EMPTY_BYTECODE_CACHE = tempfile.mkdtemp(prefix="cold-import-no-pyc-")
    functions = [fn for fn in topology.FUNCTIONS if not args.only or fn.name in args.only]
    print(f"cold import, median of {args.runs} fresh processes (python {sys.version.split()[0]})"
          + (", every module compiled from source" if args.no_bytecode else ""))
    print(f"{'function':<16} {'handler':<42} {'start->imported':>15} {'import only':>12} {'min':>7} {'max':>7} "
          f"{'process CPU':>12}")
    for fn in functions:
        r = measure(fn, args.runs)
        if "error" in r:
            print(f"{fn.name:<16} {fn.handler:<42} error: {r['error']}")
            continue
        print(f"{fn.name:<16} {fn.handler:<42} {r['total_ms']:>12.0f} ms {r['import_ms']:>9.0f} ms "
              f"{r['min_ms']:>7.0f} {r['max_ms']:>7.0f} {r['cpu_ms']:>9.0f} ms")
        if args.breakdown:
            print_breakdown(fn, args.runs, args.top)
    if _EMPTY_BYTECODE_CACHE:
        os.rmdir(_EMPTY_BYTECODE_CACHE)


if __name__ == "__main__":
    main()

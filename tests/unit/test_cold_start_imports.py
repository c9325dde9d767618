"""What each function loads at cold start: its figures are tests/bench/cold_import.py's (never asserted
here), these are the structure behind them, so a change that drags a heavy library into a cold start fails
here rather than showing up later as a slower benchmark.

- boto3 (s3transfer with it) is never loaded: clients come from botocore (stocklink.aws_clients), and
  powertools' parameters utility, which imports boto3, is not used (stocklink.secrets).
- numpy is loaded by the forecast run only (its every invocation runs the engine).
- the functions below that do without pydantic today keep doing so (~50 ms of cold start): a route
  that validates a body imports its model where it needs it.
- garbage collection, paused while a handler loads (functions/__init__.py), is running again once it has.
"""
from __future__ import annotations

import json
import subprocess
import sys

from infra import topology
from infra.local.workers import REPO_ROOT, function_environment

NEVER_LOADED = {"boto3", "s3transfer", "aws_lambda_powertools.utilities.parameters"}
NUMPY_LOADED_BY = {"forecast_run"}
WITHOUT_PYDANTIC = {"webhook_ingest", "reconcile", "order_poll", "alerts", "chat_notify", "alerts_api", "sales_aggregate",
                    "snapshots", "reports_api", "channel_push"}
WATCHED = sorted(NEVER_LOADED | {"numpy", "pydantic"})

# One interpreter imports the handlers one after another and reports what each newly loaded: a module is
# charged to the first handler that loads it, so the order below lets each check see its culprit.
# Collection is paused again before each handler (the package pauses it only once per process), so each
# handler's own resume is what is seen.
CHILD = """
import gc, importlib, json, sys
watched, loaded = {watched!r}, {{}}
for module in sys.argv[1:]:
    before = {{m for m in watched if m in sys.modules}}
    gc.disable()
    importlib.import_module(module)
    loaded[module] = sorted(m for m in watched if m in sys.modules and m not in before)
    if gc.isenabled():
        loaded[module].append("<gc running>")
print(json.dumps(loaded))
"""


def _loaded_by_function() -> dict[str, list[str]]:
    functions = {fn.name: fn for fn in topology.FUNCTIONS}
    # pydantic-free functions first, numpy's one user last
    order = sorted(functions, key=lambda name: (name not in WITHOUT_PYDANTIC, name in NUMPY_LOADED_BY, name))
    modules = [functions[name].handler.rsplit(".", 1)[0] for name in order]
    env = function_environment(functions[order[0]], ddb_endpoint="http://127.0.0.1:9",
                               aws_endpoint="http://127.0.0.1:9")
    out = subprocess.run([sys.executable, "-c", CHILD.format(watched=WATCHED), *modules], cwd=REPO_ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    return {name: loaded[module] for name, module in zip(order, modules)}


def test_cold_starts_load_no_boto3_numpy_only_to_forecast_pydantic_where_needed_and_gc_resumes():
    loaded = _loaded_by_function()
    assert set(loaded) == {fn.name for fn in topology.FUNCTIONS} and WITHOUT_PYDANTIC <= set(loaded)

    assert {name: sorted(NEVER_LOADED & set(mods)) for name, mods in loaded.items()
            if NEVER_LOADED & set(mods)} == {}
    assert {name for name, mods in loaded.items() if "numpy" in mods} <= NUMPY_LOADED_BY
    assert {name for name in WITHOUT_PYDANTIC if "pydantic" in loaded[name]} == set()
    assert {name for name, mods in loaded.items() if "<gc running>" not in mods} == set()
    # the check can see a load at all: the API functions that validate bodies do load pydantic
    assert any("pydantic" in mods for mods in loaded.values())


def test_the_forecast_run_does_not_load_the_purchasing_apis_request_models():
    """The daily run reaches logic.purchasing (late POs, what is on its way) but never validates a request:
    the API's pydantic models (~30 ms of its cold start) load with the API alone."""
    forecast = next(fn for fn in topology.FUNCTIONS if fn.name == "forecast_run")
    env = function_environment(forecast, ddb_endpoint="http://127.0.0.1:9", aws_endpoint="http://127.0.0.1:9")
    out = subprocess.run([sys.executable, "-c", "import importlib, sys; importlib.import_module(sys.argv[1]); "
                          "print('stocklink.domain.purchase_requests' in sys.modules, 'stocklink.logic.purchasing' in "
                          "sys.modules)", forecast.handler.rsplit(".", 1)[0]],
                         cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]

"""`make demo` in scripted form: `python -m infra.local.cli local --demo --exit` with a small flash sale
(30 TikTok Shop orders + 5 each on Shopee and Lazada for 20 units), run as a subprocess exactly as a user
would, then judged from the summary it prints (`DEMO RESULT {...}`)."""
from __future__ import annotations

import json

import pytest

from tests.e2e.runtime_process import RuntimeProcess, handlers_exist, processes_with_env

FLASH_UNITS = 20


@pytest.fixture(scope="module")
def demo_run():
    if not handlers_exist("staff_api", "webhook_ingest", "channel_push"):
        pytest.skip("needs the staff API, webhook ingest and channel push functions")
    rt = RuntimeProcess("--in-memory", "--demo", "--exit", "--sandbox-port", "0", "--flash-units", str(FLASH_UNITS),
                        "--flash-orders", "30", "--side-orders", "5", "--demo-skus", "6", "--buyers", "8")
    rt.start()
    try:
        code = rt.proc.wait(timeout=240)    # a bound on waiting, not an assertion on speed
    except Exception:
        rt.kill()
        raise
    ddb_port = rt.ddb_port()
    if ddb_port:
        leftovers = processes_with_env(f"127.0.0.1:{ddb_port}") + processes_with_env(f"-port {ddb_port} ")
        assert not leftovers, f"processes left after --exit: {leftovers}"
    lines = [l for l in rt.lines if l.startswith("DEMO RESULT ")]
    assert code == 0 and lines, f"demo exited with {code}:\n{rt.output[-6000:]}"
    return json.loads(lines[-1][len("DEMO RESULT "):]), rt.output


def test_no_oversell_beyond_orders_in_flight(demo_run):
    s, output = demo_run
    assert s["errors"] == 0, s["error_samples"]
    assert s["oversold_beyond_in_flight"] == 0, output[-4000:]
    # StockLink reserved exactly the pool; everything platforms accepted beyond it is an in-flight oversell,
    # recorded as such (one oversold reservation per order).
    assert s["applied"] == FLASH_UNITS
    assert s["placed"] == FLASH_UNITS + s["oversold_orders"]
    assert s["oversold_in_flight"] == s["oversold_orders"]
    assert s["pool_after"] == 0
    assert "=== flash sale ===" in output and "sync latency" in output


def test_every_platform_ends_showing_stocklinks_quantity(demo_run):
    s, _ = demo_run
    assert s["shown_after"] == s["computed_after"] == {p: 0 for p in s["shown_after"]}
    assert s["all_listings_in_sync"] is True
    assert s["out_of_sync_after"] == []
    assert s["latency_not_reflected"] == 0


def test_the_ledger_replays_to_the_stock_items(demo_run):
    s, _ = demo_run
    assert s["ledger_problems"] == []

"""The web console in headless Chromium: one local runtime with seeded data and one browser for the session.

Chromium is Debian's /usr/bin/chromium (installed by `make test` when missing), never a browser that
Playwright downloads; it is launched with the flags that matter on a closed network (no first-run, no
background networking, no component updates, no QUIC) and a fresh profile directory.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.runtime_process import REPO_ROOT, handlers_exist, running

CHROMIUM = Path("/usr/bin/chromium")
CONSOLE = REPO_ROOT / "console"
AXE = CONSOLE / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / ".stocklink" / "artifacts" / "screenshots"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]


def _ensure_chromium() -> str | None:
    """None when /usr/bin/chromium is there (installing it as root when it is not), else why it cannot be."""
    if CHROMIUM.exists():
        return None
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=300)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium", "fonts-wqy-microhei"], env=env,
                       capture_output=True, timeout=600)
        if CHROMIUM.exists():
            return None
        return "/usr/bin/chromium is missing and `apt-get install -y chromium` did not install it"
    return ("/usr/bin/chromium is missing and cannot be installed here (not root or no apt-get): "
            "apt-get install chromium")


def _ensure_console_built() -> None:
    if not (CONSOLE / "dist" / "index.html").exists() or not AXE.exists():
        subprocess.run(["make", "console"], cwd=REPO_ROOT, check=True, timeout=600)


@pytest.fixture(scope="session")
def runtime():
    why = _ensure_chromium()
    if why:
        pytest.skip(why)
    pytest.importorskip("playwright.sync_api",
                        reason="the playwright package is in the dev extras: pip install -e '.[dev]'")
    if not handlers_exist("staff_api"):
        pytest.skip("functions/staff_api is not written yet")
    _ensure_console_built()
    with running("--in-memory") as rt:
        yield rt


@pytest.fixture(scope="session")
def seeded(runtime, tmp_path_factory):
    """Three warehouses, four SKUs (one below the low-stock floor in two warehouses), a shop per platform in the
    in-process marketplace simulators, every SKU listed everywhere; returns once every listing was pushed."""
    from infra.local.demo.client import Api, Sandbox, start_sandbox
    from infra.local.demo.seed import demo_stock, seed

    server, base = start_sandbox(0)
    api = Api(runtime.url, runtime.token)
    units = demo_stock(4, 30)
    catalog = seed(api, Sandbox(base), units)
    skus = list(units)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listings = [l for sku in skus for l in api.call("GET", f"/skus/{sku}/channels")["listings"]]
        if listings and all(l.get("pushed_at") for l in listings):
            break
        time.sleep(0.5)
    _seed_sales_and_suppliers(runtime, api, tmp_path_factory.mktemp("sales"))
    api.call("POST", "/forecasts/run", ok=(202,))   # finishes in the background while the first tests run
    api.call("POST", "/reports/snapshots/run", ok=(202,))   # today's snapshot, for the reports page
    try:
        yield {"api": api, "skus": skus, "catalog": catalog, "units": units}
    finally:
        server.shutdown()
        server.server_close()


def _seed_sales_and_suppliers(runtime, api, folder: Path) -> None:
    """120 days of sales history up to yesterday (imported as a seller would, with `stocklink import sales`) for
    DEMO-001 (8-10 a day) and DEMO-002 (5-7 a day), so the forecast chart has history and both need an order;
    DEMO-001's supplier has MOQ, case pack and price breaks (a cost), DEMO-002's none (no cost)."""
    import datetime as dt

    yesterday = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)
    rows = ["sku,date,qty"] + [f"{sku},{yesterday - dt.timedelta(days=d)},{base + d % 3}"
                               for sku, base in (("DEMO-001", 8), ("DEMO-002", 5)) for d in range(120) if d % 7 != 3]
    sales = folder / "sales.csv"
    sales.write_text("\n".join(rows) + "\n")
    subprocess.run([sys.executable, "-m", "infra.local.cli", "import", "sales", str(sales), "--api", runtime.url,
                    "--token", runtime.token], cwd=REPO_ROOT, check=True, capture_output=True, timeout=120)
    api.call("PUT", "/skus/DEMO-001/supplier", {"supplier": "Acme Textiles", "lead_time_days": 12, "moq": 48,
                                                "case_pack": 12, "price_breaks": [{"min_qty": 1, "unit_cost": 4.2},
                                                                                  {"min_qty": 240, "unit_cost": 3.6}]})
    api.call("PUT", "/skus/DEMO-002/supplier", {"supplier": "Blue Mill", "lead_time_days": 20})


@pytest.fixture(scope="session")
def browser_context(runtime, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
            accept_downloads=True, bypass_csp=True,   # bypass_csp: axe-core is injected into the page
            locale="en-US", viewport={"width": 1366, "height": 900})
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="session")
def page(browser_context):
    return browser_context.pages[0] if browser_context.pages else browser_context.new_page()


@pytest.fixture()
def console(page, runtime, seeded):
    """The page, signed in with the dev token, in English."""
    from tests.browser.pages import ensure_signed_in

    ensure_signed_in(page, runtime)
    return page

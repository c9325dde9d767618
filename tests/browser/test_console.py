"""The console against the local runtime, in Chromium: what a person sees matches what the API says.

Every view reads its own API route; a route missing from the API would show a plain error naming it (tested).
"""
from __future__ import annotations

import datetime as dt
import time

import pytest

from tests.browser.pages import (api_get, axe_violations, cell_texts, ensure_signed_in, export, read_csv, read_xlsx,
                                 route_missing, screenshot, set_language, settle, url)

pytestmark = pytest.mark.e2e



def test_sign_in_refuses_a_wrong_token_then_signs_in_and_out(page, runtime, seeded):
    page.goto(url(runtime, "signin"))
    page.evaluate("localStorage.clear()")
    page.goto(url(runtime, "alerts"))
    page.wait_for_url("**/console/signin")        # not signed in: every page leads to sign-in
    page.fill("#token", "not-a-token")
    page.get_by_role("button", name="Sign in").click()
    assert "not accepted" in page.get_by_role("alert").inner_text()
    page.fill("#token", runtime.token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/alerts")         # back where the person was going
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/signin")
    assert page.evaluate("localStorage.getItem('stocklink.session')") is None


def test_an_expired_session_leads_back_to_sign_in(console, runtime):
    console.evaluate("""() => { const s = JSON.parse(localStorage.getItem('stocklink.session'));
                                s.expiresAt = Date.now() - 1;
                                localStorage.setItem('stocklink.session', JSON.stringify(s)); }""")
    console.goto(url(runtime, "warehouses"))
    console.wait_for_url("**/console/signin")
    ensure_signed_in(console, runtime)


def test_board_counts_match_the_api(console, runtime):
    console.goto(url(runtime))
    settle(console)
    status, board = api_get(runtime, "/stock/board?limit=50")
    assert status == 200, board
    for name, count in board["counts"].items():
        assert console.locator(f"[data-count='{name}']").inner_text().replace(",", "") == str(count)
    assert cell_texts(console, "stock-board", "sku") == [r["sku"] for r in board["rows"]]


def test_sku_page_shows_what_get_channels_says(console, runtime, seeded):
    sku = "DEMO-001"
    for _ in range(3):   # a push landing between the page's read and ours: read both again
        before = api_get(runtime, f"/skus/{sku}/channels")[1]
        console.goto(url(runtime, f"skus/{sku}"))
        settle(console)
        after = api_get(runtime, f"/skus/{sku}/channels")[1]
        if before == after:
            break
    listings = after["listings"]
    assert len(listings) == 5
    table = f"{sku}-listings"
    assert cell_texts(console, table, "platform") == [l["platform"] for l in listings]
    for column in ("computed_qty", "pushed_qty", "shown", "read_back_qty"):
        expected = ["—" if l.get(column) is None else f"{l[column]:,}" for l in listings]
        assert cell_texts(console, table, column) == expected, column
    stock = api_get(runtime, f"/skus/{sku}/stock")[1]
    assert cell_texts(console, f"{sku}-stock", "available")[-1] == f"{stock['totals']['available']:,}"


def test_sku_page_draws_the_forecast(console, runtime, seeded):
    sku = "DEMO-001"
    deadline = time.monotonic() + 45
    while (found := api_get(runtime, f"/forecasts/{sku}"))[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert found[0] == 200, found
    console.goto(url(runtime, f"skus/{sku}"))
    settle(console)
    chart = console.get_by_role("img", name=f"Forecast for {sku}")
    assert chart.locator("svg").count() == 1
    assert "Projected stock" in chart.inner_text() or chart.locator("text", has_text="Projected stock").count()
    # the seed's imported sales: the answer carries them, and the chart draws them as bars before the forecast
    history = found[1]["history"]
    assert len(history) == 90 and sum(history) > 0
    assert chart.locator("text", has_text="Sales history").count() == 1
    assert console.get_by_text("No sales recorded in the days before the forecast").count() == 0
    bars = chart.locator("path[fill='#5470c6'], path[style*='#5470c6'], path[fill='rgb(84,112,198)']")
    assert bars.count() >= sum(1 for v in history if v > 0), bars.count()


def test_replenishment_shows_supplier_quantity_and_cost_as_the_api_says(console, runtime, seeded):
    deadline = time.monotonic() + 45
    while not (found := api_get(runtime, "/replenishment?limit=1000")[1]).get("suggestions") \
            and time.monotonic() < deadline:
        time.sleep(0.5)
    suggestions = {s["sku"]: s for s in found["suggestions"]}
    assert {"DEMO-001", "DEMO-002"} <= set(suggestions), sorted(suggestions)
    console.goto(url(runtime, "replenishment"))
    settle(console)
    shown = dict(zip(cell_texts(console, "replenishment", "sku"), zip(
        cell_texts(console, "replenishment", "supplier"), cell_texts(console, "replenishment", "suggested_order_qty"),
        cell_texts(console, "replenishment", "order_cost"))))
    assert set(shown) == set(suggestions)
    for sku in ("DEMO-001", "DEMO-002"):
        s = suggestions[sku]
        cost = "—" if s["order_cost"] is None else f"{s['order_cost']:,.2f}".rstrip("0").rstrip(".")
        assert shown[sku] == (s["supplier"], f"{s['suggested_order_qty']:,}", cost), (sku, s)
    assert suggestions["DEMO-001"]["order_cost"] is not None and suggestions["DEMO-002"]["order_cost"] is None


def test_acknowledging_an_alert(console, runtime, seeded):
    status, body = api_get(runtime, "/alerts?status=open&limit=1000")
    open_alerts = [a for a in body["alerts"] if a["status"] == "open"]
    assert open_alerts, "the seed leaves DEMO-001 below the low-stock floor"
    target = open_alerts[0]
    console.goto(url(runtime, "alerts"))
    settle(console)
    console.locator(f"[data-ack='{target['id']}']").click()
    console.wait_for_selector(f"[data-ack='{target['id']}']", state="detached")
    alerts = api_get(runtime, "/alerts?status=all&limit=1000")[1]["alerts"]
    assert next(a for a in alerts if a["id"] == target["id"])["status"] == "acked"


def test_adding_and_removing_a_subscription(console, runtime):
    console.goto(url(runtime, "alerts"))
    settle(console)
    console.get_by_label("Name (id)").fill("ops-mail")
    console.get_by_label("Address").fill("not-an-address")
    console.get_by_role("button", name="Add subscription").click()
    assert console.get_by_text("An email address, like ops@example.com.").is_visible()
    console.get_by_label("Address").fill("ops@example.com")
    console.get_by_role("button", name="Add subscription").click()
    console.locator("[data-table='subscriptions'] td[data-col='id']", has_text="ops-mail").wait_for()
    subs = api_get(runtime, "/subscriptions?limit=1000")[1]["subscriptions"]
    assert [(x["id"], x["protocol"]) for x in subs] == [("ops-mail", "email")]
    console.locator("[data-table='subscriptions'] tr", has_text="ops-mail").get_by_role("button", name="Delete").click()
    console.get_by_text("Nobody is subscribed to alerts yet.").wait_for()
    assert api_get(runtime, "/subscriptions?limit=1000")[1]["subscriptions"] == []


def test_changing_an_allocation_with_validation(console, runtime, seeded):
    console.goto(url(runtime, "channels?platform=tiktok&shop=demo"))
    settle(console)
    buffer = console.get_by_label("Buffer (units kept back)")
    buffer.fill("-2")
    console.get_by_role("button", name="Save").click()
    assert console.get_by_text("A whole number of 0 or more.").is_visible()
    assert api_get(runtime, "/shops/tiktok/demo/allocation")[1]["buffer"] == 0   # nothing sent
    buffer.fill("3")
    console.get_by_label("Share of the pool (0–1)").fill("0.5")
    console.get_by_label("Rule", exact=True).select_option("quota")
    console.get_by_role("button", name="Save").click()
    console.get_by_text("Saved.").wait_for()
    saved = api_get(runtime, "/shops/tiktok/demo/allocation")[1]
    assert (saved["rule"], saved["buffer"], saved["ratio"]) == ("quota", 3, 0.5)


def test_exported_ledger_matches_the_api(console, runtime, seeded):
    sku = "DEMO-001"
    console.goto(url(runtime, f"skus/{sku}"))
    settle(console)
    entries = api_get(runtime, f"/ledger?sku={sku}&limit=25")[1]["entries"]
    keys = ("created_at", "warehouse_id", "movement", "qty", "on_hand_delta", "available_delta", "actor", "reason")
    rows = read_csv(export(console, f"{sku}-ledger", "csv"))
    assert rows[0] == ["When", "Warehouse", "Movement", "Qty", "On hand Δ", "Available Δ", "By", "Reason"]
    assert rows[1:] == [["" if e[k] is None else str(e[k]) for k in keys] for e in entries]
    sheet = read_xlsx(export(console, f"{sku}-ledger", "xlsx"))
    assert sheet[0] == rows[0]
    assert sheet[1:] == [[e[k] for k in keys] for e in entries]


def test_exported_report_matches_the_api(console, runtime, seeded):
    today = dt.date.today()
    frm = today - dt.timedelta(days=29)
    deadline = time.monotonic() + 30
    while True:           # today's snapshot (asked for by `seeded`) is taken in the background
        status, report = api_get(runtime, f"/reports/stock-value?from={frm}&to={today}&limit=500")
        assert status == 200, report
        if report["rows"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert report["rows"], "no snapshot rows 30 s after POST /reports/snapshots/run"
    console.goto(url(runtime, "reports/stock-value"))
    settle(console)
    rows = read_csv(export(console, f"report-stock-value-{frm}-{today}", "csv"))
    keys = [c["key"] for c in report["columns"]]

    def cell(value):        # JSON's 0.0 is the CSV's 0: numbers compare as numbers
        if value is None or value == "":
            return ""
        try:
            return float(value)
        except (TypeError, ValueError):
            return str(value)

    assert [[cell(v) for v in row] for row in rows[1:]] == [[cell(r.get(k)) for k in keys] for r in report["rows"]]


def test_channel_health_matches_get_shops(console, runtime):
    console.goto(url(runtime, "channels"))
    settle(console)
    status, body = api_get(runtime, "/shops?limit=1000")
    assert status == 200, body
    assert cell_texts(console, "shops", "platform") == [s["platform"] for s in body["shops"]]


def test_shop_listings_match_get_listings(console, runtime):
    console.goto(url(runtime, "channels?platform=shopee&shop=demo"))
    settle(console)
    status, body = api_get(runtime, "/listings?platform=shopee&shop=demo&limit=1000")
    assert status == 200, body
    table = "listings-shopee-demo"
    assert cell_texts(console, table, "listing_id") == [l["listing_id"] for l in body["listings"]]
    assert cell_texts(console, table, "shown") == ["—" if l.get("shown") is None else f"{l['shown']:,}"
                                                  for l in body["listings"]]


def test_warehouse_summary_matches_the_api(console, runtime):
    console.goto(url(runtime, "warehouses"))
    settle(console)
    status, body = api_get(runtime, "/warehouses/summary")
    assert status == 200, body
    assert cell_texts(console, "warehouses-summary", "on_hand") == [f"{w['on_hand']:,}" for w in body["warehouses"]]


@pytest.mark.parametrize("view, api_path", [("", "/stock/board"), ("channels", "/shops"),
                                             ("channels?platform=lazada&shop=demo", "/listings"),
                                             ("warehouses", "/warehouses/summary"), ("reports", "/reports")])
def test_a_view_without_its_route_says_so_in_plain_words(console, runtime, view, api_path):
    console.goto(url(runtime, view))
    settle(console)
    missing = console.locator("[data-error-kind='missing_route']", has_text=f"GET {api_path} ")
    if route_missing(runtime, api_path):
        assert f"does not have GET {api_path} yet" in missing.first.inner_text()
        assert console.get_by_role("navigation").first.is_visible()    # the rest of the console still works
    else:
        assert missing.count() == 0


def test_switching_language(console, runtime):
    console.goto(url(runtime, "alerts"))
    settle(console)
    set_language(console, "zh-CN")
    console.get_by_role("heading", name="预警", exact=True).wait_for()
    assert console.get_by_role("link", name="库存看板").is_visible()
    assert console.evaluate("document.documentElement.lang") == "zh-CN"
    screenshot(console, "alerts-zh-CN")
    console.reload()                               # the choice is kept
    console.get_by_role("heading", name="预警", exact=True).wait_for()
    set_language(console, "en")
    console.get_by_role("heading", name="Alerts", exact=True).wait_for()


PAGES = [("signin", "signin"), ("board", ""), ("sku", "skus/DEMO-001"), ("warehouses", "warehouses"),
         ("channels", "channels?platform=tiktok&shop=demo"), ("alerts", "alerts"),
         ("replenishment", "replenishment"), ("reports", "reports")]


@pytest.mark.parametrize("name, path", PAGES, ids=[p[0] for p in PAGES])
def test_each_page_has_no_critical_accessibility_violation(console, runtime, name, path):
    if name == "signin":
        console.evaluate("localStorage.removeItem('stocklink.session')")
    console.goto(url(runtime, path))
    settle(console)
    violations = axe_violations(console)
    screenshot(console, name)
    if name == "signin":
        ensure_signed_in(console, runtime)
    critical = [v for v in violations if v["impact"] == "critical"]
    assert not critical, critical

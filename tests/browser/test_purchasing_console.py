"""The console's purchasing pages against the local runtime, in Chromium: a replenishment suggestion becomes a
purchase order that is ordered, shipped, received in part (with rejects), refused an over-receipt in the API's
own words, then received in full; its XLSX export matches the API and its print view shows the PO; a transfer
is made from a suggestion and received; navigation follows the signed-in roles; axe-core on every new page."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.browser.pages import (api_get, axe_violations, ensure_signed_in, read_xlsx, screenshot, settle, url,
                                 DOWNLOADS)
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e


def _po(runtime, po_id: str) -> dict:
    status, body = api_get(runtime, f"/purchase-orders/{po_id}")
    assert status == 200, body
    return body


def _submit_receipt(page, received: int, rejected: int = 0, reason: str = "") -> None:
    form = page.locator("[data-form='receive']")
    form.get_by_label("Received (good)").fill(str(received))
    form.get_by_label("Rejected", exact=True).fill(str(rejected) if rejected else "")
    form.get_by_label("Reason for rejects").fill(reason)
    form.get_by_role("button", name="Book receipt").click()


def test_a_suggestion_becomes_a_purchase_order_that_is_shipped_received_exported_and_printed(console, runtime, seeded):
    sku = "DEMO-001"
    wait_for(lambda: any(s["sku"] == sku for s in api_get(runtime, "/replenishment?limit=1000")[1].get("suggestions", [])),
             "DEMO-001's replenishment suggestion")
    console.goto(url(runtime, "replenishment"))
    settle(console)
    console.locator(f"[data-select-sku='{sku}']").check()
    console.get_by_test_id("po-warehouse").select_option("wh-east")
    console.locator("[data-create-pos]").click()
    made = console.locator("[data-made-po]")
    made.first.wait_for()
    assert made.count() == 1
    po_id = made.first.inner_text()
    po = _po(runtime, po_id)
    assert (po["status"], po["warehouse_id"], [l["sku"] for l in po["lines"]]) == ("draft", "wh-east", [sku])
    qty = po["lines"][0]["qty"]
    assert qty % 12 == 0 and qty >= 48                                # the supplier's case pack and MOQ

    made.first.click()
    settle(console)
    console.locator(f"[data-po='{po_id}']").wait_for()
    assert console.locator("[data-po-status]").get_attribute("data-po-status") == "draft"
    screenshot(console, "purchase-order-draft")
    console.locator("[data-po-action='ordered']").click()
    console.locator("[data-po-status='ordered']").wait_for()
    assert _po(runtime, po_id)["lines"][0]["promised_date"]           # ordering promises a date

    eta = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    console.locator("#ship-eta").fill(eta)
    console.get_by_role("button", name="Mark shipped").click()
    console.locator("[data-po-status='shipped']").wait_for()
    shipped = _po(runtime, po_id)
    assert (shipped["eta"], shipped["lines"][0]["on_the_way"]) == (eta, qty)
    stock = api_get(runtime, f"/skus/{sku}/stock")[1]
    assert next(w for w in stock["warehouses"] if w["warehouse_id"] == "wh-east")["in_transit"] >= qty

    first = qty // 2
    _submit_receipt(console, first - 2, 2, "crushed cartons")
    console.locator("[data-po-notice]", has_text="booked").wait_for()
    partial = _po(runtime, po_id)["lines"][0]
    assert (partial["received"], partial["rejected"], partial["on_the_way"]) == (first - 2, 2, qty - first)
    cells = console.locator(f"[data-table='po-{po_id}-lines'] tbody tr td")
    assert cells.nth(4).inner_text() == f"{first - 2:,}" and cells.nth(5).inner_text() == "2"

    rest = qty - first
    _submit_receipt(console, rest + 5)                                # more than is on its way, not accepted
    refusal = console.locator("[data-form='receive'] [data-error-kind='invalid']")
    refusal.wait_for()
    assert f"only {rest} on the way; send accept_over_receipt" in refusal.inner_text()
    assert _po(runtime, po_id)["lines"][0]["received"] == first - 2  # nothing booked
    _submit_receipt(console, rest)
    console.locator("[data-po-status='received']").wait_for()
    done = _po(runtime, po_id)
    assert (done["status"], done["lines"][0]["received"], done["lines"][0]["rejected"]) == ("received", qty - 2, 2)
    assert [h["status"] for h in done["history"]][:3] == ["draft", "ordered", "shipped"]
    screenshot(console, "purchase-order")

    with console.expect_download() as info:
        console.locator("[data-export='po-xlsx']").click()
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    path = DOWNLOADS / info.value.suggested_filename
    info.value.save_as(str(path))
    sheet = read_xlsx(path)
    assert sheet[0][0] == f"Purchase order {po_id}"
    header = next(i for i, row in enumerate(sheet) if row[0] == "Line")
    assert list(sheet[header][:6]) == ["Line", "SKU", "Ordered", "Unit price", "Amount", "Promised"]
    lines = [list(row[:6]) for row in sheet[header + 1: header + 1 + len(done["lines"])]]
    assert lines == [[l["line"], l["sku"], l["qty"], l["unit_price"], round(l["qty"] * l["unit_price"], 2),
                      l["promised_date"]] for l in done["lines"]]
    assert list(sheet[header + 1 + len(done["lines"])][:5]) == ["Total", None, None, None, done["total"]]

    console.locator("[data-print-view]").click()
    settle(console)
    console.get_by_role("heading", name=f"Purchase order {po_id}").wait_for()
    printed = console.locator(f"[data-print='{po_id}']")
    printed.locator("tbody tr td").first.wait_for()          # the lines render after the heading
    row = printed.locator("tbody tr").first.locator("td").all_inner_texts()
    line = done["lines"][0]
    assert row[:3] == [str(line["line"]), line["sku"], f"{line['qty']:,}"]
    assert "Acme Textiles" in printed.inner_text() and "East DC (wh-east)" in printed.inner_text()
    screenshot(console, "purchase-order-print")
    console.emulate_media(media="print")
    try:
        assert console.locator("header").first.is_hidden()           # the print stylesheet: the document only
        assert console.locator("[data-print-button]").is_hidden()
        assert printed.is_visible()
        screenshot(console, "purchase-order-printed")
    finally:
        console.emulate_media(media="screen")


@pytest.fixture()
def transfer_sku(seeded):
    """A SKU that sells from wh-east (priority 1, 24 units) while wh-west holds 200, with a lane between them:
    twenty orders fulfilled by wh-east make the transfer suggestion (as tests/e2e/test_purchasing_e2e.py)."""
    api, run = seeded["api"], uuid.uuid4().hex[:6].upper()
    sku = f"TRANSFER-{run}"
    api.call("PUT", f"/skus/{sku}", {"name": "Mug"})
    api.call("POST", "/stock/receipts", {"warehouse_id": "wh-east", "reference": f"TA-{run}", "lines": [{"sku": sku, "qty": 24}]})
    api.call("POST", "/stock/receipts", {"warehouse_id": "wh-west", "reference": f"TB-{run}", "lines": [{"sku": sku, "qty": 200}]})
    api.call("PUT", "/transfer-lanes/wh-west/wh-east", {"transit_days": 2, "cost_per_unit": 0.5})
    for i in range(20):
        rid = f"tr-{run}-{i}"
        api.call("POST", "/reservations", {"reservation_id": rid, "channel": "web", "lines": [{"sku": sku, "qty": 1}]})
        api.call("POST", f"/reservations/{rid}/commit")
    return sku


def test_a_transfer_from_a_suggestion_is_picked_and_received(console, runtime, transfer_sku):
    sku = transfer_sku
    found = wait_for(lambda: api_get(runtime, f"/transfers/suggestions?sku={sku}")[1].get("suggestions"),
                     "a transfer suggestion (sales counted per warehouse)")
    (suggestion,) = found
    console.goto(url(runtime, "transfers"))
    settle(console)
    button = console.locator(f"[data-create-transfer='{sku}']")
    row = console.locator("[data-table='transfer-suggestions'] tr", has=button)
    assert row.locator("[data-col='qty']").inner_text() == f"{suggestion['qty']:,}"
    assert row.locator("[data-col='prevents_stockout_on']").inner_text() == suggestion["prevents_stockout_on"]
    button.click()
    console.locator("[data-transfer-done]", has_text="created").wait_for()
    settle(console)
    made = next(t for t in api_get(runtime, "/transfers?limit=100")[1]["transfers"]
                if t["lines"][0]["sku"] == sku)
    assert (made["status"], made["from_warehouse"], made["to_warehouse"], made["lines"][0]["qty"]) == (
        "draft", "wh-west", "wh-east", suggestion["qty"])
    tid = made["transfer_id"]
    console.locator(f"[data-transfer-action='{tid}:pick']").click()
    console.locator("[data-transfer-done]", has_text="picked").wait_for()
    settle(console)
    assert api_get(runtime, f"/transfers/{tid}")[1]["status"] == "picked"
    console.locator(f"[data-transfer-action='{tid}:receive']").click()
    form = console.locator("[data-form='transfer-receive']")
    form.get_by_label("Received").fill(str(suggestion["qty"] - 1))
    form.get_by_role("button", name="Book arrival").click()
    assert form.get_by_text("Say why units are missing.").is_visible()   # a short line needs a reason
    form.get_by_label("Reason for missing units").fill("one broken in transit")
    form.get_by_role("button", name="Book arrival").click()
    console.locator("[data-transfer-done]", has_text="received").wait_for()
    settle(console)
    received = api_get(runtime, f"/transfers/{tid}")[1]
    assert (received["status"], received["lines"][0]["received"], received["lines"][0]["lost"]) == (
        "received", suggestion["qty"] - 1, 1)
    screenshot(console, "transfers")


def test_navigation_follows_the_signed_in_roles(page, runtime, seeded):
    api = seeded["api"]
    name = f"console-buyer-{uuid.uuid4().hex[:6]}"
    token = api.call("POST", "/tokens", {"name": name, "roles": ["buyer"]})["token"]
    try:
        page.evaluate("localStorage.removeItem('stocklink.session')")
        page.goto(url(runtime, "signin"))
        page.fill("#token", token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda u: "/signin" not in u)
        settle(page)
        nav = page.get_by_role("navigation").first
        links = nav.get_by_role("link").all_inner_texts()
        assert {"Purchase orders", "Suppliers", "Replenishment"} <= set(links), links
        assert "Transfers" not in links and "Channels" not in links, links
        assert page.locator("[data-roles]").get_attribute("data-roles") == "buyer"
        page.goto(url(runtime, "suppliers"))
        settle(page)
        assert page.locator("[data-form='sup-new']").is_visible()      # buyers add suppliers
    finally:
        page.evaluate("localStorage.removeItem('stocklink.session')")
        api.call("DELETE", f"/tokens/{name}")
        ensure_signed_in(page, runtime)
    nav = page.get_by_role("navigation").first.get_by_role("link").all_inner_texts()
    assert {"Purchase orders", "Suppliers", "Transfers", "Channels"} <= set(nav), nav   # the dev token: admin


def test_a_buyer_edits_a_supplier_and_its_quote_and_the_sku_page_scores_it(console, runtime, seeded):
    console.goto(url(runtime, "suppliers/acme-textiles"))
    settle(console)
    form = console.locator("[data-form='sup-edit']")
    form.get_by_label("Currency (ISO 4217)").fill("CNY")
    form.get_by_label("Payment terms").fill("30% deposit, 70% before shipping")
    form.get_by_role("button", name="Save").click()
    form.get_by_text("Saved.").wait_for()
    saved = api_get(runtime, "/suppliers/acme-textiles")[1]
    assert (saved["currency"], saved["payment_terms"]) == ("CNY", "30% deposit, 70% before shipping")
    quote = console.locator("[data-form='quote']")
    quote.get_by_label("SKU", exact=True).fill("DEMO-001")
    quote.get_by_role("button", name="Look up").click()
    quote.locator("[data-current-quote]").wait_for()
    quote.get_by_role("button", name="Add a break").click()
    quote.locator("#q-min_qty-2").fill("600")
    quote.locator("#q-unit_price-2").fill("3.9")                     # dearer than the break before: refused here
    quote.get_by_role("button", name="Save quote").click()
    assert quote.get_by_text("Must not cost more per unit than the break before it.").is_visible()
    quote.locator("#q-unit_price-2").fill("3.3")
    quote.get_by_role("button", name="Save quote").click()
    quote.get_by_text("Saved.").wait_for()
    sku_suppliers = api_get(runtime, "/skus/DEMO-001/suppliers")[1]
    acme = next(s for s in sku_suppliers["suppliers"] if s["supplier_id"] == "acme-textiles")
    assert acme["quote"]["price_breaks"][-1] == {"min_qty": 600, "unit_price": 3.3}
    screenshot(console, "supplier")
    console.goto(url(runtime, "skus/DEMO-001"))
    settle(console)
    assert console.locator("[data-recommended]").get_attribute("data-recommended") == (sku_suppliers["recommended"] or "")
    names = console.locator("[data-table='DEMO-001-suppliers'] td[data-col='supplier_id'] a").all_inner_texts()
    assert names == [s["name"] for s in sku_suppliers["suppliers"]]


PAGES = [("purchase-orders", "purchase-orders"), ("suppliers", "suppliers"), ("supplier", "suppliers/acme-textiles"),
         ("transfers", "transfers"), ("replenishment-buying", "replenishment")]


@pytest.mark.parametrize("name, path", PAGES, ids=[p[0] for p in PAGES])
def test_each_purchasing_page_has_no_critical_accessibility_violation(console, runtime, name, path):
    console.goto(url(runtime, path))
    settle(console)
    violations = axe_violations(console)
    screenshot(console, name)
    critical = [v for v in violations if v["impact"] == "critical"]
    assert not critical, critical


def test_a_purchase_order_page_and_its_print_view_have_no_critical_accessibility_violation(console, runtime):
    pos = api_get(runtime, "/purchase-orders?limit=1")[1]["purchase_orders"]
    if not pos:
        pytest.skip("no purchase order yet (the story test makes one)")
    for path in (f"purchase-orders/{pos[0]['po_id']}", f"purchase-orders/{pos[0]['po_id']}/print"):
        console.goto(url(runtime, path))
        settle(console)
        critical = [v for v in axe_violations(console) if v["impact"] == "critical"]
        assert not critical, (path, critical)

"""Suggestion to shelf through `python -m infra.local.cli local` (HTTP only, plus the seller's sales import):
a replenishment suggestion becomes a purchase order, shipping puts it in transit (visible in the stock view)
and moves the forecast's stock-out date, a partial receipt then the rest receive it; and a transfer
suggested from where orders were fulfilled prevents a projected stock-out in the other warehouse."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid
from pathlib import Path

import requests
from tests.waiting import wait_for

REPO_ROOT = Path(__file__).resolve().parents[2]


class Api:
    def __init__(self, runtime):
        self.url, self.headers = runtime.url, runtime.headers

    def __call__(self, method: str, path: str, body=None, params=None, expect=(200, 201)):
        r = requests.request(method, f"{self.url}{path}", json=body, params=params, headers=self.headers, timeout=60)
        assert r.status_code in expect, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()


def _forecast(api, sku: str):
    run = api("POST", "/forecasts/run", expect=(202,))["run_id"]
    return wait_for(lambda: (lambda f: f if f.get("run_id") == run else None)(
        api("GET", f"/forecasts/{sku}", expect=(200, 404))), f"forecast run {run}", timeout=90)


def _stock(api, sku: str, wh: str) -> dict:
    return next(w for w in api("GET", f"/skus/{sku}/stock")["warehouses"] if w["warehouse_id"] == wh)


def test_from_suggestion_to_shelf(local_runtime, tmp_path):
    api, run = Api(local_runtime), uuid.uuid4().hex[:6].upper()
    sku, wh, supplier = f"PO-E2E-{run}", f"WH-PO-{run}", f"acme-{run.lower()}"
    api("PUT", f"/warehouses/{wh}", {"name": wh, "priority": 1})
    api("PUT", f"/skus/{sku}", {"name": "Best-seller", "price": 20.0})
    api("POST", "/stock/receipts", {"warehouse_id": wh, "reference": f"OPEN-{run}", "lines": [{"sku": sku, "qty": 30}]})
    yesterday = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)
    sales = tmp_path / "sales.csv"
    sales.write_text("sku,date,qty\n" + "".join(f"{sku},{yesterday - dt.timedelta(days=d)},{9 + d % 3}\n"
                                                 for d in range(120)))
    subprocess.run([sys.executable, "-m", "infra.local.cli", "import", "sales", str(sales), "--api",
                    local_runtime.url, "--token", local_runtime.token], cwd=REPO_ROOT, check=True,
                   capture_output=True, timeout=120)
    api("PUT", f"/suppliers/{supplier}", {"name": "Acme", "currency": "CNY", "lead_time_days": 12})
    api("PUT", f"/suppliers/{supplier}/quotes/{sku}", {"price_breaks": [{"min_qty": 50, "unit_price": 8.0}],
                                                      "case_pack": 50})
    before = _forecast(api, sku)
    assert before["suggested_order_qty"] > 0
    assert before["stockout_date"] <= (yesterday + dt.timedelta(days=5)).isoformat()

    (po,) = api("POST", "/purchase-orders/from-suggestions", {"warehouse_id": wh, "skus": [sku],
                                                             "supplier_id": supplier})["purchase_orders"]
    (line,) = po["lines"]
    assert line["qty"] % 50 == 0 and line["qty"] >= before["suggested_order_qty"] and line["unit_price"] == 8.0
    po_id = po["po_id"]
    api("POST", f"/purchase-orders/{po_id}/status", {"status": "ordered"})
    eta = (yesterday + dt.timedelta(days=3)).isoformat()
    api("POST", f"/purchase-orders/{po_id}/ship", {"eta": eta})
    assert _stock(api, sku, wh)["in_transit"] == line["qty"]
    after = _forecast(api, sku)
    assert after["stockout_date"] is None or after["stockout_date"] > before["stockout_date"]
    assert after["suggested_order_qty"] < before["suggested_order_qty"]       # what is ordered is not ordered again

    first = line["qty"] // 2
    api("POST", f"/purchase-orders/{po_id}/receipts",
        {"reference": f"GRN-{run}-1", "lines": [{"line": 1, "received": first - 2, "rejected": 2,
                                                 "reject_reason": "crushed cartons"}]})
    partial = _stock(api, sku, wh)
    assert (partial["on_hand"], partial["in_transit"]) == (30 + first - 2, line["qty"] - first)
    done = api("POST", f"/purchase-orders/{po_id}/receipts",
               {"reference": f"GRN-{run}-2", "lines": [{"line": 1, "received": line["qty"] - first}]})
    assert done["status"] == "received"
    final = _stock(api, sku, wh)
    assert (final["on_hand"], final["in_transit"]) == (30 + line["qty"] - 2, 0)
    card = api("GET", f"/suppliers/{supplier}/scorecard")
    assert card["receipts"] == 2
    ledger = api("GET", "/ledger", params={"sku": sku, "limit": "100"})["entries"]
    assert {e["movement"] for e in ledger if e["source"].startswith(f"po#{po_id}")} == {
        "transit_in", "transit_arrive", "transit_drop"}


def test_a_transfer_prevents_a_projected_stockout(local_runtime):
    api, run = Api(local_runtime), uuid.uuid4().hex[:6].upper()
    sku, busy, spare = f"TR-E2E-{run}", f"WH-BUSY-{run}", f"WH-SPARE-{run}"
    api("PUT", f"/warehouses/{busy}", {"name": busy, "priority": 1})
    api("PUT", f"/warehouses/{spare}", {"name": spare, "priority": 2})
    api("PUT", f"/skus/{sku}", {"name": "Mug"})
    api("POST", "/stock/receipts", {"warehouse_id": busy, "reference": f"A-{run}", "lines": [{"sku": sku, "qty": 24}]})
    api("POST", "/stock/receipts", {"warehouse_id": spare, "reference": f"B-{run}",
                                    "lines": [{"sku": sku, "qty": 200}]})
    api("PUT", f"/transfer-lanes/{spare}/{busy}", {"transit_days": 2, "cost_per_unit": 0.5})
    for i in range(20):                                   # orders fulfilled by the busy warehouse (first priority)
        rid = f"tr-{run}-{i}"
        api("POST", "/reservations", {"reservation_id": rid, "channel": "web", "lines": [{"sku": sku, "qty": 1}]})
        api("POST", f"/reservations/{rid}/commit")
    found = wait_for(lambda: api("GET", "/transfers/suggestions", params={"sku": sku})["suggestions"],
                     "a transfer suggestion (sales counted per warehouse)", timeout=90)
    (suggestion,) = found
    assert (suggestion["from_warehouse"], suggestion["to_warehouse"]) == (spare, busy) and suggestion["qty"] > 0
    assert suggestion["total_cost"] == round(0.5 * suggestion["qty"], 2)
    made = api("POST", "/transfers", {"from_warehouse": spare, "to_warehouse": busy,
                                      "lines": [{"sku": sku, "qty": suggestion["qty"]}]})
    picked = api("POST", f"/transfers/{made['transfer_id']}/pick", {})
    assert picked["status"] == "picked" and _stock(api, sku, busy)["in_transit"] == suggestion["qty"]
    assert api("GET", "/transfers/suggestions", params={"sku": sku})["suggestions"] == []   # on its way counts
    api("POST", f"/transfers/{made['transfer_id']}/receive", {})
    assert _stock(api, sku, busy)["available"] == 4 + suggestion["qty"]
    assert _stock(api, sku, spare)["on_hand"] == 200 - suggestion["qty"]

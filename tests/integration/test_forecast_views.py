"""What the console reads of a forecast run, on moto: a SKU's forecast with the daily sales series it was
made from (GET /forecasts/{sku}?history_days=), and replenishment suggestions with their supplier terms and
order cost, read in one batch per page."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.apigw import ApiClient
from tests.integration.conftest import STAFF_TOKEN

NOW = int(dt.datetime(2025, 6, 2, 12, tzinfo=dt.timezone.utc).timestamp() * 1000)   # as_of = 2025-06-01
AS_OF = dt.date(2025, 6, 1)


def _sales(sku: str, days: int, daily) -> list:
    """Rows of the `days` days ending on AS_OF; daily(t) gives day t's units (0 = oldest; 0 writes no row)."""
    from stocklink.forecasting.importer import SalesRow
    return [SalesRow(sku, AS_OF - dt.timedelta(days=days - 1 - t), float(daily(t))) for t in range(days) if daily(t)]


@pytest.fixture
def forecasted(staff):
    """Three SKUs run through one forecast: HOT (sells 8-10 a day, 20 in stock, supplier with MOQ, case pack
    and price breaks), WARM (sells 4 a day, 10 in stock, a supplier without prices, a unit cost on the SKU)
    and COLD (sells 3 a day, 5 in stock, no supplier, no cost)."""
    from functions.forecast_api.handler import handler
    from stocklink.logic import forecasting_service as fs
    from stocklink.logic.sales_history import import_rows

    api = ApiClient(handler, STAFF_TOKEN)
    staff.put("/warehouses/wh-a", {"name": "A", "priority": 1})
    for sku, body, stock in (("HOT", {"price": 12.0}, 20), ("WARM", {"price": 9.0, "unit_cost": 2.25}, 10),
                             ("COLD", {"price": 5.0}, 5)):
        assert staff.put(f"/skus/{sku}", {"name": sku, **body}).status == 200
        staff.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": sku, "qty": stock}],
                                       "reference": f"PO-{sku}"})
    assert api.put("/skus/HOT/supplier", {"supplier": "Acme Textiles", "lead_time_days": 10, "moq": 50,
                                          "case_pack": 12, "price_breaks": [{"min_qty": 1, "unit_cost": 4.0},
                                                                            {"min_qty": 600, "unit_cost": 3.0}]}
                   ).status == 200
    assert api.put("/skus/WARM/supplier", {"supplier": "Blue Mill", "lead_time_days": 6}).status == 200
    # HOT: 8, 9, 10, 8, 9, 10, ... for 120 days except day 100 (no sale); returns on the last day net to -2
    hot = _sales("HOT", 120, lambda t: -2 if t == 119 else 0 if t == 100 else 8 + t % 3)
    import_rows(hot + _sales("WARM", 120, lambda t: 4) + _sales("COLD", 120, lambda t: 3), NOW)
    assert fs.run("daily-2025-06-01", NOW)["status"] == "done"
    return api


def test_forecast_carries_the_daily_sales_series_it_was_made_from(forecasted):
    from stocklink.logic.sales_history import daily_series

    hot = forecasted.get("/forecasts/HOT").body
    assert hot["as_of"] == AS_OF.isoformat() and hot["forecast_start"] == "2025-06-02"
    assert hot["history_start"] == (AS_OF - dt.timedelta(days=89)).isoformat() and len(hot["history"]) == 90
    # the counters as stored, day by day: the day without sales is a 0, the last day's net returns negative
    assert hot["history"] == daily_series("HOT", AS_OF - dt.timedelta(days=89), AS_OF)
    expected = [0.0 if t == 100 else float(8 + t % 3) for t in range(30, 120)]
    expected[-1] = -2.0
    assert hot["history"] == expected

    year = forecasted.get("/forecasts/HOT", query={"history_days": "400"}).body
    assert len(year["history"]) == 400 and year["history"][-90:] == hot["history"]
    assert year["history"][:280] == [0.0] * 280            # before the first sale: days without sales
    none = forecasted.get("/forecasts/HOT", query={"history_days": "0"}).body
    assert none["history"] == [] and none["history_start"] is None and none["forecast"] == hot["forecast"]
    assert forecasted.get("/forecasts/HOT", query={"history_days": ""}).body["history"] == hot["history"]

    for bad in ("401", "-1", "7.5", "ten", "99999"):
        answer = forecasted.get("/forecasts/HOT", query={"history_days": bad})
        assert answer.status == 400 and answer.body["field"] == "history_days", bad
    assert forecasted.get("/forecasts/NOPE").status == 404


def test_suggestions_carry_supplier_terms_and_order_cost_read_in_one_batch_per_page(forecasted, monkeypatch):
    from stocklink.store import catalog
    from stocklink.store import suppliers as supplier_store

    reads = {"settings": 0, "quotes": 0, "suppliers": 0, "skus": 0}
    for module, name, key in ((supplier_store, "sku_settings", "settings"), (supplier_store, "quotes", "quotes"),
                              (supplier_store, "suppliers", "suppliers"), (catalog, "skus_now", "skus")):
        real = getattr(module, name)

        def counted(*args, _real=real, _key=key, **kwargs):
            reads[_key] += 1
            return _real(*args, **kwargs)
        monkeypatch.setattr(module, name, counted)

    body = forecasted.get("/replenishment").body
    # each SKU's choice, the chosen quotes and suppliers: one batch read each for the whole page
    assert reads == {"settings": 1, "quotes": 1, "suppliers": 1, "skus": 1}
    rows = {s["sku"]: s for s in body["suggestions"]}
    assert set(rows) == {"HOT", "WARM", "COLD"}
    assert [s["stockout_within_lead_time"] for s in body["suggestions"]] == [True, True, True]

    hot = rows["HOT"]
    assert hot["supplier"] == "Acme Textiles"
    assert hot["supplier_terms"]["moq"] == 50 and hot["supplier_terms"]["case_pack"] == 12
    assert hot["supplier_terms"]["lead_time_days"] == 10 and len(hot["supplier_terms"]["price_breaks"]) == 2
    qty = hot["suggested_order_qty"]
    assert qty >= 50 and qty % 12 == 0
    price = 3.0 if qty >= 600 else 4.0
    assert (hot["unit_cost"], hot["unit_cost_source"]) == (price, "price_break")
    assert hot["order_cost"] == pytest.approx(qty * price)

    warm = rows["WARM"]           # a supplier without price breaks: the SKU's own unit cost
    assert warm["supplier"] == "Blue Mill" and warm["supplier_terms"]["moq"] == 1
    assert (warm["unit_cost"], warm["unit_cost_source"]) == (2.25, "sku")
    assert warm["order_cost"] == pytest.approx(warm["suggested_order_qty"] * 2.25)

    cold = rows["COLD"]           # nothing known: no supplier, and the cost is unknown rather than 0
    assert cold["supplier"] is None and cold["supplier_terms"] is None
    assert cold["unit_cost"] is None and cold["unit_cost_source"] is None and cold["order_cost"] is None

    # terms read when shown: a supplier named and a cost set after the run show on the next read
    assert forecasted.put("/skus/COLD/supplier", {"supplier": "Late & Co", "lead_time_days": 3,
                                                  "price_breaks": [{"min_qty": 1, "unit_cost": 1.5}]}).status == 200
    cold = {s["sku"]: s for s in forecasted.get("/replenishment").body["suggestions"]}["COLD"]
    assert cold["supplier"] == "Late & Co" and cold["supplier_terms"]["lead_time_days"] == 3
    assert cold["order_cost"] == pytest.approx(cold["suggested_order_qty"] * 1.5)

    first = forecasted.get("/replenishment", query={"limit": "2"}).body
    rest = forecasted.get("/replenishment", query={"limit": "2", "cursor": first["next"]}).body
    assert [s["sku"] for s in first["suggestions"] + rest["suggestions"]] == [s["sku"] for s in body["suggestions"]]
    assert all("order_cost" in s for s in rest["suggestions"])

"""In-transit stock in planning (moto): units on order are not suggested again, and units shipped move the
stock-out date by their ETA (the forecast run reads them from the purchasing index)."""
from __future__ import annotations

import datetime as dt

from stocklink.domain.purchase_requests import PoShipIn, PoStatusIn, PurchaseOrderIn
from stocklink.logic import forecasting_service as fs
from stocklink.logic import purchasing
from tests.purchasing_support import make_supplier
from tests.integration.test_forecasting_service import NOW, forecast_api, planned  # noqa: F401 - fixtures


def _fast(planned, run_id):
    assert fs.run(run_id, NOW)["status"] == "done"
    body = planned.get("/forecasts/FAST").body
    return body["suggested_order_qty"], body["stockout_date"]


def _po(qty, promised="2025-06-10"):
    make_supplier("acme")
    purchasing.create(PurchaseOrderIn.model_validate({
        "po_id": "PO-FAST", "supplier_id": "acme", "warehouse_id": "wh-a",
        "lines": [{"sku": "FAST", "qty": qty, "promised_date": promised}]}), actor="buyer", now_ms=NOW)


def test_units_on_order_are_not_suggested_again_and_shipped_units_move_the_stockout_date(planned):
    before_qty, before_stockout = _fast(planned, "daily-a")
    assert before_qty >= 100 and before_stockout <= "2025-06-05"       # 30 units at ~11/day
    _po(before_qty)
    assert _fast(planned, "daily-b")[0] == before_qty                 # a draft is not an order yet
    purchasing.change_status("PO-FAST", PoStatusIn(status="ordered"), actor="buyer", now_ms=NOW)
    on_order_qty, on_order_stockout = _fast(planned, "daily-c")
    assert on_order_qty < before_qty                                  # what is ordered is not ordered again
    assert on_order_stockout == before_stockout                       # promised for the 10th: still runs out
    purchasing.ship("PO-FAST", PoShipIn(eta="2025-06-02"), actor="buyer", now_ms=NOW)
    shipped_qty, shipped_stockout = _fast(planned, "daily-d")
    assert shipped_stockout is None or shipped_stockout > "2025-06-15"   # arrives tomorrow
    assert shipped_qty == on_order_qty                                # counted once, in transit now


def test_arrivals_without_a_shipment_or_a_date_land_one_lead_time_away():
    as_of = dt.date(2025, 6, 1)
    arriving = [purchasing.Incoming(dt.date(2025, 6, 4), 10, True), purchasing.Incoming(None, 5, False),
                purchasing.Incoming(dt.date(2025, 5, 20), 2, True)]
    assert fs._arrivals(arriving, in_transit=20, lead=6.5, as_of=as_of) == (
        (3, 10.0), (7, 5.0), (7, 2.0), (7, 8.0))   # 20 in transit, 12 of them shipments: 8 unexplained
    # 13 presold are sold already: the 10 due on day 3 first, then 3 of those a lead time away (never on order)
    assert fs._arrivals(arriving, in_transit=20, lead=6.5, as_of=as_of, presold=13) == (
        (7, 5.0), (7, 7.0))


def test_suggestions_become_one_draft_po_per_supplier_rounded_to_its_terms(planned):
    from stocklink.domain.purchase_requests import PoFromSuggestionsIn
    from stocklink.errors import ValidationFailed
    from stocklink.logic import suppliers
    import pytest

    qty, _ = _fast(planned, "daily-s")
    make_supplier("acme")
    body = {"warehouse_id": "wh-a", "skus": ["FAST"]}
    with pytest.raises(ValidationFailed):          # FAST's terms name no supplier
        purchasing.from_suggestions(PoFromSuggestionsIn.model_validate(body), actor="buyer", now_ms=NOW)
    with pytest.raises(ValidationFailed):          # the forecast suggests no order of STEADY
        purchasing.from_suggestions(PoFromSuggestionsIn.model_validate({**body, "skus": ["FAST", "STEADY"],
                                                                        "supplier_id": "acme"}),
                                    actor="buyer", now_ms=NOW)
    assert purchasing.list_pos({})["purchase_orders"] == []          # nothing written
    suppliers.put_quote("acme", "FAST", suppliers.QuoteIn.model_validate(
        {"price_breaks": [{"min_qty": 50, "unit_price": 4.0}], "case_pack": 25}), NOW)
    made = purchasing.from_suggestions(PoFromSuggestionsIn.model_validate({**body, "supplier_id": "acme"}),
                                       actor="buyer", now_ms=NOW)["purchase_orders"]
    (po,) = made
    (line,) = po["lines"]
    assert po["status"] == "draft" and po["supplier_id"] == "acme"
    assert line["qty"] >= qty and line["qty"] % 25 == 0 and line["qty"] - qty < 25
    assert line["unit_price"] == 4.0 and line["promised_date"] == "2025-06-12"   # 2025-06-02 + 10 days

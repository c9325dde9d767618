"""The purchasing routes through the handler (moto): a buyer's PO from draft to shipped, staff receiving it,
a transfer, and bad input answered 4xx with nothing written."""
import pytest

from tests.integration.apigw import ApiClient
from tests.integration.conftest import BUYER_TOKEN, STAFF_TOKEN
from tests.purchasing_support import make_supplier

SKU = "TEE-RED-M"


@pytest.fixture
def api(aws):
    from functions.purchasing_api.handler import handler
    return {"buyer": ApiClient(handler, BUYER_TOKEN), "staff": ApiClient(handler, STAFF_TOKEN)}


def _stock(staff, wh):
    body = staff.get(f"/skus/{SKU}/stock").body
    row = next(w for w in body["warehouses"] if w["warehouse_id"] == wh)
    return row["on_hand"], row["available"], row["in_transit"]


def test_a_po_from_draft_to_received_through_the_api(stocked, api, aws):
    make_supplier("acme")
    buyer, staff = api["buyer"], api["staff"]
    made = buyer.post("/purchase-orders", {"po_id": "PO-9", "supplier_id": "acme", "warehouse_id": "wh-a",
                                           "lines": [{"sku": SKU, "qty": 10, "unit_price": 5.5}]})
    assert made.status == 201 and made.body["status"] == "draft" and made.body["total"] == 55.0
    assert buyer.post("/purchase-orders/PO-9/status", {"status": "ordered"}).status == 200
    shipped = buyer.post("/purchase-orders/PO-9/ship", {"eta": "2026-12-20"})
    assert shipped.status == 200 and shipped.body["lines"][0]["on_the_way"] == 10
    assert _stock(stocked, "wh-a") == (3, 3, 10)
    assert buyer.post("/purchase-orders/PO-9/receipts", {"reference": "G", "lines": [{"line": 1, "received": 10}]}
                      ).status == 403                                          # staff receive goods
    received = staff.post("/purchase-orders/PO-9/receipts", {"reference": "G", "lines": [{"line": 1, "received": 10}]})
    assert received.status == 201 and received.body["status"] == "received"
    again = staff.post("/purchase-orders/PO-9/receipts", {"reference": "G", "lines": [{"line": 1, "received": 10}]})
    assert again.status == 200 and again.body["receipt"]["duplicate"] is True
    assert _stock(stocked, "wh-a") == (13, 13, 0)
    listed = staff.get("/purchase-orders", query={"status": "received"}).body["purchase_orders"]
    assert [p["po_id"] for p in listed] == ["PO-9"]
    changed = {e["detail"]["sku"] for e in aws.drain() if e["detail-type"] == "stock.changed"
               and e["detail"]["cause"] in ("transit", "receive")}
    assert changed == {SKU}                      # channels follow the receipt like any stock change


@pytest.mark.parametrize("body", [
    {"supplier_id": "acme", "warehouse_id": "wh-a", "lines": [{"sku": SKU, "qty": -1}]},
    {"supplier_id": "acme", "warehouse_id": "wh-a", "lines": [{"sku": SKU, "qty": 1, "promised_date": "soon"}]},
    {"supplier_id": "acme", "warehouse_id": "wh-a", "lines": [{"sku": SKU, "qty": 1}, {"sku": SKU, "qty": 2}]},
    {"supplier_id": "acme", "warehouse_id": "wh-a", "lines": []},
])
def test_bad_purchase_orders_are_400_and_nothing_is_written(stocked, api, body):
    make_supplier("acme")
    answer = api["buyer"].post("/purchase-orders", {**body, "po_id": "PO-BAD"})
    assert answer.status == 400, answer.body
    assert api["buyer"].get("/purchase-orders/PO-BAD").status == 404


def test_unknown_supplier_or_warehouse_is_404(stocked, api):
    make_supplier("acme")
    for body in ({"supplier_id": "nobody", "warehouse_id": "wh-a"}, {"supplier_id": "acme", "warehouse_id": "nowhere"}):
        answer = api["buyer"].post("/purchase-orders", {**body, "lines": [{"sku": SKU, "qty": 1}]})
        assert answer.status == 404, answer.body
    assert api["buyer"].get("/purchase-orders").body["purchase_orders"] == []


def test_an_over_receipt_without_acceptance_is_400_and_a_receipt_before_shipping_409(stocked, api):
    make_supplier("acme")
    buyer, staff = api["buyer"], api["staff"]
    buyer.post("/purchase-orders", {"po_id": "PO-1", "supplier_id": "acme", "warehouse_id": "wh-a",
                                    "lines": [{"sku": SKU, "qty": 5}]})
    assert staff.post("/purchase-orders/PO-1/receipts", {"reference": "G", "lines": [{"line": 1, "received": 5}]}
                      ).status == 409
    buyer.post("/purchase-orders/PO-1/status", {"status": "ordered"})
    buyer.post("/purchase-orders/PO-1/ship", {"eta": "2026-12-20"})
    over = staff.post("/purchase-orders/PO-1/receipts", {"reference": "G", "lines": [{"line": 1, "received": 6}]})
    assert over.status == 400 and over.body["over"] == 1
    assert _stock(stocked, "wh-a") == (3, 3, 5)


def test_a_transfer_through_the_api_and_moving_reserved_units_is_409(stocked, api, storefront):
    staff = api["staff"]
    assert staff.put("/transfer-lanes/wh-b/wh-a", {"transit_days": 1, "cost_per_unit": 0.3}).status == 200
    made = staff.post("/transfers", {"transfer_id": "TR-1", "from_warehouse": "wh-b", "to_warehouse": "wh-a",
                                     "lines": [{"sku": SKU, "qty": 3}]})
    assert made.status == 201 and made.body["cost_per_unit"] == 0.3
    assert storefront.post("/reservations", {"reservation_id": "w1", "channel": "web",
                                             "lines": [{"sku": SKU, "qty": 4}]}).status == 201   # 1 of wh-b held
    refused = staff.post("/transfers/TR-1/pick", {})
    assert refused.status == 409 and refused.body["sku"] == SKU and refused.body["available"] == 2
    assert _stock(stocked, "wh-b") == (3, 2, 0)
    assert storefront.post("/reservations/w1/release").status == 200
    assert staff.post("/transfers/TR-1/pick", {}).status == 200
    assert staff.post("/transfers/TR-1/receive", {"lines": [{"line": 1, "received": 3}]}).status == 200
    assert _stock(stocked, "wh-a") == (6, 6, 0) and _stock(stocked, "wh-b") == (0, 0, 0)
    assert api["buyer"].post("/transfers", {"from_warehouse": "wh-a", "to_warehouse": "wh-b",
                                            "lines": [{"sku": SKU, "qty": 1}]}).status == 403

"""Staff API end to end on moto: catalog, receipts, adjustments, stock view, ledger, auth, bad input."""
import pytest

from tests.integration.conftest import STOREFRONT_TOKEN


def test_receipt_adds_stock_and_writes_ledger_and_event(stocked, aws):
    stock = stocked.get("/skus/TEE-RED-M/stock")
    assert stock.status == 200
    by_wh = {w["warehouse_id"]: w for w in stock.body["warehouses"]}
    assert by_wh["wh-a"] == {"warehouse_id": "wh-a", "on_hand": 3, "reserved": 0, "available": 3, "in_transit": 0,
                         "presold": 0}
    assert stock.body["totals"]["available"] == 6
    ledger = stocked.get("/ledger", query={"sku": "TEE-RED-M"}).body["entries"]
    assert [(e["warehouse_id"], e["movement"], e["qty"]) for e in ledger] == [("wh-a", "receive", 3), ("wh-b", "receive", 3)]
    assert ledger[0]["actor"] == "alice" and ledger[0]["source"] == "receipt#wh-a#PO-1"
    changed = [e for e in aws.drain() if e["detail-type"] == "stock.changed"]
    assert {(e["detail"]["warehouse_id"], e["detail"]["available"]) for e in changed} == {("wh-a", 3), ("wh-b", 3)}


def test_same_receipt_reference_books_once(stocked):
    again = stocked.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "TEE-RED-M", "qty": 3}], "reference": "PO-1"})
    assert again.status == 200 and again.body["duplicate"] is True
    assert stocked.get("/skus/TEE-RED-M/stock").body["totals"]["on_hand"] == 6
    other = stocked.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "TEE-RED-M", "qty": 9}], "reference": "PO-1"})
    assert other.status == 400
    assert stocked.get("/skus/TEE-RED-M/stock").body["totals"]["on_hand"] == 6


def test_adjustment_needs_reason_and_cannot_go_below_reserved(stocked, storefront):
    assert storefront.post("/reservations", {"reservation_id": "r1", "channel": "web",
                                             "lines": [{"sku": "TEE-RED-M", "qty": 2}]}).status == 201
    no_reason = stocked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": "TEE-RED-M", "delta": -1})
    assert no_reason.status == 400 and no_reason.body["error"] == "validation_error"
    too_far = stocked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": "TEE-RED-M", "delta": -2, "reason": "damaged"})
    assert too_far.status == 409 and too_far.body["available"] == 1
    ok = stocked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": "TEE-RED-M", "delta": -1, "reason": "damaged"})
    assert ok.status == 201
    wh_a = next(w for w in ok.body["warehouses"] if w["warehouse_id"] == "wh-a")
    assert (wh_a["on_hand"], wh_a["reserved"], wh_a["available"]) == (2, 2, 0)


def test_auth_required_and_roles_enforced(stocked):
    stocked.token = None
    missing = stocked.get("/skus/TEE-RED-M/stock")
    assert missing.status == 401 and missing.body["error"] == "unauthorized"
    stocked.token = "not-a-token"
    assert stocked.get("/skus/TEE-RED-M/stock").status == 401
    stocked.token = STOREFRONT_TOKEN
    assert stocked.put("/skus/X1", {"name": "x"}).status == 403
    stocked.token = None
    assert stocked.get("/health").status == 200


def test_bad_input_is_rejected_with_reason_and_nothing_written(stocked):
    cases = [
        ({"warehouse_id": "wh-a", "lines": [{"sku": "TEE-RED-M", "qty": 0}], "reference": "PO-9"}, "lines.0.qty"),
        ({"warehouse_id": "wh-a", "lines": [{"sku": "TEE-RED-M", "qty": -4}], "reference": "PO-9"}, "lines.0.qty"),
        ({"warehouse_id": "wh-a", "lines": [{"sku": "TEE-RED-M", "qty": "3"}], "reference": "PO-9"}, "lines.0.qty"),
        ({"warehouse_id": "wh-a", "lines": [], "reference": "PO-9"}, "lines"),
        ({"warehouse_id": "wh-a", "lines": [{"sku": "TEE-RED-M", "qty": 1}]}, "reference"),
    ]
    for body, field in cases:
        answer = stocked.post("/stock/receipts", body)
        assert answer.status == 400, body
        assert answer.body["field"] == field and answer.body["message"]
    malformed = stocked.post("/stock/receipts", raw=b'{"warehouse_id": "wh-a", ')
    assert malformed.status == 400 and "JSON" in malformed.body["message"]
    huge = stocked.post("/stock/receipts", raw=b'{"pad": "' + b"x" * (1024 * 1024 + 10) + b'"}')
    assert huge.status == 413
    unknown = stocked.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "NOPE", "qty": 1}], "reference": "PO-9"})
    assert unknown.status == 404 and unknown.body["sku"] == "NOPE"
    assert stocked.get("/skus/TEE-RED-M/stock").body["totals"]["on_hand"] == 6
    assert len(stocked.get("/ledger", query={"sku": "TEE-RED-M"}).body["entries"]) == 2


def test_bootstrap_token_generated_by_the_stack_is_admin(staff):
    import json

    import boto3
    from stocklink import secrets

    boto3.client("secretsmanager").put_secret_value(
        SecretId="stocklink/api-tokens", SecretString=json.dumps({"tokens": {}, "bootstrap": "first-admin-token"}))
    secrets.forget()
    staff.token = "first-admin-token"
    assert staff.put("/warehouses/wh-z", {"name": "Z"}).status == 200
    staff.token = "staff-token-for-tests"  # removed from the secret above
    assert staff.get("/warehouses").status == 401


def test_prices_and_costs_must_be_finite(staff):
    # JSON parsers take Infinity and NaN; an infinite price would poison every revenue figure.
    for field in ("price", "unit_cost"):
        for value in (float("inf"), float("nan")):
            answer = staff.put("/skus/TEE-RED-M", {"name": "Red tee M", field: value})
            assert answer.status == 400, (field, value, answer.body)
    assert staff.put("/skus/TEE-RED-M", {"name": "Red tee M", "price": 19.9}).status == 200


def test_a_sku_read_edited_and_written_back_keeps_barcode_supplier_and_components(staff):
    """PUT replaces the record: every field the catalogue import writes must round-trip through GET + PUT."""
    assert staff.put("/skus/TEE-RED-S", {"name": "Red tee S"}).status == 200
    full = {"name": "Red tee M", "price": 19.9, "unit_cost": 7.5, "category": "tees", "barcode": "6901234567892",
            "supplier": "sup-a", "components": [{"sku": "TEE-RED-S", "qty": 2}], "launch_date": "2026-11-02"}
    assert staff.put("/skus/TEE-PACK", full).status == 200
    listed = {s["sku"]: s for s in staff.get("/skus", query={"q": "TEE-PACK"}).body["skus"]}
    edited = {k: v for k, v in listed["TEE-PACK"].items() if k in full} | {"name": "Red tee pack of 2"}
    assert staff.put("/skus/TEE-PACK", edited).status == 200
    again = {s["sku"]: s for s in staff.get("/skus", query={"q": "TEE-PACK"}).body["skus"]}["TEE-PACK"]
    assert again["barcode"] == "6901234567892" and again["supplier"] == "sup-a"
    assert again["components"] == [{"sku": "TEE-RED-S", "qty": 2}] and again["name"] == "Red tee pack of 2"
    assert again["launch_date"] == "2026-11-02"

    for bad in ({"components": [{"sku": "NOPE", "qty": 1}]}, {"components": [{"sku": "TEE-PACK", "qty": 1}]},
                {"components": [{"sku": "TEE-RED-S", "qty": 1}, {"sku": "TEE-RED-S", "qty": 2}]},
                {"barcode": "69 01"}, {"components": []}, {"launch_date": "2026-02-30"},
                {"launch_date": "2 Nov 2026"}):
        answer = staff.put("/skus/TEE-PACK", {"name": "x", **bad})
        assert answer.status == 400, (bad, answer.body)
    assert {s["sku"]: s for s in staff.get("/skus", query={"q": "TEE-PACK"}).body["skus"]}["TEE-PACK"] == again


def test_supplier_price_breaks_must_be_finite():
    from pydantic import ValidationError

    from stocklink.logic.suppliers import SupplierIn
    with pytest.raises(ValidationError):
        SupplierIn.model_validate({"price_breaks": [{"min_qty": 10, "unit_cost": float("inf")}]})

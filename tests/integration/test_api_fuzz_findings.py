"""Regression tests for what the schemathesis run (test_api_fuzz.py) found: each was a 5xx or an answer
outside the contract before its fix."""
from __future__ import annotations


NOT_UTF8 = b"_*\xa8a\x05"


def test_a_body_that_is_not_utf8_is_a_400_not_a_500(staff, storefront):
    # arrives base64-encoded (API Gateway / the local gateway); decoding it as text raised UnicodeDecodeError
    for client, method, path in ((staff, "PUT", "/warehouses/wh-a"), (staff, "POST", "/stock/adjustments"),
                                 (storefront, "POST", "/reservations")):
        answer = client.call(method, path, raw=NOT_UTF8)
        assert answer.status == 400, (path, answer.status, answer.body)
        assert answer.body["error"] == "validation_error"


def test_an_unsigned_binary_webhook_is_a_401_not_a_500(webhooks):
    answer = webhooks.post("/webhooks/shopify/s1", raw=NOT_UTF8)
    assert answer.status == 401


def test_a_path_id_too_long_for_a_dynamodb_key_is_a_400_not_a_500(staff):
    # 200 two-byte characters, percent-encoded as clients send them: 1,200 bytes reached the catalog's sort key
    # (1,024 bytes at most) and DynamoDB refused the write: a 500
    answer = staff.put("/warehouses/" + "%C3%92" * 200, {"name": "A"})
    assert answer.status == 400 and answer.body["field"] == "warehouse_id"
    answer = staff.put("/listings/shopify/s1/" + "x" * 301, {"components": [{"sku": "A", "qty": 1}]})
    assert answer.status == 400 and answer.body["field"] == "listing_id"


def test_path_ids_within_limits_still_work(staff):
    assert staff.put("/warehouses/" + "%2F" * 100, {"name": "A"}).status == 200     # 100 encoded characters
    assert staff.get("/skus/shopify:s1:1001/stock").status == 404      # not found, not refused


def test_a_forged_cursor_is_a_400_even_before_the_first_forecast_run(aws):
    # with no run yet the cursor was never read: any string answered 200 (every other list answers 400)
    from functions.forecast_api.handler import handler
    from tests.integration.apigw import ApiClient
    from tests.integration.conftest import STAFF_TOKEN

    client = ApiClient(handler, STAFF_TOKEN)
    assert client.get("/replenishment").status == 200
    answer = client.get("/replenishment", query={"cursor": "bm90LWEtY3Vyc29y"})
    assert answer.status == 400 and answer.body["field"] == "cursor"


def test_bodies_are_validated_strictly_as_the_contract_says(staff):
    # lax validation took {"enabled": 0.0, "min_units_per_channel": false} as {false, 0} (a 200 for a body
    # the contract calls invalid), and "1.5" for a price
    answer = staff.put("/allocation/last-units", {"enabled": 0.0, "min_units_per_channel": False})
    assert answer.status == 400 and answer.body["field"] in ("enabled", "min_units_per_channel")
    assert staff.put("/skus/TEE", {"name": "Tee", "price": "1.5"}).status == 400
    assert staff.put("/skus/TEE", {"name": "Tee", "price": 2}).status == 200           # an int is a number
    assert staff.put("/allocation/last-units", {"enabled": False, "k": 3}).status == 200


def test_a_sku_or_warehouse_id_no_body_could_name_is_refused_in_the_path(staff):
    # PUT /skus/{sku} stored any id (spaces, control characters, non-ASCII); no receipt, hold or listing
    # could then name that SKU (their bodies take Identifiers only)
    for bad in ("TEE%20RED", "T%C3%89E", "%01x", "a" * 129):
        answer = staff.put(f"/skus/{bad}", {"name": "Tee"})
        assert answer.status == 400 and answer.body["field"] == "sku", bad
    assert staff.put("/warehouses/wh%20a", {"name": "A"}).body["field"] == "warehouse_id"
    assert staff.get("/skus/%C3%89/channels").status == 400
    assert staff.put("/skus/TEE-RED-M", {"name": "Tee"}).status == 200
    assert staff.put("/skus/A%2FB", {"name": "Tee"}).status == 200          # "/" is an Identifier character

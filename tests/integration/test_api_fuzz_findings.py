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

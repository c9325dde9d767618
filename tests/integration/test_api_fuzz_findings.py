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

"""Webhook ingest on moto: one app secret signs for many shops, so a delivery signed for shop A and posted to
/webhooks/<platform>/B, or a stale one, is answered 401 exactly as an unknown shop or a bad signature are
(no oracle), and nothing is stored."""
from __future__ import annotations

import json

import pytest

from stocklink.channels._common import epoch_seconds, iso_seconds
from tests.integration.conftest import as_admin
from tests.unit.channels.fixtures import CREDENTIALS, EVENTS, signed_fixtures

# The fixture's shop as its credentials hold it, and a second shop of the same app (same secret).
IDENTITY = {"shopify": ("shop_domain", "stocklink-demo.myshopify.com", "other-store.myshopify.com"),
            "tiktok": ("shop_id", "7494049642642441621", "7494049642642441999"),
            "shopee": ("shop_id", "14701711", "14701799"),
            "lazada": ("seller_id", "1000114855", "1000114899"),
            "woocommerce": ("store_url", "https://shop.example.com", "https://other-shop.example.com")}
PLATFORMS = list(IDENTITY)


def fixture(platform: str) -> tuple[bytes, dict, float]:
    name = signed_fixtures(platform)[0]
    body = (EVENTS / platform / f"{name}.json").read_bytes()
    headers = json.loads((EVENTS / platform / f"{name}.headers.json").read_text())["headers"]
    if platform == "shopify":
        sent = iso_seconds(headers["x-shopify-triggered-at"])
    elif platform == "woocommerce":
        sent = 1_772_445_330.0
    else:
        sent = epoch_seconds(json.loads(body)["timestamp"])
    return body, headers, sent


@pytest.fixture
def two_shops(staff):
    admin = as_admin(staff)                              # shop credentials need the admin role

    def register(platform: str) -> None:
        field, a, b = IDENTITY[platform]
        for shop, identity in (("shop-a", a), ("shop-b", b)):
            assert admin.put(f"/shops/{platform}/{shop}", {**CREDENTIALS[platform], field: identity}).status == 200
    return register


def stored_nothing() -> bool:
    from stocklink.store.models import InboundEvent, LedgerEntry, Reservation
    return not any(True for model in (InboundEvent, LedgerEntry, Reservation) for _ in model.scan(limit=1))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_delivery_signed_for_shop_a_is_refused_at_shop_b_like_any_other_401(platform, two_shops, webhooks,
                                                                               monkeypatch):
    two_shops(platform)
    body, headers, sent = fixture(platform)
    monkeypatch.setattr("functions.webhook_ingest.handler.now_ms", lambda: int((sent + 60) * 1000))
    other_shop = webhooks.post(f"/webhooks/{platform}/shop-b", raw=body, headers=headers)
    unknown_shop = webhooks.post(f"/webhooks/{platform}/shop-c", raw=body, headers=headers)
    bad_signature = webhooks.post(f"/webhooks/{platform}/shop-a", raw=body + b" ", headers=headers)
    assert other_shop.status == unknown_shop.status == bad_signature.status == 401
    assert other_shop.body == unknown_shop.body == bad_signature.body == {
        "error": "unauthorized", "message": "webhook not accepted"}
    assert stored_nothing()


@pytest.mark.parametrize("platform", ["shopify", "tiktok", "shopee", "lazada"])
@pytest.mark.parametrize("offset_s", [5 * 24 * 3600, -3600])
def test_a_stale_or_future_delivery_for_its_own_shop_is_refused(platform, offset_s, two_shops, webhooks,
                                                                 monkeypatch):
    two_shops(platform)
    body, headers, sent = fixture(platform)
    monkeypatch.setattr("functions.webhook_ingest.handler.now_ms", lambda: int((sent + offset_s) * 1000))
    answer = webhooks.post(f"/webhooks/{platform}/shop-a", raw=body, headers=headers)
    assert (answer.status, answer.body["message"]) == (401, "webhook not accepted")
    assert stored_nothing()


@pytest.mark.parametrize("platform", ["shopify", "woocommerce"])
def test_the_same_delivery_at_its_own_shop_is_taken(platform, two_shops, webhooks, monkeypatch):
    # Control: these two carry their lines, so nothing is fetched from the platform.
    two_shops(platform)
    body, headers, sent = fixture(platform)
    monkeypatch.setattr("functions.webhook_ingest.handler.now_ms", lambda: int((sent + 60) * 1000))
    assert webhooks.post(f"/webhooks/{platform}/shop-a", raw=body, headers=headers).status == 200

"""Every platform: recorded fixtures verify; tampered body, wrong secret, missing header are rejected."""
import pytest

from stocklink.channels.base import WebhookRejected
from stocklink.channels.registry import WEBHOOK_PLATFORMS as PLATFORMS, adapter_for  # pulled platforms: their own tests

from .fixtures import CREDENTIALS, request, signed_fixtures, tamper

SIGNATURE_HEADER = {"shopify": "x-shopify-hmac-sha256", "tiktok": "authorization", "shopee": "authorization",
                    "lazada": "authorization", "woocommerce": "x-wc-webhook-signature"}
SECRET_KEY = {"shopify": "webhook_secret", "tiktok": "app_secret", "shopee": "partner_key",
              "lazada": "app_secret", "woocommerce": "webhook_secret"}
CASES = [(p, name) for p in PLATFORMS for name in signed_fixtures(p)]


def test_every_platform_has_signed_fixtures():
    assert {p for p, _ in CASES} == set(PLATFORMS)


@pytest.mark.parametrize("platform,name", CASES)
def test_recorded_signature_is_accepted(platform, name):
    adapter_for(platform).verify_webhook(request(platform, name), CREDENTIALS[platform])


@pytest.mark.parametrize("platform,name", CASES)
def test_tampered_body_is_rejected(platform, name):
    req = request(platform, name)
    bad = request(platform, name, body_override=tamper(req.body))
    with pytest.raises(WebhookRejected):
        adapter_for(platform).verify_webhook(bad, CREDENTIALS[platform])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_wrong_secret_is_rejected(platform):
    name = signed_fixtures(platform)[0]
    creds = {**CREDENTIALS[platform], SECRET_KEY[platform]: "not-the-secret"}
    with pytest.raises(WebhookRejected):
        adapter_for(platform).verify_webhook(request(platform, name), creds)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_missing_signature_header_is_rejected(platform):
    name = signed_fixtures(platform)[0]
    with pytest.raises(WebhookRejected):
        adapter_for(platform).verify_webhook(request(platform, name, drop=SIGNATURE_HEADER[platform]),
                                             CREDENTIALS[platform])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_missing_shop_secret_is_rejected(platform):
    name = signed_fixtures(platform)[0]
    creds = {k: v for k, v in CREDENTIALS[platform].items() if k != SECRET_KEY[platform]}
    with pytest.raises(WebhookRejected):
        adapter_for(platform).verify_webhook(request(platform, name), creds)


@pytest.mark.parametrize("platform", ["tiktok", "lazada"])
def test_app_key_is_part_of_the_signed_message(platform):
    # TikTok and Lazada sign app_key + body: the same secret with another app key must not verify.
    name = signed_fixtures(platform)[0]
    with pytest.raises(WebhookRejected):
        adapter_for(platform).verify_webhook(request(platform, name), {**CREDENTIALS[platform], "app_key": "other"})


def test_shopee_signature_covers_the_callback_url():
    name = signed_fixtures("shopee")[0]
    creds = {**CREDENTIALS["shopee"], "callback_url": "https://stocklink.example.com/webhooks/shopee/other-shop"}
    with pytest.raises(WebhookRejected):
        adapter_for("shopee").verify_webhook(request("shopee", name), creds)

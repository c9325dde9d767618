"""verify_shop_and_freshness: a signed delivery is taken only for the shop it names and, where the platform
stamps it, within the platform's retry horizon (each adapter's docstring names its sources)."""
import json

import pytest

from stocklink.channels._common import CLOCK_SKEW_S, epoch_seconds, iso_seconds
from stocklink.channels.base import WebhookRejected, WebhookRequest
from stocklink.channels.registry import WEBHOOK_PLATFORMS as PLATFORMS, adapter_for  # pulled platforms: their own tests

from .fixtures import CREDENTIALS, request, signed_fixtures

# Each fixture's own shop, as its credentials hold it, and another shop served by the same app secret.
IDENTITY = {"shopify": ("shop_domain", "stocklink-demo.myshopify.com", "other-store.myshopify.com"),
            "tiktok": ("shop_id", "7494049642642441621", "7494049642642441999"),
            "shopee": ("shop_id", "14701711", "14701799"),
            "lazada": ("seller_id", "1000114855", "1000114899"),
            "woocommerce": ("store_url", "https://shop.example.com", "https://other-shop.example.com")}
HORIZON_S = {"shopify": 4 * 3600, "tiktok": 16 * 3600, "shopee": 3 * 24 * 3600, "lazada": 6 * 3600}
CASES = [(p, name) for p in PLATFORMS for name in signed_fixtures(p)]
STAMPED = [(p, name) for p, name in CASES if p in HORIZON_S]


def credentials(platform: str, which: int = 1) -> dict:
    field, *values = IDENTITY[platform]
    return {**CREDENTIALS[platform], field: values[which - 1]}


def sent_at(platform: str, name: str) -> float:
    req = request(platform, name)
    if platform == "shopify":
        return iso_seconds(req.header("x-shopify-triggered-at"))
    if platform == "woocommerce":
        return 1_772_445_330.0      # WooCommerce stamps no delivery: any time will do
    return epoch_seconds(json.loads(req.body)["timestamp"])


def check(platform, req, creds, now_s, shop="shop-a"):
    adapter = adapter_for(platform)
    adapter.verify_webhook(req, creds)          # the signature stands throughout: only whose/when changes
    adapter.verify_shop_and_freshness(req, creds, shop, now_s)


@pytest.mark.parametrize("platform,name", CASES)
def test_a_fresh_delivery_for_this_shop_is_taken(platform, name):
    check(platform, request(platform, name), credentials(platform), sent_at(platform, name) + 60)


@pytest.mark.parametrize("platform,name", CASES)
def test_a_delivery_for_another_shop_of_the_same_app_is_rejected(platform, name):
    with pytest.raises(WebhookRejected, match="another shop"):
        check(platform, request(platform, name), credentials(platform, 2), sent_at(platform, name) + 60)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_shop_configured_without_its_identity_is_refused(platform):
    name = signed_fixtures(platform)[0]
    field = IDENTITY[platform][0]
    creds = {k: v for k, v in credentials(platform).items() if k != field}
    with pytest.raises(WebhookRejected, match="lack"):
        check(platform, request(platform, name), creds, sent_at(platform, name), shop="shop-a")


@pytest.mark.parametrize("platform,name", STAMPED)
def test_a_delivery_older_than_the_retry_horizon_is_rejected(platform, name):
    at = sent_at(platform, name)
    check(platform, request(platform, name), credentials(platform), at + HORIZON_S[platform])   # last retry
    with pytest.raises(WebhookRejected, match="retry horizon"):
        check(platform, request(platform, name), credentials(platform), at + HORIZON_S[platform] + CLOCK_SKEW_S + 1)


@pytest.mark.parametrize("platform,name", STAMPED)
def test_a_delivery_from_the_future_is_rejected(platform, name):
    at = sent_at(platform, name)
    check(platform, request(platform, name), credentials(platform), at - CLOCK_SKEW_S + 1)     # clocks differ
    with pytest.raises(WebhookRejected, match="future"):
        check(platform, request(platform, name), credentials(platform), at - CLOCK_SKEW_S - 1)


def test_shopify_needs_the_trigger_time():
    name = signed_fixtures("shopify")[0]
    req = request("shopify", name, drop="x-shopify-triggered-at")
    with pytest.raises(WebhookRejected, match="timestamp"):
        check("shopify", req, credentials("shopify"), sent_at("shopify", name))


@pytest.mark.parametrize("creds,shop", [
    ({"api_base_url": "https://stocklink-demo.myshopify.com"}, "any-name"),   # the API host names the store
    ({}, "stocklink-demo.myshopify.com"),                                     # so does the shop's own name
])
def test_shopify_finds_the_domain_where_the_shop_names_it(creds, shop):
    name = signed_fixtures("shopify")[0]
    check("shopify", request("shopify", name), {**CREDENTIALS["shopify"], **creds}, sent_at("shopify", name), shop)


@pytest.mark.parametrize("configured", ["https://shop.example.com/", "HTTPS://Shop.Example.com",
                                        "https://shop.example.com"])
def test_woocommerce_compares_store_urls_as_urls(configured):
    name = signed_fixtures("woocommerce")[0]
    check("woocommerce", request("woocommerce", name), {**CREDENTIALS["woocommerce"], "api_base_url": configured},
          0.0)


def test_woocommerce_store_url_overrides_the_api_base_url():
    name = signed_fixtures("woocommerce")[0]
    creds = {**CREDENTIALS["woocommerce"], "api_base_url": "https://api.example.net",
             "store_url": "https://shop.example.com/"}
    check("woocommerce", request("woocommerce", name), creds, 0.0)


@pytest.mark.parametrize("platform", ["tiktok", "shopee", "lazada"])
def test_a_body_that_names_no_shop_is_rejected(platform):
    adapter = adapter_for(platform)
    body = json.dumps({"timestamp": 1_772_445_330}).encode()
    with pytest.raises(WebhookRejected, match="another shop"):
        adapter.verify_shop_and_freshness(WebhookRequest({}, body), credentials(platform), "shop-a", 1_772_445_330)

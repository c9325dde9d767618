"""Every platform call and chat webhook carries its destination's allowlist, and each adapter's own default
API host is on it: the outbound policy (stocklink.outbound_policy) can refuse anything else."""
from __future__ import annotations

import pytest

from stocklink.alerts import chat
from stocklink.alerts.messages import Alert
from stocklink.channels.base import StockPush
from stocklink.channels.registry import PLATFORMS, adapter_for
from stocklink.outbound_policy import OutboundRefused, check_url

CREDS = {
    "shopify": {"access_token": "t", "location_id": "1", "shop_domain": "demo.myshopify.com"},
    "tiktok": {"app_key": "k", "app_secret": "s", "access_token": "t", "shop_cipher": "c"},
    "shopee": {"partner_id": "1", "partner_key": "k", "shop_id": "2", "access_token": "t"},
    "lazada": {"app_key": "k", "app_secret": "s", "access_token": "t"},
    "woocommerce": {"consumer_key": "ck", "consumer_secret": "cs", "api_base_url": "https://shop.example.com"},
    "pinduoduo": {"client_id": "c", "client_secret": "s", "access_token": "t"},
    "taobao": {"app_key": "k", "app_secret": "s", "session": "t"},
    "douyin": {"app_key": "k", "app_secret": "s", "access_token": "t"},
    "jd": {"app_key": "k", "app_secret": "s", "access_token": "t"},
    "amazon": {"client_id": "c", "client_secret": "s", "refresh_token": "r", "seller_id": "S", "marketplace_id": "M"},
}
IDS = {"shopify": {"inventory_item_id": "5"}, "tiktok": {"product_id": "9"}, "shopee": {"item_id": "7"},
       "lazada": {"item_id": "3"}, "woocommerce": {},
       "pinduoduo": {"goods_id": "8"}, "taobao": {"num_iid": "6"}, "douyin": {"product_id": "6"},
       "jd": {"ware_id": "6"}, "amazon": {}}


@pytest.fixture(autouse=True)
def amazon_token(monkeypatch):
    """Amazon builds its calls with an LWA token it fetches: a fixed one here (tested in its own file)."""
    from stocklink.channels.amazon import AmazonAdapter
    monkeypatch.setattr(AmazonAdapter, "access_token", lambda self, credentials: "Atza|test")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_built_calls_carry_the_adapters_allowlist_and_pass_it(platform):
    adapter = adapter_for(platform)
    calls = adapter.build_stock_updates(CREDS[platform], [StockPush("11", 4, IDS[platform])])
    calls += adapter.build_read_back(CREDS[platform], ["11"], {"11": IDS[platform]})
    assert calls and all(call.hosts is adapter.api_hosts for call in calls)
    for call in calls:
        check_url(call.url, call.hosts, loopback_allowed=False)


@pytest.mark.parametrize("platform, hosts", [
    ("shopify", ["demo.myshopify.com"]),
    ("tiktok", ["open-api.tiktokglobalshop.com", "open-api-sandbox.tiktokglobalshop.com"]),
    ("shopee", ["partner.shopeemobile.com", "partner.test-stable.shopeemobile.com",
                "openplatform.sandbox.test-stable.shopee.sg", "openplatform.shopee.cn"]),
    ("lazada", ["api.lazada.sg", "api.lazada.com.my", "api.lazada.co.th", "api.lazada.com.ph", "api.lazada.co.id",
                "api.lazada.vn", "api.lazada.com"]),
])
def test_each_platforms_documented_hosts_are_allowed_and_others_are_not(platform, hosts):
    adapter = adapter_for(platform)
    assert adapter.api_base({**CREDS[platform], "api_base_url": ""}).startswith("https://")
    check_url(adapter.api_base(CREDS[platform]), adapter.api_hosts, loopback_allowed=False)
    for host in hosts:
        check_url(f"https://{host}/rest", adapter.api_hosts, loopback_allowed=False)
    for host in ("shop.example.com", "api.lazada.evil.example", "myshopify.com"):
        with pytest.raises(OutboundRefused, match="not an allowed"):
            check_url(f"https://{host}/", adapter.api_hosts, loopback_allowed=False)


def test_shopify_builds_its_base_from_shop_domain_and_a_hostile_domain_is_refused():
    adapter = adapter_for("shopify")
    assert adapter.api_base({"shop_domain": "demo.myshopify.com"}) == "https://demo.myshopify.com"
    assert adapter.api_base({}) == ""
    for domain in ("169.254.169.254", "demo.myshopify.com@10.0.0.1", "evil.example#.myshopify.com",
                   "evil.example/.myshopify.com"):
        with pytest.raises(OutboundRefused):
            check_url(adapter.api_base({"shop_domain": domain}), adapter.api_hosts, loopback_allowed=False)


def test_woocommerce_takes_any_public_https_host_of_the_seller_but_no_internal_one():
    adapter = adapter_for("woocommerce")
    assert adapter.api_base({}) == ""
    check_url("https://shop.example.com/wp-json/wc/v3/products", adapter.api_hosts, loopback_allowed=False)
    for url in ("http://shop.example.com/", "https://169.254.169.254/", "https://[::ffff:10.0.0.1]/"):
        with pytest.raises(OutboundRefused):
            check_url(url, adapter.api_hosts, loopback_allowed=False)


@pytest.mark.parametrize("platform, url", [
    (chat.Platform.WECOM, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"),
    (chat.Platform.DINGTALK, "https://oapi.dingtalk.com/robot/send?access_token=t"),
    (chat.Platform.FEISHU, "https://open.feishu.cn/open-apis/bot/v2/hook/x"),
    (chat.Platform.LARK, "https://open.larksuite.com/open-apis/bot/v2/hook/x"),
    (chat.Platform.SLACK, "https://hooks.slack.com/services/T/B/C"),
])
def test_chat_requests_go_to_their_providers_webhook_host_only(platform, url):
    alert = Alert.from_dict({"id": "a1", "key": "k", "kind": "low_stock", "event": "raised", "severity": "red",
                             "title": "Low stock", "sku": "SKU-1", "action": "reorder", "at": 1})
    request = chat.build_request(chat.ChatTarget(platform, url, "secret"), alert, 1_700_000_000_000)
    assert request.hosts is chat.WEBHOOK_HOSTS[platform]
    check_url(request.url, request.hosts, loopback_allowed=False)
    with pytest.raises(OutboundRefused, match="not an allowed"):
        check_url("https://hooks.evil.example/x", request.hosts, loopback_allowed=False)
    others = [p for p in chat.Platform if chat.WEBHOOK_HOSTS[p] != chat.WEBHOOK_HOSTS[platform]]
    assert all(not chat.WEBHOOK_HOSTS[p].allows(request.url.split("/")[2]) for p in others)

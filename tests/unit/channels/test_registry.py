import subprocess
import sys

import pytest

from stocklink.channels.base import ChannelAdapter, StockAdjust
from stocklink.channels.registry import PLATFORMS, POLLING_PLATFORMS, UnknownPlatform, adapter_for

REQUIRED = ("verify_webhook", "parse_webhook", "build_stock_updates", "build_read_back", "parse_read_back",
            "classify_response", "needs_order_detail")


def test_platforms():
    assert set(PLATFORMS) == {"shopify", "tiktok", "shopee", "lazada", "woocommerce", "pinduoduo", "taobao",
                              "douyin", "jd", "amazon"}
    assert set(POLLING_PLATFORMS) == {p for p in PLATFORMS if getattr(adapter_for(p), "polls_orders", False)}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_adapter_is_complete(platform):
    adapter: ChannelAdapter = adapter_for(platform)
    assert adapter.platform == platform
    assert adapter.batch_size > 0 and adapter.rate_per_second > 0 and adapter.burst >= 1
    for name in REQUIRED:
        assert callable(getattr(adapter, name))
    if not adapter.webhook_carries_lines:
        assert callable(adapter.build_order_detail) and callable(adapter.parse_order_detail)


def test_lookup_is_case_insensitive_and_cached():
    assert adapter_for("Shopify") is adapter_for("shopify")


@pytest.mark.parametrize("name", ["ebay", "", "shopify2"])
def test_unknown_platform_is_a_clear_error(name):
    with pytest.raises(UnknownPlatform, match="known: shopify"):
        adapter_for(name)


def test_adapters_import_no_http_client():
    # Lambda cold start: adapters only build HttpCalls; sending is the caller's job.
    code = ("import sys; sys.path.insert(0, 'shared'); from stocklink.channels.registry import PLATFORMS, adapter_for;"
            "[adapter_for(p) for p in PLATFORMS];"
            "print(','.join(m for m in ('requests', 'httpx', 'urllib3', 'botocore', 'http.client') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_adapter_says_whether_it_has_a_relative_mode(platform):
    adapter = adapter_for(platform)
    flags = (adapter.supports_relative, adapter.relative_below_zero, adapter.relative_idempotent)
    assert all(isinstance(flag, bool) for flag in flags)
    assert callable(adapter.build_stock_adjustments)
    if not adapter.supports_relative:
        assert flags == (False, False, False)
        with pytest.raises(NotImplementedError, match="absolute stock quantities only"):
            adapter.build_stock_adjustments({}, [StockAdjust("1", -1, {})])


def test_relative_modes_are_the_documented_ones():
    # channels/README.md: Shopify inventoryAdjustQuantities, Lazada AdjustSellableQuantity; the others set.
    assert {p for p in PLATFORMS if adapter_for(p).supports_relative} == {"shopify", "lazada", "pinduoduo", "taobao",
                                                                            "douyin"}

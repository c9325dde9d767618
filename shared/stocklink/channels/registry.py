"""Platform name -> adapter. Adapters are imported on first use: a function that serves one platform
pays only for that module at cold start."""
from __future__ import annotations

from importlib import import_module

from stocklink.channels.base import ChannelAdapter

_MODULES = {
    "shopify": ("stocklink.channels.shopify", "ShopifyAdapter"),
    "tiktok": ("stocklink.channels.tiktok", "TikTokAdapter"),
    "shopee": ("stocklink.channels.shopee", "ShopeeAdapter"),
    "lazada": ("stocklink.channels.lazada", "LazadaAdapter"),
    "woocommerce": ("stocklink.channels.woocommerce", "WooCommerceAdapter"),
    "pinduoduo": ("stocklink.channels.pinduoduo", "PinduoduoAdapter"),
    "taobao": ("stocklink.channels.taobao", "TaobaoAdapter"),
    "douyin": ("stocklink.channels.douyin", "DouyinAdapter"),
    "jd": ("stocklink.channels.jd", "JdAdapter"),
    "amazon": ("stocklink.channels.amazon", "AmazonAdapter"),
}
PLATFORMS: tuple[str, ...] = tuple(_MODULES)
# Platforms whose orders StockLink pulls (logic/order_poll): their message services are long-lived connections
# that do not fit Lambda, so they send no webhook. Named here so the poller never imports an adapter to ask.
POLLING_PLATFORMS: tuple[str, ...] = ("pinduoduo", "taobao", "douyin", "jd", "amazon")  # douyin: push too
# (webhook route); amazon: its SQS queue too
WEBHOOK_PLATFORMS: tuple[str, ...] = tuple(p for p in PLATFORMS if p not in POLLING_PLATFORMS)
_instances: dict[str, ChannelAdapter] = {}


class UnknownPlatform(ValueError):
    """The platform has no adapter (typo, or a platform StockLink does not support yet)."""


def adapter_for(platform: str) -> ChannelAdapter:
    name = (platform or "").strip().lower()
    if name not in _MODULES:
        raise UnknownPlatform(f"no channel adapter for platform {platform!r}; known: {', '.join(PLATFORMS)}")
    if name not in _instances:
        module, cls = _MODULES[name]
        _instances[name] = getattr(import_module(module), cls)()
    return _instances[name]

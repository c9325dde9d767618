"""Load events/<platform>/*.json fixtures with their recorded headers as WebhookRequests."""
from __future__ import annotations

import json
from pathlib import Path

from stocklink.channels.base import WebhookRequest

EVENTS = Path(__file__).resolve().parents[3] / "events"

# The test secrets each platform's events/<platform>/README.md documents.
CREDENTIALS = {
    "shopify": {"webhook_secret": "stocklink-test-shopify-secret"},
    "tiktok": {"app_key": "6a1b2c3d4e5f6", "app_secret": "stocklink-test-tiktok-secret"},
    "shopee": {"partner_key": "stocklink-test-shopee-partner-key",
               "callback_url": "https://stocklink.example.com/webhooks/shopee/shopee-shop-1"},
    "lazada": {"app_key": "100001", "app_secret": "stocklink-test-lazada-secret"},
    "woocommerce": {"webhook_secret": "stocklink-test-woo-secret"},
}


def body(platform: str, name: str) -> bytes:
    return (EVENTS / platform / f"{name}.json").read_bytes()


def request(platform: str, name: str, body_override: bytes | None = None, drop: str | None = None) -> WebhookRequest:
    meta = json.loads((EVENTS / platform / f"{name}.headers.json").read_text())
    headers = {k.lower(): v for k, v in meta["headers"].items() if k.lower() != drop}
    raw = body_override if body_override is not None else body(platform, name)
    return WebhookRequest(headers=headers, body=raw, url=meta.get("url", ""))


def signed_fixtures(platform: str) -> list[str]:
    return sorted(p.name[: -len(".headers.json")] for p in (EVENTS / platform).glob("*.headers.json"))


def tamper(raw: bytes) -> bytes:
    # Change one meaningful byte (a digit) so the JSON stays valid and only the signature can tell.
    for i, ch in enumerate(raw):
        if chr(ch).isdigit():
            return raw[:i] + (b"8" if ch != ord("8") else b"7") + raw[i + 1:]
    raise AssertionError("no digit to tamper with")

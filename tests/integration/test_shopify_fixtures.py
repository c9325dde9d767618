"""Shopify's example payloads in events/shopify, sent byte for byte with their recorded headers."""
import json
from pathlib import Path

import pytest
from tests.integration.conftest import as_admin

FIXTURES = Path(__file__).resolve().parents[2] / "events" / "shopify"
SECRET = "stocklink-test-shopify-secret"   # the secret the fixtures are signed with (events/shopify/README.md)
SHOP = "stocklink-demo.myshopify.com"


def _deliver(webhooks, name: str, **header_overrides):
    body = (FIXTURES / f"{name}.json").read_bytes()
    headers = json.loads((FIXTURES / f"{name}.headers.json").read_text())["headers"]
    return webhooks.post(f"/webhooks/shopify/{SHOP}", raw=body, headers={**headers, **header_overrides})


def _seed(staff):
    staff.put("/warehouses/wh-a", {"name": "A", "priority": 1})
    for sku in ("IPOD2008PINK", "IPOD2008RED"):
        staff.put(f"/skus/{sku}", {"name": sku})
    staff.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-1",
                                   "lines": [{"sku": "IPOD2008PINK", "qty": 10}, {"sku": "IPOD2008RED", "qty": 10}]})
    assert as_admin(staff).put(f"/shops/shopify/{SHOP}", {"webhook_secret": SECRET}).status == 200


def _counters(staff, sku):
    t = staff.get(f"/skus/{sku}/stock").body["totals"]
    return t["on_hand"], t["reserved"], t["available"]


@pytest.fixture(autouse=True)
def at_trigger_time(monkeypatch):
    """The recorded deliveries were triggered at 2026-03-02T10:15:30Z: receive them a minute later (older
    ones are past Shopify's 4 h retry horizon and refused as replays)."""
    monkeypatch.setattr("functions.webhook_ingest.handler.now_ms", lambda: 1_772_446_590_000)


def test_published_examples_drive_the_whole_lifecycle(staff, webhooks, staff_reservations):
    _seed(staff)
    assert _deliver(webhooks, "orders_create").status == 200
    assert (_counters(staff, "IPOD2008PINK"), _counters(staff, "IPOD2008RED")) == ((10, 1, 9), (10, 2, 8))
    assert _deliver(webhooks, "orders_paid").status == 200
    assert staff_reservations.get(f"/reservations/shopify:{SHOP}:820982911946154508").body["status"] == "committed"
    assert _deliver(webhooks, "orders_updated").status == 200          # acknowledged, no stock effect
    assert _deliver(webhooks, "orders_fulfilled").status == 200
    assert (_counters(staff, "IPOD2008PINK"), _counters(staff, "IPOD2008RED")) == ((9, 0, 9), (8, 0, 8))
    assert _deliver(webhooks, "refunds_create").status == 200          # PINK restocked, RED refunded only
    assert (_counters(staff, "IPOD2008PINK"), _counters(staff, "IPOD2008RED")) == ((10, 0, 10), (8, 0, 8))
    # Shopify retries a delivery with the same webhook id: nothing more happens.
    assert _deliver(webhooks, "refunds_create").body["outcomes"][0]["duplicate"] is True
    assert _counters(staff, "IPOD2008PINK") == (10, 0, 10)


def test_published_example_with_a_changed_byte_is_refused(staff, webhooks):
    _seed(staff)
    body = (FIXTURES / "orders_create.json").read_bytes().replace(b'"quantity": 2', b'"quantity": 9', 1)
    headers = json.loads((FIXTURES / "orders_create.headers.json").read_text())["headers"]
    assert webhooks.post(f"/webhooks/shopify/{SHOP}", raw=body, headers=headers).status == 401
    assert _counters(staff, "IPOD2008RED") == (10, 0, 10)

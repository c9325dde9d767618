"""Douyin Shop on moto against its simulator, both ingestion paths: an order pushed by Douyin (event-sign)
is completed with its detail and lowers the other channels; a redelivery and the fallback poll's sight of the
same change are applied once; a push with a bad signature stores nothing; an order the push never brought
is pulled by /order/searchList and lowers the other channels."""
from __future__ import annotations

import pytest

from tests.integration.conftest import as_admin
from tests.integration.test_channel_sync import (  # noqa: F401 - fixtures
    SKU,
    control,
    fast_retries,
    linked,
    listed,
    receiver,
    run_bus,
    sandbox_base,
)
from tests.sandbox_support import loopback_simulators  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("loopback_simulators")

DY = {"app_key": "7152331588175513101", "app_secret": "douyin-secret", "access_token": "dy-token",
      "shop_id": "4463798"}
SKU_ID, PRODUCT_ID = "1736000000000000001", "3600123456789012345"


@pytest.fixture
def douyin(linked, aws, sandbox_base, receiver, monkeypatch):
    """linked's three channels plus a Douyin shop s1 listing TEE-RED-M; a short backfill keeps polls small."""
    from stocklink.logic import order_poll
    monkeypatch.setattr(order_poll, "BACKFILL_S", 900)
    api = f"{sandbox_base}/douyin/s1"
    control(sandbox_base, "POST", "shops", {"platform": "douyin", "shop": "s1", "credentials": {**DY, "api_base_url": api},
                                            "webhook_url": f"{receiver.base}/hook/douyin"})
    assert as_admin(linked).put("/shops/douyin/s1", {**DY, "api_base_url": api}).status == 200
    control(sandbox_base, "PUT", "listings", {"platform": "douyin", "shop": "s1", "listings": [
        {"listing_id": SKU_ID, "quantity": 6, "platform_ids": {"product_id": PRODUCT_ID}, "seller_sku": SKU}]})
    assert linked.put(f"/listings/douyin/s1/{SKU_ID}", {"components": [{"sku": SKU, "qty": 1}],
                                                         "platform_ids": {"product_id": PRODUCT_ID}}).status == 200
    run_bus(aws)
    receiver.requests.clear()
    return linked


def stored() -> tuple[int, ...]:
    """Rows of what an applied webhook writes (the stocking fixture already wrote ledger entries)."""
    from stocklink.store.models import InboundEvent, LedgerEntry, Reservation
    return tuple(sum(1 for _ in model.scan()) for model in (InboundEvent, LedgerEntry, Reservation))


def test_a_pushed_order_lowers_the_others_once_and_the_poll_sees_a_duplicate(douyin, aws, sandbox_base, receiver,
                                                                             webhooks, staff_reservations):
    from stocklink.logic.order_poll import run_poll
    from stocklink.time import now_ms

    placed = control(sandbox_base, "POST", "orders", {"platform": "douyin", "shop": "s1", "kind": "paid",
                                                      "lines": [{"listing_id": SKU_ID, "qty": 2, "sku": SKU}]})
    [delivery] = receiver.requests
    headers = {k: v for k, v in delivery["headers"].items() if k.lower() != "host"}

    before = stored()
    forged = webhooks.post("/webhooks/douyin/s1", raw=delivery["body"] + b" ", headers=headers)
    assert forged.status == 401 and stored() == before

    answer = webhooks.post("/webhooks/douyin/s1", raw=delivery["body"], headers=headers)
    assert answer.status == 200, answer.body
    assert answer.body["outcomes"][0]["status"] == "applied" and not answer.body["outcomes"][0].get("duplicate")
    applied = stored()
    again = webhooks.post("/webhooks/douyin/s1", raw=delivery["body"], headers=headers)
    assert again.status == 200 and again.body["outcomes"][0]["duplicate"] is True and stored() == applied
    reservation = staff_reservations.get(f"/reservations/douyin:s1:{placed['order_id']}").body
    assert reservation["status"] == "committed"
    run_bus(aws)
    assert {listed(sandbox_base)[p] for p in ("tiktok", "lazada", "shopify", "douyin")} == {4}

    # The fallback poll reads the same change (its window ends SETTLE_S before its now): one business event.
    report = run_poll(now_ms() + 120_000, budget_ms=20_000)
    [shop] = [r for r in report["shops"] if r["platform"] == "douyin"]
    assert shop["error"] is None and shop["changes"] == 1 and shop["applied"] == 0
    assert sum(1 for e in aws.drain() if e["detail-type"] == "stock.changed") == 0


def test_an_order_the_push_never_brought_is_pulled(douyin, aws, sandbox_base, staff_reservations):
    from stocklink.logic.order_poll import run_poll
    from stocklink.time import now_ms

    placed = control(sandbox_base, "POST", "orders", {"platform": "douyin", "shop": "s1", "kind": "paid",
                                                      "lines": [{"listing_id": SKU_ID, "qty": 1, "sku": SKU}]})
    # the push went to the receiver and was lost on its way to StockLink: only the poll brings it
    report = run_poll(now_ms() + 120_000, budget_ms=20_000)
    [shop] = [r for r in report["shops"] if r["platform"] == "douyin"]
    assert shop["error"] is None and shop["applied"] == 1
    assert staff_reservations.get(f"/reservations/douyin:s1:{placed['order_id']}").body["status"] == "committed"
    run_bus(aws)
    assert {listed(sandbox_base)[p] for p in ("tiktok", "lazada", "shopify", "douyin")} == {5}

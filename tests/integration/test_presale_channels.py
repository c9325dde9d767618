"""Presale (预售) through channel_push and an order webhook, against the simulators (moto + in-process marketplaces):
a presale shop shows available + the presale room of its window, its order presells the shortfall, and with the
last-units guard on the platforms together never offer a unit on its way twice.

TEE-RED-M has 6 units (3 + 3) on TikTok, Lazada and Shopify (the `linked` fixture of test_channel_sync); a PO
ships 5 more to wh-a, due in 2 days."""
from __future__ import annotations

import datetime as dt

import pytest

from stocklink.domain.purchase_requests import PoShipIn, PoStatusIn, PurchaseOrderIn
from tests.integration.test_channel_sync import (  # noqa: F401 - fixtures
    SHOPS, SKU, fast_retries, linked, listed, push, stock_changed)
from tests.purchasing_support import make_supplier
from tests.sandbox_support import control, loopback_simulators, receiver, sandbox_base  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("loopback_simulators")


@pytest.fixture
def incoming(linked):
    from stocklink.logic import purchasing
    from stocklink.time import now_ms

    make_supplier("acme")
    now = now_ms()
    eta = (dt.datetime.fromtimestamp(now / 1000, dt.UTC).date() + dt.timedelta(days=2)).isoformat()
    purchasing.create(PurchaseOrderIn.model_validate({"po_id": "PO-P", "supplier_id": "acme", "warehouse_id": "wh-a",
                                                      "lines": [{"sku": SKU, "qty": 5, "unit_price": 6.5}]}),
                      actor="buyer", now_ms=now)
    purchasing.change_status("PO-P", PoStatusIn(status="ordered"), actor="buyer", now_ms=now)
    purchasing.ship("PO-P", PoShipIn(eta=eta), actor="buyer", now_ms=now)
    return linked


def _presale_on(staff, platform="tiktok", within_days=3):
    answer = staff.put(f"/shops/{platform}/s1/allocation", {"rule": "shared",
                                                            "presale": {"enabled": True, "within_days": within_days}})
    assert answer.status == 200 and answer.body["presale"] == {"enabled": True, "within_days": within_days}


def _order(platform: str, order_id: str, qty: int) -> dict:
    from stocklink.channels.base import OrderEvent, OrderEventKind, OrderLine
    from stocklink.logic import orders
    from stocklink.time import now_ms

    event = OrderEvent(platform, "s1", order_id, OrderEventKind.CREATED, (OrderLine(SHOPS[platform][2], qty),),
                       delivery_id=order_id)
    return orders.apply_order_event(event, now_ms())


def test_the_setting_is_off_by_default_and_validated(incoming):
    assert incoming.get("/shops/tiktok/s1/allocation").body["presale"] == {"enabled": False, "within_days": 7}
    for bad in ({"enabled": True, "within_days": -1}, {"enabled": True, "within_days": 366}, {"enabled": "maybe"},
                {"enabled": True, "bogus": 1}):
        assert incoming.put("/shops/tiktok/s1/allocation", {"presale": bad}).status == 400, bad
    assert incoming.get("/shops/tiktok/s1/allocation").body["presale"]["enabled"] is False   # nothing written


def test_a_presale_shop_shows_and_sells_the_units_due_within_its_window(incoming, aws, sandbox_base):
    _presale_on(incoming)
    push(stock_changed())
    assert listed(sandbox_base) == {"tiktok": 6 + 5, "lazada": 6, "shopify": 6}
    outcome = _order("tiktok", "t-1", 8)                 # 6 on hand + 2 presold
    assert outcome["status"] == "applied"
    assert sum(a.get("presold", 0) for a in outcome["allocations"]) == 2
    stock = incoming.get(f"/skus/{SKU}/stock").body["totals"]
    assert stock["available"] == 0 and stock["presold"] == 2 and stock["in_transit"] == 5
    assert _order("lazada", "l-1", 1)["status"] == "oversold"     # no presale there: units on their way stay out
    _presale_on(incoming, within_days=1)                           # a window the PO does not arrive in
    assert _order("tiktok", "t-2", 1)["status"] == "oversold"


def test_at_risk_no_unit_on_its_way_is_offered_twice(incoming, aws, sandbox_base):
    _presale_on(incoming)
    # at risk at or below 5 units a channel: 6 on hand + 5 coming for three channels is
    assert incoming.put("/allocation/last-units", {"enabled": True, "drain_s": 0,
                                                   "min_units_per_channel": 5}).status == 200
    push(stock_changed())
    push(stock_changed())                   # drained: the units split by demand
    shown = listed(sandbox_base)
    assert sum(shown.values()) <= 6 + 5, shown
    assert shown["lazada"] + shown["shopify"] <= 6, shown      # only the presale shop is given units on their way
    # a presale order of a SKU at risk takes the room first: the units on hand stay for the other channels
    outcome = _order("tiktok", "t-1", 1)
    assert outcome["allocations"] == [{"sku": SKU, "warehouse_id": "wh-a", "qty": 1, "presold": 1}]

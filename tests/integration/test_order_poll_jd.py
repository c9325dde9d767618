"""JD's orders through the poller on moto against the JD simulator: an order placed on JD is pulled through
jingdong.pop.order.enSearch and lowers the other channels; read again by the next run's overlap window it is
applied once; its cancellation releases it; a shop whose stored secret is wrong stores nothing and keeps its
cursor while the others go on."""
from __future__ import annotations

import pytest

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
from tests.integration.pulled_support import by_shop as shops_of, connect_pulled_shops, poll
from tests.sandbox_support import loopback_simulators  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("loopback_simulators")

JD = {"app_key": "jd-key", "app_secret": "jd-secret", "access_token": "jd-token"}
SKU_ID, WARE_ID = "100012345678", "10001234"


@pytest.fixture
def pulled(linked, aws, sandbox_base, receiver, monkeypatch):
    """linked's three webhook channels plus a JD shop s1 listing TEE-RED-M, and a shop s2 whose stored secret
    is wrong (every poll of it is refused). A short backfill keeps the first run small."""
    from stocklink.logic import order_poll
    monkeypatch.setattr(order_poll, "BACKFILL_S", 900)
    connect_pulled_shops(linked, sandbox_base, receiver, "jd", JD, "app_secret", SKU_ID, {"ware_id": WARE_ID})
    run_bus(aws)
    return linked


def by_shop(report: dict) -> dict[str, dict]:
    return shops_of(report, "jd")


def test_an_order_pulled_from_jd_lowers_the_other_channels_once(pulled, aws, sandbox_base, staff_reservations):
    from stocklink.logic.order_poll import OVERLAP_S
    from stocklink.store import order_poll as store
    from stocklink.time import now_ms

    placed = control(sandbox_base, "POST", "orders", {"platform": "jd", "shop": "s1", "kind": "paid",
                                                      "lines": [{"listing_id": SKU_ID, "qty": 2, "sku": SKU}]})
    # The poller reads up to 60 s before its now (poll_settle_s): its clock runs 100 s ahead.
    t0 = now_ms() + 100_000
    first = by_shop(poll(t0))
    assert first["s1"]["outcomes"] == {"applied": 1} and first["s1"]["error"] is None
    assert "19" in first["s2"]["error"] and first["s2"]["applied"] == 0          # refused, the others go on
    assert store.state("jd", "s2").cursor_s is None                             # and it keeps no cursor
    order_ref = f"/reservations/jd:s1:{placed['order_id']}"
    assert staff_reservations.get(order_ref).body["status"] == "committed"

    run_bus(aws)
    shown = listed(sandbox_base)
    assert {shown[p] for p in ("tiktok", "lazada", "shopify", "jd")} == {4}

    second = by_shop(poll(t0 + OVERLAP_S * 1000 // 2))                          # the overlap reads it again
    assert second["s1"]["changes"] == 1 and second["s1"]["applied"] == 0
    assert sum(1 for e in aws.drain() if e["detail-type"] == "stock.changed") == 0
    assert pulled.get(f"/skus/{SKU}/stock").body["totals"]["available"] == 4

    control(sandbox_base, "POST", "orders", {"platform": "jd", "shop": "s1", "order_id": placed["order_id"],
                                             "kind": "cancelled"})
    third = by_shop(poll(t0 + 90_000))     # its window covers the change (stamped at t0 - 100 s)
    assert third["s1"]["outcomes"] == {"applied": 1}
    assert staff_reservations.get(order_ref).body["status"] == "released"
    assert pulled.get(f"/skus/{SKU}/stock").body["totals"]["available"] == 6

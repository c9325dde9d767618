"""Per-line refunds pulled from Pinduoduo (moto + the simulator): the poller reads each window's after-sales
after its orders; a refund of part of a paid order before shipment releases only those units (the other
channels rise by them), once however often its window is read, and the rest still ships; a return after
shipment restocks its units."""
from __future__ import annotations

import pytest

from tests.integration.test_channel_sync import SKU, control, listed, run_bus  # noqa: F401 - fixtures below
from tests.integration.test_channel_sync import (  # noqa: F401 - fixtures
    fast_retries,
    linked,
    receiver,
    sandbox_base,
)
from tests.integration.test_order_poll import SKU_ID, by_shop, poll, pulled  # noqa: F401 - fixture
from tests.sandbox_support import loopback_simulators  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("loopback_simulators")


def order_change(base: str, **change) -> dict:
    return control(base, "POST", "orders", {"platform": "pinduoduo", "shop": "s1", **change})


def test_a_refund_of_part_of_a_pinduoduo_order_releases_only_its_units_once(pulled, aws, sandbox_base,
                                                                              staff_reservations):
    from stocklink.time import now_ms

    placed = order_change(sandbox_base, kind="paid", lines=[{"listing_id": SKU_ID, "qty": 3, "sku": SKU}])
    # The poller reads up to 3 min before its now: its clock runs 200 s ahead. Its runs come 10 s apart, so each
    # window (from OVERLAP_S before the cursor) still covers changes stamped at the sandbox's now.
    t0 = now_ms() + 200_000
    first = by_shop(poll(t0))["s1"]
    assert first["outcomes"] == {"applied": 1}
    assert (first["windows"], first["calls"]) == (1, 2)         # a window costs its orders + its after-sales
    run_bus(aws)
    assert pulled.get(f"/skus/{SKU}/stock").body["totals"]["available"] == 3

    # 1 of the 3 units refunded before shipment (仅退款): the order list shows it refunded, still to ship
    order_change(sandbox_base, order_id=placed["order_id"], kind="cancelled",
                 lines=[{"listing_id": SKU_ID, "qty": 1}])
    second = by_shop(poll(t0 + 10_000))["s1"]
    assert second["error"] is None and second["outcomes"] == {"applied": 1}      # the part release only
    rid = f"/reservations/pinduoduo:s1:{placed['order_id']}"
    reservation = staff_reservations.get(rid).body
    assert reservation["status"] == "committed" and reservation["lines"] == [{"sku": SKU, "qty": 2}]
    assert pulled.get(f"/skus/{SKU}/stock").body["totals"]["available"] == 4
    run_bus(aws)
    assert {listed(sandbox_base)[p] for p in ("tiktok", "lazada", "shopify")} == {4}

    # read again by the next run's window (it starts OVERLAP_S before the cursor): applied once
    third = by_shop(poll(t0 + 20_000))["s1"]
    assert third["changes"] >= 2 and third["applied"] == 0
    assert pulled.get(f"/skus/{SKU}/stock").body["totals"]["available"] == 4

    # the rest ships; then 1 unit comes back (退货退款) and is restocked
    order_change(sandbox_base, order_id=placed["order_id"], kind="shipped")
    assert by_shop(poll(t0 + 30_000))["s1"]["outcomes"] == {"applied": 1}
    assert staff_reservations.get(rid).body["status"] == "shipped"
    stock = pulled.get(f"/skus/{SKU}/stock").body["totals"]
    assert (stock["on_hand"], stock["available"]) == (4, 4)
    order_change(sandbox_base, order_id=placed["order_id"], kind="returned", lines=[{"listing_id": SKU_ID, "qty": 1}])
    assert by_shop(poll(t0 + 40_000))["s1"]["outcomes"] == {"applied": 1}
    stock = pulled.get(f"/skus/{SKU}/stock").body["totals"]
    assert (stock["on_hand"], stock["available"]) == (5, 5)

"""A Pinduoduo app without the after-sales permission (moto + the simulator refusing pdd.refund.list.increment.get):
its orders still sync window after window and the cursor moves on; the seller's alert event is published once
while the refunds stay refused and cleared once when they are read again; a throttled or failing refunds call
still fails the window (its cursor stays)."""
from __future__ import annotations

import pytest

from tests.integration.test_channel_sync import SKU, control  # noqa: F401 - fixtures below
from tests.integration.test_channel_sync import (  # noqa: F401 - fixtures
    fast_retries,
    linked,
    receiver,
    sandbox_base,
)
from tests.integration.test_order_poll import PDD, SKU_ID, by_shop, poll, pulled  # noqa: F401 - fixture
from tests.sandbox_support import loopback_simulators  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("loopback_simulators")

REFUNDS_API = "pdd.refund.list.increment.get"
UNREAD = "order_poll.refunds_unread"


def register_s1(base: str, receiver, refused: list[str]) -> None:
    """Shop s1 in the simulator again, its app holding no permission for `refused` (empty: every one granted)."""
    control(base, "POST", "shops", {"platform": "pinduoduo", "shop": "s1",
                                    "credentials": {**PDD, "api_base_url": f"{base}/pinduoduo/s1"},
                                    "webhook_url": f"{receiver.base}/hook/pinduoduo", "refused_apis": refused})


def order_change(base: str, **change) -> dict:
    return control(base, "POST", "orders", {"platform": "pinduoduo", "shop": "s1", **change})


def unread_events(aws) -> list[dict]:
    return [e["detail"] for e in aws.drain() if e["detail-type"] == UNREAD]


def available(client) -> int:
    return client.get(f"/skus/{SKU}/stock").body["totals"]["available"]


def test_orders_keep_syncing_while_refunds_are_refused_and_the_alert_is_raised_once_then_cleared_once(
        pulled, aws, sandbox_base, receiver, monkeypatch):
    from stocklink.logic import order_poll
    from stocklink.store import order_poll as store
    from stocklink.time import now_ms

    monkeypatch.setattr(order_poll, "BACKFILL_S", 3 * 3600)       # the first run reads several windows
    register_s1(sandbox_base, receiver, [REFUNDS_API])
    early = order_change(sandbox_base, kind="paid", changed_ago_s=2 * 3600,
                         lines=[{"listing_id": SKU_ID, "qty": 2, "sku": SKU}])
    late = order_change(sandbox_base, kind="paid", lines=[{"listing_id": SKU_ID, "qty": 2, "sku": SKU}])
    # The poller reads up to 3 min before its now: its clock runs 200 s ahead; its runs come 10 s apart.
    t0 = now_ms() + 200_000
    first = by_shop(poll(t0))
    s1 = first["s1"]
    assert s1["error"] is None and s1["outcomes"] == {"applied": 2}       # both windows' orders applied
    assert s1["windows"] >= 6 and s1["refunds_skipped"] == s1["windows"] and s1["refunds_unread"] is True
    assert store.state("pinduoduo", "s1").cursor_s == t0 // 1000 - 180   # caught up despite the refusals
    assert available(pulled) == 2
    assert "10014" in first["s2"]["error"]      # a refused orders page is no skippable page: s2 still fails
    raised = unread_events(aws)
    assert [(d["shop"], d["unread"]) for d in raised] == [("s1", True)] and "20031" in raised[0]["error"]
    assert store.state("pinduoduo", "s1").refunds_unread

    # Still refused: a refund before shipment is not released (its units stay committed), no second event.
    order_change(sandbox_base, order_id=late["order_id"], kind="cancelled", lines=[{"listing_id": SKU_ID, "qty": 1}])
    second = by_shop(poll(t0 + 10_000))["s1"]
    assert second["error"] is None and second["refunds_skipped"] == second["windows"] == 1
    assert available(pulled) == 2
    assert unread_events(aws) == []

    # The seller grants the permission: the next window reads its refunds (the overlap still covers the
    # one refused a run ago) and the alert is cleared, once.
    register_s1(sandbox_base, receiver, [])
    order_change(sandbox_base, order_id=early["order_id"], kind="cancelled", lines=[{"listing_id": SKU_ID, "qty": 1}])
    third = by_shop(poll(t0 + 20_000))["s1"]
    assert third["error"] is None and third["refunds_skipped"] == 0 and third["refunds_unread"] is False
    assert third["outcomes"] == {"applied": 2} and available(pulled) == 4   # both part releases
    assert [(d["shop"], d["unread"], "error" in d) for d in unread_events(aws)] == [("s1", False, False)]
    assert store.state("pinduoduo", "s1").refunds_unread is False
    assert by_shop(poll(t0 + 30_000))["s1"]["refunds_unread"] is False
    assert unread_events(aws) == []


@pytest.mark.parametrize("status, said", [(429, "70031"), (503, "503")])
def test_a_throttled_or_failing_refunds_call_still_fails_the_window(pulled, aws, sandbox_base, status, said):
    from stocklink.store import order_poll as store
    from stocklink.time import now_ms

    order_change(sandbox_base, kind="paid", lines=[{"listing_id": SKU_ID, "qty": 2, "sku": SKU}])
    control(sandbox_base, "POST", "faults", {"status": status, "count": 1, "platform": "pinduoduo", "shop": "s1",
                                             "api": REFUNDS_API})
    t0 = now_ms() + 200_000
    first = by_shop(poll(t0))["s1"]
    assert said in first["error"] and first["refunds_skipped"] == 0 and first["refunds_unread"] is None
    assert first["applied"] == 1                 # the orders page was read and applied before the refunds call
    assert store.state("pinduoduo", "s1").cursor_s is None                # the window is read again
    again = by_shop(poll(t0 + 10_000))["s1"]
    assert again["error"] is None and again["applied"] == 0 and again["changes"] == 1   # the same order, once
    assert store.state("pinduoduo", "s1").cursor_s == (t0 + 10_000) // 1000 - 180
    assert available(pulled) == 4
    assert unread_events(aws) == []

"""The pull ingestion path on moto against the Pinduoduo simulator: an order placed on Pinduoduo is pulled
by the poller and lowers the other channels; read again by the next run's overlap window it is applied
once; a shop that fails does not stop the others and keeps its cursor; the cursor never moves back; a
lagging shop raises the alert and clears it once caught up."""
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
from tests.integration.pulled_support import by_shop, connect_pulled_shops, poll
from tests.sandbox_support import loopback_simulators  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("loopback_simulators")

PDD = {"client_id": "pdd-client", "client_secret": "pdd-secret", "access_token": "pdd-token"}
SKU_ID, GOODS_ID = "1180000001", "350000001"


@pytest.fixture
def pulled(linked, aws, sandbox_base, receiver, monkeypatch):
    """linked's three webhook channels plus a Pinduoduo shop s1 listing TEE-RED-M, and a shop s2 whose
    stored secret is wrong (every poll of it is refused). A short backfill keeps the first run small."""
    from stocklink.logic import order_poll
    monkeypatch.setattr(order_poll, "BACKFILL_S", 900)
    connect_pulled_shops(linked, sandbox_base, receiver, "pinduoduo", PDD, "client_secret", SKU_ID,
                         {"goods_id": GOODS_ID})
    run_bus(aws)               # every listing shows the pool: 6
    return linked


def test_an_order_pulled_from_pinduoduo_lowers_the_other_channels_once(pulled, aws, sandbox_base, staff_reservations):
    from stocklink.logic.order_poll import OVERLAP_S
    from stocklink.time import now_ms

    placed = control(sandbox_base, "POST", "orders", {"platform": "pinduoduo", "shop": "s1", "kind": "paid",
                                                      "lines": [{"listing_id": SKU_ID, "qty": 2, "sku": SKU}]})
    # The poller reads up to 3 min before its now (Pinduoduo's advice): its clock runs 200 s ahead.
    t0 = now_ms() + 200_000
    first = by_shop(poll(t0))
    assert first["s1"]["applied"] == 1 and first["s1"]["outcomes"] == {"applied": 1} and first["s1"]["error"] is None
    assert "10014" in first["s2"]["error"] and first["s2"]["applied"] == 0      # refused, the others go on
    reservation = staff_reservations.get(f"/reservations/pinduoduo:s1:{placed['order_id']}").body
    assert reservation["status"] == "committed"

    run_bus(aws)
    shown = listed(sandbox_base)
    assert {shown[p] for p in ("tiktok", "lazada", "shopify", "pinduoduo")} == {4}

    # The next run's window starts OVERLAP_S before the cursor: the same change is read again, applied once.
    second = by_shop(poll(t0 + OVERLAP_S * 1000 // 2))
    assert second["s1"]["changes"] == 1 and second["s1"]["applied"] == 0
    assert sum(1 for e in aws.drain() if e["detail-type"] == "stock.changed") == 0
    assert pulled.get(f"/skus/{SKU}/stock").body["totals"]["available"] == 4

    # Shipped later: the change with its new status and update time is a new event (the ship).
    control(sandbox_base, "POST", "orders", {"platform": "pinduoduo", "shop": "s1", "order_id": placed["order_id"],
                                             "kind": "shipped"})
    third = by_shop(poll(t0 + 90_000))     # its window covers the change (stamped at t0 - 200 s)
    assert third["s1"]["outcomes"] == {"applied": 1}
    assert staff_reservations.get(f"/reservations/pinduoduo:s1:{placed['order_id']}").body["status"] == "shipped"


def test_the_cursor_never_moves_back_and_a_lagging_shop_raises_then_clears_the_alert(pulled, aws):
    from stocklink.logic.order_poll import LAG_ALERT_S
    from stocklink.store import order_poll as store
    from stocklink.time import now_ms

    t0 = now_ms() + 200_000
    poll(t0)
    s1 = store.state("pinduoduo", "s1")
    assert s1.cursor_s == t0 // 1000 - 180                  # caught up to now minus the settle time
    assert store.advance("pinduoduo", "s1", s1.cursor_s - 60, t0) is False      # an older run: refused
    assert store.state("pinduoduo", "s1").cursor_s == s1.cursor_s
    s2 = store.state("pinduoduo", "s2")
    # refused from its first run: no live order of it is late yet (it was just taken), none read either
    assert s2.cursor_s is None and "10014" in s2.last_error and not s2.lagging and s2.live_from_s == t0 // 1000
    assert [e for e in aws.drain() if e["detail-type"] == "order_poll.lagging"] == []

    late = t0 + LAG_ALERT_S * 1000                           # still refused: its live orders are that late now
    poll(late)
    lag = [e["detail"] for e in aws.drain() if e["detail-type"] == "order_poll.lagging"]
    assert [(d["shop"], d["lag_s"]) for d in lag] == [("s2", LAG_ALERT_S)] and "10014" in lag[0]["error"]
    assert store.state("pinduoduo", "s2").lagging

    from stocklink.logic.catalog import shop_credentials  # noqa: F401 - the stored secret is fixed:
    as_admin(pulled).put("/shops/pinduoduo/s2", {**PDD, "api_base_url": shop_credentials("pinduoduo", "s2")["api_base_url"]})
    from stocklink.store import catalog as catalog_store
    catalog_store.forget_cached()
    poll(late + 30_000)
    cleared = [e["detail"] for e in aws.drain() if e["detail-type"] == "order_poll.lagging"]
    assert [(d["shop"], d["lag_s"] < LAG_ALERT_S) for d in cleared] == [("s2", True)]
    assert store.state("pinduoduo", "s2").lagging is False


def test_a_backfill_read_over_several_runs_is_not_lag(pulled, aws, sandbox_base, monkeypatch):
    """A newly connected shop's backfill is read over several runs (here each platform call takes 4 s of a
    run's time share, so a run reads a few of its half-hour windows): no lag alert meanwhile, its lag is how
    long ago the shop was taken, not how far back the backfill reads, and it still catches up."""
    from stocklink.logic import order_poll
    from stocklink.logic.order_poll import LAG_ALERT_S
    from stocklink.logic.sync import seams
    from stocklink.store import order_poll as store
    from stocklink.time import now_ms

    backfill_s = 6 * 3600
    monkeypatch.setattr(order_poll, "BACKFILL_S", backfill_s)
    clock = [1_000.0]
    send = seams.send

    def slow_send(call, *args, **kwargs):                    # a slow platform: 4 s per call
        clock[0] += 4.0
        return send(call, *args, **kwargs)

    monkeypatch.setattr(seams, "clock", lambda: clock[0])
    monkeypatch.setattr(seams, "send", slow_send)
    t0 = now_ms() + 200_000
    lags = []
    for run in range(40):
        now = t0 + run * 30_000
        report = by_shop(poll(now))["s1"]
        assert report["error"] is None
        lags.append(report["lag_s"])
        if store.state("pinduoduo", "s1").cursor_s == now // 1000 - 180:
            break                                            # caught up to the run's settle horizon
    assert len(lags) > 2                                     # the backfill took several runs
    assert lags[:-1] == [run * 30 for run in range(len(lags) - 1)]   # since it was taken, not the backfill
    assert lags[-1] <= 180 and max(lags) < min(LAG_ALERT_S, backfill_s)
    alerts = [e["detail"]["shop"] for e in aws.drain() if e["detail-type"] == "order_poll.lagging"]
    assert "s1" not in alerts                                # (s2, refused throughout, alerts once past the limit)

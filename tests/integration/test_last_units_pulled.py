"""The last-units guard with a platform whose orders are pulled (Pinduoduo), through channel_push's logic, the
order poller and the simulators on moto: the sequence the CN demo found. A SKU at risk is split between
Pinduoduo and TikTok; Pinduoduo sells its share and StockLink cannot know before the poller reads the order
(the window ends 3 min before now); TikTok sells out and wants units; Pinduoduo's decrease is refused (it has
none left), so it is cut to 0. Its units must stay counted to it until that order has been pulled: TikTok is
never offered a unit Pinduoduo already sold, and once the order is in the counts are right.

One clock (`Clock`) drives the guard, the poller and the sales. It starts in the past so the guard's first
drains are over by the time the scenario starts at the wall time, when the simulator stamps Pinduoduo's order:
from then on the poller reads it exactly when the platform's settle time allows.
"""
from __future__ import annotations

import urllib.error

import pytest

from tests.integration.conftest import as_admin
from tests.integration.test_channel_sync import (  # noqa: F401 - fixtures
    fast_retries, linked, receiver, sandbox_base)
from tests.sandbox_support import control, loopback_simulators  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("loopback_simulators")

LAST = "CN-LAST-1"
UNITS = 3
PDD = {"client_id": "pdd-client", "client_secret": "pdd-secret", "access_token": "pdd-token"}
PDD_SKU, PDD_GOODS = "1180000077", "350000077"
TIKTOK_ID, TIKTOK_IDS = "1729592969712207777", {"product_id": "1729592969712207700"}
LISTINGS = {"pinduoduo": PDD_SKU, "tiktok": TIKTOK_ID}
STEP_S = 10                    # the guard runs this often (drain-over re-runs, the sweep, other changes)


class Clock:
    def __init__(self, start_ms: int):
        self.ms = start_ms

    def __call__(self) -> int:
        return self.ms


@pytest.fixture
def shared_with_pdd(linked, aws, sandbox_base, receiver, monkeypatch):
    """LAST (3 units) listed on Pinduoduo s1 (relative updates, orders pulled) and TikTok s1 (absolute, its
    webhooks heard at once), both checkouts refusing what their listing no longer shows."""
    from stocklink.logic import order_poll
    monkeypatch.setattr(order_poll, "BACKFILL_S", 900)
    api = f"{sandbox_base}/pinduoduo/s1"
    control(sandbox_base, "POST", "shops", {"platform": "pinduoduo", "shop": "s1", "enforce_listed": True,
                                            "credentials": {**PDD, "api_base_url": api},
                                            "webhook_url": f"{receiver.base}/hook/pinduoduo"})
    assert as_admin(linked).put("/shops/pinduoduo/s1", {**PDD, "api_base_url": api}).status == 200
    assert linked.put(f"/skus/{LAST}", {"name": "Last units tee"}).status == 200
    assert linked.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": LAST, "qty": UNITS}],
                                           "reference": "PO-LAST"}).status == 201
    for platform, listing_id, ids in (("pinduoduo", PDD_SKU, {"goods_id": PDD_GOODS}),
                                      ("tiktok", TIKTOK_ID, TIKTOK_IDS)):
        control(sandbox_base, "PUT", "listings", {"platform": platform, "shop": "s1", "listings": [
            {"listing_id": listing_id, "quantity": 0, "platform_ids": ids, "seller_sku": LAST}]})
        assert linked.put(f"/listings/{platform}/s1/{listing_id}",
                          {"components": [{"sku": LAST, "qty": 1}], "platform_ids": ids}).status == 200
    assert linked.put("/allocation/last-units", {"enabled": True}).status == 200     # drain_s: the default 8 s
    aws.drain()
    return linked


def _offered(base: str) -> dict[str, int]:
    """What each platform really shows for LAST (the simulators' quantities)."""
    rows = control(base, "GET", "listings")["listings"]
    return {r["platform"]: r["quantity"] for r in rows if LISTINGS.get(r["platform"]) == r["listing_id"]}


def _guard(clock: Clock) -> None:
    from stocklink.logic.sync.batch import handle_events
    handle_events([{"detail-type": "stock.changed", "source": "stocklink", "detail": {"sku": LAST}}], clock)


def _poll(clock: Clock) -> dict:
    from stocklink.logic.order_poll import run_poll
    return run_poll(clock(), budget_ms=20_000)


def _buy(base: str, platform: str) -> str | None:
    """A buyer orders one unit; None when the platform's checkout refuses (its listing shows none)."""
    try:
        placed = control(base, "POST", "orders", {"platform": platform, "shop": "s1", "kind": "paid",
                                                  "enforce_listed": True,
                                                  "lines": [{"listing_id": LISTINGS[platform], "qty": 1, "sku": LAST}]})
    except urllib.error.HTTPError as refused:
        assert refused.code == 409
        return None
    return placed["order_id"]


def _tiktok_webhook(order_id: str, clock: Clock) -> None:
    """TikTok's webhook reaches StockLink at once."""
    from stocklink.channels.base import OrderEvent, OrderEventKind, OrderLine
    from stocklink.logic import orders

    orders.apply_order_event(OrderEvent("tiktok", "s1", order_id, OrderEventKind.PAID,
                                        (OrderLine(TIKTOK_ID, 1),), delivery_id=order_id), clock())


def _available(staff) -> int:
    return staff.get(f"/skus/{LAST}/stock").body["totals"]["available"]


def test_a_cut_pulled_platforms_units_are_not_offered_elsewhere_before_its_orders_are_pulled(
        shared_with_pdd, sandbox_base):
    from stocklink.channels.base import order_report_lag_s
    from stocklink.channels.registry import adapter_for
    from stocklink.time import now_ms

    lag_s = order_report_lag_s(adapter_for("pinduoduo"))
    clock = Clock(now_ms() - int(lag_s + 60) * 1000)
    _guard(clock)            # at risk (3 units, 2 channels): what no guard set yet is cut first, and drained
    clock.ms = now_ms()      # ... every drain over by now, the wall time the simulator stamps orders with
    _guard(clock)
    start = _offered(sandbox_base)
    assert sum(start.values()) == UNITS and start["pinduoduo"] >= 1, start      # split: nothing sold yet

    pdd_sold = 0                                   # Pinduoduo sells its share; StockLink cannot know yet
    while _buy(sandbox_base, "pinduoduo"):
        pdd_sold += 1
    tiktok_sold = 0                                # TikTok sells its share too, each order heard at once
    while (order := _buy(sandbox_base, "tiktok")) is not None:
        tiktok_sold += 1
        _tiktok_webhook(order, clock)
    assert (pdd_sold, tiktok_sold) == (start["pinduoduo"], start["tiktok"])
    left = UNITS - pdd_sold - tiktok_sold                              # the units that really exist: none

    # TikTok sold out and sells, Pinduoduo has not sold (to StockLink's knowledge) and shows units: they go
    # to TikTok. Pinduoduo refuses the decrease (it has none left): it is cut to 0 and drains.
    _guard(clock)
    assert _offered(sandbox_base)["pinduoduo"] == 0
    cut_at, pulled_at = clock.ms, None
    offered_meanwhile = []
    while clock.ms < cut_at + int(lag_s * 1000) + STEP_S * 1000:
        clock.ms += STEP_S * 1000
        if (clock.ms - cut_at) // 1000 % 30 < STEP_S:                  # the poller, every 30 s
            report = _poll(clock)
            assert report["failed"] == 0, report
            if report["applied"] and pulled_at is None:
                pulled_at = clock.ms
        _guard(clock)
        offered = _offered(sandbox_base)
        offered_meanwhile.append(offered["tiktok"])
        # never oversold: what the platforms offer is within the units that really exist
        assert sum(offered.values()) <= left, (clock.ms - cut_at, offered)
    assert pulled_at is not None and pulled_at - cut_at > 8_000        # after the policy's 8 s drain ...
    assert pulled_at - cut_at <= lag_s * 1000                          # ... within the platform's lag
    assert set(offered_meanwhile) == {0}                               # TikTok was never offered it
    assert _available(shared_with_pdd) == left == 0                    # the order is in: the count is right
    assert sum(_offered(sandbox_base).values()) == 0


def test_a_pulled_platforms_pace_is_its_five_minute_rate_not_the_poll_runs_batch(shared_with_pdd, sandbox_base):
    """Pinduoduo's orders of the last minutes arrive together in one poll run: read as a 20-s burst they would
    look like a flash sale (and times its lag, a SKU at risk that is not); the guard takes its 5-minute rate."""
    from stocklink.logic.sync import velocity
    from stocklink.time import now_ms

    clock = Clock(now_ms() - 300_000)
    _guard(clock)                                  # at risk: cut, drained (the clock starts 5 min back)
    clock.ms = now_ms()
    _guard(clock)
    sold = 0
    while _buy(sandbox_base, "pinduoduo"):
        sold += 1
    assert sold >= 1
    clock.ms = now_ms() + 240_000                  # past the settle time: one run takes them all in
    assert _poll(clock)["applied"] == sold
    channels = shared_with_pdd.get(f"/skus/{LAST}/channels").body["allocation"]["channels"]
    pace = {c["listing"].split("#")[0]: c["velocity_per_s"] for c in channels}
    five_minutes = velocity.VELOCITY_WINDOW_MS / 1000
    assert pace["pinduoduo"] == pytest.approx(sold / five_minutes, abs=1e-4)      # not sold / a few seconds
    assert pace["tiktok"] == 0


def test_a_pulled_platforms_drain_runs_the_sku_again_when_it_is_over(shared_with_pdd, monkeypatch):
    """The guard runs a SKU again as each drain it started is over: TikTok's after the policy's drain_s,
    Pinduoduo's after its lag."""
    from stocklink import bus
    from stocklink.channels.base import order_report_lag_s
    from stocklink.channels.registry import adapter_for
    from stocklink.time import now_ms

    later = []
    monkeypatch.setattr(bus, "publish_later", lambda detail_type, detail, delay_s: later.append(
        (detail["sku"], delay_s)) or True)
    _guard(Clock(now_ms()))                        # at risk: both listings are cut first (no guard set them)
    policy = shared_with_pdd.get("/allocation/last-units").body
    assert later == [(LAST, policy["drain_s"] + 1), (LAST, order_report_lag_s(adapter_for("pinduoduo")) + 1)]

"""Taobao's orders through the poller on moto against the Taobao simulator: an order placed on Taobao reaches
StockLink through the TMC queue and lowers the other channels; a message whose confirm was lost is handed out
again and applied once; a shop whose stored secret is wrong stores nothing and the queue keeps its messages;
the increment API (the fallback) finds a change the queue lost."""
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
)
from tests.integration.pulled_support import by_shop, connect_pulled_shops
from tests.integration.pulled_support import poll as run_poll_at
from tests.sandbox_support import loopback_simulators  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("loopback_simulators")

TB = {"app_key": "12497914", "app_secret": "tb-secret", "session": "tb-session", "user_id": "2200000001",
      "sign_method": "hmac-sha256"}
SKU_ID, NUM_IID = "4800000000001", "600000000001"


_SANDBOX = {}


@pytest.fixture(scope="module")
def sandbox_base():
    """As tests/sandbox_support's, keeping the simulator's state at hand: the tests look at the TMC queue."""
    from infra.sandbox.server import serve
    server, sandbox = serve()
    _SANDBOX["state"] = sandbox.state
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def queue(shop: str) -> list[dict]:
    """The TMC messages the simulator still holds for the shop (what was not confirmed)."""
    from infra.sandbox.platforms.registry import SIMULATORS
    return SIMULATORS["taobao"].queue(_SANDBOX["state"].shops[("taobao", shop)])


@pytest.fixture
def taobao(linked, aws, sandbox_base, receiver, monkeypatch):
    """linked's three webhook channels plus a Taobao shop s1 listing TEE-RED-M, and a shop s2 whose stored
    secret is wrong (every call of its poll is refused). A short backfill keeps the first run small."""
    from stocklink.logic import order_poll
    monkeypatch.setattr(order_poll, "BACKFILL_S", 900)
    connect_pulled_shops(linked, sandbox_base, receiver, "taobao", TB, "app_secret", SKU_ID, {"num_iid": NUM_IID},
                         list_on_stale=True)
    run_bus(aws)               # every listing shows the pool: 6
    return linked


def poll(now_ms: int) -> dict:
    return by_shop(run_poll_at(now_ms))


def test_an_order_on_taobao_reaches_stocklink_by_tmc_and_a_lost_confirm_is_applied_once(
        taobao, aws, sandbox_base, staff_reservations, monkeypatch):
    from stocklink.logic.sync import seams
    from stocklink.time import now_ms

    placed = control(sandbox_base, "POST", "orders", {"platform": "taobao", "shop": "s1", "kind": "paid",
                                                      "lines": [{"listing_id": SKU_ID, "qty": 2, "sku": SKU}]})
    placed_s2 = control(sandbox_base, "POST", "orders", {"platform": "taobao", "shop": "s2", "kind": "paid",
                                                         "lines": [{"listing_id": SKU_ID, "qty": 1, "sku": SKU}]})
    real_send, lost = seams.send, []

    def lose_the_first_confirm(call, *args, **kwargs):
        if b"taobao.tmc.messages.confirm" in call.body and not lost:
            lost.append(call)
            return 0, {}, b"connection reset"
        return real_send(call, *args, **kwargs)

    monkeypatch.setattr(seams, "send", lose_the_first_confirm)
    t0 = now_ms()
    first = poll(t0)
    assert first["s1"]["messages"] == 1 and first["s1"]["outcomes"] == {"applied": 1}
    assert "network error" in first["s1"]["error"]                   # the confirm was lost: the run failed
    assert "25" in first["s2"]["error"] and first["s2"]["applied"] == 0   # refused: nothing stored
    assert staff_reservations.get(f"/reservations/taobao:s1:{placed['order_id']}").body["status"] == "committed"
    assert staff_reservations.get(f"/reservations/taobao:s2:{placed_s2['order_id']}").status == 404
    assert len(queue("s1")) == 1 and len(queue("s2")) == 1

    run_bus(aws)
    shown = listed(sandbox_base)
    assert {shown[p] for p in ("tiktok", "lazada", "shopify")} == {4}

    # TMC hands the unconfirmed message out again: applied once (a duplicate), confirmed this time.
    second = poll(t0 + 30_000)
    assert second["s1"]["messages"] == 1 and second["s1"]["applied"] == 0 and second["s1"]["error"] is None
    assert len(queue("s1")) == 0
    assert sum(1 for e in aws.drain() if e["detail-type"] == "stock.changed") == 0
    assert taobao.get(f"/skus/{SKU}/stock").body["totals"]["available"] == 4

    # Shipped: a new message, the trade's new status and time make it a new event.
    control(sandbox_base, "POST", "orders", {"platform": "taobao", "shop": "s1", "order_id": placed["order_id"],
                                             "kind": "shipped"})
    third = poll(t0 + 60_000)
    assert third["s1"]["outcomes"] == {"applied": 1}
    assert staff_reservations.get(f"/reservations/taobao:s1:{placed['order_id']}").body["status"] == "shipped"


def test_the_increment_fallback_finds_a_change_the_queue_lost(taobao, sandbox_base, staff_reservations):
    from stocklink.time import now_ms

    placed = control(sandbox_base, "POST", "orders", {"platform": "taobao", "shop": "s1", "kind": "created",
                                                      "lines": [{"listing_id": SKU_ID, "qty": 1, "sku": SKU}]})
    queue("s1").clear()                    # the message never came
    report = poll(now_ms() + 120_000)       # the window (ending 60 s before its now) covers the change
    assert report["s1"]["messages"] == 0 and report["s1"]["outcomes"] == {"applied": 1}
    assert staff_reservations.get(f"/reservations/taobao:s1:{placed['order_id']}").body["status"] == "held"


def test_only_the_messages_applied_are_confirmed(taobao, sandbox_base, staff_reservations, monkeypatch):
    """Two orders queued; the second one's trade cannot be fetched this run: the first is confirmed, the
    second stays queued and is applied by the next run."""
    from stocklink.logic.sync import seams
    from stocklink.time import now_ms

    placed = [control(sandbox_base, "POST", "orders", {"platform": "taobao", "shop": "s1", "kind": "paid",
                                                       "lines": [{"listing_id": SKU_ID, "qty": 1, "sku": SKU}]})
              for _ in range(2)]
    real_send, fetched, confirms = seams.send, [], []

    def fail_the_second_fetch(call, *args, **kwargs):
        if b"taobao.trade.fullinfo.get" in call.body:
            fetched.append(call)
            if len(fetched) == 2:
                return 503, {}, b'{"error_response": {"code": 15, "sub_code": "isp.top-remote-unknown-error"}}'
        if b"taobao.tmc.messages.confirm" in call.body:
            confirms.append(call)
        return real_send(call, *args, **kwargs)

    monkeypatch.setattr(seams, "send", fail_the_second_fetch)
    first = poll(now_ms() + 120_000)        # its windows (the backfill) cover both orders
    # the queue applied the first; its failed drain made the windows read at once and they applied the second
    assert first["s1"]["messages"] == 2 and first["s1"]["outcomes"] == {"applied": 2}
    assert "503" in first["s1"]["error"]
    assert len(confirms) == 1 and len(queue("s1")) == 1
    assert placed[1]["order_id"] in queue("s1")[0]["content"]
    second = poll(now_ms() + 150_000)
    assert second["s1"]["messages"] == 1 and second["s1"]["applied"] == 0     # applied already: a duplicate
    assert second["s1"]["error"] is None and queue("s1") == []
    for order in placed:
        assert staff_reservations.get(f"/reservations/taobao:s1:{order['order_id']}").body["status"] == "committed"


def increment_calls(monkeypatch) -> list:
    """Counts shop s1's increment API calls (the fallback poll) from here on."""
    from stocklink.logic.sync import seams
    real_send, calls = seams.send, []

    def counting(call, *args, **kwargs):
        if b"taobao.trades.sold.increment.get" in call.body and "/taobao/s1/" in call.url:
            calls.append(call)
        return real_send(call, *args, **kwargs)

    monkeypatch.setattr(seams, "send", counting)
    return calls


def test_the_increment_api_runs_on_the_backfill_the_sweep_and_a_failed_queue_only(taobao, sandbox_base, monkeypatch):
    """TMC is the primary path: a normal run drains the queue and makes no increment call; the backfill of a
    new shop, the safety sweep every FALLBACK_SWEEP_S and a run whose queue drain failed read the windows."""
    from stocklink.channels.taobao import FALLBACK_SWEEP_S
    from stocklink.logic.sync import seams
    from stocklink.time import now_ms

    calls = increment_calls(monkeypatch)
    t0 = now_ms()
    assert poll(t0)["s1"]["windows"] >= 1 and calls                # the backfill of the new shop
    backfill = len(calls)

    control(sandbox_base, "POST", "orders", {"platform": "taobao", "shop": "s1", "kind": "paid",
                                             "lines": [{"listing_id": SKU_ID, "qty": 1, "sku": SKU}]})
    normal = poll(t0 + 30_000)
    assert normal["s1"]["messages"] == 1 and normal["s1"]["outcomes"] == {"applied": 1}
    assert normal["s1"]["windows"] == 0 and len(calls) == backfill    # TMC delivered: no increment call
    assert poll(t0 + 60_000)["s1"]["windows"] == 0 and len(calls) == backfill

    sweep = poll(t0 + (FALLBACK_SWEEP_S + 30) * 1000)                  # 10 min on: the safety sweep
    assert sweep["s1"]["windows"] >= 1 and len(calls) > backfill
    swept = len(calls)

    real_send = seams.send

    def consume_fails(call, *args, **kwargs):
        if b"taobao.tmc.messages.consume" in call.body:
            return 503, {}, b'{"error_response": {"code": 15, "sub_code": "isp.top-remote-connection-error"}}'
        return real_send(call, *args, **kwargs)

    monkeypatch.setattr(seams, "send", consume_fails)
    failed = poll(t0 + (FALLBACK_SWEEP_S + 60) * 1000)                # 30 s after the sweep, but TMC failed
    assert failed["s1"]["windows"] >= 1 and len(calls) > swept and "503" in failed["s1"]["error"]


def test_a_refund_of_one_sub_order_restocks_only_that_line(stocked, staff_reservations):
    """Through the order logic: a shipped two-line trade (2 x TEE-RED-M, 3 x TEE-RED-L); the refund of the
    second sub-order, a third of its money with the goods back, restocks one TEE-RED-L and nothing else."""
    import json
    from pathlib import Path

    from stocklink.channels.taobao import TaobaoAdapter
    from stocklink.logic.orders import apply_order_event
    from stocklink.time import now_ms

    events_dir = Path(__file__).resolve().parents[2] / "events" / "taobao"
    stocked.put("/skus/TEE-RED-L", {"name": "Red tee L", "price": 19.9, "unit_cost": 6.5})
    stocked.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "TEE-RED-L", "qty": 5}],
                                     "reference": "PO-3"})
    assert as_admin(stocked).put("/shops/taobao/s1", TB).status == 200
    for listing, sku in (("4800000000001", SKU), ("4800000000002", "TEE-RED-L")):
        assert stocked.put(f"/listings/taobao/s1/{listing}", {"components": [{"sku": sku, "qty": 1}],
                                                              "platform_ids": {"num_iid": "600000000001"}}).status == 200
    adapter = TaobaoAdapter()
    trade = (events_dir / "trade_fullinfo_two_lines.json").read_bytes()
    for event in adapter.parse_message_order("s1", 200, trade):           # paid, then shipped
        assert apply_order_event(event, now_ms())["status"] == "applied"
    before = {sku: stocked.get(f"/skus/{sku}/stock").body["totals"] for sku in (SKU, "TEE-RED-L")}
    assert (before[SKU]["on_hand"], before["TEE-RED-L"]["on_hand"]) == (4, 2)

    [refund] = adapter.parse_message_order("s1", 200, (events_dir / "refund_get.json").read_bytes())
    outcome = apply_order_event(adapter.parse_order_detail(refund, 200, trade), now_ms())
    assert outcome["returned"] == [{"sku": "TEE-RED-L", "warehouse_id": "wh-a", "qty": 1}]
    after = {sku: stocked.get(f"/skus/{sku}/stock").body["totals"] for sku in (SKU, "TEE-RED-L")}
    assert (after[SKU]["on_hand"], after["TEE-RED-L"]["on_hand"]) == (4, 3)
    again = apply_order_event(adapter.parse_order_detail(refund, 200, trade), now_ms())
    assert again["duplicate"] is True                                     # the message redelivered: once

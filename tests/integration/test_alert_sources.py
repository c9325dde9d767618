"""The alert sources beyond stock levels, through the real alert handler on moto:

- forecast.stockout_risk / forecast.burst / forecast.slow_mover as a real forecast run publishes them
  (read back from the bus), with the "what to do" text (days of cover, order quantity);
- push failures: channel_sync's failure records and dead-letter queue depth, on the scheduled tick;
- per-channel: a listing showing 0 / below the floor while the pool has stock (channel_sync state),
  against the marketplace simulator;
- overstock from a configured maximum, and low stock suggesting a transfer with days of cover;
- the outbox: a failed SNS publish is sent by the tick, once.
"""
from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest

from tests.integration.apigw import LambdaContext
from tests.integration.conftest import as_admin
from tests.integration.test_alerting import AlertFn, BatchFailed, alert_fn, alerts_api, topic  # noqa: F401
from tests.sandbox_support import control, loopback_simulators, sandbox_base  # noqa: F401 (fixtures)

# The simulators answer on 127.0.0.1, as in the local runtime (see tests/sandbox_support.loopback_simulators).
pytestmark = pytest.mark.usefixtures("loopback_simulators")

DAY_MS = 86_400_000
FORECAST_NOW = int(dt.datetime(2025, 6, 2, 12, tzinfo=dt.timezone.utc).timestamp() * 1000)  # as_of 2025-06-01


def handle(event: dict) -> list[dict]:
    from functions.alerts.handler import handler
    return handler(event, LambdaContext())["sent"]


def tick_at(monkeypatch, now_ms: int) -> dict:
    from functions.alerts.handler import handler
    monkeypatch.setattr("functions.alerts.handler.now_ms", lambda: now_ms)
    return handler({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}, LambdaContext())


def real_now_ms() -> int:
    import stocklink.time as clock
    return clock.now_ms()


# ---------------------------------------------------------------- forecast events

def _history(sku: str, daily, days: int = 150):
    from stocklink.forecasting.importer import SalesRow
    last = dt.date(2025, 6, 1)
    return [SalesRow(sku, last - dt.timedelta(days=days - 1 - t), float(daily(t))) for t in range(days) if daily(t)]


@pytest.fixture
def forecasted(staff, aws):
    """A real daily forecast run: FAST (10-12/day, 30 in stock, 14-day lead time) is at risk, SLOW has not
    sold for 100 days, BURST sold 3/day then 40 on the last day, STEADY is fine. Returns the bus events."""
    from functions.forecast_api.handler import handler as forecast_api_handler
    from stocklink.logic import forecasting_service as fs
    from stocklink.logic.sales_history import import_rows
    from tests.integration.apigw import ApiClient
    from tests.integration.conftest import STAFF_TOKEN

    forecast_api = ApiClient(forecast_api_handler, STAFF_TOKEN)
    staff.put("/warehouses/wh-a", {"name": "A", "priority": 1})
    for sku, stock in (("FAST", 30), ("STEADY", 2000), ("SLOW", 80), ("BURST", 900)):
        assert staff.put(f"/skus/{sku}", {"name": sku, "price": 5.0}).status == 200
        staff.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": sku, "qty": stock}],
                                       "reference": f"PO-{sku}"})
    assert forecast_api.put("/skus/FAST/supplier", {"lead_time_days": 14, "lead_time_std_days": 2, "moq": 100,
                                                   "case_pack": 12}).status == 200
    import_rows(_history("FAST", lambda t: 10 + (t % 3)) + _history("STEADY", lambda t: 3)
                + _history("SLOW", lambda t: 1 if t < 50 else 0)
                + _history("BURST", lambda t: 40 if t == 149 else 3), FORECAST_NOW)
    aws.drain()
    assert fs.run("daily-2025-06-01", FORECAST_NOW)["status"] == "done"
    return [e for e in aws.drain() if e["detail-type"].startswith("forecast.")]


def test_forecast_events_become_stockout_burst_and_slow_mover_alerts(forecasted, alert_fn, topic, aws,
                                                                     monkeypatch):
    from stocklink.store.sales_models import get_result

    q = topic.queue("forecast-alerts")
    assert {e["detail-type"] for e in forecasted} == {"forecast.stockout_risk", "forecast.burst",
                                                      "forecast.slow_mover"}
    for event in forecasted:            # the events exactly as the run published them, through the rule
        aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody=json.dumps(event))
    alert_fn.pump()
    assert len(alert_fn.seen) == len(forecasted)   # the alert rule routes all three forecast types
    got = {d["alert"]["kind"]: d for d in topic.drain(q)}
    assert set(got) == {"stockout_forecast", "demand_burst", "slow_mover"}

    fast = get_result("FAST")
    risk = got["stockout_forecast"]["alert"]
    (risk_event,) = [e["detail"] for e in forecasted if e["detail-type"] == "forecast.stockout_risk"]
    days = (dt.date.fromisoformat(risk_event["stockout_date"]) - dt.date(2025, 6, 1)).days
    assert risk["sku"] == "FAST" and risk["severity"] == "red"   # 2-3 days of cover against 14 days' lead
    assert risk["facts"]["days_of_cover"] == days
    assert f"projected to run out in ~{days:.1f} days, lead time 14" in risk["action"]
    assert f"order {fast['suggested_order_qty']} now" in risk["action"] and fast["suggested_order_qty"] >= 100
    assert f"{days} days of cover" in risk["action"] and "30 available" in risk["action"]
    assert got["stockout_forecast"]["attributes"]["abc_class"] == risk_event["abc_class"]

    burst = got["demand_burst"]["alert"]
    assert burst["sku"] == "BURST" and burst["severity"] == "yellow"
    assert burst["facts"]["observed"] == 40 and 2 < burst["facts"]["expected"] < 20
    assert "40 sold in 24 h" in burst["action"]

    slow = got["slow_mover"]["alert"]
    assert slow["sku"] == "SLOW" and slow["severity"] == "yellow"
    assert "no sale for 100 days" in slow["action"] and "80 on hand" in slow["action"]

    # at least once: the same events again send nothing
    assert alert_fn.replay() == [] and topic.drain(q) == []

    # forecasting only publishes positives: a day and a half with no confirming run clears them
    later = real_now_ms() + 37 * 3600 * 1000
    tick_at(monkeypatch, later)
    cleared = {d["alert"]["kind"]: d["alert"] for d in topic.drain(q)}
    assert {k: a["event"] for k, a in cleared.items()} == {"stockout_forecast": "recovered",
                                                           "demand_burst": "recovered", "slow_mover": "recovered"}
    assert cleared["stockout_forecast"]["severity"] == "red"   # heard by whoever heard the red alert


# ---------------------------------------------------------------- overstock, transfer, days of cover

@pytest.fixture
def two_warehouses(staff, alert_fn):
    staff.put("/warehouses/wh-a", {"name": "Shenzhen A", "priority": 1})
    staff.put("/warehouses/wh-b", {"name": "Dongguan B", "priority": 2})
    staff.put("/skus/MUG-1", {"name": "Mug"})
    return staff


def _seed_forecast(sku: str, daily: float, order_qty: int = 0):
    """A stored forecast result as forecasting_service writes it (only the fields alerts read)."""
    from stocklink.store.sales_models import put_results
    put_results([{"sku": sku, "forecast": [daily] * 90, "suggested_order_qty": order_qty}], [], real_now_ms())


def test_overstock_from_a_configured_maximum_through_the_handler(two_warehouses, alerts_api, alert_fn, topic):
    q = topic.queue("overstock")
    assert alerts_api.put("/alert-rules/sku/MUG-1", {"max_units": 500, "safety_stock": 100}).status == 200
    _seed_forecast("MUG-1", 5.0)
    two_warehouses.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "MUG-1", "qty": 400}],
                                            "reference": "PO-1"})
    assert alert_fn.pump() == []
    two_warehouses.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "MUG-1", "qty": 500}],
                                            "reference": "PO-2"})
    alert_fn.pump()
    (over,) = topic.drain(q)
    assert (over["alert"]["kind"], over["alert"]["severity"], over["alert"]["event"]) == ("overstock", "yellow",
                                                                                         "raised")
    assert over["attributes"]["warehouse"] == "wh-a"
    assert over["alert"]["action"] == ("SKU MUG-1: 900 in wh-a, above the maximum of 500 (~180.0 days of sales); "
                                       "pause purchase orders for it")
    # a unit or two back under the line does not flap; well under it clears with one notice
    two_warehouses.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": "MUG-1", "delta": -401,
                                               "reason": "sold to a wholesaler"})
    alert_fn.pump()
    assert topic.drain(q) == []         # 499: inside the 2-unit band, still held
    two_warehouses.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": "MUG-1", "delta": -9,
                                               "reason": "sold"})
    alert_fn.pump()
    assert [(d["alert"]["kind"], d["alert"]["event"]) for d in topic.drain(q)] == [("overstock", "recovered")]


def test_low_stock_text_has_days_of_cover_and_a_transfer_from_another_warehouse(two_warehouses, alerts_api,
                                                                               alert_fn, topic):
    q = topic.queue("low")
    assert alerts_api.put("/alert-rules/sku/MUG-1", {"safety_stock": 100}).status == 200
    _seed_forecast("MUG-1", 8.0, order_qty=240)
    two_warehouses.post("/stock/receipts", {"warehouse_id": "wh-b", "lines": [{"sku": "MUG-1", "qty": 400}],
                                            "reference": "PO-B"})
    two_warehouses.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "MUG-1", "qty": 20}],
                                            "reference": "PO-A"})
    alert_fn.pump()
    (low,) = [d["alert"] for d in topic.drain(q)]
    assert (low["kind"], low["severity"], low["warehouse"]) == ("low_stock", "orange", "wh-a")
    # 20 of 100 is below 30 %; wh-b keeps its own safety stock (100) and gives the 80 wh-a lacks
    assert low["action"] == "SKU MUG-1: 20 left in wh-a, ~2.5 days of sales, suggested transfer of 80 from wh-b"
    # GET /alerts carries the transfer as numbers too, so the console words it in its own language
    (listed,) = [a for a in alerts_api.get("/alerts").body["alerts"] if a["kind"] == "low_stock"]
    assert listed["suggested_transfer"] == {"from_warehouse": "wh-b", "qty": 80}
    assert (listed["facts"]["available"], listed["facts"]["warehouse"]) == (20, "wh-a")

    # no other warehouse to take from: the forecast's order quantity instead
    two_warehouses.post("/stock/adjustments", {"warehouse_id": "wh-b", "sku": "MUG-1", "delta": -395,
                                               "reason": "count"})
    alert_fn.pump()
    texts = {d["alert"]["warehouse"]: d["alert"]["action"] for d in topic.drain(q)}
    assert texts["wh-b"] == "SKU MUG-1: 5 left in wh-b, ~0.6 days of sales, suggested purchase order of 240"


# ---------------------------------------------------------------- push failures, DLQs, per channel

SHOPS = {
    "tiktok": ({"app_key": "6a1b2c3d4e5f6", "app_secret": "tiktok-secret", "access_token": "TTP_sandbox",
                "shop_cipher": "ROW_sandbox", "shop_id": "7494049642642441621"}, "",
               "1729592969712207012", {"product_id": "1729592969712207000"}),
    "lazada": ({"app_key": "100001", "app_secret": "lazada-secret", "access_token": "lazada-token",
                "seller_id": "1000114855"}, "/rest",
               "1234567890", {"item_id": "557711987"}),
}


class Pipeline:
    """stock.changed -> channel_push, then the alert function (the order AWS usually runs them in)."""

    def __init__(self, bus, alert_fn: AlertFn):
        from functions.channel_push.handler import handler as push
        self.bus, self.alert_fn, self.push = bus, alert_fn, push

    def run(self) -> list[dict]:
        sent = []
        for event in self.bus.drain():
            if event["detail-type"] == "stock.changed":
                try:
                    self.push(event, LambdaContext())
                except Exception:  # noqa: BLE001 - a failed push raises for the Lambda retry / DLQ
                    pass
            if event["detail-type"] in self.alert_fn.types:
                self.alert_fn.seen.append(event)
                sent += self.alert_fn.handler(event, LambdaContext())["sent"]
        return sent


@pytest.fixture
def listed_on_two_shops(staff, aws, alert_fn, sandbox_base, monkeypatch):
    from stocklink.logic.sync import platform_calls, rate_limit
    monkeypatch.setattr(platform_calls, "BACKOFF_BASE_S", 0.001)
    monkeypatch.setattr(platform_calls, "BACKOFF_CAP_S", 0.002)
    rate_limit._limiters.clear()
    control(sandbox_base, "POST", "reset", {})
    staff.put("/warehouses/wh-a", {"name": "Shenzhen A", "priority": 1})
    staff.put("/skus/TEE-1", {"name": "Tee"})
    for platform, (creds, suffix, listing_id, ids) in SHOPS.items():
        api = f"{sandbox_base}/{platform}/s1{suffix}"
        control(sandbox_base, "POST", "shops", {"platform": platform, "shop": "s1",
                                                "credentials": {**creds, "api_base_url": api}})
        control(sandbox_base, "PUT", "listings", {"platform": platform, "shop": "s1", "listings": [
            {"listing_id": listing_id, "quantity": 0, "platform_ids": ids}]})
        assert as_admin(staff).put(f"/shops/{platform}/s1", {**creds, "api_base_url": api}).status == 200
        assert staff.put(f"/listings/{platform}/s1/{listing_id}",
                         {"components": [{"sku": "TEE-1", "qty": 1}], "platform_ids": ids}).status == 200
    assert staff.put("/shops/tiktok/s1/allocation", {"rule": "fixed", "fixed": 5}).status == 200
    aws.drain()
    return Pipeline(aws, alert_fn)


def test_listing_below_floor_while_pool_has_stock_and_push_failures_on_the_tick(listed_on_two_shops, staff,
                                                                                 sandbox_base, topic, monkeypatch):
    q = topic.queue("channels")
    pipeline = listed_on_two_shops
    staff.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "TEE-1", "qty": 10}],
                                   "reference": "PO-1"})
    pipeline.run()
    # 10 in the pool is itself below the floor (15): the warehouse alert says so, no per-channel alert
    assert [(d["alert"]["key"], d["alert"]["severity"]) for d in topic.drain(q)] == [
        ("low_stock#TEE-1#wh:wh-a", "red")]

    control(sandbox_base, "POST", "faults", {"status": 500, "count": 100, "platform": "lazada"})
    staff.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "TEE-1", "qty": 90}],
                                   "reference": "PO-2"})
    pipeline.run()
    got = {d["alert"]["key"]: d for d in topic.drain(q)}
    lazada = got["low_stock#TEE-1#ch:lazada:s1:1234567890"]
    tiktok = got["low_stock#TEE-1#ch:tiktok:s1:1729592969712207012"]
    assert lazada["attributes"]["channel"] == "lazada" and lazada["alert"]["severity"] == "red"
    assert lazada["alert"]["action"].startswith(
        "SKU TEE-1: listing 1234567890 on lazada/s1 shows 10 while 100 are available to sell; its last stock "
        "push failed")
    assert tiktok["alert"]["action"].startswith(
        "SKU TEE-1: listing 1729592969712207012 on tiktok/s1 shows 5 while 100 are available to sell; the "
        "fixed rule gives it 5")
    assert got["low_stock#TEE-1#wh:wh-a"]["alert"]["event"] == "recovered"   # 100 in the warehouse is fine

    # the scheduled tick counts the failure records: one shop failing
    now = real_now_ms()
    tick_at(monkeypatch, now + 60_000)
    (failing,) = topic.drain(q)
    assert failing["alert"]["key"] == "push_failures#*#ch:lazada:s1"
    assert (failing["alert"]["severity"], failing["attributes"]["channel"]) == ("yellow", "lazada")
    assert failing["alert"]["action"].startswith("1 stock pushes to lazada/s1 failed in the last 15 min "
                                                 "(1 listings; last error:")
    tick_at(monkeypatch, now + 120_000)
    assert topic.drain(q) == []                     # no storm: same level, within its cooldown

    # the platform recovers and the Lambda retry pushes (no new stock.changed); the failures age out
    control(sandbox_base, "POST", "reset", {})
    creds, suffix, lid, ids = SHOPS["lazada"]
    control(sandbox_base, "POST", "shops", {"platform": "lazada", "shop": "s1",
                                            "credentials": {**creds, "api_base_url": f"{sandbox_base}/lazada/s1{suffix}"}})
    control(sandbox_base, "PUT", "listings", {"platform": "lazada", "shop": "s1", "listings": [
        {"listing_id": lid, "quantity": 10, "platform_ids": ids}]})
    pipeline.push({"detail-type": "stock.changed", "source": "stocklink", "detail": {"sku": "TEE-1"}},
                  LambdaContext())
    tick_at(monkeypatch, now + 16 * 60_000)
    cleared = sorted((d["alert"]["key"], d["alert"]["event"]) for d in topic.drain(q))
    assert cleared == [("low_stock#TEE-1#ch:lazada:s1:1234567890", "recovered"),
                       ("push_failures#*#ch:lazada:s1", "recovered")]
    from stocklink.logic.alerting import views
    open_keys = {a["id"] for a in views.list_alerts("open")["alerts"]}
    assert open_keys == {"low_stock#TEE-1#ch:tiktok:s1:1729592969712207012"}   # still on a fixed 5


def test_dead_letter_queue_depth_alerts_on_the_tick_and_clears_when_redriven(aws, alert_fn, topic, monkeypatch):
    from stocklink import notifications
    from stocklink.config import settings

    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="channel-push-async-dlq")["QueueUrl"]
    chat_dlq = sqs.create_queue(QueueName="alerts-chat-dlq")["QueueUrl"]
    monkeypatch.setenv("DEAD_LETTER_QUEUES", json.dumps({"channel-push-async": url,
                                                         "alerts-chat-dlq": "alerts-chat-dlq"}))
    settings.cache_clear()
    notifications.reset_clients()
    q = topic.queue("dlq")
    now = real_now_ms()
    assert tick_at(monkeypatch, now)["sent"] == []          # empty queues: nothing
    for n in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))
    sqs.send_message(QueueUrl=chat_dlq, MessageBody="{}")
    tick_at(monkeypatch, now + 60_000)
    got = {d["alert"]["key"]: d["alert"] for d in topic.drain(q)}
    push = got["push_failures#*#dlq:channel-push-async"]
    assert (push["severity"], push["facts"]["depth"]) == ("orange", 12)
    assert push["action"].startswith("12 stock pushes waiting in channel-push-async")
    chat = got["push_failures#*#dlq:alerts-chat-dlq"]
    assert chat["severity"] == "yellow" and chat["action"].startswith(
        "1 messages waiting in dead-letter queue alerts-chat-dlq")

    sqs.purge_queue(QueueUrl=url)
    tick_at(monkeypatch, now + 120_000)
    assert [(d["alert"]["key"], d["alert"]["event"], d["alert"]["severity"]) for d in topic.drain(q)] == [
        ("push_failures#*#dlq:channel-push-async", "recovered", "orange")]
    settings.cache_clear()


# ---------------------------------------------------------------- outbox

def test_failed_publish_stays_in_the_outbox_and_the_tick_sends_it_once(aws, alert_fn, topic, monkeypatch):
    from stocklink import bus
    from stocklink.events import ORDER_OVERSOLD
    from stocklink.logic.alerting import grading
    from stocklink.store import alert_models

    q = topic.queue("outbox")
    real_publish = grading.publish

    def broken(alert):
        raise RuntimeError("SNS unreachable")

    monkeypatch.setattr(grading, "publish", broken)
    bus.publish(ORDER_OVERSOLD, [{"platform": "shopee", "shop": "s1", "order_id": "o1", "sku": "HOT",
                                  "shortfall": 2}])
    with pytest.raises(BatchFailed):
        alert_fn.pump()                 # its record is reported failed: SQS redelivers it
    state, _ = alert_models.get_state("oversell#HOT#all")
    (pending,) = alert_models.outbox()
    assert state.level.label == "red" and pending["key"] == "oversell#HOT#all"
    assert alert_fn.replay() == []      # the retry decides nothing new: the state already holds red
    monkeypatch.setattr(grading, "publish", real_publish)

    now = real_now_ms()
    assert tick_at(monkeypatch, now)["republished"] == 0            # within the grace: maybe in flight
    assert topic.drain(q) == []
    assert tick_at(monkeypatch, now + grading.PENDING_GRACE_MS + 1000)["republished"] == 1
    (sent,) = topic.drain(q)
    assert (sent["alert"]["kind"], sent["alert"]["event"], sent["alert"]["id"]) == (
        "oversell", "raised", pending["alert"]["id"])
    assert alert_models.outbox() == []
    assert tick_at(monkeypatch, now + grading.PENDING_GRACE_MS + 2000)["republished"] == 0
    assert topic.drain(q) == []

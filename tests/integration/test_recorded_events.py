"""Handlers fed the recorded events in events/: an API Gateway proxy event and the scheduled tick."""
import json
from pathlib import Path

from tests.integration.apigw import LambdaContext

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_recorded_apigw_event_holds_and_scheduled_tick_releases_it_after_expiry(stocked, monkeypatch):
    from functions.reconcile.handler import handler as reconcile
    from functions.storefront_api.handler import handler as storefront

    import stocklink.time
    before = stocklink.time.now_ms()   # the 1 s hold must not expire on a loaded machine before the tick
    answer = storefront(json.loads((EVENTS / "apigw/post_reservation.json").read_text()), LambdaContext())
    assert answer["statusCode"] == 201
    assert json.loads(answer["body"])["allocations"] == [{"sku": "TEE-RED-M", "warehouse_id": "wh-a", "qty": 1}]

    tick = json.loads((EVENTS / "eventbridge/reconcile_tick.json").read_text())
    monkeypatch.setattr("functions.reconcile.handler.now_ms", lambda: before)
    assert reconcile(tick, LambdaContext())["holds_released"] == 0  # hold not yet expired

    real_now = stocklink.time.now_ms()
    monkeypatch.setattr("functions.reconcile.handler.now_ms", lambda: real_now + 5_000)
    report = reconcile(tick, LambdaContext())
    assert (report["holds_released"], report["released"]) == (1, ["web-apigw-1"])
    assert stocked.get("/skus/TEE-RED-M/stock").body["totals"]["reserved"] == 0

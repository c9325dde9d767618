"""Late purchase orders become alerts (moto): the daily forecast run publishes one purchase_order.late per
late PO line, the alert rule routes it to the alert handler, which sends an orange alert (red a week late)
with the PO, supplier and what to do, once; a received PO is no longer reported and its alert clears."""
from __future__ import annotations

import json

from stocklink.domain.purchase_requests import PoReceiptIn, PoShipIn, PoStatusIn, PurchaseOrderIn
from stocklink.logic import forecasting_service as fs
from stocklink.logic import purchasing
from tests.integration.test_alert_sources import FORECAST_NOW, real_now_ms, tick_at
from tests.purchasing_support import make_supplier
from tests.integration.test_alerting import alert_fn, topic  # noqa: F401 - fixtures


def _late_events(aws, run_id):
    aws.drain()
    assert fs.run(run_id, FORECAST_NOW)["status"] == "done"     # as_of 2025-06-01: today is the 2nd
    return [e for e in aws.drain() if e["detail-type"] == "purchase_order.late"]


def test_a_late_po_line_is_an_alert_until_it_is_received(staff, aws, alert_fn, topic, monkeypatch):
    staff.put("/warehouses/wh-a", {"name": "A", "priority": 1})
    for sku in ("LATE", "ONTIME"):
        assert staff.put(f"/skus/{sku}", {"name": sku, "price": 5.0}).status == 200
    make_supplier("acme")
    purchasing.create(PurchaseOrderIn.model_validate({
        "po_id": "PO-7", "supplier_id": "acme", "warehouse_id": "wh-a",
        "lines": [{"sku": "LATE", "qty": 50, "promised_date": "2025-05-22"},
                  {"sku": "ONTIME", "qty": 5, "promised_date": "2025-06-09"}]}), actor="buyer", now_ms=FORECAST_NOW)
    assert _late_events(aws, "daily-draft") == []              # a draft promises nothing yet
    purchasing.change_status("PO-7", PoStatusIn(status="ordered"), actor="buyer", now_ms=FORECAST_NOW)
    late = _late_events(aws, "daily-1")
    assert [(e["detail"]["sku"], e["detail"]["days_late"], e["detail"]["outstanding"]) for e in late] == [
        ("LATE", 11, 50)]

    q = topic.queue("late-po")
    for event in late:
        aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody=json.dumps(event))
    alert_fn.pump()
    (sent,) = topic.drain(q)
    alert = sent["alert"]
    assert (alert["kind"], alert["sku"], alert["severity"]) == ("late_po", "LATE", "red")   # 11 days: red
    assert "Purchase order PO-7 from acme: 50 of SKU LATE" in alert["action"] and "11 days late" in alert["action"]
    assert alert_fn.replay() == [] and topic.drain(q) == []    # the same event again sends nothing

    purchasing.ship("PO-7", PoShipIn(eta="2025-06-03"), actor="buyer", now_ms=FORECAST_NOW)
    purchasing.receive("PO-7", PoReceiptIn.model_validate({"reference": "G1", "lines": [
        {"line": 1, "received": 50}, {"line": 2, "received": 5}]}), actor="staff", now_ms=FORECAST_NOW)
    assert _late_events(aws, "daily-2") == []
    tick_at(monkeypatch, real_now_ms() + 37 * 3600 * 1000)
    (cleared,) = topic.drain(q)
    assert (cleared["alert"]["kind"], cleared["alert"]["event"]) == ("late_po", "recovered")

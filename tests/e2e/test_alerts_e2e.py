"""Alerts through `python -m infra.local.cli local`: stock change -> bus -> alert function -> SNS on moto ->
console line + chat queue -> notify function -> a local chat receiver; GET /alerts and the ack."""
from __future__ import annotations

import json
import uuid

import requests

from tests.integration.test_sns_fanout import Receiver
from tests.waiting import wait_for


def test_stock_change_alerts_on_the_console_in_chat_and_at_get_alerts(local_runtime):
    url, headers = local_runtime.url, local_runtime.headers
    run = uuid.uuid4().hex[:6]
    sku, wh = f"ALERT-{run}", f"WH-{run}"
    receiver = Receiver()
    try:
        r = requests.put(f"{url}/subscriptions/chat-{run}", headers=headers, timeout=30, json={
            "protocol": "slack", "endpoint": f"{receiver.url}/hook", "filter": {"sku": [sku]}})
        assert r.status_code == 200, r.text
        assert requests.put(f"{url}/warehouses/{wh}", json={"name": wh, "priority": 1}, headers=headers,
                            timeout=30).status_code == 200
        assert requests.put(f"{url}/skus/{sku}", json={"name": sku}, headers=headers, timeout=30).status_code == 200
        assert requests.put(f"{url}/alert-rules/sku/{sku}", json={"safety_stock": 100}, headers=headers,
                            timeout=30).status_code == 200
        r = requests.post(f"{url}/stock/receipts", headers=headers, timeout=30, json={
            "warehouse_id": wh, "lines": [{"sku": sku, "qty": 5}], "reference": f"r-{run}"})
        assert r.status_code == 201, r.text

        line = wait_for(lambda: next((l for l in local_runtime.lines if "ALERT " in l and "Low stock" in l and sku in l), None),
                        "the console line")
        assert "ALERT RED" in line and "[alerts]" in line
        post = wait_for(lambda: receiver.to("/hook"), "the chat post")[0]
        assert sku in json.dumps(post["body"]) and post["body"]["text"].startswith("🔴")

        key = f"low_stock#{sku}#wh:{wh}"
        listed = requests.get(f"{url}/alerts", params={"status": "open"}, headers=headers, timeout=30).json()
        assert key in [a["id"] for a in listed["alerts"]]
        r = requests.post(f"{url}/alerts/{key.replace('#', '%23')}/ack", headers=headers, timeout=30)
        assert r.status_code == 200 and r.json()["status"] == "acked", r.text
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()

"""The demo's reading of the simulators' delivery log: late webhooks judged once delivered, delivery delay and
answer time, retries, failures and webhooks that overtook an earlier order's."""
from __future__ import annotations

import json

from infra.local.demo.measure import delivery_summary, out_of_order
from infra.local.demo.sale import Order, resolve_scheduled


def record(delivery_id: int, created: float, attempts: list[tuple[float, int, float]], *, order_id: str = "1",
           state: str = "delivered", outcome: str = "applied", platform: str = "tiktok") -> dict:
    body = json.dumps({"outcomes": [{"status": outcome, "shortfall": [{"shortfall": 1}] if outcome == "oversold"
                                     else []}]})
    return {"delivery_id": delivery_id, "platform": platform, "shop": "demo", "order_id": order_id,
            "created": created, "state": state, "status": attempts[-1][1] if attempts else None, "body": body,
            "attempts": [{"ts": ts, "status": st, "elapsed_ms": ms} for ts, st, ms in attempts],
            "done_at": attempts[-1][0] + attempts[-1][2] / 1000 if state in ("delivered", "failed") else None}


def test_scheduled_orders_are_judged_by_their_delivered_webhooks():
    applied = Order("tiktok", "SKU", status="scheduled", order_id="1", delivery_ids=[1])
    oversold = Order("shopee", "SKU", status="scheduled", order_id="2", delivery_ids=[2])
    failed = Order("lazada", "SKU", status="scheduled", order_id="3", delivery_ids=[3])
    pending = Order("tiktok", "SKU", status="scheduled", order_id="4", delivery_ids=[4])
    inline = Order("tiktok", "SKU", status="applied", order_id="5", t_done=7.0)
    log = [record(1, 10.0, [(11.0, 200, 100)]),
           record(2, 10.0, [(12.0, 200, 500)], outcome="oversold", order_id="2"),
           record(3, 10.0, [(11.0, 503, 5), (12.0, 503, 5)], state="failed", order_id="3"),
           record(4, 10.0, [], state="scheduled", order_id="4")]
    resolve_scheduled([applied, oversold, failed, pending, inline], log)
    assert (applied.status, applied.t_done) == ("applied", 11.1)
    assert (oversold.status, oversold.shortfall, oversold.t_done) == ("oversold", 1, 12.5)
    assert failed.status == "error"
    assert pending.status == "error" and "pending" in pending.detail
    assert (inline.status, inline.t_done) == ("applied", 7.0)


def test_delivery_summary_separates_the_platforms_delay_from_stocklinks_answer():
    log = [record(1, 100.0, [(101.0, 200, 200)]),
           record(2, 100.5, [(101.0, 500, 10), (103.5, 200, 100)]),   # retried: sent 3 s after checkout
           record(3, 101.0, [(101.2, 503, 10), (102.2, 503, 10)], state="failed")]
    s = delivery_summary(log)
    assert s["deliveries"] == 3 and s["delivery_retries"] == 2 and s["delivery_failures"] == 1
    assert s["delivery_pending"] == 0
    assert (s["delivery_delay_p50_ms"], s["delivery_delay_max_ms"]) == (1000.0, 3000.0)
    assert (s["webhook_answer_p50_ms"], s["webhook_answer_p99_ms"]) == (100.0, 200.0)
    assert delivery_summary([])["delivery_delay_p50_ms"] is None


def test_out_of_order_counts_webhooks_sent_before_an_earlier_checkouts():
    log = [record(1, 1.0, [(5.0, 200, 1)]), record(2, 2.0, [(3.0, 200, 1)]), record(3, 3.0, [(4.0, 200, 1)]),
           record(4, 4.0, [(6.0, 200, 1)]),
           record(5, 0.5, [(9.0, 200, 1)], platform="shopee")]          # another shop: its own order
    assert out_of_order(log) == 2
    assert out_of_order([record(1, 1.0, [(2.0, 200, 1)]), record(2, 2.0, [(3.0, 200, 1)])]) == 0

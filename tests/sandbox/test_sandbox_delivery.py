"""Webhook delivery like a marketplace under load, through the simulator's control API: per-shop delays
(fixed, or a seeded uniform range), out-of-order delivery, retries with backoff on 5xx / no answer, the
delivery log, and flush (wait until every scheduled webhook is done)."""
from __future__ import annotations

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from infra.local.demo.client import http as http_json
from infra.sandbox.delivery import parse_delay

from .conftest import control

SHOP = "d1"
LISTING = "808950810"
CLOCKS = 0.005     # due times are kept on the monotonic clock, logged on the wall clock


class Hooks:
    """A webhook receiver that answers from a script of statuses (then 200), optionally stalling first, and
    records when each delivery arrived and which order it was for."""

    def __init__(self):
        self.arrivals: list[dict] = []
        self.script: list[int | float] = []       # an int answers with that status; a float stalls that long
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    outer.arrivals.append({"ts": time.time(), "order_id": str(json.loads(body)["id"])})
                    step = outer.script.pop(0) if outer.script else 200
                if isinstance(step, float):
                    time.sleep(step)
                    step = 200
                self.send_response(step)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def hooks_server():
    h = Hooks()
    yield h
    h.server.shutdown()
    h.server.server_close()


@pytest.fixture
def hooks(hooks_server):
    hooks_server.arrivals.clear()
    hooks_server.script.clear()
    return hooks_server


def register(base: str, hooks: Hooks, **delivery) -> dict:
    """A Shopify shop (its webhook carries the order id as `id`) with one listing showing 100 units."""
    answer = control(base, "POST", "shops", {
        "platform": "shopify", "shop": SHOP, "webhook_url": hooks.url, "delivery": delivery,
        "credentials": {"access_token": "shpat_sandbox", "location_id": "1", "webhook_secret": "whsec"}})
    control(base, "PUT", "listings", {"platform": "shopify", "shop": SHOP, "listings": [
        {"listing_id": LISTING, "quantity": 100, "platform_ids": {"inventory_item_id": "5001"}}]})
    return answer


def order(base: str, **extra) -> dict:
    return control(base, "POST", "orders", {"platform": "shopify", "shop": SHOP, "kind": "paid",
                                            "lines": [{"listing_id": LISTING, "qty": 1}], **extra})


def deliveries(base: str, query: str = "") -> list[dict]:
    return control(base, "GET", "deliveries", query=f"?platform=shopify&shop={SHOP}{query}")["deliveries"]


def flush(base: str, timeout: float = 30) -> dict:
    return control(base, "POST", "flush", {"timeout_s": timeout}, timeout=timeout + 30)


def shown(base: str) -> int:
    [row] = control(base, "GET", "listings", query=f"?platform=shopify&shop={SHOP}")["listings"]
    return row["quantity"]


def seed_where_second_overtakes(low: float, high: float, gap: float) -> int:
    """A seed whose first two draws are `gap` s apart, the first the later one."""
    for seed in range(10_000):
        rng = random.Random(seed)
        first, second = rng.uniform(low, high), rng.uniform(low, high)
        if first - second > gap:
            return seed
    raise AssertionError("no such seed")


def test_parse_delay_accepts_a_number_a_pair_and_text():
    assert parse_delay(None) == parse_delay(0) == parse_delay("0") == (0.0, 0.0)
    assert parse_delay(1.5) == parse_delay("1.5") == (1.5, 1.5)
    assert parse_delay([0, 3]) == parse_delay("0-3") == (0.0, 3.0)
    for bad in ("3-1", -1, [1], "x", True, [0, 99999]):
        with pytest.raises(ValueError):
            parse_delay(bad)


def test_default_delivery_is_inline_and_logged(sandbox_base, hooks):
    answer = register(sandbox_base, hooks)
    assert answer["delivery"]["webhook_delay_s"] == 0.0 and answer["delivery"]["reorder"] is False
    placed = order(sandbox_base)
    [delivered] = placed["deliveries"]
    assert delivered["status"] == 200 and placed["scheduled"] == [] and len(hooks.arrivals) == 1
    [record] = deliveries(sandbox_base)
    assert record["delivery_id"] == delivered["delivery_id"] and record["order_id"] == placed["order_id"]
    assert record["state"] == "delivered" and [a["status"] for a in record["attempts"]] == [200]


def test_a_fixed_delay_delays_the_webhook_but_not_the_checkout(sandbox_base, hooks):
    register(sandbox_base, hooks, webhook_delay_s=0.6)
    placed = order(sandbox_base)
    # The order exists on the platform and its listing is down at once; the webhook is only scheduled.
    assert placed["deliveries"] == [] and [s["due_in_s"] for s in placed["scheduled"]] == [0.6]
    assert shown(sandbox_base) == 99
    [pending] = deliveries(sandbox_base, "&pending=1")
    assert pending["state"] in ("scheduled", "delivering")
    assert flush(sandbox_base) == {"pending": 0, "flushed": True}
    [record] = deliveries(sandbox_base)
    assert record["state"] == "delivered" and record["status"] == 200
    assert record["attempts"][0]["ts"] >= record["created"] + 0.6 - CLOCKS
    assert hooks.arrivals[0]["ts"] >= record["created"] + 0.6 - CLOCKS
    assert hooks.arrivals[0]["order_id"] == placed["order_id"]
    assert deliveries(sandbox_base, "&pending=1") == []


def test_a_seeded_range_stays_within_bounds_and_repeats(sandbox_base, hooks):
    def run() -> list[float]:
        control(sandbox_base, "POST", "reset", {})
        register(sandbox_base, hooks, webhook_delay_s=[0.05, 0.3], seed=11, reorder=True)
        for _ in range(6):
            order(sandbox_base)
        assert flush(sandbox_base)["flushed"]
        records = deliveries(sandbox_base)
        for r in records:
            assert 0.05 <= r["delay_s"] <= 0.3
            assert r["attempts"][0]["ts"] >= r["created"] + r["delay_s"] - CLOCKS
        return [r["delay_s"] for r in records]

    first = run()
    rng = random.Random(11)
    assert first == pytest.approx([rng.uniform(0.05, 0.3) for _ in range(6)], abs=1e-6)
    assert run() == first


def test_reorder_lets_a_later_orders_webhook_arrive_first(sandbox_base, hooks):
    seed = seed_where_second_overtakes(0.0, 1.5, gap=0.8)
    register(sandbox_base, hooks, webhook_delay_s=[0.0, 1.5], reorder=True, seed=seed)
    a, b = order(sandbox_base)["order_id"], order(sandbox_base)["order_id"]
    assert flush(sandbox_base)["flushed"]
    assert [x["order_id"] for x in hooks.arrivals] == [b, a]


def test_in_order_delivery_holds_a_later_webhook_behind_an_earlier_one(sandbox_base, hooks):
    seed = seed_where_second_overtakes(0.0, 1.5, gap=0.8)
    register(sandbox_base, hooks, webhook_delay_s=[0.0, 1.5], seed=seed)      # the same draws, reorder off
    a, b = order(sandbox_base)["order_id"], order(sandbox_base)["order_id"]
    assert flush(sandbox_base)["flushed"]
    first, second = deliveries(sandbox_base)
    assert (first["order_id"], second["order_id"]) == (a, b)
    rng = random.Random(seed)
    draws = [rng.uniform(0.0, 1.5) for _ in range(2)]
    assert first["delay_s"] == pytest.approx(draws[0], abs=1e-6)
    # b drew the shorter delay but waits for a (FIFO): never due before it, so never sent before it
    assert second["due"] >= first["due"] - 1e-6 and second["delay_s"] > draws[1] + 0.5
    assert second["attempts"][0]["ts"] >= first["due"] - CLOCKS
    assert sorted(x["order_id"] for x in hooks.arrivals) == sorted([a, b])


def test_a_5xx_is_retried_with_backoff_and_every_attempt_recorded(sandbox_base, hooks):
    register(sandbox_base, hooks, webhook_delay_s=0.05, retry_backoff_s=0.1)
    hooks.script[:] = [503, 500]
    placed = order(sandbox_base)
    assert flush(sandbox_base)["flushed"]
    [record] = deliveries(sandbox_base, f"&order_id={placed['order_id']}")
    assert record["state"] == "delivered" and record["status"] == 200
    attempts = record["attempts"]
    assert [a["status"] for a in attempts] == [503, 500, 200]
    assert attempts[1]["ts"] - attempts[0]["ts"] >= 0.1 and attempts[2]["ts"] - attempts[1]["ts"] >= 0.2
    assert len(hooks.arrivals) == 3 and {x["order_id"] for x in hooks.arrivals} == {placed["order_id"]}


def test_retries_stop_after_max_attempts_and_a_4xx_is_not_retried(sandbox_base, hooks):
    register(sandbox_base, hooks, webhook_delay_s=0.01, retry_backoff_s=0.05, max_attempts=3)
    hooks.script[:] = [500, 502, 503, 401]
    failing, rejected = order(sandbox_base)["order_id"], None
    assert flush(sandbox_base)["flushed"]
    rejected = order(sandbox_base)["order_id"]
    assert flush(sandbox_base)["flushed"]
    by_order = {r["order_id"]: r for r in deliveries(sandbox_base)}
    assert by_order[failing]["state"] == "failed" and by_order[failing]["status"] == 503
    assert [a["status"] for a in by_order[failing]["attempts"]] == [500, 502, 503]
    assert by_order[rejected]["state"] == "failed" and [a["status"] for a in by_order[rejected]["attempts"]] == [401]


def test_a_receiver_that_does_not_answer_in_time_is_retried(sandbox_base, hooks):
    register(sandbox_base, hooks, webhook_delay_s=0.01, retry_backoff_s=0.05, timeout_s=0.3)
    hooks.script[:] = [1.0]
    order(sandbox_base)
    assert flush(sandbox_base)["flushed"]
    [record] = deliveries(sandbox_base)
    assert [a["status"] for a in record["attempts"]] == [0, 200] and record["state"] == "delivered"


def test_flush_waits_for_every_scheduled_webhook(sandbox_base, hooks):
    register(sandbox_base, hooks, webhook_delay_s=[0.3, 0.8], seed=1)
    placed = [order(sandbox_base)["order_id"] for _ in range(4)]
    assert control(sandbox_base, "POST", "flush", {"timeout_s": 0})["pending"] >= 1
    assert len(deliveries(sandbox_base, "&pending=1")) >= 1
    assert flush(sandbox_base) == {"pending": 0, "flushed": True}
    assert sorted(x["order_id"] for x in hooks.arrivals) == sorted(placed)
    assert all(r["state"] == "delivered" for r in deliveries(sandbox_base))


def test_delivery_settings_change_later_and_bad_ones_are_refused(sandbox_base, hooks):
    register(sandbox_base, hooks)
    changed = control(sandbox_base, "PUT", "delivery", {"platform": "shopify", "shop": SHOP,
                                                        "webhook_delay_s": "0.2-0.4", "reorder": True})
    assert changed["delivery"]["webhook_delay_s"] == [0.2, 0.4] and changed["delivery"]["reorder"] is True
    [row] = control(sandbox_base, "GET", "delivery", query=f"?platform=shopify&shop={SHOP}")["shops"]
    assert row["delivery"] == changed["delivery"]
    assert order(sandbox_base)["scheduled"]                     # no longer inline
    control(sandbox_base, "PUT", "delivery", {"platform": "shopify", "shop": SHOP, "webhook_delay_s": 0,
                                              "reorder": False})
    assert order(sandbox_base)["deliveries"]                    # inline again
    for bad in ({"webhook_delay_s": "3-1"}, {"reorder": "yes"}, {"max_attempts": 0}, {"colour": "red"}):
        status, body = http_json("PUT", f"{sandbox_base}/_sandbox/delivery",
                                 {"platform": "shopify", "shop": SHOP, **bad})
        assert status == 400, (bad, body)
    status, _ = http_json("PUT", f"{sandbox_base}/_sandbox/delivery", {"platform": "shopify", "shop": "nobody"})
    assert status == 404


def test_a_shop_can_enforce_the_listed_quantity_for_every_order(sandbox_base, hooks):
    control(sandbox_base, "POST", "shops", {
        "platform": "shopify", "shop": SHOP, "webhook_url": hooks.url, "enforce_listed": True,
        "credentials": {"access_token": "shpat_sandbox", "location_id": "1", "webhook_secret": "whsec"}})
    control(sandbox_base, "PUT", "listings", {"platform": "shopify", "shop": SHOP, "listings": [
        {"listing_id": LISTING, "quantity": 1, "platform_ids": {"inventory_item_id": "5001"}}]})
    doc = {"platform": "shopify", "shop": SHOP, "kind": "paid", "lines": [{"listing_id": LISTING, "qty": 1}]}
    assert http_json("POST", f"{sandbox_base}/_sandbox/orders", doc)[0] == 200
    status, body = http_json("POST", f"{sandbox_base}/_sandbox/orders", doc)
    assert status == 409 and "sold out" in body["error"]
    # an order can still say otherwise
    assert http_json("POST", f"{sandbox_base}/_sandbox/orders", {**doc, "enforce_listed": False})[0] == 200


def test_reset_drops_scheduled_webhooks(sandbox_base, hooks):
    register(sandbox_base, hooks, webhook_delay_s=0.5)
    order(sandbox_base)
    control(sandbox_base, "POST", "reset", {})
    assert control(sandbox_base, "GET", "deliveries")["deliveries"] == []
    assert flush(sandbox_base, timeout=0)["flushed"]
    time.sleep(0.8)
    assert hooks.arrivals == []

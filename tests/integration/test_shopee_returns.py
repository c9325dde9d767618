"""Shopee returns end to end: the simulator sends a signed v2 return_updates_push (code 29), webhook ingest
asks the simulator's v2.returns.get_return_detail (shop-level signed GET) and restocks the returned units
exactly once, however often the push is redelivered or the return is pushed again."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from tests.integration.conftest import as_admin
from tests.sandbox_support import control, loopback_simulators, receiver, sandbox_base  # noqa: F401 (fixtures)

# The simulators answer on 127.0.0.1, as in the local runtime (see tests/sandbox_support.loopback_simulators).
pytestmark = pytest.mark.usefixtures("loopback_simulators")

SKU = "TEE-RED-M"
LISTING = "5074620257"
IDS = {"item_id": "1220089094", "model_id": LISTING}
PARTNER_KEY = "shopee-partner-key"


@pytest.fixture
def shopee(stocked, sandbox_base, receiver):
    """TEE-RED-M (3 in wh-a, 3 in wh-b) listed on a simulated Shopee shop s1."""
    control(sandbox_base, "POST", "reset", {})
    receiver.requests.clear()
    callback = f"{receiver.base}/hook/shopee"
    creds = {"partner_id": "2001887", "partner_key": PARTNER_KEY, "shop_id": "14701711",
             "access_token": "shopee-token", "callback_url": callback,
             "api_base_url": f"{sandbox_base}/shopee/s1"}
    control(sandbox_base, "POST", "shops", {"platform": "shopee", "shop": "s1", "credentials": creds,
                                            "webhook_url": callback})
    control(sandbox_base, "PUT", "listings", {"platform": "shopee", "shop": "s1", "listings": [
        {"listing_id": LISTING, "quantity": 6, "platform_ids": IDS, "seller_sku": SKU}]})
    assert as_admin(stocked).put("/shops/shopee/s1", creds).status == 200
    assert stocked.put(f"/listings/shopee/s1/{LISTING}",
                       {"components": [{"sku": SKU, "qty": 1}], "platform_ids": IDS}).status == 200
    return stocked


def deliver(webhooks, delivery):
    headers = {k: v for k, v in delivery["headers"].items() if k.lower() != "host"}
    return webhooks.post("/webhooks/shopee/s1", raw=delivery["body"], headers=headers)


def order_step(sandbox_base, receiver, webhooks, **doc):
    seen = len(receiver.requests)
    placed = control(sandbox_base, "POST", "orders", {"platform": "shopee", "shop": "s1", **doc})
    assert [d["status"] for d in placed["deliveries"]] == [200]
    [delivery] = receiver.requests[seen:]
    answer = deliver(webhooks, delivery)
    assert answer.status == 200, answer.body
    return placed, delivery, answer.body


def totals(api) -> dict:
    return api.get(f"/skus/{SKU}/stock").body["totals"]


def detail_calls(sandbox_base) -> int:
    calls = control(sandbox_base, "GET", "calls", query="?platform=shopee&shop=s1")["calls"]
    return sum(1 for c in calls if c["path"] == "/api/v2/returns/get_return_detail" and c["status"] == 200)


def test_a_shopee_return_puts_stock_back_exactly_once(shopee, sandbox_base, receiver, webhooks):
    before = totals(shopee)
    placed, _, _ = order_step(sandbox_base, receiver, webhooks, kind="paid",
                              lines=[{"listing_id": LISTING, "qty": 2, "sku": SKU}])
    order_id = placed["order_id"]
    order_step(sandbox_base, receiver, webhooks, order_id=order_id, kind="shipped")
    shipped = totals(shopee)
    assert shipped["on_hand"] == before["on_hand"] - 2

    _, push, outcome = order_step(sandbox_base, receiver, webhooks, order_id=order_id, kind="returned")
    assert json.loads(push["body"])["code"] == 29
    [result] = outcome["outcomes"]
    assert result["status"] == "applied" and result["duplicate"] is False
    assert sum(r["qty"] for r in result["returned"]) == 2
    returned = totals(shopee)
    assert returned["on_hand"] == shipped["on_hand"] + 2
    assert returned["available"] == shipped["available"] + 2
    assert detail_calls(sandbox_base) == 1

    # Shopee redelivers the same push (no 2xx seen, retry): one effect.
    again = deliver(webhooks, push)
    assert again.status == 200 and again.body["outcomes"][0]["duplicate"] is True
    assert totals(shopee) == returned

    # A later push about the same return (say the refund was paid) is a new body, newly signed: still one effect.
    later = json.loads(push["body"])
    later["data"]["update_time"] += 60
    later["timestamp"] += 60           # pushed a minute later (a push stamped in the future is refused)
    raw = json.dumps(later).encode()
    callback = f"{receiver.base}/hook/shopee"
    signature = hmac.new(PARTNER_KEY.encode(), callback.encode() + b"|" + raw, hashlib.sha256).hexdigest()
    third = deliver(webhooks, {"headers": {"content-type": "application/json", "authorization": signature},
                               "body": raw})
    assert third.status == 200 and third.body["outcomes"][0]["duplicate"] is True
    assert totals(shopee) == returned
    assert detail_calls(sandbox_base) == 3   # each push asks the return detail; only the first restocked


def test_a_badly_signed_return_push_changes_nothing(shopee, sandbox_base, receiver, webhooks):
    placed, _, _ = order_step(sandbox_base, receiver, webhooks, kind="paid",
                              lines=[{"listing_id": LISTING, "qty": 1, "sku": SKU}])
    order_step(sandbox_base, receiver, webhooks, order_id=placed["order_id"], kind="shipped")
    shipped = totals(shopee)
    seen = len(receiver.requests)
    control(sandbox_base, "POST", "orders", {"platform": "shopee", "shop": "s1", "order_id": placed["order_id"],
                                             "kind": "returned"})
    [push] = receiver.requests[seen:]
    forged = {**push, "headers": {**push["headers"], "authorization": "0" * 64}}
    assert deliver(webhooks, forged).status == 401
    assert totals(shopee) == shipped
    assert detail_calls(sandbox_base) == 0

"""Adapters against the marketplace simulators: signed calls accepted, tampered ones rejected the way the
platform would, read-back round trips, injected faults, and signed order webhooks."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from stocklink.channels._common import Outcome
from stocklink.channels.base import HttpCall, OrderEventKind, OrderLine, StockPush, WebhookRequest
from stocklink.channels.registry import WEBHOOK_PLATFORMS as PLATFORMS, adapter_for  # pulled platforms: their own tests

from infra.local.demo.client import http as http_json

from .conftest import control, send

SHOP = "s1"


@dataclass
class Setup:
    credentials: dict
    listings: dict[str, dict]              # listing_id -> platform_ids
    rejected_code: str                     # the platform's error code for the tampered call
    base_suffix: str = ""
    order_lines: list[dict] = field(default_factory=list)


def _with_query(call: HttpCall, **changes) -> HttpCall:
    url = urlsplit(call.url)
    query = dict(parse_qsl(url.query))
    query.update(changes)
    return HttpCall(call.method, urlunsplit(url._replace(query=urlencode(query))), call.headers, call.body)


def _tamper_shopify(call):   # Shopify authenticates with the token, not a body signature
    return HttpCall(call.method, call.url, {**call.headers, "X-Shopify-Access-Token": "shpat_stolen"}, call.body)


def _tamper_body(call):      # TikTok signs the JSON body; Lazada signs the payload form field
    return HttpCall(call.method, call.url, call.headers, call.body.replace(b"7", b"9", 1))


def _tamper_shopee(call):    # Shopee's sign covers partner, path, timestamp, token and shop
    return _with_query(call, timestamp=str(int(dict(parse_qsl(urlsplit(call.url).query))["timestamp"]) + 1))


def _tamper_woo(call):       # the OAuth signature covers every query parameter
    return _with_query(call, oauth_timestamp=str(int(dict(parse_qsl(urlsplit(call.url).query))["oauth_timestamp"]) + 1))


TAMPER = {"shopify": _tamper_shopify, "tiktok": _tamper_body, "shopee": _tamper_shopee, "lazada": _tamper_body,
          "woocommerce": _tamper_woo}

SETUPS = {
    "shopify": Setup({"access_token": "shpat_sandbox", "location_id": "40642626", "webhook_secret": "whsec-shopify",
                      "shop_domain": "stocklink-sandbox.myshopify.com"},
                     {"808950810": {"inventory_item_id": "5001"}, "49148385": {"inventory_item_id": "5002"}},
                     "401"),
    "tiktok": Setup({"app_key": "6a1b2c3d4e5f6", "app_secret": "tiktok-secret", "access_token": "TTP_sandbox",
                     "shop_cipher": "ROW_sandbox", "shop_id": "7494049642642441621"},
                    {"1729592969712207012": {"product_id": "1729592969712207000"},
                     "1729592969712207013": {"product_id": "1729592969712207000"}},
                    "106001"),
    "shopee": Setup({"partner_id": "2001887", "partner_key": "shopee-partner-key", "shop_id": "14701711",
                     "access_token": "shopee-token"},
                    {"5001": {"item_id": "77", "model_id": "5001"}, "5002": {"item_id": "77", "model_id": "5002"},
                     "88": {"item_id": "88"}},
                    "error_sign"),
    "lazada": Setup({"app_key": "100001", "app_secret": "lazada-secret", "access_token": "lazada-token",
                     "seller_id": "1000114855"},
                    {"1234567890": {"item_id": "557711987"}, "1234567891": {"item_id": "557711987"}},
                    "IncompleteSignature", base_suffix="/rest"),
    "woocommerce": Setup({"consumer_key": "ck_sandbox", "consumer_secret": "cs_sandbox", "webhook_secret": "whsec-woo"},
                         {"93": {}, "23": {"parent_id": "22"}, "24": {"parent_id": "22"}},
                         "woocommerce_rest_authentication_error"),
}


def prepare(base: str, receiver, platform: str) -> dict:
    setup = SETUPS[platform]
    hook = f"{receiver.base}/hooks/{platform}/{SHOP}"
    creds = {**setup.credentials, "api_base_url": f"{base}/{platform}/{SHOP}{setup.base_suffix}"}
    if platform == "shopee":
        creds["callback_url"] = hook   # Shopee signs the callback URL it calls
    control(base, "POST", "shops", {"platform": platform, "shop": SHOP, "credentials": creds, "webhook_url": hook})
    control(base, "PUT", "listings", {"platform": platform, "shop": SHOP, "listings": [
        {"listing_id": lid, "quantity": 10, "platform_ids": ids, "seller_sku": f"SKU-{lid}"}
        for lid, ids in setup.listings.items()]})
    return creds


def listed(base: str, platform: str) -> dict[str, int]:
    rows = control(base, "GET", "listings", query=f"?platform={platform}&shop={SHOP}")["listings"]
    return {r["listing_id"]: r["quantity"] for r in rows}


def pushes(platform: str, quantities: dict[str, int]) -> list[StockPush]:
    ids = SETUPS[platform].listings
    return [StockPush(lid, qty, ids[lid]) for lid, qty in quantities.items()]


def target_quantities(platform: str) -> dict[str, int]:
    return {lid: 3 + i * 4 for i, lid in enumerate(SETUPS[platform].listings)}   # 3, 7, 11


@pytest.mark.parametrize("platform", PLATFORMS)
def test_signed_updates_are_accepted_and_read_back(sandbox_base, receiver, platform):
    adapter = adapter_for(platform)
    creds = prepare(sandbox_base, receiver, platform)
    want = target_quantities(platform)
    for call in adapter.build_stock_updates(creds, pushes(platform, want)):
        status, headers, body = send(call)
        result = adapter.classify_response(status, body, headers)
        assert result.outcome is Outcome.OK, (status, body)
        assert result.failed_listings == ()
    assert listed(sandbox_base, platform) == want
    shown = {}
    for call in adapter.build_read_back(creds, list(want), SETUPS[platform].listings):
        status, _, body = send(call)
        shown.update(adapter.parse_read_back(status, body))
    assert shown == want


@pytest.mark.parametrize("platform", PLATFORMS)
def test_tampered_calls_are_rejected_like_the_platform(sandbox_base, receiver, platform):
    adapter = adapter_for(platform)
    creds = prepare(sandbox_base, receiver, platform)
    [call, *_] = adapter.build_stock_updates(creds, pushes(platform, {lid: 7 for lid in SETUPS[platform].listings}))
    status, headers, body = send(TAMPER[platform](call))
    result = adapter.classify_response(status, body, headers)
    assert (result.outcome, result.code) == (Outcome.PERMANENT, SETUPS[platform].rejected_code)
    assert set(listed(sandbox_base, platform).values()) == {10}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_wrong_secret_is_rejected(sandbox_base, receiver, platform):
    adapter = adapter_for(platform)
    creds = prepare(sandbox_base, receiver, platform)
    secret = {"shopify": "access_token", "tiktok": "app_secret", "shopee": "partner_key", "lazada": "app_secret",
              "woocommerce": "consumer_secret"}[platform]
    [call, *_] = adapter.build_stock_updates({**creds, secret: "wrong"}, pushes(platform, {next(iter(SETUPS[platform].listings)): 1}))
    status, headers, body = send(call)
    assert adapter.classify_response(status, body, headers).outcome is Outcome.PERMANENT
    assert set(listed(sandbox_base, platform).values()) == {10}


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("fault", [429, 500])
def test_injected_faults_are_retryable_then_clear(sandbox_base, receiver, platform, fault):
    adapter = adapter_for(platform)
    creds = prepare(sandbox_base, receiver, platform)
    control(sandbox_base, "POST", "faults", {"status": fault, "count": 2, "platform": platform})
    first = next(iter(SETUPS[platform].listings))
    results = []
    for _ in range(3):
        [call] = adapter.build_stock_updates(creds, pushes(platform, {first: 4}))
        status, headers, body = send(call)
        results.append(adapter.classify_response(status, body, headers).outcome)
    assert results == [Outcome.RETRYABLE, Outcome.RETRYABLE, Outcome.OK]
    assert listed(sandbox_base, platform)[first] == 4
    calls = control(sandbox_base, "GET", "calls", query=f"?platform={platform}")["calls"]
    assert [c["fault"] for c in calls] == [True, True, False]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_call_log_records_what_each_call_set(sandbox_base, receiver, platform):
    adapter = adapter_for(platform)
    creds = prepare(sandbox_base, receiver, platform)
    want = target_quantities(platform)
    for call in adapter.build_stock_updates(creds, pushes(platform, want)):
        send(call)
    calls = control(sandbox_base, "GET", "calls", query=f"?platform={platform}&shop={SHOP}")["calls"]
    assert all(c["kind"] == "stock_update" and c["status"] == 200 and isinstance(c["ts"], float) for c in calls)
    assert {k: v for c in calls for k, v in c["listings"].items()} == want


ORDER_LINES = {
    "shopify": [{"listing_id": "808950810", "qty": 1}, {"listing_id": "49148385", "qty": 2}],
    "tiktok": [{"listing_id": "1729592969712207012", "qty": 2}],
    "shopee": [{"listing_id": "5001", "qty": 2}, {"listing_id": "88", "qty": 1}],
    "lazada": [{"listing_id": "1234567890", "qty": 1}, {"listing_id": "1234567891", "qty": 1}],
    "woocommerce": [{"listing_id": "93", "qty": 2}, {"listing_id": "23", "qty": 1}],
}


def receive(adapter, creds, receiver, call_index_from=0):
    events = []
    for delivered in receiver.requests[call_index_from:]:
        request = WebhookRequest(headers=delivered["headers"], body=delivered["body"],
                                 url=f"{receiver.base}{delivered['path']}")
        adapter.verify_webhook(request, creds)
        # The simulator names the shop and stamps the delivery as the platform does.
        adapter.verify_shop_and_freshness(request, creds, SHOP, time.time())
        for event in adapter.parse_webhook(request, SHOP):
            if adapter.needs_order_detail(event):
                status, _, body = send(adapter.build_order_detail(creds, event))
                event = adapter.parse_order_detail(event, status, body)
            events.append(event)
    return events


def units_of(events) -> dict[str, int]:
    total: dict[str, int] = {}
    for event in events:
        for line in event.lines:
            total[line.listing_id] = total.get(line.listing_id, 0) + line.qty
    return total


@pytest.mark.parametrize("platform", PLATFORMS)
def test_order_placement_sends_a_signed_webhook_the_adapter_accepts(sandbox_base, receiver, platform):
    adapter = adapter_for(platform)
    creds = prepare(sandbox_base, receiver, platform)
    placed = control(sandbox_base, "POST", "orders", {"platform": platform, "shop": SHOP,
                                                      "lines": ORDER_LINES[platform], "kind": "created"})
    assert placed["deliveries"] and all(d["status"] == 200 for d in placed["deliveries"])
    events = receive(adapter, creds, receiver)
    assert {e.kind for e in events} == {OrderEventKind.CREATED}
    assert units_of(events) == {l["listing_id"]: l["qty"] for l in ORDER_LINES[platform]}
    # The marketplace took the sold units off its own listing.
    assert listed(sandbox_base, platform)[ORDER_LINES[platform][0]["listing_id"]] == 10 - ORDER_LINES[platform][0]["qty"]

    seen = len(receiver.requests)
    control(sandbox_base, "POST", "orders", {"platform": platform, "shop": SHOP, "order_id": placed["order_id"],
                                             "kind": "paid"})
    paid = receive(adapter, creds, receiver, seen)
    assert paid and {e.kind for e in paid} == {OrderEventKind.PAID} and all(e.paid for e in paid)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_checkout_enforcing_the_listed_quantity_refuses_a_sold_out_listing(sandbox_base, receiver, platform):
    prepare(sandbox_base, receiver, platform)
    line = ORDER_LINES[platform][0]
    control(sandbox_base, "PUT", "listings", {"platform": platform, "shop": SHOP, "listings": [
        {"listing_id": line["listing_id"], "quantity": line["qty"] - 1}]})
    order = {"platform": platform, "shop": SHOP, "lines": [line], "kind": "paid"}
    seen = len(receiver.requests)
    status, body = http_json("POST", f"{sandbox_base}/_sandbox/orders", {**order, "enforce_listed": True})
    assert status == 409 and "sold out" in body["error"]
    assert len(receiver.requests) == seen                       # no webhook: nothing was sold
    assert listed(sandbox_base, platform)[line["listing_id"]] == line["qty"] - 1
    # without it the simulator sells what it is asked to (tests order on listings not pushed yet)
    assert control(sandbox_base, "POST", "orders", order)["deliveries"]
    assert listed(sandbox_base, platform)[line["listing_id"]] == 0


@pytest.mark.parametrize("platform", ["shopify", "tiktok", "shopee", "lazada", "woocommerce"])
def test_returns_come_back_as_returned_events_with_lines(sandbox_base, receiver, platform):
    adapter = adapter_for(platform)
    creds = prepare(sandbox_base, receiver, platform)
    placed = control(sandbox_base, "POST", "orders", {"platform": platform, "shop": SHOP,
                                                      "lines": ORDER_LINES[platform], "kind": "shipped"})
    seen = len(receiver.requests)
    control(sandbox_base, "POST", "orders", {"platform": platform, "shop": SHOP, "order_id": placed["order_id"],
                                             "kind": "returned"})
    events = receive(adapter, creds, receiver, seen)
    assert {e.kind for e in events} == {OrderEventKind.RETURNED}
    assert units_of(events) == {l["listing_id"]: l["qty"] for l in ORDER_LINES[platform]}


def test_shopee_return_push_and_return_detail_follow_v2(sandbox_base, receiver):
    adapter = adapter_for("shopee")
    creds = prepare(sandbox_base, receiver, "shopee")
    placed = control(sandbox_base, "POST", "orders", {"platform": "shopee", "shop": SHOP,
                                                      "lines": ORDER_LINES["shopee"], "kind": "shipped"})
    seen = len(receiver.requests)
    control(sandbox_base, "POST", "orders", {"platform": "shopee", "shop": SHOP, "order_id": placed["order_id"],
                                             "kind": "returned"})
    [delivered] = receiver.requests[seen:]
    push = json.loads(delivered["body"])
    assert push["code"] == 29 and push["data"]["order_sn"] == placed["order_id"] and push["data"]["return_sn"]
    request = WebhookRequest(headers=delivered["headers"], body=delivered["body"],
                             url=f"{receiver.base}{delivered['path']}")
    adapter.verify_webhook(request, creds)
    adapter.verify_shop_and_freshness(request, creds, SHOP, time.time())
    [event] = adapter.parse_webhook(request, SHOP)
    call = adapter.build_order_detail(creds, event)
    status, _, raw = send(call)
    assert status == 200 and json.loads(raw)["response"]["return_sn"] == push["data"]["return_sn"]
    # The detail call is signed like every shop-level call: a bad sign is refused the way Shopee does.
    status, _, raw = send(_with_query(call, sign="0" * 64))
    assert status == 403 and json.loads(raw)["error"] == "error_sign"
    calls = control(sandbox_base, "GET", "calls", query=f"?platform=shopee&shop={SHOP}")["calls"]
    assert [c["path"] for c in calls[-2:]] == ["/api/v2/returns/get_return_detail"] * 2


def test_webhook_signed_for_another_shop_secret_is_rejected(sandbox_base, receiver):
    from stocklink.channels.base import WebhookRejected
    adapter = adapter_for("woocommerce")
    creds = prepare(sandbox_base, receiver, "woocommerce")
    control(sandbox_base, "POST", "orders", {"platform": "woocommerce", "shop": SHOP,
                                             "lines": ORDER_LINES["woocommerce"], "kind": "created"})
    delivered = receiver.requests[0]
    with pytest.raises(WebhookRejected):
        adapter.verify_webhook(WebhookRequest(delivered["headers"], delivered["body"]),
                               {**creds, "webhook_secret": "someone-else"})


@pytest.mark.parametrize("platform", PLATFORMS)
def test_webhook_for_another_shop_of_the_same_app_is_rejected(sandbox_base, receiver, platform):
    from stocklink.channels.base import WebhookRejected
    adapter = adapter_for(platform)
    creds = prepare(sandbox_base, receiver, platform)
    control(sandbox_base, "POST", "orders", {"platform": platform, "shop": SHOP,
                                             "lines": ORDER_LINES[platform], "kind": "created"})
    delivered = receiver.requests[0]
    request = WebhookRequest(delivered["headers"], delivered["body"], url=f"{receiver.base}{delivered['path']}")
    adapter.verify_webhook(request, creds)        # same app, same secret: the signature alone cannot tell
    field = {"shopify": "shop_domain", "tiktok": "shop_id", "shopee": "shop_id", "lazada": "seller_id",
             "woocommerce": "store_url"}[platform]
    other = "https://other.example" if platform == "woocommerce" else "other-shop.myshopify.com" \
        if platform == "shopify" else "999"
    with pytest.raises(WebhookRejected):
        adapter.verify_shop_and_freshness(request, {**creds, field: other}, SHOP, time.time())


def test_shopify_compare_and_swap_and_idempotent_retry(sandbox_base, receiver):
    adapter = adapter_for("shopify")
    creds = prepare(sandbox_base, receiver, "shopify")
    stale = StockPush("808950810", 2, {"inventory_item_id": "5001", "expected_quantity": "9"})
    [call] = adapter.build_stock_updates(creds, [stale])
    status, headers, body = send(call)
    result = adapter.classify_response(status, body, headers)
    assert (result.outcome, result.code) == (Outcome.PERMANENT, "CHANGE_FROM_QUANTITY_STALE")
    fresh = StockPush("808950810", 2, {"inventory_item_id": "5001", "expected_quantity": "10"})
    [call] = adapter.build_stock_updates(creds, [fresh])
    first = send(call)
    control(sandbox_base, "PUT", "listings", {"platform": "shopify", "shop": SHOP,
                                              "listings": [{"listing_id": "808950810", "quantity": 5}]})
    # A retry of the same call (same idempotency key) returns the original answer and changes nothing.
    again = send(call)
    assert again[2] == first[2] and listed(sandbox_base, "shopify")["808950810"] == 5


def test_sandbox_rejects_out_of_range_batches(sandbox_base, receiver):
    adapter = adapter_for("lazada")
    creds = prepare(sandbox_base, receiver, "lazada")
    many = [(str(i), {"item_id": "557711987"}, 1) for i in range(51)]
    # The adapter never builds such a call; force one through to see the platform-side guard.
    from stocklink.channels import lazada
    call = adapter._signed(creds, "POST", lazada.SELLABLE_UPDATE, {"payload": lazada._sellable_xml(many, False)})
    status, headers, body = send(call)
    assert adapter.classify_response(status, body, headers).outcome is Outcome.PERMANENT

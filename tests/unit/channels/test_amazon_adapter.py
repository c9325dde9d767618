"""Amazon SP-API adapter: the LWA refresh-token grant and its per-container cache, ORDER_CHANGE notifications
(owner, status mapping, FBA and ambiguous statuses), the getOrders fallback poll with getOrderItems, Listings
Items stock patches, read-back, discovery and response classes, against the examples in events/amazon/.

Amazon publishes no request-signing example (SP-API calls carry only the LWA token since 2023-10): the token
request is checked against an independently written form body instead."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

from stocklink.channels import amazon
from stocklink.channels._common import Outcome
from stocklink.channels.amazon import AccessTokenUnavailable, AmazonAdapter, kinds_of
from stocklink.channels.base import (
    OrderEventKind,
    PayloadInvalid,
    PollWindow,
    StockAdjust,
    StockPush,
    WebhookRejected,
    WebhookRequest,
)

EVENTS = Path(__file__).resolve().parents[3] / "events" / "amazon"
CREDS = {"client_id": "amzn1.application-oa2-client.abc", "client_secret": "lwa-secret",
         "refresh_token": "Atzr|refresh-1", "seller_id": "A3TH9S8BH6GOGM", "marketplace_id": "ATVPDKIKX0DER"}
WINDOW = PollWindow(1_772_416_800, 1_772_418_600)


def example(name: str) -> bytes:
    return (EVENTS / name).read_bytes()


class FakeLwa:
    """Answers the token grant; counts the calls so the cache can be observed."""

    def __init__(self, status: int = 200, body: bytes | None = None):
        self.status, self.body, self.calls = status, body or example("lwa_token.json"), []

    def __call__(self, call):
        self.calls.append(call)
        return self.status, {}, self.body


@pytest.fixture(autouse=True)
def empty_token_cache():
    amazon._token_cache.clear()
    yield
    amazon._token_cache.clear()


@pytest.fixture
def clock():
    return {"now": 1_772_418_900.0}


@pytest.fixture
def lwa():
    return FakeLwa()


@pytest.fixture
def adapter(clock, lwa):
    return AmazonAdapter(clock=lambda: clock["now"], send=lwa)


def test_the_token_grant_is_the_documented_refresh_token_form(adapter):
    call = adapter.build_token_request(CREDS)
    assert (call.method, call.url) == ("POST", "https://api.amazon.com/auth/o2/token")
    assert dict(parse_qsl(call.body.decode())) == {"grant_type": "refresh_token", "refresh_token": "Atzr|refresh-1",
                                                   "client_id": CREDS["client_id"], "client_secret": "lwa-secret"}
    assert call.hosts.allows("api.amazon.com")
    eu = adapter.build_token_request({**CREDS, "region": "eu"})
    assert eu.url == "https://api.amazon.co.uk/auth/o2/token"


def test_the_access_token_is_cached_until_shortly_before_it_expires(adapter, lwa, clock):
    first = adapter.build_read_back(CREDS, ["TEE-RED-M"])[0]
    assert first.headers["x-amz-access-token"] == "Atza|IwEBIExampleAccessToken"
    assert "Authorization" not in first.headers      # no SigV4
    clock["now"] += 3600 - amazon.EXPIRY_MARGIN_S - 1
    adapter.build_read_back(CREDS, ["TEE-RED-M"])
    assert len(lwa.calls) == 1
    clock["now"] += 2                                 # inside the margin: renewed
    adapter.build_read_back(CREDS, ["TEE-RED-M"])
    assert len(lwa.calls) == 2
    adapter.build_read_back({**CREDS, "refresh_token": "Atzr|other-seller"}, ["X"])
    assert len(lwa.calls) == 3                        # another seller's token is its own


def test_a_refused_refresh_token_builds_no_call_and_keeps_the_secret_out_of_the_error(clock):
    refused = FakeLwa(400, b'{"error": "invalid_grant", "error_description": "refresh Atzr|refresh-1 bad"}')
    adapter = AmazonAdapter(clock=lambda: clock["now"], send=refused)
    with pytest.raises(AccessTokenUnavailable) as caught:
        adapter.build_stock_updates(CREDS, [StockPush("TEE-RED-M", 3)])
    assert "invalid_grant" in str(caught.value) and "Atzr" not in str(caught.value)
    assert amazon._token_cache == {}


def test_an_order_change_notification_gives_a_committed_order_for_its_seller(adapter):
    body = example("order_change_unshipped.json")
    assert adapter.notification_owner(body) == ("A3TH9S8BH6GOGM", "ATVPDKIKX0DER")
    [event] = adapter.parse_notification(body, "us")
    assert (event.kind, event.order_id, event.paid) == (OrderEventKind.PAID, "113-4820377-9318610", True)
    assert [(l.listing_id, l.qty) for l in event.lines] == [("TEE-RED-M", 2)]
    assert event.occurred_at.startswith("2026-03-02T02:15:30")
    assert adapter.belongs_to(CREDS, "A3TH9S8BH6GOGM", "ATVPDKIKX0DER")
    assert not adapter.belongs_to(CREDS, "A3TH9S8BH6GOGM", "A1PA6795UKMFR9")   # another marketplace's shop
    assert not adapter.belongs_to(CREDS, "AOTHERSELLER", "ATVPDKIKX0DER")
    assert not adapter.belongs_to({**CREDS, "seller_id": ""}, "", "ATVPDKIKX0DER")


def notification(status: str, fulfillment: str = "MFN", items=None) -> bytes:
    message = json.loads(example("order_change_unshipped.json"))
    summary = message["Payload"]["OrderChangeNotification"]["Summary"]
    summary.update(OrderStatus=status, FulfillmentType=fulfillment)
    if items is not None:
        summary["OrderItems"] = items
    return json.dumps(message).encode()


@pytest.mark.parametrize("status, kinds", [
    ("Pending", [OrderEventKind.CREATED]),
    ("PendingAvailability", [OrderEventKind.CREATED]),
    ("Unshipped", [OrderEventKind.PAID]),
    ("PartiallyShipped", [OrderEventKind.PAID]),
    ("Shipped", [OrderEventKind.PAID, OrderEventKind.SHIPPED]),
    ("InvoiceUnconfirmed", [OrderEventKind.PAID, OrderEventKind.SHIPPED]),
    ("Canceled", [OrderEventKind.CANCELLED]),
    ("Unfulfillable", []),        # ambiguous: left to staff (docstring)
])
def test_each_order_status_maps_onto_what_has_happened(adapter, status, kinds):
    events = adapter.parse_notification(notification(status), "us")
    assert [e.kind for e in events] == kinds
    assert all(e.paid == (e.kind is not OrderEventKind.CREATED) for e in events)


def test_an_order_amazon_fulfils_from_its_own_warehouse_changes_nothing(adapter):
    assert adapter.parse_notification(notification("Shipped", "AFN"), "us") == []
    assert kinds_of("Unshipped", "AFN") == []


def test_one_change_seen_again_is_the_same_business_event(adapter):
    first = adapter.parse_notification(notification("Unshipped"), "us")[0]
    again = adapter.parse_notification(notification("Unshipped"), "us")[0]
    assert first.event_key == again.event_key


@pytest.mark.parametrize("body", [
    b"not json", b'{"NotificationType": "ORDER_CHANGE"}',
    json.dumps({"NotificationType": "ORDER_CHANGE", "Payload": {"OrderChangeNotification": {}}}).encode(),
])
def test_a_broken_notification_is_refused(adapter, body):
    with pytest.raises(PayloadInvalid):
        adapter.notification_owner(body)


@pytest.mark.parametrize("items", [[], [{"SellerSKU": "", "Quantity": 1}], [{"SellerSKU": "A", "Quantity": 0}],
                                   [{"SellerSKU": "A", "Quantity": "lots"}]])
def test_a_notification_with_unusable_items_is_refused(adapter, items):
    with pytest.raises(PayloadInvalid):
        adapter.parse_notification(notification("Unshipped", items=items), "us")


def test_another_notification_type_applies_nothing(adapter):
    other = json.dumps({"NotificationType": "ANY_OFFER_CHANGED", "Payload": {"AnyOfferChangedNotification": {}}})
    assert adapter.notification_owner(other.encode()) is None
    assert adapter.parse_notification(other.encode(), "us") == []


def test_no_http_webhook_is_accepted(adapter):
    with pytest.raises(WebhookRejected):
        adapter.verify_webhook(WebhookRequest({}, example("order_change_unshipped.json")), CREDS)


def test_the_fallback_poll_asks_for_the_window_in_utc_then_follows_next_token(adapter):
    first = adapter.build_order_poll(CREDS, WINDOW, None)
    parts = urlsplit(first.url)
    assert (first.method, parts.netloc, parts.path) == ("GET", "sellingpartnerapi-na.amazon.com", "/orders/v0/orders")
    assert parse_qs(parts.query) == {"MarketplaceIds": ["ATVPDKIKX0DER"],
                                     "LastUpdatedAfter": ["2026-03-02T02:00:00Z"],
                                     "LastUpdatedBefore": ["2026-03-02T02:30:00Z"]}
    page = adapter.parse_order_poll("us", WINDOW, None, 200, example("get_orders_page.json"))
    assert page.next_page == {"next_token": "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"}
    assert [(e.order_id, e.kind) for e in page.events] == [("113-4820377-9318610", OrderEventKind.PAID),
                                                           ("113-7741205-1100263", OrderEventKind.CANCELLED)]
    assert page.events[0].delivery_id == "113-4820377-9318610:Unshipped:2026-03-02T02:15:30Z"
    follow = parse_qs(urlsplit(adapter.build_order_poll(CREDS, WINDOW, page.next_page).url).query)
    assert follow == {"MarketplaceIds": ["ATVPDKIKX0DER"], "NextToken": ["2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"]}
    with pytest.raises(ValueError):
        adapter.build_order_poll(CREDS, PollWindow(0, amazon.MAX_WINDOW_S + 1), None)


def test_a_polled_order_takes_its_lines_from_get_order_items(adapter):
    page = adapter.parse_order_poll("us", WINDOW, None, 200, example("get_orders_page.json"))
    paid, cancelled = page.events
    assert adapter.needs_order_detail(paid) and not adapter.needs_order_detail(cancelled)
    call = adapter.build_order_detail(CREDS, paid)
    assert urlsplit(call.url).path == "/orders/v0/orders/113-4820377-9318610/orderItems"
    full = adapter.parse_order_detail(paid, 200, example("get_order_items.json"))
    assert [(l.listing_id, l.qty, l.seller_sku) for l in full.lines] == [("TEE-RED-M", 2, "TEE-RED-M")]
    more = json.loads(example("get_order_items.json"))
    more["payload"]["NextToken"] = "more"
    with pytest.raises(PayloadInvalid):
        adapter.parse_order_detail(paid, 200, json.dumps(more).encode())


def test_a_stock_push_patches_fulfillment_availability_of_the_sku(adapter):
    [call] = adapter.build_stock_updates(CREDS, [StockPush("TEE RED/M", 4, {"product_type": "SHIRT"})])
    parts = urlsplit(call.url)
    assert call.method == "PATCH"
    assert parts.path == "/listings/2021-08-01/items/A3TH9S8BH6GOGM/TEE%20RED%2FM"
    assert parse_qs(parts.query) == {"marketplaceIds": ["ATVPDKIKX0DER"]}
    assert json.loads(call.body) == {"productType": "SHIRT", "patches": [{
        "op": "replace", "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 4}]}]}
    [generic] = adapter.build_stock_updates(CREDS, [StockPush("A", 0)])
    assert json.loads(generic.body)["productType"] == "PRODUCT"
    with pytest.raises(ValueError):
        adapter.build_stock_updates(CREDS, [StockPush("A", -1)])
    with pytest.raises(NotImplementedError):
        adapter.build_stock_adjustments(CREDS, [StockAdjust("A", -1)])


def test_read_back_asks_for_fulfillment_availability_and_reads_the_merchant_channel(adapter):
    [call] = adapter.build_read_back(CREDS, ["TEE-RED-M"])
    assert parse_qs(urlsplit(call.url).query) == {"marketplaceIds": ["ATVPDKIKX0DER"],
                                                  "includedData": ["fulfillmentAvailability"]}
    assert adapter.parse_read_back(200, example("listings_item.json")) == {"TEE-RED-M": 7}
    with pytest.raises(PayloadInvalid):
        adapter.parse_read_back(404, b'{"errors": [{"code": "NOT_FOUND"}]}')


def test_discovery_walks_search_listings_items_by_page_token(adapter):
    first = adapter.build_list_listings(CREDS, None)
    parts = urlsplit(first.url)
    assert parts.path == "/listings/2021-08-01/items/A3TH9S8BH6GOGM"
    assert parse_qs(parts.query) == {"marketplaceIds": ["ATVPDKIKX0DER"], "pageSize": ["20"],
                                     "includedData": ["summaries,fulfillmentAvailability"]}
    page = adapter.parse_list_listings(None, 200, example("search_listings_page.json"))
    tee, mug = page.listings
    assert (tee.listing_id, tee.seller_sku, tee.title, tee.quantity) == ("TEE-RED-M", "TEE-RED-M", "Tee red M", 7)
    assert tee.platform_ids == {"asin": "B07N4M94KL", "product_type": "SHIRT"}
    assert mug.quantity is None                       # only FBA stock: nothing merchant-fulfilled listed
    nxt = adapter.build_list_listings(CREDS, page.cursor)
    assert parse_qs(urlsplit(nxt.url).query)["pageToken"] == ["xsdflkj324lkjsdlkj3423klkjsdfkljlk2j34klj2l3k4j"]
    last = adapter.parse_list_listings(page.cursor, 200, b'{"items": [], "pagination": {}}')
    assert last.cursor is None


def test_responses_are_classified(adapter):
    assert adapter.classify_response(200, example("patch_accepted.json")).outcome is Outcome.OK
    invalid = adapter.classify_response(200, example("patch_invalid.json"))
    assert (invalid.outcome, invalid.code) == (Outcome.PERMANENT, "90220")
    throttled = adapter.classify_response(429, example("quota_exceeded.json"), {"Retry-After": "2"})
    assert (throttled.outcome, throttled.code) == (Outcome.RETRYABLE, "QuotaExceeded")
    assert adapter.classify_response(503, b"").outcome is Outcome.RETRYABLE
    assert adapter.classify_response(403, b'{"errors": [{"code": "Unauthorized"}]}').outcome is Outcome.PERMANENT


def test_api_base_follows_the_region(adapter):
    assert adapter.api_base({**CREDS, "region": "eu"}) == "https://sellingpartnerapi-eu.amazon.com"
    assert adapter.api_base({**CREDS, "region": "fe"}) == "https://sellingpartnerapi-fe.amazon.com"
    assert adapter.api_base({**CREDS, "region": "mars"}) == ""
    assert all(adapter.api_hosts.allows(h) for h in ("sellingpartnerapi-na.amazon.com", "sellingpartnerapi-eu.amazon.com",
                                                     "sellingpartnerapi-fe.amazon.com"))

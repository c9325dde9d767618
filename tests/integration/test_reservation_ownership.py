"""Who may see and move a reservation, on moto through the API: a storefront token only its own (404, as a
missing one, for anything else), never a platform's order nor an id in a platform's namespace; staff any,
with a reason recorded on the reservation; per-token limits on open holds and hold times; and reservations
written before owners were recorded."""
import base64
import hashlib
import hmac
import json

import pytest

from stocklink import secrets
from stocklink.domain.stock import Line
from stocklink.logic import reservations
from stocklink.logic.sync.sweep import run_pass
from stocklink.store import repository
from stocklink.store.models import Reservation
from stocklink.time import now_ms
from tests.integration.apigw import ApiClient
from tests.integration.conftest import ADMIN_TOKEN, STAFF_TOKEN, STOREFRONT_TOKEN, as_admin
from tests.integration.test_shopify_webhooks import triggered_now

SECRET = "shpss_test_secret"
SHOP = "s1"
SHOP_DOMAIN = "s1.myshopify.com"   # what its deliveries name (X-Shopify-Shop-Domain)
SKU = "TEE-RED-M"
OTHER_TOKEN, LIMITED_TOKEN = "other-storefront-token", "limited-storefront-token"


@pytest.fixture
def tokens(aws):
    secrets.write_json("stocklink/api-tokens", {"tokens": {
        ADMIN_TOKEN: {"name": "root", "roles": ["admin"]},
        STAFF_TOKEN: {"name": "alice", "roles": ["staff"]},
        STOREFRONT_TOKEN: {"name": "shop-front", "roles": ["storefront"]},
        OTHER_TOKEN: {"name": "other-front", "roles": ["storefront"]},
        LIMITED_TOKEN: {"name": "limited-front", "roles": ["storefront"], "max_open_holds": 2,
                        "max_hold_seconds": 600},
    }})


def _client(token):
    from functions.storefront_api.handler import handler
    return ApiClient(handler, token)


@pytest.fixture
def other(tokens):
    return _client(OTHER_TOKEN)


@pytest.fixture
def limited(tokens):
    return _client(LIMITED_TOKEN)


@pytest.fixture
def shop(stocked, tokens):
    """Six units of the SKU (3 in wh-a, 3 in wh-b) and a Shopify shop."""
    assert as_admin(stocked).put(f"/shops/shopify/{SHOP}", {"webhook_secret": SECRET,
                                                              "shop_domain": SHOP_DOMAIN}).status == 200
    return stocked


def _order(webhooks, order_id, topic="orders/create", paid=True, qty=1):
    body = json.dumps({"id": order_id, "name": f"#{order_id}", "financial_status": "paid" if paid else "pending",
                       "created_at": "2026-11-24T10:00:00-05:00", "currency": "USD", "fulfillment_status": None,
                       "line_items": [{"id": 1, "variant_id": 1, "sku": SKU, "quantity": qty, "price": "9.00"}]})
    signature = base64.b64encode(hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).digest()).decode()
    answer = webhooks.post(f"/webhooks/shopify/{SHOP}", raw=body.encode(), headers={
        "X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": signature, "X-Shopify-Shop-Domain": SHOP_DOMAIN,
        "X-Shopify-Webhook-Id": f"{topic}-{order_id}", "X-Shopify-API-Version": "2025-10",
        "X-Shopify-Triggered-At": triggered_now()})
    assert answer.status == 200, answer.body
    return answer.body["outcomes"][0]


def _totals(staff):
    totals = staff.get(f"/skus/{SKU}/stock").body["totals"]
    return totals["on_hand"], totals["reserved"], totals["available"]


def _missing(rid):
    return {"error": "not_found", "message": f"reservation {rid} not found"}


def _hold(client, rid, qty=1, **extra):
    return client.post("/reservations", {"reservation_id": rid, "channel": "web",
                                         "lines": [{"sku": SKU, "qty": qty}], **extra})


# --- finding 1: a storefront token and the platforms' orders ---------------------------------------------

def test_a_storefront_token_can_neither_see_nor_move_a_marketplace_order(shop, storefront, webhooks):
    rid = f"shopify:{SHOP}:1001"
    assert _order(webhooks, 1001)["reservation_status"] == "committed"
    assert _totals(shop) == (6, 1, 5)
    for action in ("ship", "release", "commit"):
        answer = storefront.post(f"/reservations/{rid}/{action}")
        assert (answer.status, answer.body) == (404, _missing(rid))
    assert (storefront.get(f"/reservations/{rid}").status, storefront.get(f"/reservations/{rid}").body) == (
        404, _missing(rid))
    assert _totals(shop) == (6, 1, 5)                         # nothing shipped, nothing back on sale
    cancelled = _order(webhooks, 1001, topic="orders/cancelled")
    assert cancelled["status"] == "applied"                   # the shop's own cancel still applies
    assert _totals(shop) == (6, 0, 6)


def test_storefront_ids_may_not_use_a_platform_namespace_and_the_real_order_applies(shop, storefront, webhooks):
    for rid in (f"shopify:{SHOP}:1002", f"Shopify:{SHOP}:1002", "tiktok:anything", "storefront:x"):
        answer = _hold(storefront, rid)
        assert answer.status == 400 and answer.body["field"] == "reservation_id", rid
    assert _totals(shop) == (6, 0, 6)
    assert _hold(storefront, "web:shopify:1002").status == 201   # only the prefix is the platform's
    assert _order(webhooks, 1002)["reservation_status"] == "committed"
    assert _totals(shop) == (6, 2, 4)


def test_another_storefront_token_gets_404_for_a_hold_it_did_not_make(shop, storefront, other):
    assert _hold(storefront, "web-1").status == 201
    for answer in (other.get("/reservations/web-1"), other.post("/reservations/web-1/commit"),
                   other.post("/reservations/web-1/release"), other.post("/reservations/web-1/ship")):
        assert (answer.status, answer.body) == (404, _missing("web-1"))
    replayed = _hold(other, "web-1")                          # the same body under its id: not shown to them
    assert replayed.status == 409 and replayed.body["error"] == "idempotency_conflict"
    assert "allocations" not in replayed.body
    assert storefront.post("/reservations/web-1/commit").body["status"] == "committed"
    assert _totals(shop) == (6, 1, 5)


# --- staff actions -----------------------------------------------------------------------------------------

def test_staff_release_a_marketplace_order_with_a_reason_recorded(shop, storefront, webhooks,
                                                                     staff_reservations):
    rid = f"shopify:{SHOP}:1003"
    _order(webhooks, 1003, qty=2)
    refused = staff_reservations.post(f"/reservations/{rid}/staff-action", {"action": "release"})
    assert refused.status == 400 and refused.body["field"] == "reason"
    assert storefront.post(f"/reservations/{rid}/staff-action",
                           {"action": "release", "reason": "phoned in"}).status == 403
    done = staff_reservations.post(f"/reservations/{rid}/staff-action",
                                   {"action": "release", "reason": "customer cancelled by phone"})
    assert done.status == 200, done.body
    assert done.body["status"] == "released" and done.body["owner"] == f"shopify:{SHOP}"
    assert done.body["source"] == f"shopify:{SHOP}"
    (recorded,) = done.body["staff_actions"]
    assert (recorded["by"], recorded["action"], recorded["reason"]) == ("alice", "release",
                                                                        "customer cancelled by phone")
    assert recorded["at"] <= now_ms()
    assert done.body["status_reason"] == "staff release: customer cancelled by phone"
    assert staff_reservations.get(f"/reservations/{rid}").body["staff_actions"] == [recorded]
    release = shop.get("/ledger", query={"sku": SKU}).body["entries"][-1]
    assert (release["movement"], release["actor"], release["reason"]) == (
        "release", "alice", "staff release: customer cancelled by phone")
    assert _totals(shop) == (6, 0, 6)


# --- per-token limits --------------------------------------------------------------------------------------

def test_open_holds_past_the_token_limit_are_429_and_write_nothing(shop, limited, staff_reservations):
    assert _hold(limited, "lim-1").status == 201 and _hold(limited, "lim-2").status == 201
    refused = _hold(limited, "lim-3")
    assert refused.status == 429 and refused.body["error"] == "too_many_requests" and refused.body["limit"] == 2
    assert staff_reservations.get("/reservations/lim-3").status == 404
    assert _totals(shop) == (6, 2, 4)
    assert _hold(limited, "lim-2").status == 200              # a replay is no new hold
    assert limited.post("/reservations/lim-1/commit").status == 200   # a paid hold is no longer open
    assert _hold(limited, "lim-3").status == 201
    assert repository.open_holds("limited-front") == 2


def test_expired_and_preempted_holds_stop_counting(shop, limited, webhooks):
    assert _hold(limited, "lim-1", hold_seconds=1).status == 201
    assert _hold(limited, "lim-2", qty=5).status == 201
    assert repository.open_holds("limited-front") == 2
    run_pass(now_ms() + 5_000)                                 # lim-1 expired: released by the sweep
    assert repository.open_holds("limited-front") == 1
    outcome = _order(webhooks, 1005, qty=6)                   # takes lim-2 (first paid wins)
    assert outcome["status"] == "applied" and outcome["preempted"] == ["lim-2"]
    assert repository.open_holds("limited-front") == 0


def test_hold_seconds_above_the_token_limit_is_400(shop, limited, storefront):
    refused = _hold(limited, "lim-long", hold_seconds=601)
    assert refused.status == 400 and refused.body["field"] == "hold_seconds" and refused.body["limit"] == 600
    assert _hold(limited, "lim-ok", hold_seconds=600).status == 201
    assert _hold(storefront, "web-long", hold_seconds=3601).status == 400    # the default limit: 1 h
    default = _hold(storefront, "web-default")
    assert default.body["expires_at"] - now_ms() // 1000 in range(895, 901)
    assert _totals(shop) == (6, 2, 4)


# --- reservations written before owners were recorded ------------------------------------------------------

def _legacy(rid, actor, qty=1):
    """A hold as it was written before: no owner, not counted among its token's open holds."""
    request = reservations.ReservationRequest(rid, "web", (Line(SKU, qty),), f"fp-{rid}", "storefront", 900)
    reservations.reserve(request, actor=actor, now_ms=now_ms())
    assert repository.get_reservation(rid).owner is None


def test_a_legacy_storefront_hold_belongs_to_the_token_that_made_it(shop, storefront, other):
    _legacy("web-old", actor="shop-front")
    assert other.get("/reservations/web-old").status == 404
    assert other.post("/reservations/web-old/release").status == 404
    assert storefront.get("/reservations/web-old").body["status"] == "held"
    assert storefront.post("/reservations/web-old/release").body["status"] == "released"
    assert repository.open_holds("shop-front") == 0            # never counted, never uncounted


def test_a_legacy_storefront_hold_under_a_platform_id_is_left_to_staff(shop, storefront, webhooks,
                                                                       staff_reservations):
    rid = f"shopify:{SHOP}:1004"
    _legacy(rid, actor="shop-front")                          # made first, before such ids were refused
    assert storefront.post(f"/reservations/{rid}/ship").status == 404
    outcome = _order(webhooks, 1004)
    assert outcome["status"] == "needs_attention" and "storefront" in outcome["reason"]
    listed = staff_reservations.get(f"/reservations/{rid}").body
    assert listed["source"] == "storefront" and listed["owner"] == "shop-front"
    assert _order(webhooks, 1004, topic="orders/fulfilled")["status"] == "skipped"   # not the shop's to ship
    assert _totals(shop) == (6, 1, 5)
    released = staff_reservations.post(f"/reservations/{rid}/staff-action",
                                       {"action": "release", "reason": "squatted the order id"})
    assert released.body["status"] == "released"
    assert Reservation.get(rid).staff_actions[0].by == "alice"

"""End to end through the local runtime over HTTP, for the platforms whose orders StockLink does not (only)
take by webhook: an order placed on the Taobao, JD, Pinduoduo, Douyin or Amazon simulator reaches the pool
and every other platform's listing follows, each arriving the platform's way:

- Taobao: a message on the shop's TMC queue, which the order poller consumes and confirms;
- JD and Pinduoduo: their incremental order APIs, which the poller reads window by window from its cursor;
- Douyin: a signed push to /webhooks/douyin/{shop} (its order search is the poller's fallback);
- Amazon: an ORDER_CHANGE message the simulator sends to the runtime's SQS queue (GET /_local/platform-queues),
  which the amazon_notifications function consumes.

The poller runs on demand (POST /_local/schedules/{name}: the runtime's hook) instead of every 30 s. JD's and
Pinduoduo's orders are stamped a little more than the adapter's settle time back (`changed_ago_s`): the poller
reads only windows that end that long before now, as those platforms ask, and these tests should not wait it
out. Also the cursor's overlap and redelivery: a change seen again is applied once."""
from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.e2e.runtime_process import handlers_exist
from tests.sandbox_support import control, sandbox_base  # noqa: F401 (fixture)
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

ORDER_POLL = "order-poll-every-30s"
RUN = uuid.uuid4().hex[:6]
SKU, SHOP, UNITS = f"PULL-{RUN}", f"p{RUN}", 100

# credentials the simulators check, and (listing id, platform ids) of the SKU on each platform
PLATFORMS = {
    "taobao": ({"app_key": "12497914", "app_secret": "tb-secret", "session": "tb-session", "user_id": "2200000001",
                "sign_method": "hmac-sha256"}, ("4800000000001", {"num_iid": "600000000001"})),
    "jd": ({"app_key": "jd-key", "app_secret": "jd-secret", "access_token": "jd-token"},
           ("100012345678", {"ware_id": "10001234"})),
    "pinduoduo": ({"client_id": "pdd-client", "client_secret": "pdd-secret", "access_token": "pdd-token"},
                  ("1180000001", {"goods_id": "350000001"})),
    "douyin": ({"app_key": "7152331588175513101", "app_secret": "douyin-secret", "access_token": "dy-token",
                "shop_id": "4463798"}, ("1736000000000000001", {"product_id": "3600123456789012345"})),
    # a seller id of this run's own: the queue's consumer finds the shop by it
    "amazon": ({"client_id": "amzn1.application-oa2-client.sandbox", "client_secret": "lwa-secret",
                "refresh_token": "Atzr|sandbox-refresh", "seller_id": f"A3TH9S8B{RUN.upper()}",
                "marketplace_id": "ATVPDKIKX0DER"}, (SKU, {"product_type": "SHIRT"})),
}
PULLED = ("jd", "pinduoduo")       # read through windows that end the adapter's settle time before now


def settle_s(platform: str) -> int:
    from stocklink.channels.registry import adapter_for
    return int(adapter_for(platform).poll_settle_s)


class Shops:
    """The run's SKU listed on the five platforms of one shop name, in the simulators and in StockLink."""

    def __init__(self, runtime, sandbox: str):
        self.url, self.headers, self.sandbox = runtime.url, runtime.headers, sandbox
        self.polled_at = 0.0

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.url}{path}", headers=self.headers, timeout=60, **kwargs)

    def poll(self) -> dict:
        """One run of the order poller now (after a scheduled one in progress, if any), in a later second
        than the last: cursors are whole seconds, a run within the second of the last has no window to read."""
        time.sleep(max(0.0, int(self.polled_at) + 1 - time.time()))
        r = self.api("POST", f"/_local/schedules/{ORDER_POLL}")
        self.polled_at = time.time()
        assert r.status_code == 200, r.text
        return r.json()["result"]

    def shown(self) -> dict[str, int]:
        rows = control(self.sandbox, "GET", "listings", query=f"?shop={SHOP}")["listings"]
        return {row["platform"]: row["quantity"] for row in rows}

    def stock(self) -> dict:
        return self.api("GET", f"/skus/{SKU}/stock").json()["totals"]

    def reservation(self, platform: str, order_id: str) -> dict | None:
        r = self.api("GET", f"/reservations/{platform}:{SHOP}:{order_id}")
        return r.json() if r.status_code == 200 else None

    def order(self, platform: str, qty: int = 1, kind: str = "paid", order_id: str | None = None,
              changed_ago_s: float | None = None) -> dict:
        listing_id = PLATFORMS[platform][1][0]
        doc = {"platform": platform, "shop": SHOP, "kind": kind,
               "lines": [{"listing_id": listing_id, "qty": qty, "sku": SKU}]}
        if order_id:
            doc["order_id"] = order_id
        if changed_ago_s is None and platform in PULLED:
            changed_ago_s = settle_s(platform) + 5
        if changed_ago_s:
            doc["changed_ago_s"] = changed_ago_s
        return control(self.sandbox, "POST", "orders", doc)

    def all_show(self, qty: int) -> bool:
        return self.shown() == dict.fromkeys(PLATFORMS, qty)

    def amazon_queue_empty(self) -> bool:
        """No message waiting on or taken off the runtime's Amazon queue and not yet deleted."""
        import boto3
        from urllib.parse import urlsplit

        url = self.queues["amazon-notifications"]["url"]
        sqs = boto3.client("sqs", endpoint_url="{0.scheme}://{0.netloc}".format(urlsplit(url)),
                           region_name=self.queues["amazon-notifications"]["region"],
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return all(int(v) == 0 for v in attributes.values())


@pytest.fixture(scope="module")
def shops(local_runtime, sandbox_base):
    if not handlers_exist("order_poll", "amazon_notifications", "channel_push"):
        pytest.skip("needs functions/order_poll, amazon_notifications and channel_push")
    s = Shops(local_runtime, sandbox_base)
    s.queues = queues = {q["name"]: q for q in s.api("GET", "/_local/platform-queues").json()["queues"]}
    assert s.api("PUT", "/warehouses/wh-e2e", json={"name": "e2e", "priority": 1}).status_code == 200
    assert s.api("PUT", f"/skus/{SKU}", json={"name": SKU}).status_code == 200
    for platform, (creds, (listing_id, ids)) in PLATFORMS.items():
        api = f"{sandbox_base}/{platform}/{SHOP}"
        creds = {**creds, "api_base_url": api, **({"lwa_url": f"{api}/auth/o2/token"} if platform == "amazon" else {})}
        registration = {"platform": platform, "shop": SHOP, "credentials": creds,
                        "webhook_url": f"{s.url}/webhooks/{platform}/{SHOP}"}
        if platform == "amazon":   # the destination of the seller's ORDER_CHANGE subscription
            registration["notification_queue"] = {k: queues["amazon-notifications"][k] for k in ("url", "region")}
        control(sandbox_base, "POST", "shops", registration)
        control(sandbox_base, "PUT", "listings", {"platform": platform, "shop": SHOP, "listings": [
            {"listing_id": listing_id, "quantity": 0, "platform_ids": ids, "seller_sku": SKU}]})
        r = s.api("PUT", f"/shops/{platform}/{SHOP}", json=creds)
        assert r.status_code == 200, r.text
        r = s.api("PUT", f"/listings/{platform}/{SHOP}/{listing_id}",
                  json={"components": [{"sku": SKU, "qty": 1}], "platform_ids": ids})
        assert r.status_code == 200, r.text
    r = s.api("POST", "/stock/receipts", json={"warehouse_id": "wh-e2e", "lines": [{"sku": SKU, "qty": UNITS}],
                                                "reference": f"po-{RUN}"})
    assert r.status_code == 201, r.text
    wait_for(lambda: s.all_show(UNITS), "the receipt to reach every platform")
    s.poll()            # the new shops' first run: their cursors start (24 h of backfill, nothing in it)
    return s


@pytest.mark.parametrize("platform", list(PLATFORMS))
def test_an_order_placed_on_the_platform_reaches_the_pool_and_every_other_platform_follows(shops, platform):
    available = shops.stock()["available"]
    placed = shops.order(platform, qty=2)
    if platform == "amazon":
        assert [n["status"] for n in placed["notifications"]] == [200], placed     # on the runtime's queue
    elif platform == "douyin":
        assert [d["status"] for d in placed["deliveries"]] == [200], placed        # pushed and answered
    else:
        assert not placed["deliveries"] and not placed["notifications"]             # it waits to be pulled
        shops.poll()
    reservation = wait_for(lambda: shops.reservation(platform, placed["order_id"]), "the order to be applied")
    assert reservation["status"] == "committed"
    assert shops.stock()["available"] == available - 2
    wait_for(lambda: shops.all_show(available - 2), f"every platform to show {available - 2}")


def test_an_order_updated_twice_inside_one_window_is_applied_once_per_status(shops):
    """Pinduoduo's paid order is pulled; it ships, stamped inside the window the next run reads again from
    before its cursor (the overlap); two more runs read both changes' window again: one commit, one ship."""
    before = shops.stock()
    settle = settle_s("pinduoduo")
    placed = shops.order("pinduoduo", changed_ago_s=settle + 30)
    shops.poll()
    assert shops.reservation("pinduoduo", placed["order_id"])["status"] == "committed"
    paid = shops.stock()
    assert (paid["available"], paid["reserved"], paid["on_hand"]) == \
        (before["available"] - 1, before["reserved"] + 1, before["on_hand"])

    shops.order("pinduoduo", kind="shipped", order_id=placed["order_id"], changed_ago_s=settle + 20)
    for _ in range(2):
        shops.poll()
    assert shops.reservation("pinduoduo", placed["order_id"])["status"] == "shipped"
    shipped = shops.stock()
    assert (shipped["available"], shipped["reserved"], shipped["on_hand"]) == \
        (before["available"] - 1, before["reserved"], before["on_hand"] - 1)
    wait_for(lambda: shops.all_show(shipped["available"]), f"every platform to show {shipped['available']}")


@pytest.mark.parametrize("platform", ["taobao", "amazon"])
def test_a_redelivered_change_is_applied_once(shops, platform):
    """The same change delivered twice (a TMC message and its duplicate; an SQS message Amazon sends again):
    one reservation, the pool lower by the order's units once."""
    available = shops.stock()["available"]
    placed = shops.order(platform)
    again = shops.order(platform, kind="paid", order_id=placed["order_id"])
    if platform == "amazon":
        assert [n["status"] for n in placed["notifications"] + again["notifications"]] == [200, 200]
    shops.poll()
    shops.poll()
    if platform == "amazon":
        wait_for(shops.amazon_queue_empty, "both messages to be taken off the queue")
    wait_for(lambda: shops.reservation(platform, placed["order_id"]), "the order to be applied")
    wait_for(lambda: shops.all_show(available - 1), f"every platform to show {available - 1}")
    assert shops.stock()["available"] == available - 1


def test_the_runtime_hook_wants_the_dev_token_and_a_known_schedule(local_runtime):
    url = f"{local_runtime.url}/_local/schedules/{ORDER_POLL}"
    assert requests.post(url, timeout=30).status_code == 401
    assert requests.post(url, headers={"Authorization": "Bearer not-the-dev-token"}, timeout=30).status_code == 401
    r = requests.post(f"{local_runtime.url}/_local/schedules/no-such-schedule", headers=local_runtime.headers,
                      timeout=30)
    assert r.status_code == 404 and ORDER_POLL in r.json()["message"]
    assert requests.get(url, headers=local_runtime.headers, timeout=30).status_code == 405

"""The outbound policy end to end on moto (issue 14, finding 2: server-side request forgery): a shop whose
stored API URL points inside the network is never called, and what its failure records says why without
quoting any answer."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.apigw import ApiClient, LambdaContext
from tests.integration.conftest import STOREFRONT_TOKEN, as_admin

SKU = "TEE-RED-M"
LAZADA = {"app_key": "100001", "app_secret": "lazada-secret", "access_token": "lazada-token", "seller_id": "1"}
INTERNAL_ANSWER = {"code": "InternalError", "message": "INTERNAL-SECRET ami-0abc123 10.0.3.7:5432 db password"}


class InternalService:
    """Something on this machine or network a seller must not reach through StockLink: it answers every
    request (with `status`, 500 unless a test says otherwise) with a body a port scanner would love to read."""

    def __init__(self):
        self.hits = 0
        self.status = 500
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                outer.hits += 1
                data = json.dumps(INTERNAL_ANSWER).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def internal():
    service = InternalService()
    yield service
    service.server.shutdown()
    service.server.server_close()


@pytest.fixture
def deployed(monkeypatch):
    """A deployed function's environment: no local-runtime loopback flag."""
    from stocklink.config import LOOPBACK_FLAG, settings

    monkeypatch.delenv(LOOPBACK_FLAG, raising=False)
    settings.cache_clear()
    yield
    settings.cache_clear()


def _legacy_shop(platform: str, shop: str, credentials: dict, api_base_url: str) -> None:
    """A shop saved before the policy existed: written straight to the store, as PUT /shops once did."""
    from stocklink import secrets
    from stocklink.store import catalog as store

    name = secrets.shop_secret_name(platform, shop)
    secrets.write_json(name, credentials)
    store.put_shop(platform, shop, {"platform": platform, "shop": shop, "api_base_url": api_base_url,
                                    "secret_name": name, "credential_fields": sorted(credentials),
                                    "max_calls_per_second": None}, 0)


def _push():
    from functions.channel_push.handler import handler
    return handler({"detail-type": "stock.changed", "source": "stocklink", "detail": {"sku": SKU}}, LambdaContext())


@pytest.mark.parametrize("api_base_url", [
    "{internal}/rest",                                    # loopback, where the Lambda runtime API lives
    "https://169.254.169.254/latest/meta-data",           # instance metadata
    "https://api.lazada.evil.example/rest",               # a host that is no Lazada gateway
])
def test_a_sync_to_a_refused_host_never_calls_it_and_echoes_nothing(stocked, deployed, internal, api_base_url):
    from functions.channel_push.handler import SyncIncomplete

    assert stocked.put("/allocation/last-units", {"enabled": False}).status == 200
    _legacy_shop("lazada", "s1", LAZADA, api_base_url.format(internal=internal.url))
    assert stocked.put(f"/listings/lazada/s1/1234567890", {"components": [{"sku": SKU, "qty": 1}],
                                                           "platform_ids": {"item_id": "557711987"}}).status == 200
    with pytest.raises(SyncIncomplete):
        _push()

    assert internal.hits == 0
    (failure,) = stocked.get("/sync/failures").body["failures"]
    assert failure["error"].startswith("refused by the outbound policy")
    assert "INTERNAL-SECRET" not in json.dumps(stocked.get("/sync/failures").body)
    view = stocked.get(f"/skus/{SKU}/channels").body["listings"]
    assert "INTERNAL-SECRET" not in json.dumps(view) and view[0]["status"] == "failed"


def test_an_answer_from_an_allowed_host_is_capped_in_the_failure_text(stocked, internal, monkeypatch):
    """Where a loopback simulator is allowed (the local runtime), its answer is the platform's: kept, but
    one capped line."""
    from functions.channel_push.handler import SyncIncomplete
    from stocklink.config import LOOPBACK_FLAG, settings
    from stocklink.logic.sync import platform_calls

    monkeypatch.setenv(LOOPBACK_FLAG, "1")
    monkeypatch.setattr(platform_calls, "BACKOFF_CAP_S", 0.01)
    settings.cache_clear()
    INTERNAL_ANSWER["message"] = "page\n" + "x" * 5000
    try:
        assert stocked.put("/allocation/last-units", {"enabled": False}).status == 200
        _legacy_shop("lazada", "s1", LAZADA, f"{internal.url}/rest")
        assert stocked.put("/listings/lazada/s1/1234567890", {"components": [{"sku": SKU, "qty": 1}],
                                                              "platform_ids": {"item_id": "557711987"}}).status == 200
        with pytest.raises(SyncIncomplete):
            _push()
    finally:
        INTERNAL_ANSWER["message"] = "INTERNAL-SECRET ami-0abc123 10.0.3.7:5432 db password"
        settings.cache_clear()
    assert internal.hits == platform_calls.MAX_ATTEMPTS
    (failure,) = stocked.get("/sync/failures").body["failures"]
    assert failure["error"].startswith("HTTP 500 InternalError page xxx") and len(failure["error"]) <= 200
    assert "\n" not in failure["error"]


def _lazada_order_webhook(webhooks):
    from stocklink.channels.lazada import push_signature

    raw = json.dumps({"seller_id": "1", "message_type": 0, "timestamp": int(time.time() * 1000), "site": "lazada_my",
                      "data": {
        "trade_order_id": "T1", "trade_order_line_id": "L1", "order_status": "pending"}}).encode()
    return webhooks.call("POST", "/webhooks/lazada/s1", raw=raw,
                         headers={"Authorization": push_signature(LAZADA["app_key"], LAZADA["app_secret"], raw)})


def test_an_order_detail_from_a_refused_host_is_never_fetched(webhooks, deployed, internal):
    _legacy_shop("lazada", "s1", LAZADA, f"{internal.url}/rest")
    answer = _lazada_order_webhook(webhooks)
    assert answer.status >= 500                       # the platform redelivers once the shop is fixed
    assert internal.hits == 0 and "INTERNAL-SECRET" not in json.dumps(answer.body)


def test_an_order_detail_refusal_quoted_in_a_400_is_one_capped_line(webhooks, internal, monkeypatch):
    from stocklink.config import LOOPBACK_FLAG, settings

    monkeypatch.setenv(LOOPBACK_FLAG, "1")             # the local runtime: its simulator is the platform
    settings.cache_clear()
    internal.status = 400
    INTERNAL_ANSWER["message"] = "line1\n" + "y" * 5000
    try:
        _legacy_shop("lazada", "s1", LAZADA, f"{internal.url}/rest")
        answer = _lazada_order_webhook(webhooks)
    finally:
        INTERNAL_ANSWER["message"] = "INTERNAL-SECRET ami-0abc123 10.0.3.7:5432 db password"
        settings.cache_clear()
    assert answer.status == 400 and internal.hits == 1
    message = answer.body["message"]
    assert message.startswith("Lazada order items failed: InternalError line1 yyy")
    assert len(message) <= 200 and "\n" not in message


# --- the API refuses such URLs at once: a 400, nothing stored ------------------------------------------

def _nothing_stored(platform: str, shop: str) -> None:
    import boto3

    scanned = boto3.client("dynamodb").scan(TableName="stocklink-catalog")["Items"]
    assert not [item for item in scanned if shop in json.dumps(item)]
    names = [s["Name"] for s in boto3.client("secretsmanager").list_secrets()["SecretList"]]
    assert f"stocklink/shops/{platform}/{shop}" not in names


@pytest.mark.parametrize("platform, body, field", [
    ("woocommerce", {"api_base_url": "file:///etc/passwd"}, "api_base_url"),
    ("woocommerce", {"api_base_url": "ftp://shop.example.com/"}, "api_base_url"),
    ("woocommerce", {"api_base_url": "http://169.254.169.254/latest/meta-data"}, "api_base_url"),
    ("woocommerce", {"api_base_url": "https://169.254.169.254/latest/meta-data"}, "api_base_url"),
    ("woocommerce", {"api_base_url": "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next"}, "api_base_url"),
    ("woocommerce", {"api_base_url": "https://[::ffff:127.0.0.1]:9001/"}, "api_base_url"),
    ("woocommerce", {"api_base_url": "https://2130706433/"}, "api_base_url"),
    ("woocommerce", {"api_base_url": "https://10.0.0.8/"}, "api_base_url"),
    ("woocommerce", {"api_base_url": "https://100.100.100.200/latest/meta-data"}, "api_base_url"),
    ("shopify", {"api_base_url": "https://evil.example"}, "api_base_url"),
    ("shopify", {"shop_domain": "169.254.169.254"}, "shop_domain"),
    ("shopify", {"shop_domain": "demo.myshopify.com@10.0.0.1"}, "shop_domain"),
    ("lazada", {"api_base_url": "https://api.lazada.evil.example/rest"}, "api_base_url"),
    ("tiktok", {"api_base_url": "http://open-api.tiktokglobalshop.com"}, "api_base_url"),
    # Amazon has an adapter now: its own regional hosts are allowed, anything else is not
    ("amazon", {"api_base_url": "https://sellingpartnerapi-eu.amazon.com.evil.example"}, "api_base_url"),
    ("amazon", {"api_base_url": "http://sellingpartnerapi-eu.amazon.com"}, "api_base_url"),
])
def test_put_shop_with_a_refused_url_is_400_and_stores_nothing(staff, deployed, platform, body, field):
    answer = as_admin(staff).put(f"/shops/{platform}/s9", {"webhook_secret": "whsec", "access_token": "t",
                                                 "consumer_key": "ck", "consumer_secret": "cs", **body})
    assert answer.status == 400, answer.body
    assert answer.body["error"] == "validation_error" and answer.body["field"] == field
    assert answer.body["message"].startswith(f"{field}")
    _nothing_stored(platform, "s9")


def test_put_shop_with_an_allowed_url_is_stored(staff, deployed):
    admin = as_admin(staff)
    assert admin.put("/shops/shopify/s1", {"webhook_secret": "w", "shop_domain": "demo.myshopify.com"}).status == 200
    assert admin.put("/shops/lazada/s1", {**LAZADA, "api_base_url": "https://api.lazada.co.th/rest"}).status == 200
    assert admin.put("/shops/woocommerce/s1", {"consumer_key": "ck", "consumer_secret": "cs",
                                               "api_base_url": "https://shop.example.com"}).status == 200
    assert admin.put("/shops/tiktok/s1", {"app_key": "k", "app_secret": "s"}).status == 200   # the default host


def test_loopback_simulators_are_accepted_in_the_local_runtime_only(staff, deployed, monkeypatch):
    from stocklink.config import LOOPBACK_FLAG, settings

    url = "http://127.0.0.1:8765/woocommerce/s1"
    body = {"consumer_key": "ck", "consumer_secret": "cs", "api_base_url": url}
    assert as_admin(staff).put("/shops/woocommerce/s1", body).status == 400
    monkeypatch.setenv(LOOPBACK_FLAG, "1")
    settings.cache_clear()
    assert as_admin(staff).put("/shops/woocommerce/s1", body).status == 200
    assert as_admin(staff).put("/shops/woocommerce/s2", {**body, "api_base_url": "http://10.0.0.8/"}).status == 400


@pytest.fixture
def subscriptions_api(aws):
    from functions.alerts_api.handler import handler
    from tests.integration.conftest import STAFF_TOKEN

    return as_admin(ApiClient(handler, STAFF_TOKEN))


@pytest.mark.parametrize("protocol, endpoint", [
    ("slack", "file:///etc/passwd"),
    ("slack", "http://169.254.169.254/latest/meta-data"),
    ("slack", "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next"),
    ("slack", "https://hooks.slack.com.evil.example/services/x"),
    ("dingtalk", "https://hooks.slack.com/services/T/B/C"),            # another provider's host
    ("wecom", "https://[::ffff:10.0.0.1]/cgi-bin/webhook/send?key=k"),
    ("feishu", "https://open.feishu.cn@10.0.0.1/open-apis/bot/v2/hook/x"),
])
def test_a_chat_subscription_with_a_refused_endpoint_is_400_and_stores_nothing(subscriptions_api, deployed,
                                                                               protocol, endpoint):
    import boto3

    answer = subscriptions_api.put("/subscriptions/ops", {"protocol": protocol, "endpoint": endpoint})
    assert answer.status == 400 and answer.body["field"] == "endpoint", answer.body
    assert answer.body["message"].startswith("endpoint refused")
    assert subscriptions_api.get("/subscriptions").body["subscriptions"] == []
    names = [s["Name"] for s in boto3.client("secretsmanager").list_secrets()["SecretList"]]
    assert "stocklink/chat/ops" not in names


def test_a_chat_subscription_to_its_providers_host_is_stored(subscriptions_api, deployed):
    answer = subscriptions_api.put("/subscriptions/ops", {
        "protocol": "dingtalk", "secret": "SEC", "endpoint": "https://oapi.dingtalk.com/robot/send?access_token=t"})
    assert answer.status == 200 and answer.body["signed"] is True


# --- only an admin sets credentials and the URLs StockLink calls -----------------------------------------

def test_a_staff_or_storefront_token_may_not_put_a_shop(staff, deployed):
    body = {"webhook_secret": "whsec", "shop_domain": "demo.myshopify.com"}
    for client in (staff, ApiClient(staff.handler, STOREFRONT_TOKEN)):
        answer = client.put("/shops/shopify/s9", body)
        assert answer.status == 403 and answer.body["error"] == "forbidden", answer.body
    _nothing_stored("shopify", "s9")
    assert as_admin(staff).put("/shops/shopify/s9", body).status == 200


def test_a_staff_token_may_not_put_a_subscription_but_may_still_read_and_delete(subscriptions_api, deployed):
    from tests.integration.conftest import STAFF_TOKEN

    staff_alerts = ApiClient(subscriptions_api.handler, STAFF_TOKEN)
    body = {"protocol": "slack", "endpoint": "https://hooks.slack.com/services/T/B/C"}
    answer = staff_alerts.put("/subscriptions/ops", body)
    assert answer.status == 403 and answer.body["error"] == "forbidden"
    assert staff_alerts.get("/subscriptions").body["subscriptions"] == []
    assert subscriptions_api.put("/subscriptions/ops", body).status == 200
    assert staff_alerts.call("DELETE", "/subscriptions/ops").status == 200

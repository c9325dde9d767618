"""The outbound policy end to end on moto (issue 14, finding 2: server-side request forgery): a shop whose
stored API URL points inside the network is never called, and what its failure records says why without
quoting any answer."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.apigw import LambdaContext

SKU = "TEE-RED-M"
LAZADA = {"app_key": "100001", "app_secret": "lazada-secret", "access_token": "lazada-token"}
INTERNAL_ANSWER = {"code": "InternalError", "message": "INTERNAL-SECRET ami-0abc123 10.0.3.7:5432 db password"}


class InternalService:
    """Something on this machine or network a seller must not reach through StockLink: it answers every
    request with a body a port scanner would love to read back."""

    def __init__(self):
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                outer.hits += 1
                data = json.dumps(INTERNAL_ANSWER).encode()
                self.send_response(500)
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

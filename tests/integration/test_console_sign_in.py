"""Console users signed in with Cognito, through the staff API handler on moto: their ID tokens are
accepted beside the machine tokens, with the roles of their groups, and audited under their name. The pool's
key set is served by a stub transport in place of stocklink.outbound.send, which still applies the outbound
policy to the request; answers carry CORS headers for the console's origin only."""
from __future__ import annotations

import importlib

import pytest

from stocklink.outbound_policy import vet_url
from tests.cognito_support import CLIENT_ID, JWKS_URL, POOL_ID, access_token, id_token, jwks
from tests.integration.apigw import ApiClient
from tests.integration.conftest import STAFF_TOKEN

CONSOLE_ORIGIN = "https://d1234abcd.cloudfront.net"


class StubTransport:
    """Stands in for stocklink.outbound.send: vets each request with the real policy, then answers the
    key set for the pool's URL (and counts what was asked)."""

    def __init__(self):
        self.urls = []

    def send(self, request, timeout):
        vet_url(request.url, request.hosts)           # the policy the real transport applies first
        self.urls.append(request.url)
        return (200, {"Content-Type": "application/json"}, jwks()) if request.url == JWKS_URL else (404, {}, b"")


@pytest.fixture
def transport(monkeypatch):
    from stocklink import outbound

    stub = StubTransport()
    monkeypatch.setattr(outbound, "send", stub.send)
    return stub


@pytest.fixture
def staff_api(aws, monkeypatch, transport):
    """The staff API handler as the stack deploys it: pool, client and console origin in its environment
    (the module is re-imported so its resolver is built with them, and again afterwards without)."""
    from functions.staff_api import handler as module
    from stocklink import auth
    from stocklink.config import settings

    monkeypatch.setenv("COGNITO_USER_POOL_ID", POOL_ID)
    monkeypatch.setenv("COGNITO_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("CONSOLE_ORIGIN", CONSOLE_ORIGIN)
    settings.cache_clear()
    auth.forget()
    yield importlib.reload(module).handler
    monkeypatch.undo()
    settings.cache_clear()
    auth.forget()
    importlib.reload(module)


def as_user(handler, username: str, *groups: str, **claims) -> ApiClient:
    return ApiClient(handler, id_token(username=username, groups=list(groups), **claims))


def test_console_users_get_the_roles_of_their_groups(staff_api, transport):
    viewer = as_user(staff_api, "vera@example.com", "viewer")
    staff = as_user(staff_api, "sam@example.com", "staff")
    assert viewer.get("/warehouses").status == 200
    put = viewer.put("/warehouses/wh-a", {"name": "Shenzhen A", "region": "cn-south", "priority": 1})
    assert put.status == 403, put.body
    assert staff.put("/warehouses/wh-a", {"name": "Shenzhen A", "region": "cn-south", "priority": 1}).status == 200
    assert staff.post("/tokens", {"name": "ops", "roles": ["staff"]}).status == 403
    assert transport.urls == [JWKS_URL]                  # one fetch for the container


def test_an_admin_console_user_acts_under_their_own_name(staff_api):
    admin = as_user(staff_api, "carol@example.com", "admin")
    made = admin.post("/tokens", {"name": "warehouse-scanner", "roles": ["staff"]})
    assert made.status == 201, made.body
    assert made.body["created_by"] == "cognito:carol@example.com"
    trail = admin.get("/audit").body["entries"]
    assert trail[0]["actor"] == "cognito:carol@example.com" and trail[0]["method"] == "POST"


@pytest.mark.parametrize("claims", [{"aud": "another-app-client"}, {"token_use": "access"},
                                    {"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"}],
                         ids=["other-client", "access-token", "other-pool"])
def test_other_tokens_are_a_401_like_any_unknown_token(staff_api, claims):
    answer = as_user(staff_api, "mallory", "admin", **claims).get("/warehouses")
    assert answer.status == 401
    assert answer.body == {"error": "unauthorized", "message": "invalid token"}


def test_a_storefront_group_gives_a_person_nothing(staff_api):
    assert as_user(staff_api, "shopfront-person", "storefront").get("/warehouses").status == 401


def test_machine_tokens_work_beside_console_users(staff_api, transport):
    assert ApiClient(staff_api, STAFF_TOKEN).get("/warehouses").status == 200
    assert transport.urls == []                          # no key set fetched for a machine token
    assert ApiClient(staff_api, access_token(groups=["admin"])).get("/warehouses").status == 401


def test_answers_carry_cors_headers_for_the_console_origin_only(staff_api):
    viewer = as_user(staff_api, "vera", "viewer")
    ok = viewer.get("/warehouses", headers={"Origin": CONSOLE_ORIGIN})
    assert ok.headers["Access-Control-Allow-Origin"] == CONSOLE_ORIGIN
    assert "Retry-After" in ok.headers["Access-Control-Expose-Headers"]
    refused = viewer.put("/warehouses/wh-a", {"name": "A", "region": "x", "priority": 1},
                         headers={"Origin": CONSOLE_ORIGIN})
    assert refused.status == 403 and refused.headers["Access-Control-Allow-Origin"] == CONSOLE_ORIGIN
    other = viewer.get("/warehouses", headers={"Origin": "https://evil.example.com"})
    assert other.status == 200 and "Access-Control-Allow-Origin" not in other.headers


def test_without_a_pool_the_local_runtime_refuses_jwts(aws, transport):
    from functions.staff_api.handler import handler

    answer = as_user(handler, "carol", "admin").get("/warehouses")
    assert answer.status == 401 and transport.urls == []

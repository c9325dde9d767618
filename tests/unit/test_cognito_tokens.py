"""Console sign-in (stocklink.cognito): a Cognito ID token of the stack's pool and console client is a
principal with its groups' roles; every other JWT is the same 401. Keys come from a local RSA key set."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from stocklink import cognito
from stocklink.errors import Busy, Unauthorized
from stocklink.outbound_policy import OutboundRefused, check_url
from tests.cognito_support import (
    CLIENT_ID,
    ISSUER,
    JWKS_URL,
    POOL_ID,
    ROTATED_KEY,
    SIGNING_KEY,
    STRANGER_KEY,
    access_token,
    id_token,
    hs256_with_public_key,
    jwks,
    unsigned_token,
)


class KeySetServer:
    """Answers the verifier's key-set requests; counts them; a monotonic clock the test moves."""

    def __init__(self, body: bytes | None = None, status: int = 200):
        self.body, self.status, self.requests, self.now = body or jwks(), status, [], 1000.0

    def fetch(self, request):
        self.requests.append(request)
        return self.status, self.body


@pytest.fixture
def pool():
    return KeySetServer()


@pytest.fixture
def verifier(pool):
    return cognito.CognitoVerifier(POOL_ID, CLIENT_ID, fetch=pool.fetch, clock=lambda: pool.now)


def refused(verifier, token):
    with pytest.raises(Unauthorized) as caught:
        verifier.principal(token)
    assert caught.value.message == "invalid token"       # one text for every reason
    return caught.value


def test_valid_id_token_is_the_user_with_the_roles_of_their_groups(verifier, pool):
    who = verifier.principal(id_token(username="alice", groups=["staff"]))
    assert who.name == "cognito:alice" and who.roles == {"staff"}
    both = verifier.principal(id_token(username="bob", groups=["viewer", "admin"]))
    assert both.roles == {"viewer", "admin"}
    assert verifier.principal(id_token(username="bo", groups=["buyer"])).roles == {"buyer"}
    assert [r.url for r in pool.requests] == [JWKS_URL]          # one fetch serves every token


def test_sub_names_the_user_when_there_is_no_username(verifier):
    token = id_token(username=None, sub="0f1e2d3c-aaaa-bbbb-cccc-0123456789ab")
    assert verifier.principal(token).name == "cognito:0f1e2d3c-aaaa-bbbb-cccc-0123456789ab"


def test_groups_that_are_not_person_roles_are_ignored(verifier):
    assert verifier.principal(id_token(groups=["staff", "storefront", "warehouse-leads"])).roles == {"staff"}


@pytest.mark.parametrize("groups", [["storefront"], ["warehouse-leads"], [], None, "admin"],
                         ids=["storefront", "other", "none", "absent", "not-a-list"])
def test_a_user_in_no_role_group_is_refused(verifier, groups):
    refused(verifier, id_token(groups=groups))


def test_wrong_signature_is_refused(verifier):
    # same kid, another key: the signature does not verify with the pool's key
    refused(verifier, id_token(key=STRANGER_KEY))
    genuine = id_token()
    head, payload, signature = genuine.split(".")
    tampered = id_token(groups=["admin"]).split(".")[1]
    refused(verifier, f"{head}.{tampered}.{signature}")


@pytest.mark.parametrize("claims", [
    {"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_OtherPool"},
    {"iss": ISSUER + "/"},
    {"iss": None},
    {"aud": "another-app-client"},
    {"aud": None},
    {"aud": [CLIENT_ID, "another-app-client"]},
    {"token_use": "access"},
    {"token_use": None},
    {"token_use": ["id"]},
    {"exp": int(time.time()) - 3600},
    {"exp": None},
    {"exp": "tomorrow"},
    {"nbf": int(time.time()) + 3600},
    {"iat": int(time.time()) + 3600},
    {"username": None, "sub": None},
    {"username": "x" * 500},
    {"username": "carol\nadmin"},
], ids=["other-pool", "issuer-suffix", "no-issuer", "other-client", "no-audience", "shared-audience",
        "access-token-use", "no-token-use", "token-use-list", "expired", "no-exp", "exp-not-a-number",
        "not-yet-valid", "issued-in-future", "no-user", "username-too-long", "username-control-chars"])
def test_claims_other_than_the_pool_and_console_client_are_refused(verifier, claims):
    refused(verifier, id_token(**claims))


def test_an_access_token_of_the_same_pool_and_client_is_refused(verifier):
    refused(verifier, access_token(groups=["admin"]))


def test_clock_skew_within_the_leeway_is_tolerated(verifier):
    now = int(time.time())
    assert verifier.principal(id_token(exp=now - 5, iat=now + 5)).name == "cognito:alice"


@pytest.mark.parametrize("forge", [unsigned_token, hs256_with_public_key], ids=["alg-none", "hs256-confusion"])
def test_algorithm_confusion_is_refused(verifier, pool, forge):
    refused(verifier, forge(groups=["admin"]))
    assert pool.requests == []           # refused on the header: no key is even looked up


@pytest.mark.parametrize("token", ["a.b.c", "....", "e30.e30.", "x" * 9000 + ".a.b", "é.é.é"])
def test_malformed_tokens_are_refused(verifier, token):
    refused(verifier, token)


def test_unknown_kid_refetches_at_most_once_a_minute_and_accepts_rotated_keys(verifier, pool):
    assert verifier.principal(id_token()).roles == {"staff"}
    assert len(pool.requests) == 1
    pool.now += 61
    refused(verifier, id_token(key=ROTATED_KEY))           # not published yet: one refresh, still unknown
    assert len(pool.requests) == 2
    pool.body = jwks(SIGNING_KEY, ROTATED_KEY)                  # Cognito publishes the new key
    pool.now += 30
    refused(verifier, id_token(key=ROTATED_KEY))           # within the minute: no fetch
    assert len(pool.requests) == 2
    pool.now += 31
    assert verifier.principal(id_token(key=ROTATED_KEY)).name == "cognito:alice"
    assert len(pool.requests) == 3
    assert verifier.principal(id_token()).name == "cognito:alice"   # the old key still in the set


def test_a_flood_of_made_up_kids_fetches_nothing_more(verifier, pool):
    verifier.principal(id_token())
    for n in range(20):
        refused(verifier, id_token(header={"kid": f"made-up-{n}"}))
    assert len(pool.requests) == 1


@pytest.mark.parametrize("status, body", [(0, b"ConnectionRefusedError"), (500, b"oops"), (200, b"<html>"),
                                          (200, b'{"keys": []}'), (200, b'{"keys": [{"kty": "oct"}]}')],
                         ids=["network", "http-500", "not-json", "empty", "no-rsa"])
def test_keys_that_cannot_be_fetched_are_a_503_to_retry_not_a_sign_out(pool, verifier, status, body):
    pool.status, pool.body = status, body
    with pytest.raises(Busy) as caught:
        verifier.principal(id_token())
    assert caught.value.status == 503 and caught.value.headers()["Retry-After"]
    pool.status, pool.body = 200, jwks()
    with pytest.raises(Busy):
        verifier.principal(id_token())          # not retried at once
    pool.now += cognito.RETRY_AFTER_FAILURE_S
    assert verifier.principal(id_token()).roles == {"staff"}


def test_refused_outbound_call_is_a_503_too(pool, verifier):
    def refuse(_request):
        raise OutboundRefused("host resolves to a private address")
    verifier._fetch = refuse
    with pytest.raises(Busy):
        verifier.principal(id_token())


def test_the_key_set_request_may_reach_only_the_pools_cognito_host(verifier):
    request = verifier.request
    assert request.method == "GET" and request.url == JWKS_URL
    assert check_url(request.url, request.hosts, loopback_allowed=False).host == "cognito-idp.eu-west-1.amazonaws.com"
    for elsewhere in ("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X/.well-known/jwks.json",
                      "https://evil.example.com/.well-known/jwks.json",
                      "https://cognito-idp.eu-west-1.amazonaws.com.evil.example/jwks.json",
                      "http://cognito-idp.eu-west-1.amazonaws.com/jwks.json",
                      "https://169.254.169.254/latest/meta-data/"):
        with pytest.raises(OutboundRefused):
            check_url(elsewhere, request.hosts, loopback_allowed=False)


def test_the_token_decides_nothing_about_where_keys_come_from(verifier, pool):
    """iss and jku in a token are not followed: the key-set URL comes from the configuration only."""
    refused(verifier, id_token(header={"jku": "https://evil.example.com/jwks.json"},
                                   iss="https://evil.example.com/pool"))
    assert {r.url for r in pool.requests} == {JWKS_URL}


@pytest.mark.parametrize("pool_id, client", [("", CLIENT_ID), (POOL_ID, ""), ("not-a-pool", CLIENT_ID),
                                             ("eu-west-1_x/../y", CLIENT_ID)])
def test_a_verifier_needs_a_real_pool_id_and_client(pool_id, client):
    with pytest.raises(ValueError):
        cognito.CognitoVerifier(pool_id, client)


def test_refusals_are_logged_with_a_reason_and_never_the_token(verifier, monkeypatch):
    lines = []
    monkeypatch.setattr(cognito, "logger", type("Recorder", (), {
        "info": lambda self, msg, extra=None: lines.append((msg, extra)),
        "warning": lambda self, msg, extra=None: lines.append((msg, extra))})())
    token = id_token(aud="another-app-client")
    refused(verifier, token)
    assert lines == [("Cognito token refused", {"reason": "issued to another app client"})]
    signature = token.rsplit(".", 1)[1]
    assert all(signature not in str(line) for line in lines)


# --- through stocklink.auth ------------------------------------------------------------------------------

@pytest.fixture
def environment(monkeypatch):
    from stocklink import auth
    from stocklink.config import settings

    def configure(**env):
        for name in ("COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings.cache_clear()
        auth.forget()
    yield configure
    settings.cache_clear()
    cognito.forget()


def test_without_a_pool_in_the_environment_a_jwt_is_an_unknown_token(environment):
    from stocklink import auth

    environment()
    with pytest.raises(Unauthorized) as caught:
        auth.identify(f"Bearer {id_token(groups=['admin'])}")
    assert caught.value.message == "invalid token"


def test_auth_sends_jwts_to_the_configured_pool_through_the_outbound_transport(environment, monkeypatch):
    from stocklink import auth, outbound

    environment(COGNITO_USER_POOL_ID=POOL_ID, COGNITO_CLIENT_ID=CLIENT_ID)
    sent = []

    def transport(request, timeout):
        sent.append((request.url, timeout))
        return 200, {"Content-Type": "application/json"}, jwks()
    monkeypatch.setattr(outbound, "send", transport)
    who = auth.identify(f"Bearer {id_token(username='carol', groups=['admin'])}")
    assert who.name == "cognito:carol" and who.roles == {"admin"}
    auth.authorize(who, "admin")
    with pytest.raises(Unauthorized):
        auth.identify(f"Bearer {id_token(aud='another-app-client')}")
    assert sent == [(JWKS_URL, cognito.JWKS_TIMEOUT_S)]


def test_machine_token_path_never_imports_the_jwt_library():
    code = ("import sys; import functions.staff_api.handler, stocklink.auth; "
            "print('joserfc' in sys.modules, 'stocklink.cognito' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={"PYTHONPATH": ":".join(sys.path), "AWS_DEFAULT_REGION": "us-east-1",
                              "POWERTOOLS_METRICS_NAMESPACE": "StockLink", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]

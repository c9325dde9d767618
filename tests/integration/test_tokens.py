"""API tokens (finding 10): made by an admin and shown once, stored only as a hash, listed without secret
material, revoked within the lookup cache's period, and the bootstrap token of the secret retirable."""
from __future__ import annotations

import hashlib
import json

import boto3
import pytest

from tests.integration.apigw import ApiClient
from tests.integration.conftest import ADMIN_TOKEN, STAFF_TOKEN, STOREFRONT_TOKEN

BOOTSTRAP_TOKEN = "bootstrap-token-from-the-stack"


@pytest.fixture
def admin(aws) -> ApiClient:
    from functions.staff_api.handler import handler
    return ApiClient(handler, ADMIN_TOKEN)


def as_token(client: ApiClient, token: str) -> ApiClient:
    return ApiClient(client.handler, token)


def scan(logical: str) -> list[dict]:
    from stocklink.config import table_name
    return boto3.client("dynamodb").scan(TableName=table_name(logical))["Items"]


@pytest.fixture
def clock(monkeypatch):
    """One controllable clock for the lookup cache (monotonic seconds) and wall time (ms)."""
    from stocklink import auth

    now = {"s": 1000.0}
    monkeypatch.setattr(auth._lookups, "clock", lambda: now["s"])
    monkeypatch.setattr(auth, "now_ms", lambda: int(now["s"] * 1000) + 1_765_000_000_000)
    return now


def test_create_use_list_delete_and_no_secret_material_anywhere(admin):
    made = admin.post("/tokens", {"name": "ops-laptop", "roles": ["staff"]})
    assert made.status == 201, made.body
    token = made.body["token"]
    assert len(token) >= 43                      # 32 random bytes, base64url
    assert made.body["name"] == "ops-laptop" and made.body["roles"] == ["staff"]
    assert made.body["created_by"] == "root" and made.body["source"] == "api"
    assert "token_hash" not in made.body

    ops = as_token(admin, token)
    assert ops.put("/warehouses/wh-a", {"name": "A"}).status == 200
    assert ops.post("/tokens", {"name": "more", "roles": ["admin"]}).status == 403   # staff cannot mint

    listed = admin.get("/tokens")
    assert listed.status == 200
    (record,) = [t for t in listed.body["tokens"] if t["name"] == "ops-laptop"]
    assert record["roles"] == ["staff"] and record["created_by"] == "root"
    assert record["created_at"] and record["last_used_at"]
    digest = hashlib.sha256(token.encode()).hexdigest()
    for answer in (made.body, listed.body):
        text = json.dumps(answer)
        assert digest not in text and "token_hash" not in text
    assert token not in json.dumps(listed.body)

    # the table holds the hash (twice: by name, by hash) and never the token
    items = scan("tokens")
    assert len(items) == 2
    dumped = json.dumps(items)
    assert token not in dumped and digest in dumped

    deleted = admin.delete("/tokens/ops-laptop")
    assert deleted.status == 200 and deleted.body["revoked"] is True
    assert ops.get("/warehouses").status == 401          # at once in the container that revoked it
    assert scan("tokens") == []
    assert admin.delete("/tokens/ops-laptop").status == 404


def test_a_name_with_an_at_sign_is_revoked_by_its_encoded_path(admin):
    assert admin.post("/tokens", {"name": "pos@shop-1", "roles": ["storefront"]}).status == 201
    assert admin.delete("/tokens/pos%40shop-1").status == 200
    assert admin.get("/tokens").body["tokens"] == []


def test_token_limits_reach_the_principal(admin):
    from stocklink import auth

    made = admin.post("/tokens", {"name": "pos-1", "roles": ["storefront"], "max_open_holds": 5,
                                  "max_hold_seconds": 600})
    assert made.status == 201
    who = auth.identify(f"Bearer {made.body['token']}")
    assert (who.name, who.roles, who.max_open_holds, who.max_hold_seconds) == (
        "pos-1", frozenset({"storefront"}), 5, 600)
    assert auth.identify(f"Bearer {ADMIN_TOKEN}").max_open_holds is None


def test_a_revocation_elsewhere_is_honoured_within_the_cache_period(admin, clock):
    from stocklink import auth
    from stocklink.store import tokens as store

    token = admin.post("/tokens", {"name": "kiosk", "roles": ["staff"]}).body["token"]
    kiosk = as_token(admin, token)
    assert kiosk.get("/warehouses").status == 200        # looked up and cached at t = 1000 s
    # another container deletes it: this one's cache still holds it...
    assert store.delete("kiosk", hashlib.sha256(token.encode()).hexdigest())
    clock["s"] += auth.TOKEN_CACHE_SECONDS - 0.1
    assert kiosk.get("/warehouses").status == 200
    # ...for at most TOKEN_CACHE_SECONDS
    clock["s"] += 0.1
    assert kiosk.get("/warehouses").status == 401


def test_a_new_token_works_at_once_even_after_a_miss(admin, clock):
    from stocklink import auth
    from stocklink.store import tokens as store

    assert as_token(admin, "not-yet-a-token").get("/warehouses").status == 401
    store.create("late", hashlib.sha256(b"not-yet-a-token").hexdigest(), ["viewer"], max_open_holds=None,
                 max_hold_seconds=None, created_by="root", now_ms=1)
    clock["s"] += auth.MISS_CACHE_SECONDS               # a miss is kept a second at most
    assert as_token(admin, "not-yet-a-token").get("/warehouses").status == 200


@pytest.mark.parametrize("role", ["viewer", "staff", "storefront"])
def test_only_admins_manage_tokens(admin, role):
    token = admin.post("/tokens", {"name": f"a-{role}", "roles": [role]}).body["token"]
    other = as_token(admin, token)
    assert other.post("/tokens", {"name": "x", "roles": ["admin"]}).status == 403
    assert other.get("/tokens").status == 403
    assert other.delete("/tokens/root").status == 403
    assert other.delete(f"/tokens/a-{role}").status == 403
    assert other.get("/audit").status == 403
    assert [t["name"] for t in admin.get("/tokens").body["tokens"]] == [f"a-{role}"]


def test_staff_and_storefront_tokens_of_the_secret_cannot_manage_tokens(admin):
    for token in (STAFF_TOKEN, STOREFRONT_TOKEN):
        assert as_token(admin, token).post("/tokens", {"name": "x", "roles": ["admin"]}).status == 403
    assert scan("tokens") == []


def _with_bootstrap(token: str) -> None:
    from stocklink import secrets

    sm = boto3.client("secretsmanager")
    value = json.loads(sm.get_secret_value(SecretId="stocklink/api-tokens")["SecretString"])
    sm.put_secret_value(SecretId="stocklink/api-tokens", SecretString=json.dumps({**value, "bootstrap": token}))
    secrets.forget()


def test_the_bootstrap_token_can_be_retired(admin):
    _with_bootstrap(BOOTSTRAP_TOKEN)
    bootstrap = as_token(admin, BOOTSTRAP_TOKEN)
    assert bootstrap.get("/tokens").status == 200
    # the first admin makes their own admin token, then retires the bootstrap one with it
    mine = as_token(admin, bootstrap.post("/tokens", {"name": "first-admin", "roles": ["admin"]}).body["token"])
    retired = mine.delete("/tokens/bootstrap")
    assert retired.status == 200 and retired.body["source"] == "secret"
    assert bootstrap.get("/tokens").status == 401
    assert bootstrap.get("/warehouses").status == 401
    listed = {t["name"]: t for t in mine.get("/tokens").body["tokens"]}
    assert listed["bootstrap"]["retired_at"] and listed["bootstrap"]["retired_by"] == "first-admin"
    assert mine.delete("/tokens/bootstrap").status == 404
    # the name stays taken, and the secret's value never reached the table
    assert mine.post("/tokens", {"name": "bootstrap", "roles": ["admin"]}).status == 409
    assert BOOTSTRAP_TOKEN not in json.dumps(scan("tokens"))


def test_a_retirement_elsewhere_is_honoured_within_the_cache_period(admin, clock):
    from stocklink import auth
    from stocklink.store import tokens as store

    staff = as_token(admin, STAFF_TOKEN)
    assert staff.get("/warehouses").status == 200
    assert store.retire_secret_token("alice", ["staff"], "root", 1)      # another container retires it
    clock["s"] += auth.TOKEN_CACHE_SECONDS
    assert staff.get("/warehouses").status == 401


def test_names_are_unique_including_the_secrets(admin):
    assert admin.post("/tokens", {"name": "pos", "roles": ["storefront"]}).status == 201
    again = admin.post("/tokens", {"name": "pos", "roles": ["admin"]})
    assert again.status == 409 and again.body["error"] == "already_exists"
    assert admin.post("/tokens", {"name": "alice", "roles": ["staff"]}).status == 409   # a secret token's name
    assert len(scan("tokens")) == 2
    (record,) = admin.get("/tokens").body["tokens"]
    assert record["roles"] == ["storefront"]


@pytest.mark.parametrize("body", [
    {},
    {"name": "x"},
    {"name": "x", "roles": []},
    {"name": "x", "roles": ["root"]},
    {"name": "x", "roles": ["staff", "staff"]},
    {"name": "a/b", "roles": ["staff"]},
    {"name": "a b", "roles": ["staff"]},
    {"name": "x" * 65, "roles": ["staff"]},
    {"name": "x", "roles": ["staff"], "max_open_holds": 0},
    {"name": "x", "roles": ["staff"], "max_open_holds": -1},
    {"name": "x", "roles": ["staff"], "max_hold_seconds": "60"},
    {"name": "x", "roles": ["staff"], "max_hold_seconds": 1.5},
    {"name": "x", "roles": ["staff"], "token": "chosen-by-me"},
    {"name": "x", "roles": "staff"},
])
def test_bad_input_is_a_400_and_writes_nothing(admin, body):
    answer = admin.post("/tokens", body)
    assert answer.status == 400, answer.body
    assert answer.body["error"] == "validation_error"
    assert scan("tokens") == []


def test_not_json_is_a_400(admin):
    assert admin.post("/tokens", raw=b"{not json").status == 400
    assert scan("tokens") == []


def test_last_used_is_written_at_most_once_a_minute(admin, clock):
    from stocklink import auth

    token = admin.post("/tokens", {"name": "busy", "roles": ["viewer"]}).body["token"]
    busy = as_token(admin, token)
    writes = []
    real = auth.token_store.mark_used

    def counting(name, now_ms, every_ms):
        written = real(name, now_ms, every_ms)
        writes.append(written)
        return written

    auth.token_store.mark_used = counting
    try:
        for _ in range(5):
            assert busy.get("/warehouses").status == 200
            clock["s"] += 10                            # 5 requests over 50 s: one write
        assert writes == [True]
        first = _last_used(admin, "busy")
        clock["s"] += 10                                # 60 s after the first
        busy.get("/warehouses")
        assert writes == [True, True] and _last_used(admin, "busy") == first + 60_000
        # another container that has not written yet: its try is refused by the condition
        auth._used_at.clear()
        clock["s"] += 1
        busy.get("/warehouses")
        assert writes == [True, True, False] and _last_used(admin, "busy") == first + 60_000
    finally:
        auth.token_store.mark_used = real


def _last_used(admin: ApiClient, name: str) -> int:
    (record,) = [t for t in admin.get("/tokens").body["tokens"] if t["name"] == name]
    return record["last_used_at"]


def test_token_list_pages(admin):
    for n in range(5):
        assert admin.post("/tokens", {"name": f"t{n}", "roles": ["viewer"]}).status == 201
    first = admin.get("/tokens", query={"limit": "2"})
    assert [t["name"] for t in first.body["tokens"]] == ["t0", "t1"] and first.body["next"]
    rest = admin.get("/tokens", query={"limit": "10", "cursor": first.body["next"]})
    assert [t["name"] for t in rest.body["tokens"]] == ["t2", "t3", "t4"]
    assert admin.get("/tokens", query={"cursor": "bogus!"}).status == 400
    assert admin.get("/tokens", query={"limit": "0"}).status == 400


def test_me_names_the_caller_and_its_roles_and_nothing_else(admin):
    from tests.integration.conftest import BUYER_TOKEN
    made = admin.post("/tokens", {"name": "viewer-1", "roles": ["viewer"]}).body
    assert as_token(admin, made["token"]).get("/me").body == {"name": "viewer-1", "roles": ["viewer"]}
    assert as_token(admin, BUYER_TOKEN).get("/me").body["roles"] == ["buyer"]
    assert as_token(admin, STOREFRONT_TOKEN).get("/me").body["roles"] == ["storefront"]
    assert as_token(admin, "no-such-token").get("/me").status == 401


def test_the_last_admin_token_cannot_be_revoked(admin):
    """Without an admin token nobody could make or revoke tokens again: the last one is refused (409)."""
    ops = as_token(admin, admin.post("/tokens", {"name": "ops", "roles": ["admin"]}).body["token"])
    assert ops.delete("/tokens/root").status == 200                  # the secret's admin, retired
    refused = ops.delete("/tokens/ops")
    assert refused.status == 409 and refused.body["error"] == "last_admin", refused.body
    assert ops.get("/tokens").status == 200                          # still works, still listed
    assert "ops" in {t["name"] for t in ops.get("/tokens").body["tokens"]}
    assert ops.post("/tokens", {"name": "ops-2", "roles": ["admin", "staff"]}).status == 201
    assert ops.delete("/tokens/ops").status == 200                   # another admin exists now
    assert as_token(admin, "x").delete("/tokens/ops-2").status == 401

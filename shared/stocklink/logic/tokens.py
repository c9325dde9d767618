"""API tokens: create (the value is shown once), list (never a value or hash), revoke or retire."""
from __future__ import annotations

from stocklink import auth
from stocklink.domain.requests import TokenIn
from stocklink.domain.tokens import new_token, token_hash
from stocklink.errors import AlreadyExists, LastAdmin, NotFound
from stocklink.logic import audit
from stocklink.logic.paging import PageRequest
from stocklink.store import tokens as store

_PUBLIC = ("name", "source", "roles", "max_open_holds", "max_hold_seconds", "created_at", "created_by",
           "last_used_at", "retired_at", "retired_by")


def public(record: dict) -> dict:
    """What may be shown of a token record: everything but its hash."""
    return {key: record.get(key) for key in _PUBLIC}


def create_token(body: TokenIn, actor: str, now_ms: int) -> dict:
    """A new token with a unique name; its value is in this answer only (201)."""
    if body.name in auth.secret_token_names():
        raise AlreadyExists(f"token name {body.name} is taken (by the bootstrap secret)", name=body.name)
    token = new_token()
    if not store.create(body.name, token_hash(token), body.roles, max_open_holds=body.max_open_holds,
                        max_hold_seconds=body.max_hold_seconds, created_by=actor, now_ms=now_ms):
        raise AlreadyExists(f"token name {body.name} is taken", name=body.name)
    created = {"name": body.name, "source": store.SOURCE_API, "roles": body.roles, "created_at": now_ms,
               "created_by": actor, "max_open_holds": body.max_open_holds, "max_hold_seconds": body.max_hold_seconds}
    return {**public(created), "token": token}


def list_tokens(page: PageRequest) -> dict:
    found = store.page(page.limit, page.cursor)
    return {"tokens": [public(record) for record in found.items], "next": found.next}


def _admin_tokens() -> set[str]:
    """Names of the tokens that can act as admin now: API tokens with the role, and the secret's tokens
    with the role that are not retired."""
    records, cursor = [], None
    while True:
        found = store.page(100, cursor)
        records += found.items
        cursor = found.next
        if not cursor:
            break
    retired = {r["name"] for r in records if r["source"] == store.SOURCE_SECRET and r.get("retired_at")}
    admins = {r["name"] for r in records if r["source"] == store.SOURCE_API and "admin" in (r.get("roles") or [])}
    return admins | {n for n, roles in auth.secret_token_names().items() if "admin" in roles and n not in retired}


def revoke(name: str, actor: str, now_ms: int) -> dict:
    """Delete a token made here, or retire one of the secret's (the bootstrap admin token). Either stops
    working at once in this container and within auth.TOKEN_CACHE_SECONDS everywhere. The last admin token
    is refused (409): without one, no token could be made or revoked again. (Two admins revoking each
    other's tokens at the same instant can still both succeed; the bootstrap secret can then be given a
    new token.)"""
    admins = _admin_tokens()
    if name in admins and admins == {name}:
        raise LastAdmin(f"token {name} is the last admin token: create another admin token first", name=name)
    record = store.by_name(name)
    if record is not None and record["source"] == store.SOURCE_API:
        audit.note_before(public(record))
        if not store.delete(name, record["token_hash"]):
            raise NotFound(f"token {name} not found", name=name)
        auth.forget(digest=record["token_hash"])
        return {"name": name, "revoked": True, "revoked_at": now_ms}
    secret_roles = auth.secret_token_names().get(name)
    if record is None and secret_roles is not None:
        audit.note_before({"name": name, "source": store.SOURCE_SECRET, "roles": secret_roles})
        if store.retire_secret_token(name, secret_roles, actor, now_ms):
            auth.forget(name=name)
            return {"name": name, "revoked": True, "retired_at": now_ms, "source": store.SOURCE_SECRET}
    raise NotFound(f"token {name} not found" + (" (already retired)" if record is not None else ""), name=name)

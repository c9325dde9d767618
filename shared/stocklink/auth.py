"""Bearer tokens for the staff and storefront APIs.

Machine tokens come from two sources, looked up in this order:
1. The tokens table (POST /tokens): only the SHA-256 of each token is stored (stocklink.domain.tokens says
   why that is enough); a request's token is found by its hash.
2. The Secrets Manager secret {"tokens": {"<token>": {"name", "roles", "max_open_holds"?, "max_hold_seconds"?}},
   "bootstrap": "<token>"}: the bootstrap source. The deployed stack generates one admin token there
   ("bootstrap") so the first admin can get in; the local runtime keeps its dev token there and tests their
   named tokens. Nothing writes tokens to it any more. Each of its tokens can be retired (DELETE /tokens/{name} records a retirement
   in the tokens table), after which it is refused like an unknown one.
A console user's Cognito ID token (a JWT: three dot-separated parts; machine tokens are base64url and never
contain a dot) is verified by stocklink.cognito instead, imported only then; it is never looked up in 1 or 2.
Cognito ID tokens expire within the hour (the app client's ID-token validity) and are not revocable here.

Revocation bound: lookups are cached per container for TOKEN_CACHE_SECONDS (hits and retirements) and
MISS_CACHE_SECONDS (unknown tokens), so a revoked or retired token stops working everywhere within
TOKEN_CACHE_SECONDS, and at once in the container that revoked it; a new token works at once (nobody
presents a token before it exists, and a miss is kept only a second anyway). The secret itself is
cached per container for 60 s (stocklink.secrets), which bounds only edits of the secret.
"""
from __future__ import annotations

import hmac
import sys
from dataclasses import dataclass

from stocklink import secrets
from stocklink.config import settings
from stocklink.domain.tokens import LAST_USED_EVERY_MS, token_hash
from stocklink.errors import Forbidden, Unauthorized
from stocklink.observability import logger
from stocklink.store import tokens as token_store
from stocklink.time import now_ms
from stocklink.ttl_cache import TtlCache

# Which roles may use which route group; admin may use all. "admin" routes set credentials and the URLs
# StockLink will call (PUT /shops, PUT /subscriptions) and manage tokens and the audit trail: a staff token
# cannot point StockLink elsewhere or mint itself more rights. A buyer manages suppliers ("buying") and
# reads what a viewer reads (stock, forecasts, replenishment: what buying is decided from) but reservations.
# PUT /skus/{sku}/supplier ("supplier_terms") came before suppliers and buyers: staff keep it, so what
# already set a SKU's supplier goes on working; buyers have it too.
ROUTE_ROLES = {
    "admin": {"admin"},
    "staff": {"admin", "staff"},
    "staff_read": {"admin", "staff", "viewer", "buyer"},
    "buying": {"admin", "buyer"},
    "supplier_terms": {"admin", "staff", "buyer"},
    "storefront": {"admin", "storefront"},
    "reservation_read": {"admin", "staff", "viewer", "storefront"},   # staff see all, a storefront its own
    "self": {"admin", "staff", "viewer", "buyer", "storefront"},      # GET /me: who the caller is, nothing else
}
BOOTSTRAP = "bootstrap"
TOKEN_CACHE_SECONDS = 5.0
MISS_CACHE_SECONDS = 1.0
_CACHE_ENTRIES = 4096              # bounds memory under a flood of made-up tokens


@dataclass(frozen=True)
class Principal:
    name: str
    roles: frozenset[str]
    # per-token reservation limits (None: the service's defaults)
    max_open_holds: int | None = None
    max_hold_seconds: int | None = None

    @property
    def reads_everything(self) -> bool:
        return bool(self.roles & ROUTE_ROLES["staff_read"])


def _positive(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


_lookups = TtlCache(TOKEN_CACHE_SECONDS, max_entries=_CACHE_ENTRIES)
_used_at: dict[str, int] = {}      # token name -> when this container last wrote its last_used_at (ms)


def authenticate(authorization: str | None, route_group: str) -> Principal:
    who = identify(authorization)
    authorize(who, route_group)
    return who


def identify(authorization: str | None) -> Principal:
    """The principal of an `Authorization: Bearer <token>` header; Unauthorized (one text for every
    reason) otherwise."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("missing Authorization: Bearer <token>")
    presented = authorization[7:].strip()
    if not presented:
        raise Unauthorized("invalid token")
    if presented.count(".") == 2:
        from stocklink import cognito   # lazily: the machine-token path's cold start stays as it was
        return cognito.principal(presented)
    digest = token_hash(presented)
    found = _lookups.get(("hash", digest), lambda: token_store.by_hash(digest), none_seconds=MISS_CACHE_SECONDS)
    if found is not None:
        _note_use(found["name"])
        return Principal(found["name"], frozenset(found["roles"]), found.get("max_open_holds"),
                         found.get("max_hold_seconds"))
    who = _from_secret(presented)
    if who is None or _retired(who.name):
        raise Unauthorized("invalid token")
    return who


def authorize(who: Principal, route_group: str) -> None:
    if not who.roles & ROUTE_ROLES[route_group]:
        raise Forbidden(f"token {who.name} may not use {route_group} routes")


def secret_tokens() -> dict[str, dict]:
    """The secret's tokens by token value: {"name", "roles"} each, the bootstrap one as an admin token."""
    stored = secrets.read_json(settings().api_tokens_secret) or {}
    tokens = dict(stored.get("tokens") or {})
    if stored.get(BOOTSTRAP):
        tokens[stored[BOOTSTRAP]] = {"name": BOOTSTRAP, "roles": ["admin"]}
    return tokens


def secret_token_names() -> dict[str, list[str]]:
    """Name -> roles of the secret's tokens (no values)."""
    return {info.get("name", "unknown"): list(info.get("roles", [])) for info in secret_tokens().values()}


def _from_secret(presented: str) -> Principal | None:
    principal = None
    for token, info in secret_tokens().items():
        # compare against every token so timing does not reveal which prefix matched
        if hmac.compare_digest(token.encode("utf-8", "surrogatepass"), presented.encode("utf-8", "surrogatepass")):
            principal = Principal(info.get("name", "unknown"), frozenset(info.get("roles", [])),
                                  _positive(info.get("max_open_holds")), _positive(info.get("max_hold_seconds")))
    return principal


def _retired(name: str) -> bool:
    def load() -> bool:
        record = token_store.by_name(name)
        return bool(record and record["source"] == token_store.SOURCE_SECRET and record["retired_at"])

    return _lookups.get(("retired", name), load)


def _note_use(name: str) -> None:
    """Record the token's use at most once a minute: this container tries only when its own last write is
    a minute old, and the conditional update refuses if another container wrote within the minute. A
    failure here never fails the request."""
    now = now_ms()
    if now - _used_at.get(name, -LAST_USED_EVERY_MS) < LAST_USED_EVERY_MS:
        return
    _used_at[name] = now
    try:
        token_store.mark_used(name, now, LAST_USED_EVERY_MS)
    except Exception:  # noqa: BLE001 - bookkeeping only
        logger.exception("could not record token use", extra={"token_name": name})


def forget(digest: str | None = None, name: str | None = None) -> None:
    """Drop this container's cached lookups of a revoked token (or everything, with no arguments)."""
    if digest is None and name is None:
        _lookups.forget()
        _used_at.clear()
        cognito = sys.modules.get("stocklink.cognito")    # only if a JWT ever loaded it
        if cognito is not None:
            cognito.forget()
        return
    if digest is not None:
        _lookups.forget(("hash", digest))
    if name is not None:
        _lookups.forget(("retired", name))

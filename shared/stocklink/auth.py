"""Bearer tokens for the staff and storefront APIs, kept in one Secrets Manager secret:
{"tokens": {"<token>": {"name": "...", "roles": ["admin" | "staff" | "storefront" | "viewer"],
                         "max_open_holds": n?, "max_hold_seconds": s?}},
 "bootstrap": "<generated admin token, optional>"}."""
from __future__ import annotations

import hmac
from dataclasses import dataclass

from stocklink import secrets
from stocklink.config import settings
from stocklink.errors import Forbidden, Unauthorized

# Which roles may use which route group; admin may use all. "admin" routes set credentials and the URLs
# StockLink will call (PUT /shops, PUT /subscriptions): a staff token cannot point StockLink elsewhere.
ROUTE_ROLES = {
    "admin": {"admin"},
    "staff": {"admin", "staff"},
    "staff_read": {"admin", "staff", "viewer"},
    "storefront": {"admin", "storefront"},
    "reservation_read": {"admin", "staff", "viewer", "storefront"},   # staff see all, a storefront its own
}


@dataclass(frozen=True)
class Principal:
    name: str
    roles: frozenset[str]
    # A storefront token's own limits ("max_open_holds", "max_hold_seconds" in its entry); None: defaults.
    max_open_holds: int | None = None
    max_hold_seconds: int | None = None

    @property
    def reads_everything(self) -> bool:
        return bool(self.roles & ROUTE_ROLES["staff_read"])


def _positive(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def authenticate(authorization: str | None, route_group: str) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("missing Authorization: Bearer <token>")
    presented = authorization[7:].strip()
    stored = secrets.read_json(settings().api_tokens_secret) or {}
    tokens = dict(stored.get("tokens", {}))
    if stored.get("bootstrap"):
        # The deployed stack generates one admin token so the first staff member can get in.
        tokens[stored["bootstrap"]] = {"name": "bootstrap", "roles": ["admin"]}
    principal = None
    for token, info in tokens.items():
        # compare against every token so timing does not reveal which prefix matched
        if hmac.compare_digest(token.encode(), presented.encode()):
            principal = Principal(info.get("name", "unknown"), frozenset(info.get("roles", [])),
                                  _positive(info.get("max_open_holds")), _positive(info.get("max_hold_seconds")))
    if principal is None:
        raise Unauthorized("invalid token")
    if not principal.roles & ROUTE_ROLES[route_group]:
        raise Forbidden(f"token {principal.name} may not use {route_group} routes")
    return principal

"""Cognito sign-in for the console: the ID tokens of the stack's user pool, verified in the function.

Imported only when a Bearer value is a JWT (stocklink.auth), so the machine-token path never loads
joserfc and its cryptography (~150 ms of cold start).

Which token: the **ID token** (`token_use` = id, `aud` = the console's app client). The console (console/,
src/auth/SignIn.tsx) authenticates its API calls with it, and nothing here needs the access token's extra:
the API is not an OAuth resource server with scopes of its own; it authorizes by role, from
`cognito:groups`, which both tokens carry. The ID token's `aud` is the standard OpenID Connect audience
check (a token the pool issued to another app client is refused), and its `cognito:username` names the
person for the audit trail. Cost: its profile claims (email) travel with each request, over TLS to this
API only, and tokens are never logged. Access tokens of the same pool (`token_use` = access) are refused.

A token is accepted only if:
- its header names RS256 and a `kid` of the pool's JSON Web Key Set (alg=none, HS256 and friends are
  refused before any key is used: a public RSA key is never an HMAC secret here);
- the RS256 signature verifies with that key;
- `iss` is exactly this pool, `token_use` is "id", `aud` is the console's client;
- `exp` is in the future and `nbf`/`iat` (when present) are not, with LEEWAY_S for clock skew;
- `cognito:groups` names at least one StockLink role (admin, staff, viewer); other groups are ignored,
  and "storefront" is never a role a person gets: storefronts are machines with machine tokens.
Every refusal is the same 401 text; the reason is logged (never the token).

The key set is fetched once per container from the pool's well-known URL through stocklink.outbound
(the one transport, its policy: https, public addresses, no redirects) with a host rule that names only
`cognito-idp.<region>.amazonaws.com`. A token naming an unknown `kid` (Cognito rotated its keys, or a
forgery) refreshes the set at most once per REFRESH_MIN_S; if the keys cannot be fetched at all the
request is a 503 (try again), not a 401 that would sign the user out.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Mapping

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from joserfc.jws import extract_compact

from stocklink.auth import Principal
from stocklink.errors import Busy, Unauthorized
from stocklink.observability import logger
from stocklink.outbound_policy import HostRule, OutboundRefused

LEEWAY_S = 30                  # clock skew allowed on exp / nbf / iat
REFRESH_MIN_S = 60.0           # an unknown kid refetches the key set at most this often
RETRY_AFTER_FAILURE_S = 5.0    # with no keys at all, a failed fetch is retried this soon
JWKS_TIMEOUT_S = 3.0           # the fetch happens inside an API request (API Gateway waits 29 s)
MAX_TOKEN_CHARS = 8192         # Cognito ID tokens are ~1-2 KB; nothing larger is parsed
PERSON_ROLES = frozenset({"admin", "buyer", "staff", "viewer"})
# us-east-1_AbC123: the region is part of the pool id
_POOL_ID = re.compile(r"^(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)_[A-Za-z0-9]+$")
_USERNAME_MAX = 128


@dataclass(frozen=True)
class JwksRequest:
    """GET of the pool's key set, as stocklink.outbound sends it (the OutboundRequest shape)."""
    url: str
    hosts: HostRule
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=lambda: {"Accept": "application/json"})
    body: bytes = b""


def cognito_hosts(region: str) -> HostRule:
    """The one host the auth path may call: the pool's region's Cognito IdP endpoint."""
    return HostRule("Cognito user pool keys", frozenset({f"cognito-idp.{region}.amazonaws.com"}))


def _fetch_with_outbound(request: JwksRequest) -> tuple[int, bytes]:
    from stocklink import outbound

    status, _headers, body = outbound.send(request, timeout=JWKS_TIMEOUT_S)
    return status, body


class KeysUnavailable(Exception):
    """The key set could not be fetched or read (network, Cognito, a body that is no key set)."""


class CognitoVerifier:
    """ID tokens of one user pool and app client. `fetch` (a request -> (status, body)) and `clock`
    (monotonic seconds, for the refresh limit) are seams for tests; `now` is wall time for exp/nbf."""

    def __init__(self, user_pool_id: str, client_id: str, *,
                 fetch: Callable[[JwksRequest], tuple[int, bytes]] = _fetch_with_outbound,
                 clock: Callable[[], float] = time.monotonic, now: Callable[[], int] | None = None) -> None:
        found = _POOL_ID.match(user_pool_id or "")
        if not found or not client_id:
            raise ValueError("a Cognito user pool id (region_id) and app client id are required")
        region = found["region"]
        self.client_id = client_id      # the console's app client: the ID tokens' audience
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self.request = JwksRequest(url=f"{self.issuer}/.well-known/jwks.json", hosts=cognito_hosts(region))
        self._fetch, self._clock = fetch, clock
        self._now = now or (lambda: int(time.time()))
        self._keys: dict[str, RSAKey] = {}
        self._attempted_at: float | None = None
        self._lock = threading.Lock()

    def principal(self, token: str) -> Principal:
        """The person a valid ID token names, with the roles of their groups; Unauthorized otherwise."""
        try:
            claims = self._verified_claims(token)
            return Principal(self._name(claims), self._roles(claims))
        except _Refused as refused:
            logger.info("Cognito token refused", extra={"reason": str(refused)})
            raise Unauthorized("invalid token") from None

    def _verified_claims(self, token: str) -> dict:
        if len(token) > MAX_TOKEN_CHARS:
            raise _Refused("token too long")
        try:
            header = extract_compact(token.encode("ascii")).headers()
        except (JoseError, ValueError, UnicodeError) as exc:
            raise _Refused(f"malformed: {type(exc).__name__}") from None
        if header.get("alg") != "RS256":
            raise _Refused(f"algorithm {str(header.get('alg'))[:20]!r} is not RS256")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _Refused("no kid")
        key = self._key(kid)
        try:
            claims = jwt.decode(token, key, algorithms=["RS256"]).claims
            jwt.JWTClaimsRegistry(
                now=self._now, leeway=LEEWAY_S,
                iss={"essential": True, "value": self.issuer}, exp={"essential": True},
            ).validate(claims)
        except (JoseError, ValueError, TypeError) as exc:
            raise _Refused(f"{type(exc).__name__}: {exc}"[:200]) from None
        if claims.get("token_use") != "id":
            raise _Refused("not an ID token")
        if claims.get("aud") != self.client_id:         # Cognito's aud is one string: the client
            raise _Refused("issued to another app client")
        return claims


    @staticmethod
    def _name(claims: dict) -> str:
        name = claims.get("cognito:username") or claims.get("sub")
        if not isinstance(name, str) or not name or len(name) > _USERNAME_MAX or not name.isprintable():
            raise _Refused("no usable username or sub")
        return f"cognito:{name}"

    @staticmethod
    def _roles(claims: dict) -> frozenset[str]:
        groups = claims.get("cognito:groups") or []
        if not isinstance(groups, list):
            raise _Refused("cognito:groups is not a list")
        roles = frozenset(g for g in groups if isinstance(g, str)) & PERSON_ROLES
        if not roles:
            raise _Refused("in no StockLink role group")
        return roles

    def _key(self, kid: str) -> RSAKey:
        with self._lock:
            if kid not in self._keys and self._may_fetch():
                self._attempted_at = self._clock()
                try:
                    self._keys = self._load_keys()
                except KeysUnavailable as exc:
                    logger.warning("Cognito key set unavailable", extra={"reason": str(exc)})
            if not self._keys:       # never fetched: nothing is known about the token, it may be fine
                raise Busy("the sign-in service's keys could not be fetched; try again",
                           retry_after_s=int(RETRY_AFTER_FAILURE_S))
            key = self._keys.get(kid)
        if key is None:
            raise _Refused("unknown kid")
        return key

    def _may_fetch(self) -> bool:
        if self._attempted_at is None:
            return True
        wait = REFRESH_MIN_S if self._keys else RETRY_AFTER_FAILURE_S
        return self._clock() - self._attempted_at >= wait

    def _load_keys(self) -> dict[str, RSAKey]:
        try:
            status, body = self._fetch(self.request)
        except OutboundRefused as exc:
            raise KeysUnavailable(f"refused: {exc}") from None
        if status != 200:
            raise KeysUnavailable(f"HTTP {status}")
        try:
            listed = json.loads(body)["keys"]
            keys = {jwk["kid"]: RSAKey.import_key(jwk) for jwk in listed
                    if isinstance(jwk, dict) and jwk.get("kty") == "RSA" and jwk.get("use", "sig") == "sig"
                    and isinstance(jwk.get("kid"), str)}
        except (ValueError, KeyError, TypeError, JoseError) as exc:
            raise KeysUnavailable(f"not a key set: {type(exc).__name__}") from None
        if not keys:
            raise KeysUnavailable("no RSA signing keys in the key set")
        return keys


class _Refused(Exception):
    """Why a token is refused: logged, never answered (every refusal is the same 401)."""


@lru_cache(maxsize=1)
def _verifier() -> CognitoVerifier | None:
    from stocklink.config import settings

    config = settings()
    if not (config.cognito_user_pool_id and config.cognito_client_id):
        return None
    try:
        return CognitoVerifier(config.cognito_user_pool_id, config.cognito_client_id)
    except ValueError:
        logger.error("COGNITO_USER_POOL_ID is not a user pool id; console sign-ins are refused")
        return None


def principal(token: str) -> Principal:
    """The principal of a console user's ID token (401 when this deployment has no Cognito pool)."""
    verifier = _verifier()
    if verifier is None:
        raise Unauthorized("invalid token")
    return verifier.principal(token)


def forget() -> None:
    """Drop this container's verifier and its cached keys (tests; a changed environment)."""
    _verifier.cache_clear()

"""A stand-in Cognito user pool for tests: locally generated RSA keys, their JWKS, and ID tokens shaped like
the ones Cognito issues (claims as its documentation lists them: sub, cognito:groups, email_verified, iss,
cognito:username, origin_jti, aud, event_id, token_use, auth_time, exp, iat, jti, email)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

from joserfc import jwt
from joserfc.jwk import RSAKey

POOL_ID = "eu-west-1_TeStPoOl1"
CLIENT_ID = "5consoleclientid0000000000"
ISSUER = f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL_ID}"
JWKS_URL = f"{ISSUER}/.well-known/jwks.json"

SIGNING_KEY = RSAKey.generate_key(2048, parameters={"kid": "pool-key-1", "alg": "RS256", "use": "sig"})
ROTATED_KEY = RSAKey.generate_key(2048, parameters={"kid": "pool-key-2", "alg": "RS256", "use": "sig"})
STRANGER_KEY = RSAKey.generate_key(2048, parameters={"kid": "pool-key-1", "alg": "RS256", "use": "sig"})


def jwks(*keys: RSAKey) -> bytes:
    """The pool's key set as Cognito serves it: public halves only."""
    return json.dumps({"keys": [k.as_dict(private=False) for k in (keys or (SIGNING_KEY,))]}).encode()


def id_claims(username: str = "alice", groups=("staff",), **overrides) -> dict:
    """An ID token's claims for the console's client; a claim set to None is left out."""
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "cognito:groups": list(groups) if isinstance(groups, (list, tuple)) else groups,
        "email_verified": True, "iss": ISSUER, "cognito:username": username, "origin_jti": str(uuid.uuid4()),
        "aud": CLIENT_ID, "event_id": str(uuid.uuid4()), "token_use": "id", "auth_time": now,
        "exp": now + 3600, "iat": now, "jti": str(uuid.uuid4()), "email": f"{username}@example.com",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def id_token(key: RSAKey = SIGNING_KEY, header: dict | None = None, **claims) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid, **(header or {})}, id_claims(**claims), key)


def access_token(**claims) -> str:
    """The same pool's access token for the console's client (token_use=access, client_id, no aud)."""
    return id_token(token_use="access", client_id=CLIENT_ID, aud=None, email=None, **claims)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(alg: str, claims: dict) -> str:
    header = {"alg": alg, "kid": SIGNING_KEY.kid, "typ": "JWT"}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(id_claims(**claims)).encode())}"


def unsigned_token(**claims) -> str:
    """alg=none with an empty signature."""
    return _segments("none", claims) + "."


def hs256_with_public_key(**claims) -> str:
    """The key-confusion forgery: HS256 'signed' with the pool's public key (PEM) as the HMAC secret, made
    by hand because joserfc itself refuses to use a public key as an HMAC secret."""
    signing_input = _segments("HS256", claims)
    secret = SIGNING_KEY.as_pem(private=False)
    return f"{signing_input}.{_b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"

"""API tokens: how one is made and how it is recognised. Pure (no I/O).

A token is 32 random bytes from the OS's CSPRNG (secrets.token_urlsafe(32): 256 bits, 43 characters).
Only its SHA-256 is stored. Salting and slow hashes (bcrypt, scrypt, argon2) exist to stop guessing
low-entropy secrets such as passwords from a stolen hash; nobody can enumerate 2**256 candidate tokens,
fast hash or not, so a plain unsalted SHA-256 loses nothing, and it lets authentication find a token by
its hash with one key lookup instead of trying every stored hash.
"""
from __future__ import annotations

import hashlib
import secrets

ROLES = ("admin", "buyer", "staff", "storefront", "viewer")
TOKEN_BYTES = 32
LAST_USED_EVERY_MS = 60_000      # last_used_at is written at most once a minute per token


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """Hex SHA-256 of the token's UTF-8 bytes: the only form a token is stored in."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

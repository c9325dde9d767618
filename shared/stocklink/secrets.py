"""Secrets Manager access: shop credentials and API tokens. Values are cached per container for 60 s and
never logged or returned by the API.

Read through a botocore client of our own (stocklink.aws_clients) rather than powertools' parameters
utility, which imports boto3 (~100 ms of the cold start of every function that reads a secret)."""
from __future__ import annotations

import json
import threading
from functools import lru_cache

from stocklink import aws_clients
from stocklink.config import SHOP_SECRETS, settings
from stocklink.ttl_cache import TtlCache

_CACHE_SECONDS = 60
_values = TtlCache(_CACHE_SECONDS)
_client_lock = threading.Lock()


@lru_cache(maxsize=1)
def _make_client():
    return aws_clients.client("secretsmanager")


def _client():
    # Threads starting together on a fresh container must share one client (each would parse botocore's
    # service files again): made under a lock.
    with _client_lock:
        return _make_client()


def forget() -> None:
    """Forget every cached value and the client (a test's fresh container)."""
    _values.forget()
    _make_client.cache_clear()


def shop_secret_name(platform: str, shop: str) -> str:
    return f"{settings().secrets_prefix}{SHOP_SECRETS}{platform}/{shop}"


def read_json(name: str, *, fresh: bool = False) -> dict | None:
    """The secret's JSON value, or None when it does not exist (not cached: a secret created next is read
    at once)."""
    if fresh:
        _values.forget(name)
    value = _values.get(name, lambda: _fetch(name), keep_none=False)
    return None if value is None else json.loads(value)


def _fetch(name: str) -> str | None:
    client = _client()
    try:
        answer = client.get_secret_value(SecretId=name)
    except client.exceptions.ResourceNotFoundException:
        return None
    if "SecretString" in answer:
        return answer["SecretString"]
    return answer["SecretBinary"].decode()


def write_json(name: str, value: dict) -> None:
    """Create or replace the secret. Never reads it back: a writer may hold no read permission (staff_api
    stores shop credentials it must not read)."""
    payload = json.dumps(value)
    client = _client()
    try:
        client.put_secret_value(SecretId=name, SecretString=payload)
    except client.exceptions.ResourceNotFoundException:
        client.create_secret(Name=name, SecretString=payload)
    # This container's next read of any secret fetches it again (writes are rare; one extra fetch each).
    _values.forget()

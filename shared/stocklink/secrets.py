"""Secrets Manager access: shop credentials and API tokens. Values are cached per container briefly and
never logged or returned by the API."""
from __future__ import annotations

import json
import threading
from functools import lru_cache

import boto3
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

from stocklink.config import SHOP_SECRETS, settings

_CACHE_SECONDS = 60


@lru_cache(maxsize=1)
def _client():
    return boto3.client("secretsmanager")


_provider_lock = threading.Lock()


def _ensure_provider() -> None:
    """powertools' get_secret creates its default provider on first use without a lock, so threads starting
    together on a fresh container each built one (a boto3 session and client apiece): create it once."""
    if "secrets" not in DEFAULT_PROVIDERS:
        with _provider_lock:
            if "secrets" not in DEFAULT_PROVIDERS:
                DEFAULT_PROVIDERS["secrets"] = parameters.SecretsProvider()


def shop_secret_name(platform: str, shop: str) -> str:
    return f"{settings().secrets_prefix}{SHOP_SECRETS}{platform}/{shop}"


def read_json(name: str, *, fresh: bool = False) -> dict | None:
    """The secret's JSON value, or None when it does not exist."""
    try:
        _ensure_provider()
        value = parameters.get_secret(name, max_age=_CACHE_SECONDS, force_fetch=fresh)
    except parameters.exceptions.GetParameterError as exc:
        if "ResourceNotFoundException" in str(exc.__cause__ or exc) or "ResourceNotFound" in repr(exc.__cause__):
            return None
        raise
    return json.loads(value) if isinstance(value, str) else json.loads(value.decode())


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
    _ensure_provider()
    DEFAULT_PROVIDERS["secrets"].clear_cache()

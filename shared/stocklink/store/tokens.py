"""API tokens (the tokens table): each token as two items written and deleted together, never its value.

  TOKEN / <name>        the public record GET /tokens lists: roles, per-token limits, created_at/by,
                        last_used_at, source ("api"), and the token's hash so a revocation finds its twin;
                        or, source "secret", the retirement of a token kept in the Secrets Manager secret
                        (the deployed stack's bootstrap admin token, the local runtime's dev token)
  HASH#<sha256> / -     the same token by its hash: what authentication reads, one GetItem per cache miss

Names are unique (the name item is put only if absent). last_used_at lives on the name item only and is
set by one conditional UpdateItem at most once a minute (the narrow grant the API functions hold).
"""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from stocklink.config import table_name
from stocklink.store import paging
from stocklink.store.keys import TOKENS_PK, token_hash_pk
from stocklink.store.models import _Meta, connection_for, written

NO_SK = "-"
SOURCE_API, SOURCE_SECRET = "api", "secret"


class TokenItem(Model):
    class Meta(_Meta):
        table_name = table_name("tokens")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    source = UnicodeAttribute(default=SOURCE_API)
    roles = ListAttribute(of=UnicodeAttribute, default=list)
    token_hash = UnicodeAttribute(null=True)        # sha256 hex of the token (never the token)
    max_open_holds = NumberAttribute(null=True)
    max_hold_seconds = NumberAttribute(null=True)
    created_at = NumberAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    last_used_at = NumberAttribute(null=True)       # name item only
    retired_at = NumberAttribute(null=True)         # a retired secret-sourced token
    retired_by = UnicodeAttribute(null=True)


def _record(item: TokenItem) -> dict:
    return {"name": item.name, "source": item.source, "roles": list(item.roles or []),
            "token_hash": item.token_hash,
            "max_open_holds": None if item.max_open_holds is None else int(item.max_open_holds),
            "max_hold_seconds": None if item.max_hold_seconds is None else int(item.max_hold_seconds),
            "created_at": None if item.created_at is None else int(item.created_at),
            "created_by": item.created_by,
            "last_used_at": None if item.last_used_at is None else int(item.last_used_at),
            "retired_at": None if item.retired_at is None else int(item.retired_at),
            "retired_by": item.retired_by}


def create(name: str, digest: str, roles: list[str], *, max_open_holds: int | None, max_hold_seconds: int | None,
           created_by: str, now_ms: int) -> bool:
    """Store a new token's two items in one transaction; False (nothing written) if the name is taken."""
    fields = dict(name=name, source=SOURCE_API, roles=list(roles), token_hash=digest, max_open_holds=max_open_holds,
                  max_hold_seconds=max_hold_seconds, created_at=now_ms, created_by=created_by)
    try:
        with TransactWrite(connection=connection_for(TokenItem)) as txn:
            txn.save(TokenItem(TOKENS_PK, name, **fields), condition=TokenItem.pk.does_not_exist())
            txn.save(TokenItem(token_hash_pk(digest), NO_SK, **fields), condition=TokenItem.pk.does_not_exist())
    except TransactWriteError as exc:
        codes = [r.code if r else None for r in (exc.cancellation_reasons or [])]
        if "ConditionalCheckFailed" in codes:
            return False
        raise
    return True


def by_hash(digest: str) -> dict | None:
    """The token whose value hashes to `digest`, or None. Strongly consistent: a token works as soon as
    POST /tokens answered."""
    try:
        return _record(TokenItem.get(token_hash_pk(digest), NO_SK, consistent_read=True))
    except DoesNotExist:
        return None


def by_name(name: str) -> dict | None:
    try:
        return _record(TokenItem.get(TOKENS_PK, name, consistent_read=True))
    except DoesNotExist:
        return None


def delete(name: str, digest: str) -> bool:
    """Remove a token's two items together; False if it is no longer the token of that hash (gone)."""
    try:
        with TransactWrite(connection=connection_for(TokenItem)) as txn:
            txn.delete(TokenItem(TOKENS_PK, name), condition=TokenItem.token_hash == digest)
            txn.delete(TokenItem(token_hash_pk(digest), NO_SK))
    except TransactWriteError as exc:
        codes = [r.code if r else None for r in (exc.cancellation_reasons or [])]
        if "ConditionalCheckFailed" in codes:
            return False
        raise
    return True


def retire_secret_token(name: str, roles: list[str], retired_by: str, now_ms: int) -> bool:
    """Record that the secret-sourced token `name` is retired; False if the name already has an item."""
    item = TokenItem(TOKENS_PK, name, name=name, source=SOURCE_SECRET, roles=list(roles), retired_at=now_ms,
                     retired_by=retired_by)
    return written(lambda: item.save(condition=TokenItem.pk.does_not_exist()))


def mark_used(name: str, now_ms: int, every_ms: int) -> bool:
    """Set the token's last_used_at to `now_ms` unless it was set less than `every_ms` ago (or the token is
    gone): one conditional UpdateItem touching last_used_at only. True if written."""
    condition = TokenItem.sk.exists() & (TokenItem.last_used_at.does_not_exist()
                                         | (TokenItem.last_used_at <= now_ms - every_ms))
    # ReturnValues NONE (Model.update asks for ALL_NEW): the grant allows only last_used_at and the keys
    return written(lambda: TokenItem._get_connection().update_item(
        TOKENS_PK, range_key=name, actions=[TokenItem.last_used_at.set(now_ms)], condition=condition,
        return_values="NONE"))


def page(limit: int, cursor: str | None) -> paging.Page:
    """Token records in name order, `limit` at a time (one partition: an installation has tens of tokens)."""
    found = paging.query_page(TokenItem, TOKENS_PK, limit=limit, cursor=cursor)
    return paging.Page([_record(item) for item in found.items], found.next)

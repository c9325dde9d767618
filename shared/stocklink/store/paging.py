"""Pages of a DynamoDB query for the list endpoints, and their opaque cursors.

A cursor is base64url (no padding) of the JSON of DynamoDB's LastEvaluatedKey. It is decoded strictly:
into exactly the key attributes of the query being paged (names and types), within the partition(s)
that query lists. Anything else is a BadCursor (a 400), so a tampered or foreign cursor never reaches
DynamoDB. Cursors are not signed: a well-formed forged one only starts the listing elsewhere in the
same partition, which its caller may read anyway.

Pages read eventually consistent: a list shows what was committed a moment ago; the single-item reads
that decide anything stay strongly consistent.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Collection

from stocklink.errors import ValidationFailed

MAX_CURSOR_CHARS = 4096                       # two DynamoDB keys of 2 KB fit comfortably
MAX_EXAMINED = 5000                           # items a filtered page reads at most before it answers
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_NUMBER = re.compile(r"-?[0-9]{1,38}(\.[0-9]{1,38})?")


class BadCursor(ValidationFailed):
    def __init__(self, why: str):
        super().__init__(f"cursor: {why}; pass the `next` of a previous page unchanged", field="cursor")


@dataclass(frozen=True)
class Page:
    items: list
    next: str | None          # the cursor of the following page; None on the last one


def encode(key: dict | None) -> str | None:
    if not key:
        return None
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None, schema: dict[str, str], partition: str,
           allowed: Collection[str]) -> dict | None:
    """The DynamoDB key in `cursor` (None for the first page): exactly the `schema` attributes (name ->
    "S" | "N"), with the `partition` attribute's value among `allowed`. Raises BadCursor otherwise."""
    if cursor is None or cursor == "":
        return None
    if len(cursor) > MAX_CURSOR_CHARS or not _BASE64URL.fullmatch(cursor):
        raise BadCursor("not a cursor")
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        key = json.loads(raw)
    except (binascii.Error, ValueError):
        raise BadCursor("not a cursor") from None
    if not isinstance(key, dict) or set(key) != set(schema):
        raise BadCursor("not a cursor of this list")
    for name, kind in schema.items():
        value = key[name]
        if not (isinstance(value, dict) and list(value) == [kind] and isinstance(value[kind], str)
                and 0 < len(value[kind]) <= 2048):
            raise BadCursor("not a cursor of this list")
        if kind == "N" and not _NUMBER.fullmatch(value[kind]):
            raise BadCursor("not a cursor of this list")
    if key[partition]["S" if schema[partition] == "S" else "N"] not in allowed:
        raise BadCursor("a cursor of another list")
    return key


def key_schema(model, index=None) -> dict[str, str]:
    """Attribute name -> type of every key attribute in a LastEvaluatedKey of `model` (through `index`)."""
    attrs = [model._hash_key_attribute(), model._range_key_attribute()]
    if index is not None:
        attrs += [a for a in type(index).Meta.attributes.values() if a.is_hash_key or a.is_range_key]
    return {a.attr_name: a.attr_type for a in attrs if a is not None}


def query_page(model, partition_value: Any, *, limit: int, cursor: str | None, index=None,
               keep: Callable[[Any], bool] | None = None, **query_args) -> Page:
    """At most `limit` items of one partition of `model` (or of its `index`), continuing `cursor`.

    With `keep`, items it refuses are skipped and the page is filled from the following ones (reading at
    most MAX_EXAMINED items; the cursor then continues after the last one read)."""
    source = index if index is not None else model
    partition = source._hash_key_attribute().attr_name
    start = decode(cursor, key_schema(model, index), partition, {str(partition_value)})
    result = source.query(partition_value, last_evaluated_key=start, page_size=limit, **query_args)
    items, examined = [], 0
    for item in result:
        examined += 1
        if keep is None or keep(item):
            items.append(item)
        if len(items) == limit or examined == MAX_EXAMINED:
            break
    # Stopped inside a page: pynamodb rebuilds the key of the last item read; at a page's end it is
    # DynamoDB's own LastEvaluatedKey (None after the last page).
    return Page(items, encode(result.last_evaluated_key))

"""The list endpoints' paging arguments: `limit` (1-1,000, default 100) and `cursor`, the opaque `next`
of the previous page (the store decodes it strictly: a tampered one is a 400)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from stocklink.errors import ValidationFailed

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


def page_request(query: Mapping[str, str] | None) -> PageRequest:
    """`limit` and `cursor` of a query string; `next` is taken for `cursor` too (GET /replenishment named
    it so first). A limit outside 1..MAX_LIMIT is a 400, never quietly changed."""
    query = query or {}
    raw = query.get("limit")
    limit = DEFAULT_LIMIT
    if raw is not None and raw != "":
        if not re.fullmatch(r"[0-9]{1,7}", raw) or not 1 <= int(raw) <= MAX_LIMIT:
            raise ValidationFailed(f"limit must be a whole number from 1 to {MAX_LIMIT}", field="limit")
        limit = int(raw)
    return PageRequest(limit, query.get("cursor") or query.get("next") or None)


"""What the audit trail keeps of a request: pure rules, no I/O.

An entry records who (the token's name), the method and route template, the target (path parameters),
the status answered, when, the request's top-level field names, and a `before` / `after` summary:
- `after`: the JSON answer of a successful write (what the system now holds as it reported it), or the
  error code of a refused one. Values of keys that name secrets are replaced; routes whose bodies carry
  credentials or tokens keep field names only (FIELDS_ONLY); a summary over MAX_SUMMARY_CHARS keeps field
  names only too.
- `before`: the item a write replaced, where the write learns it for free (catalog, settings, alert-rule
  and supplier PUTs: their PutItem returns the old item; DELETE /tokens reads the token first); null
  elsewhere (stock movements: the ledger says what changed). The same rules apply.
Request bodies themselves are never kept, only their field names: PUT /shops carries credentials.
"""
from __future__ import annotations

import json
import re
from typing import Any

# (method, route template) whose request and answer bodies may hold secrets: field names only.
FIELDS_ONLY = frozenset({
    ("PUT", "/shops/{platform}/{shop}"),               # platform credentials
    ("PUT", "/subscriptions/{subscription_id}"),       # chat webhook URLs carry their keys
    ("POST", "/tokens"),                               # the new token, shown once
})
MAX_SUMMARY_CHARS = 2000
REDACTED = "[redacted]"
# Key names whose values are secrets wherever they appear (credential_fields is a list of names).
_SECRET_KEY = re.compile(r"token|secret|password|passwd|credential(?!_fields)|api_?key|private|signature|"
                         r"authorization|webhook_url|access_key", re.IGNORECASE)
AUDITED_GROUPS = frozenset({"staff", "admin", "buying", "supplier_terms"})
WRITER_ROLES = frozenset({"staff", "admin", "buyer"})


def is_audited(method: str, route_group: str | None, roles: frozenset[str]) -> bool:
    """A staff, buyer or admin write: a non-GET request on a staff, buying or admin route by a token holding
    one of those roles (storefront reservations and webhooks are other routes; viewers cannot write)."""
    return (method.upper() not in ("GET", "HEAD", "OPTIONS") and route_group in AUDITED_GROUPS
            and bool(roles & WRITER_ROLES))


def field_names(body: Any) -> list[str]:
    return sorted(str(k) for k in body) if isinstance(body, dict) else []


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def summary(method: str, route: str, body: Any) -> Any:
    """What an audit entry keeps of a before/after body."""
    if body is None:
        return None
    if (method.upper(), route) in FIELDS_ONLY:
        return {"fields": field_names(body)}
    kept = redact(body)
    if len(json.dumps(kept, default=str)) > MAX_SUMMARY_CHARS:
        return {"fields": field_names(body), "truncated": True}
    return kept

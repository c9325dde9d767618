"""GET /listings: listings with what they should show now and what they last showed, by shop (platform#shop,
then listing id) or for one SKU, a page at a time.

A page's quantities are planned among every listing of its SKUs (quota splits are the ones channel sync
makes), so a page costs a reverse-index Query and a stock Query per SKU on it, sent side by side.
read_back_qty / read_back_at: what reconciliation last read from the platform (null until it has read it).
The cursor is the last listing shown ({channel, listing id}, base64url JSON), checked strictly.
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Mapping

from stocklink.domain.allocation import Component, ListingRef
from stocklink.domain.requests import Identifier
from stocklink.errors import ValidationFailed
from stocklink.logic.paging import page_request
from stocklink.logic.sync import displays, views
from stocklink.store import catalog

MAX_TEXT = 200                  # platform and shop names in the query (the contract's bound)


def _cursor_error() -> ValidationFailed:
    return ValidationFailed("cursor: not a cursor of this list; pass the `next` of a previous page unchanged",
                            field="cursor")


def encode(channel: str, listing_id: str) -> str:
    raw = json.dumps({"c": channel, "l": listing_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[str, str]:
    try:
        data = json.loads(base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True))
    except (binascii.Error, ValueError):
        raise _cursor_error() from None
    if not (isinstance(data, dict) and set(data) == {"c", "l"} and isinstance(data["c"], str)
            and isinstance(data["l"], str) and "#" in data["c"] and data["l"]):
        raise _cursor_error()
    return data["c"], data["l"]


def _text(query: Mapping[str, str], name: str) -> str | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    if len(value) > MAX_TEXT:
        raise ValidationFailed(f"{name}: at most {MAX_TEXT} characters", field=name)
    return value


def _ref(doc: dict) -> ListingRef:
    return ListingRef(f"{doc['platform']}#{doc['shop']}", doc["listing_id"],
                      tuple(Component(c["sku"], int(c.get("qty", 1))) for c in doc["components"]),
                      dict(doc.get("platform_ids") or {}))


def list_listings(query: Mapping[str, str] | None, now_ms: int) -> dict:
    query = query or {}
    page = page_request(query)
    platform, shop, sku = _text(query, "platform"), _text(query, "shop"), _text(query, "sku")
    if shop is not None and platform is None:
        raise ValidationFailed("shop: name its platform too", field="shop")
    if sku is not None and not _is_identifier(sku):
        raise ValidationFailed("sku: 1-128 of A-Z a-z 0-9 . _ : @ / + -", field="sku")
    after = decode(page.cursor) if page.cursor else None
    if sku is not None:
        refs = _of_sku(sku, platform, shop, after)
    else:
        refs = _of_shops(platform, shop, after, page.limit + 1)
    more = len(refs) > page.limit
    refs = refs[:page.limit]
    rows = []
    if refs:
        listings, settings = displays.listings_and_settings(displays.skus_of(refs), with_settings=True)
        known = {(l.channel, l.listing_id) for l in listings}
        wanted = [r for r in refs if (r.channel, r.listing_id) in known]
        stock = displays.available(displays.skus_of(listings))
        rows = [status.as_dict() for status in views.statuses(wanted, listings, settings, stock, now_ms,
                                                              with_read_back=True)]
    last = refs[-1] if refs and more else None
    return {"listings": rows, "next": encode(last.channel, last.listing_id) if last else None}


def _is_identifier(value: str) -> bool:
    from pydantic import TypeAdapter, ValidationError
    try:
        return TypeAdapter(Identifier).validate_python(value) == value
    except ValidationError:
        return False


def _of_sku(sku: str, platform: str | None, shop: str | None, after: tuple[str, str] | None) -> list[ListingRef]:
    refs = sorted(catalog.listings_showing(sku))
    if platform is not None:
        refs = [r for r in refs if r[0] == platform and (shop is None or r[1] == shop)]
    if after is not None:
        refs = [r for r in refs if (f"{r[0]}#{r[1]}", r[2]) > after]
    found, _ = catalog.listings_with_allocation([(p, s, lid) for p, s, lid in refs], [])
    return [_ref(found[r]) for r in refs if r in found]


def _of_shops(platform: str | None, shop: str | None, after: tuple[str, str] | None, want: int) -> list[ListingRef]:
    """Up to `want` listings of the chosen shops after `after`, shop by shop (platform#shop order)."""
    if shop is not None:
        channels = [f"{platform}#{shop}"]
    else:
        channels = [f"{d['platform']}#{d['shop']}" for d in catalog.all_shops()
                    if platform is None or d["platform"] == platform]
    out: list[ListingRef] = []
    for channel in sorted(channels):
        if after is not None and channel < after[0]:
            continue
        start = after[1] if after is not None and channel == after[0] else None
        p, s = channel.split("#", 1)
        docs, _ = catalog.listings_after(p, s, start, want - len(out))
        out.extend(_ref(d) for d in docs)
        if len(out) >= want:
            break
    return out

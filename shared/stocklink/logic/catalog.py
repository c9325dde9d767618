"""Warehouses, SKUs, shops and listings: the catalog every stock decision reads."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from stocklink import secrets
from stocklink.channels.base import OrderLine
from stocklink.domain.stock import Line
from stocklink.errors import NotFound, ValidationFailed
from stocklink.logic import audit
from stocklink.logic.paging import PageRequest
from stocklink.store import catalog as store
from stocklink.store import repository

if TYPE_CHECKING:   # the API's request models (pydantic): webhook_ingest resolves orders without importing them
    from stocklink.domain.requests import ListingIn, ShopIn, SkuIn, WarehouseIn
MAX_CATEGORY = 100                      # as SkuIn.category
KNOWN_PLATFORMS = ("shopify", "tiktok", "shopee", "lazada", "woocommerce", "amazon", "taobao", "jd",
                   "pinduoduo", "douyin", "storefront")


def put_warehouse(warehouse_id: str, body: WarehouseIn, now_ms: int) -> dict:
    data = {"warehouse_id": warehouse_id, **body.model_dump()}
    audit.note_before(store.put_warehouse(warehouse_id, data, now_ms))
    repository.forget_warehouse_priorities()
    return data


def list_warehouses(page: PageRequest) -> dict:
    """Pages follow warehouse ids; within a page, the order they are used in (priority, then id)."""
    found = store.warehouses_page(page.limit, page.cursor)
    return {"warehouses": sorted(found.items, key=lambda w: (w.get("priority", 100), w["warehouse_id"])),
            "next": found.next}


def put_sku(sku: str, body: SkuIn, now_ms: int) -> dict:
    data = {"sku": sku, **body.model_dump(exclude_none=True)}
    named = [c["sku"] for c in data.get("components", [])]
    if sku in named:
        raise ValidationFailed("components: a bundle cannot contain itself", field="components")
    unknown = sorted(set(named) - set(store.skus_now(named))) if named else []
    if unknown:
        raise ValidationFailed(f"components: unknown SKU(s) {', '.join(unknown[:5])}", field="components")
    audit.note_before(store.put_sku(sku, data, now_ms))
    return data


def list_skus(page: PageRequest, text: str | None = None, category: str | None = None) -> dict:
    """GET /skus: catalogue SKUs in SKU order; `text` matches the SKU or its name (case-insensitive
    substring), `category` the category exactly."""
    if text is not None and len(text) > 200:
        raise ValidationFailed("q: at most 200 characters", field="q")
    if category is not None and len(category) > MAX_CATEGORY:
        raise ValidationFailed(f"category: at most {MAX_CATEGORY} characters", field="category")
    needle = text.casefold() if text else None

    def wanted(doc: dict) -> bool:
        if category is not None and doc.get("category") != category:
            return False
        return needle is None or needle in str(doc.get("sku", "")).casefold() \
            or needle in str(doc.get("name", "")).casefold()

    found = store.skus_page(page.limit, page.cursor, None if needle is None and category is None else wanted)
    return {"skus": found.items, "next": found.next}


def require_warehouse(warehouse_id: str) -> dict:
    data = store.warehouse(warehouse_id)
    if data is None:
        raise NotFound(f"warehouse {warehouse_id} not found", warehouse_id=warehouse_id)
    return data


def require_skus(skus: Iterable[str]) -> None:
    wanted = list(dict.fromkeys(skus))
    found = store.skus(wanted)
    missing = [sku for sku in wanted if sku not in found]
    if missing:
        raise NotFound(f"unknown SKU {missing[0]}", sku=missing[0])


def require_shop(platform: str, shop: str) -> dict:
    data = store.shop(platform, shop)
    if data is None:
        raise NotFound(f"shop {platform}/{shop} not found")
    return data


def put_shop(platform: str, shop: str, body: ShopIn, now_ms: int) -> dict:
    """Credentials go to Secrets Manager; the catalog keeps only where they are and what they hold."""
    if platform not in KNOWN_PLATFORMS:
        raise ValidationFailed(f"unknown platform {platform}", platform=platform)
    credentials = {k: v for k, v in (body.model_extra or {}).items() if v is not None}
    bad = [k for k, v in credentials.items() if not isinstance(v, (str, int))]
    if bad:
        raise ValidationFailed(f"credential {bad[0]} must be a string", field=bad[0])
    if not credentials:
        raise ValidationFailed("no credentials given (e.g. webhook_secret)")
    _check_api_url(platform, credentials, body.api_base_url)
    secret_name = secrets.shop_secret_name(platform, shop)
    secrets.write_json(secret_name, {k: str(v) for k, v in credentials.items()})
    data = {"platform": platform, "shop": shop, "api_base_url": body.api_base_url,
            "secret_name": secret_name, "credential_fields": sorted(credentials),
            "max_calls_per_second": body.max_calls_per_second}
    audit.note_before(store.put_shop(platform, shop, data, now_ms))
    return data


def _check_api_url(platform: str, credentials: dict, api_base_url: str | None) -> None:
    """The URL the shop's API calls would start with must pass the outbound policy (stocklink.outbound_policy):
    a seller learns of a refused URL now, and nothing is stored."""
    from stocklink.channels.registry import UnknownPlatform, adapter_for
    from stocklink.outbound_policy import OutboundRefused, vet_url

    try:
        adapter = adapter_for(platform)
    except UnknownPlatform:
        if api_base_url:
            raise ValidationFailed(f"api_base_url: StockLink makes no API calls to {platform}",
                                   field="api_base_url") from None
        return
    base = adapter.api_base({**credentials, "api_base_url": api_base_url or ""})
    if not base:
        return                                 # nothing to call yet (e.g. a webhook secret alone)
    try:
        vet_url(base, adapter.api_hosts)
    except OutboundRefused as exc:
        # name the field the URL came from: api_base_url, or a credential such as Shopify's shop_domain
        field = "api_base_url" if api_base_url else next(
            (k for k, v in credentials.items() if isinstance(v, str) and base in (v, f"https://{v}")),
            "credentials")
        raise ValidationFailed(f"{field} refused: {exc}", field=field) from None


def shop_call_rate(platform: str, shop: str) -> float | None:
    """The shop's own call-rate setting, or None for the platform's default."""
    data = store.shop(platform, shop) or {}
    rate = data.get("max_calls_per_second")
    return float(rate) if rate else None


def shop_credentials(platform: str, shop: str) -> dict | None:
    """The shop's secrets plus api_base_url, or None for a shop StockLink does not know."""
    data = store.shop(platform, shop)
    if data is None:
        return None
    values = secrets.read_json(data["secret_name"]) or {}
    if data.get("api_base_url"):
        values["api_base_url"] = data["api_base_url"]
    return values


def put_listing(platform: str, shop: str, listing_id: str, body: ListingIn, now_ms: int) -> dict:
    require_shop(platform, shop)
    require_skus(c.sku for c in body.components)
    data = {"platform": platform, "shop": shop, "listing_id": listing_id,
            "components": [c.model_dump() for c in body.components], "platform_ids": body.platform_ids}
    audit.note_before(store.put_listing(platform, shop, listing_id, data, now_ms))
    return data


@dataclass(frozen=True)
class Resolution:
    lines: list[Line]
    unmapped: list[dict]


def resolve_order_lines(platform: str, shop: str, order_lines: Iterable[OrderLine]) -> Resolution:
    """Platform lines → master SKU lines. A listing mapping wins; else a seller SKU or listing id that
    is itself a master SKU; else the line is unmapped."""
    order_lines = list(order_lines)
    listings = store.listings(platform, shop, (l.listing_id for l in order_lines))
    candidates = [c for l in order_lines for c in (l.seller_sku, l.listing_id) if c]
    known_skus = store.skus(candidates) if candidates else {}
    lines: list[Line] = []
    unmapped: list[dict] = []
    for order_line in order_lines:
        listing = listings.get(order_line.listing_id)
        if listing:
            lines.extend(Line(c["sku"], c["qty"] * order_line.qty) for c in listing["components"])
        elif order_line.seller_sku and order_line.seller_sku in known_skus:
            lines.append(Line(order_line.seller_sku, order_line.qty))
        elif order_line.listing_id in known_skus:
            lines.append(Line(order_line.listing_id, order_line.qty))
        else:
            unmapped.append({"listing_id": order_line.listing_id, "seller_sku": order_line.seller_sku,
                             "qty": order_line.qty})
    return Resolution(lines, unmapped)

"""GET /shops: each shop with its allocation settings and its sync health, never a credential.

Health per shop:
  last_push_at             the newest push that landed on any of its listings (sync state)
  failures                 listings whose last push failed (open: the next successful push clears it)
  listings / in_sync       listings mapped / whose last pushed quantity equals the last computed one
  rate_limit_use           share of the shop's call rate (its own max_calls_per_second, else the platform's)
                           taken over the last minute, 0..1; None for a platform StockLink never calls
  reconciliation_accuracy  read-backs found in sync / read back, in the newest of the last 20 passes that
                           read this shop; None before one did
  needs_person             its unmapped, oversold and needs-attention order events (GET /events)
"""
from __future__ import annotations

from stocklink.domain.allocation import AllocationSettings
from stocklink.logic.paging import PageRequest
from stocklink.logic.sync import executors
from stocklink.store import catalog, reconcile_models, shop_health
from stocklink.time import now_ms as wall_ms

NEEDS_PERSON = ("unmapped", "oversold", "needs_attention")
RATE_WINDOW_MS = 60_000
RECENT_PASSES = 20


def list_shops(page: PageRequest) -> dict:
    found = catalog.shops_page(page.limit, page.cursor)
    shops = [(d["platform"], d["shop"], d) for d in found.items]
    if not shops:
        return {"shops": [], "next": found.next}
    stored = catalog.allocation_settings(f"{p}#{s}" for p, s, _ in shops)
    attention = shop_health.events_needing_a_person(NEEDS_PERSON)
    accuracy = _accuracy_by_shop()
    now = wall_ms()
    healths = list(executors.io().map(lambda shop: _health(shop[0], shop[1], shop[2], now), shops))
    out = []
    for (platform, shop, doc), health in zip(shops, healths):
        channel = f"{platform}#{shop}"
        settings = AllocationSettings.from_dict(stored.get(channel))
        health["reconciliation_accuracy"] = accuracy.get(channel)
        health["needs_person"] = attention.get((platform, shop), 0)
        out.append({"platform": platform, "shop": shop, "sync": settings.sync, "rule": settings.rule,
                    "allocation": settings.to_dict(), "api_base_url": doc.get("api_base_url"),
                    "max_calls_per_second": doc.get("max_calls_per_second"), "health": health})
    return {"shops": out, "next": found.next}


def _health(platform: str, shop: str, doc: dict, now: int) -> dict:
    counts = shop_health.sync_counts(platform, shop)
    return {"last_push_at": counts.last_push_at, "failures": counts.failing,
            "listings": shop_health.listing_count(platform, shop), "in_sync": counts.in_sync,
            "rate_limit_use": _rate_use(platform, shop, doc, now)}


def _rate_use(platform: str, shop: str, doc: dict, now: int) -> float | None:
    from stocklink.channels.registry import UnknownPlatform, adapter_for
    from stocklink.logic.sync.rate_limit import ShopRateLimit

    try:
        adapter = adapter_for(platform)
    except UnknownPlatform:
        return None
    rate = float(doc.get("max_calls_per_second") or adapter.rate_per_second)
    window_ms = ShopRateLimit(platform, shop, rate, 1).window_ms       # the windows its limiter counts in
    taken = shop_health.calls_taken(platform, shop, window_ms, (now - RATE_WINDOW_MS) // window_ms,
                                    now // window_ms)
    return round(min(1.0, taken / (rate * RATE_WINDOW_MS / 1000)), 3)


def _accuracy_by_shop() -> dict[str, float]:
    out: dict[str, float] = {}
    for report in reconcile_models.reports(RECENT_PASSES):          # newest first
        for channel, figures in (report.get("shops") or {}).items():
            checked = int(figures.get("checked") or 0)
            if channel not in out and checked:
                out[channel] = round(int(figures.get("in_sync") or 0) / checked, 4)
    return out

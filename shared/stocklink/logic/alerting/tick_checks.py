"""The scheduled tick's own observations, of things no bus event reports: stock pushes failing per shop,
listings to re-grade, and the depth of every dead-letter queue."""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Iterable

from stocklink import notifications
from stocklink.alerts import rules
from stocklink.alerts.kinds import Kind
from stocklink.alerts.levels import Level
from stocklink.alerts.state import AlertKey, AlertState, Observation
from stocklink.config import settings
from stocklink.logic.alerting import observations, rules_api
from stocklink.observability import logger
from stocklink.store import catalog

FAILURE_WINDOW_MS = 15 * 60 * 1000  # sync failure records counted by the tick
MAX_CHANNEL_RECHECKS = 50
Listed = tuple[AlertState, Any, int]    # an open alert: (state, last alert, updated_at ms)


def _recent_failures(now_ms: int) -> list[dict]:
    """Channel sync's push-failure records of the last FAILURE_WINDOW_MS, newest first."""
    from stocklink.store import sync_models

    recent = []
    for f in sync_models.recent_failures(limit=500):   # newest first
        if now_ms - int(f.get("at_ms", 0)) > FAILURE_WINDOW_MS:
            break
        recent.append(f)
    return recent


def push_failure_observations(now_ms: int, listed: Iterable[Listed] = ()) -> list[Observation]:
    """Stock pushes that failed in the last FAILURE_WINDOW_MS, per shop (channel sync's failure records):
    yellow from 1, orange from 10, red from 100; a shop with an open alert and no failures now clears."""
    now = now_ms // 1000
    shops: dict[tuple[str, str], dict[str, Any]] = {}
    for f in _recent_failures(now_ms):
        shop = shops.setdefault((f["platform"], f["shop"]), {"count": 0, "listings": set(), "last_error": None})
        shop["count"] += 1
        shop["listings"].add(f["listing_id"])
        shop["last_error"] = shop["last_error"] or f.get("error")
    open_scopes = {s.key.scope for s, _, _ in listed
                   if s.key.rule == Kind.PUSH_FAILURES and s.key.scope.startswith("ch:") and s.level > Level.NONE}
    out = []
    for scope in sorted(open_scopes | {f"ch:{p}:{sh}" for p, sh in shops}):
        platform, shop = scope[3:].split(":", 1)
        data = shops.get((platform, shop), {"count": 0, "listings": set(), "last_error": None})
        obs = rules.from_push_failures(f"{platform}/{shop}", data["count"], now)
        facts = {**obs.facts, "channel": platform, "shop": shop, "listings": len(data["listings"]),
                 "window_min": FAILURE_WINDOW_MS // 60000}
        if data["last_error"]:
            facts["last_error"] = str(data["last_error"])[:200]
        out.append(replace(obs, key=AlertKey(Kind.PUSH_FAILURES, "*", scope), facts=facts))
    return out


def channel_recheck_observations(now_ms: int, listed: Iterable[Listed] = ()) -> list[Observation]:
    """Listings re-graded on the tick: SKUs with an open per-channel alert (a push that later succeeded,
    e.g. on a Lambda retry, publishes no STOCK_CHANGED) and SKUs of listings whose push failed in the
    failure window (the alert function may have run before the push failed)."""
    skus = [s.key.sku for s, _, _ in listed
            if s.key.rule == Kind.LOW_STOCK and s.key.scope.startswith("ch:") and s.level > Level.NONE]
    failed: dict[tuple[str, str], set[str]] = {}
    for f in _recent_failures(now_ms):
        failed.setdefault((f["platform"], f["shop"]), set()).add(f["listing_id"])
    for (platform, shop), ids in sorted(failed.items()):
        for data in catalog.listings(platform, shop, ids).values():
            skus += [c["sku"] for c in data.get("components") or []]
    out = []
    for sku in list(dict.fromkeys(skus))[:MAX_CHANNEL_RECHECKS]:
        thresholds, _, _ = rules_api.sku_settings(sku)
        out += observations.channel_listing_observations(sku, thresholds, now_ms // 1000)
    return out


def dead_letter_queues() -> dict[str, str]:
    """DEAD_LETTER_QUEUES: JSON {name: queue URL or queue name}, set by the stack / local runtime."""
    raw = settings().dead_letter_queues
    try:
        return dict(json.loads(raw)) if raw else {}
    except ValueError:
        logger.error("DEAD_LETTER_QUEUES is not JSON")
        return {}


def dead_letter_observations(now_ms: int, listed: Iterable = ()) -> list[Observation]:
    """Depth of every dead-letter queue (messages waiting): yellow from 1, orange 10, red 100. A queue
    that cannot be read is skipped (notifications.queue_depths logs it)."""
    depths = notifications.queue_depths(dict(sorted(dead_letter_queues().items())))
    return [rules.from_push_failures(name, depth, now_ms // 1000) for name, depth in depths.items()]

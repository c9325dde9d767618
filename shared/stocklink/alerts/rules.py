"""Events -> Observations, and the per-kind state policies.

Each function takes an event `detail` (the EventBridge detail or the handler's parsed payload) plus
`at` (event time, epoch seconds, chosen by the caller) and returns Observations for `state.decide`.
Level rules (low stock, overstock, DLQ depth, stock-out forecast, expiry) clear when the measured value
recovers past the band; incident rules (oversell, unmapped SKU, sync anomaly, burst) clear by
`Policy.auto_clear_after` on a scheduled `state.tick`, or by an explicit level-NONE observation.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from stocklink.alerts.kinds import Kind
from stocklink.alerts.levels import Grade, Level, Thresholds, grade
from stocklink.alerts.state import HOUR, AlertKey, Observation, Policy

DAY = 24 * HOUR

DEFAULT_POLICIES: Mapping[Kind, Policy] = {
    Kind.LOW_STOCK: Policy(),
    Kind.OVERSTOCK: Policy(cooldown={Level.YELLOW: 7 * DAY}),
    Kind.OVERSELL: Policy(cooldown={Level.RED: 1 * HOUR}, auto_clear_after=6 * HOUR),
    Kind.UNMAPPED_SKU: Policy(cooldown={Level.ORANGE: 12 * HOUR}, auto_clear_after=DAY),
    Kind.ORDER_NEEDS_ATTENTION: Policy(cooldown={Level.RED: 12 * HOUR}, auto_clear_after=DAY),
    Kind.SYNC_ANOMALY: Policy(cooldown={Level.ORANGE: 2 * HOUR, Level.RED: HOUR}, auto_clear_after=2 * HOUR),
    Kind.LEDGER_MISMATCH: Policy(cooldown={Level.RED: 4 * HOUR}),
    Kind.PUSH_FAILURES: Policy(cooldown={Level.YELLOW: 6 * HOUR, Level.ORANGE: 2 * HOUR, Level.RED: HOUR}),
    Kind.STOCKOUT_FORECAST: Policy(cooldown={Level.ORANGE: DAY, Level.RED: 12 * HOUR}),
    Kind.DEMAND_BURST: Policy(cooldown={Level.YELLOW: DAY}, auto_clear_after=DAY),
    Kind.SLOW_MOVER: Policy(cooldown={Level.YELLOW: 7 * DAY}),
    Kind.EXPIRY: Policy(cooldown={Level.YELLOW: 7 * DAY, Level.ORANGE: 2 * DAY, Level.RED: DAY}),
    Kind.LATE_PO: Policy(cooldown={Level.ORANGE: DAY, Level.RED: DAY}),
    # cleared by the poller itself (a level-NONE observation once the shop has caught up)
    Kind.ORDER_POLL_LAG: Policy(cooldown={Level.ORANGE: 2 * HOUR, Level.RED: HOUR}),
    # raised and cleared by the poller (published only when the shop's refunds stop or resume being read); the
    # tick repeats it meanwhile: a permission the seller must grant
    Kind.PULLED_REFUNDS_UNREAD: Policy(cooldown={Level.ORANGE: DAY}),
}


def policy_for(rule: str, overrides: Mapping[str, Policy] | None = None) -> Policy:
    if overrides and rule in overrides:
        return overrides[rule]
    return DEFAULT_POLICIES.get(Kind(rule), Policy())


def _int(v) -> int | None:
    return None if v is None else int(v)


def _pick(detail: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {k: detail[k] for k in names if detail.get(k) is not None}


# ---------------------------------------------------------------- stock levels

def stock_observations(sku: str, scope: str, available: int, safety_stock: int | None,
                       thresholds: Thresholds, at: int, *, seq: int | None = None,
                       facts: Mapping[str, Any] | None = None) -> list[Observation]:
    """Low-stock and overstock observations for one (sku, scope) stock figure."""
    entry = grade(available, safety_stock, thresholds)
    band = grade(available, safety_stock, thresholds, banded=True)
    f = {**(facts or {}), **_grade_facts(available, entry, thresholds)}
    over_level = Level.YELLOW if entry.overstock else Level.NONE
    over_clear = Level.YELLOW if band.overstock else Level.NONE
    return [
        Observation(AlertKey(Kind.LOW_STOCK, sku, scope), entry.level, at, band.level, seq, f),
        Observation(AlertKey(Kind.OVERSTOCK, sku, scope), over_level, at, over_clear, seq, f),
    ]


def _grade_facts(available: int, g: Grade, t: Thresholds) -> dict[str, Any]:
    out: dict[str, Any] = {"available": available, "reason": g.reason, "basis": g.basis,
                           "floor_units": t.floor_units}
    if g.safety_stock is not None:
        out["safety_stock"] = g.safety_stock
        out["pct_of_safety"] = round(g.pct_of_safety, 1)
    if t.max_units is not None:
        out["max_units"] = t.max_units
    return out


def from_stock_changed(detail: Mapping[str, Any], thresholds: Thresholds, at: int) -> list[Observation]:
    """stock.changed detail {sku, warehouse_id, available, on_hand, version?, safety_stock?, abc_class?,
    daily_sales?, suggested_order_qty?, pack_size?, warehouses?: [{warehouse_id, available,
    safety_stock?}], warehouse_name?} -> observations for scope "wh:<warehouse_id>".

    `warehouses` (the SKU's other stock items) is what lets the alert suggest a transfer; `version` (the
    stock item's version) orders observations so a late, older event cannot undo a newer one."""
    sku = detail["sku"]
    wh = detail.get("warehouse_id")
    facts: dict[str, Any] = {"warehouse": wh}
    for name in ("abc_class", "daily_sales", "suggested_order_qty", "pack_size", "warehouse_name", "on_hand"):
        if detail.get(name) is not None:
            facts[name] = detail[name]
    if detail.get("warehouses"):
        facts["warehouses"] = [
            {"warehouse": w["warehouse_id"], "available": int(w["available"]),
             "safety_stock": _int(w.get("safety_stock"))}
            for w in detail["warehouses"] if w.get("warehouse_id") != wh
        ]
    return stock_observations(sku, f"wh:{wh}" if wh else "all", int(detail["available"]),
                              _int(detail.get("safety_stock")), thresholds, at,
                              seq=_int(detail.get("version")), facts=facts)


def channel_observations(sku: str, listed: Mapping[str, int], thresholds: Thresholds, at: int, *,
                         seq: int | None = None) -> list[Observation]:
    """Per-channel low stock on the quantity each channel shows (e.g. TikTok Shop flags listings
    below 15). Channels have no safety stock of their own, so only zero and the floor grade here."""
    absolute = Thresholds(floor_units=thresholds.floor_units, band_units=thresholds.band_units)
    out = []
    for channel, qty in sorted(listed.items()):
        entry, band = grade(qty, None, absolute), grade(qty, None, absolute, banded=True)
        out.append(Observation(AlertKey(Kind.LOW_STOCK, sku, f"ch:{channel}"), entry.level, at, band.level,
                               seq, {"available": qty, "channel": channel, "reason": entry.reason,
                                     "warehouse_name": f"the {channel} listing",
                                     "floor_units": thresholds.floor_units}))
    return out


# ---------------------------------------------------------------- incidents

def from_oversell(detail: Mapping[str, Any], at: int) -> Observation:
    """{sku, channel|platform, shop?, order_id?, requested?, available?, warehouse_id?}: red, one alert
    per SKU (not per order), so a flash sale of oversold orders is one notification."""
    channel = detail.get("channel") or detail.get("platform")
    facts = _pick(detail, "order_id", "requested", "shop", "abc_class")
    facts.update(channel=channel, available=int(detail.get("available", 0)),
                 warehouse=detail.get("warehouse_id"))
    return Observation(AlertKey(Kind.OVERSELL, detail["sku"], "all"), Level.RED, at, facts=facts)


def from_unmapped_sku(detail: Mapping[str, Any], at: int) -> Observation:
    """{platform|channel, shop?, listing_id, seller_sku?, order_id?}: keyed by the platform's listing id."""
    channel = detail.get("channel") or detail.get("platform")
    label = detail.get("seller_sku") or detail["listing_id"]
    scope = f"ch:{channel}" + (f":{detail['shop']}" if detail.get("shop") else "")
    facts = {"channel": channel, "shop": detail.get("shop"), "order_id": detail.get("order_id"),
             "listing_id": detail["listing_id"]}
    return Observation(AlertKey(Kind.UNMAPPED_SKU, label, scope), Level.ORANGE, at,
                       facts={k: v for k, v in facts.items() if v is not None})


def from_order_needs_attention(detail: Mapping[str, Any], at: int) -> Observation:
    """{platform, shop, order_id, reason, lines}: red, one alert per order (its stock is not reserved, so
    other channels may sell it)."""
    scope = f"order:{detail.get('platform')}:{detail.get('shop')}:{detail.get('order_id')}"
    lines = detail.get("lines") or []
    facts = {"channel": detail.get("platform"), "shop": detail.get("shop"), "order_id": detail.get("order_id"),
             "reason": detail.get("reason"), "skus": len(lines),
             "units": sum(int(line.get("qty", 0)) for line in lines)}
    return Observation(AlertKey(Kind.ORDER_NEEDS_ATTENTION, "*", scope), Level.RED, at,
                       facts={k: v for k, v in facts.items() if v is not None})


def from_sync_anomaly(detail: Mapping[str, Any], at: int) -> Observation:
    """{sku, channel, expected?, listed?, description?, severity?}: orange unless the event says
    otherwise; a listing showing more than StockLink has (oversell risk) is red."""
    level = Level.parse(detail["severity"]) if detail.get("severity") else Level.ORANGE
    expected, listed = detail.get("expected"), detail.get("listed")
    if expected is not None and listed is not None and int(listed) > int(expected):
        level = max(level, Level.RED)
    facts = _pick(detail, "channel", "expected", "listed", "description", "abc_class")
    return Observation(AlertKey(Kind.SYNC_ANOMALY, detail["sku"], f"ch:{detail.get('channel')}"),
                       level, at, facts=facts)


# A pulled shop this far behind (x its threshold) is red: orders that old have not reserved their stock.
POLL_LAG_RED_FACTOR = 6


def from_order_poll_lag(detail: Mapping[str, Any], at: int) -> Observation:
    """{platform, shop, lag_s, threshold_s, error?}: how far the shop's pulled orders are behind. Orange past
    the threshold, red past POLL_LAG_RED_FACTOR x it, and NONE (clearing the alert) once below it."""
    lag, threshold = int(detail["lag_s"]), max(1, int(detail["threshold_s"]))
    level = Level.RED if lag >= POLL_LAG_RED_FACTOR * threshold else Level.ORANGE if lag >= threshold else Level.NONE
    facts = {"channel": detail.get("platform"), "shop": detail.get("shop"), "lag_s": lag, "threshold_s": threshold,
             "error": detail.get("error")}
    return Observation(AlertKey(Kind.ORDER_POLL_LAG, "*", f"shop:{detail.get('platform')}:{detail.get('shop')}"),
                       level, at, facts={k: v for k, v in facts.items() if v is not None})


def from_pulled_refunds_unread(detail: Mapping[str, Any], at: int) -> Observation:
    """{platform, shop, unread, error?}: the platform refuses the shop's refunds pages for good (its orders are
    still applied). Orange while unread: a refund before shipment is not released (its units stay committed,
    under-counted, never oversold); NONE (clearing it) once a window's refunds are read again."""
    facts = {"channel": detail.get("platform"), "shop": detail.get("shop"), "error": detail.get("error")}
    return Observation(AlertKey(Kind.PULLED_REFUNDS_UNREAD, "*", f"shop:{detail.get('platform')}:{detail.get('shop')}"),
                       Level.ORANGE if detail.get("unread") else Level.NONE, at,
                       facts={k: v for k, v in facts.items() if v is not None})


def from_ledger_mismatch(detail: Mapping[str, Any], at: int) -> Observation:
    """{sku, warehouse_id, stored, replayed}: red while they differ; reconciliation reporting equal
    figures clears it."""
    stored, replayed = int(detail["stored"]), int(detail["replayed"])
    wh = detail.get("warehouse_id")
    return Observation(AlertKey(Kind.LEDGER_MISMATCH, detail["sku"], f"wh:{wh}" if wh else "all"),
                       Level.RED if stored != replayed else Level.NONE, at,
                       facts={"stored": stored, "replayed": replayed, "warehouse": wh})


def from_demand_burst(detail: Mapping[str, Any], at: int) -> Observation:
    """{sku, observed, expected, tail_probability?}: the forecast fn decided it is a burst."""
    facts = _pick(detail, "observed", "expected", "tail_probability", "abc_class")
    return Observation(AlertKey(Kind.DEMAND_BURST, detail["sku"], "all"), Level.YELLOW, at, facts=facts)


# ---------------------------------------------------------------- measured values

def grade_high(value: float, lines: Sequence[float], *, clear_fraction: float = 0.5) -> tuple[Level, Level]:
    """(level, clear_level) for 'higher is worse' with lines (yellow, orange, red) crossed at >=; a level
    clears only once the value falls below clear_fraction x its line."""
    def lvl(scale: float) -> Level:
        out = Level.NONE
        for i, line in enumerate(lines, start=1):
            if value >= line * scale:
                out = Level(i)
        return out
    return lvl(1.0), lvl(clear_fraction)


def grade_low(value: float, lines: Sequence[float], *, band: float = 0) -> tuple[Level, Level]:
    """(level, clear_level) for 'lower is worse' with lines (yellow, orange, red) crossed strictly
    below; a level clears only once the value is `band` above its line."""
    def lvl(extra: float) -> Level:
        out = Level.NONE
        for i, line in enumerate(lines, start=1):
            if value < line + extra:
                out = Level(i)
        return out
    return lvl(0), lvl(band)


def from_push_failures(queue: str, depth: int, at: int, *,
                       lines: Sequence[int] = (1, 10, 100)) -> Observation:
    """Messages waiting in a stock-push DLQ: yellow from 1, orange from 10, red from 100."""
    level, clear = grade_high(depth, lines)
    return Observation(AlertKey(Kind.PUSH_FAILURES, "*", f"dlq:{queue}"), level, at, clear,
                       facts={"queue": queue, "depth": depth})


def from_stockout_forecast(detail: Mapping[str, Any], at: int, *, band_days: float = 1.0) -> Observation:
    """{sku, warehouse_id?, days_to_stockout, lead_time_days, suggested_order_qty?}: orange when the
    projected stock-out falls within the lead time, red within half of it."""
    days, lead = float(detail["days_to_stockout"]), float(detail["lead_time_days"])
    # orange line = lead time, red line = half; no yellow stage (the line list needs three entries)
    level, clear = grade_low(days, (float("-inf"), lead, lead / 2), band=band_days)
    wh = detail.get("warehouse_id")
    facts = _pick(detail, "days_to_stockout", "lead_time_days", "suggested_order_qty", "abc_class")
    facts["warehouse"] = wh
    return Observation(AlertKey(Kind.STOCKOUT_FORECAST, detail["sku"], f"wh:{wh}" if wh else "all"),
                       level, at, clear, facts=facts)


def from_slow_mover(detail: Mapping[str, Any], at: int) -> Observation:
    """{sku, slow: bool, days_since_last_sale?, on_hand?}: yellow while the forecast fn calls it slow."""
    facts = _pick(detail, "days_since_last_sale", "on_hand", "abc_class")
    return Observation(AlertKey(Kind.SLOW_MOVER, detail["sku"], "all"),
                       Level.YELLOW if detail.get("slow") else Level.NONE, at, facts=facts)


def from_late_po(detail: Mapping[str, Any], at: int, *, red_after_days: int = 7) -> Observation:
    """{po_id, supplier_id, sku, warehouse_id, promised_date, days_late, outstanding}: a PO line past its
    promised date and not fully received; orange when late, red a week late. Published daily while late,
    so it clears on the tick once received, closed or cancelled."""
    days = int(detail["days_late"])
    level = Level.RED if days >= red_after_days else Level.ORANGE if days > 0 else Level.NONE
    facts = _pick(detail, "po_id", "supplier_id", "promised_date", "days_late", "outstanding")
    facts["warehouse"] = detail.get("warehouse_id")
    return Observation(AlertKey(Kind.LATE_PO, detail["sku"], f"po:{detail['po_id']}"), level, at, facts=facts)


def from_expiry(detail: Mapping[str, Any], at: int, *, lines_days: Sequence[float] = (30, 14, 7),
                band_days: float = 0) -> Observation:
    """{sku, batch_id, expires_in_days, qty, warehouse_id?}: yellow within 30 days, orange 14, red 7.
    A batch sold out (qty 0) clears."""
    days, qty = float(detail["expires_in_days"]), int(detail.get("qty", 0))
    level, clear = grade_low(days, lines_days, band=band_days) if qty > 0 else (Level.NONE, Level.NONE)
    facts = {"batch_id": detail["batch_id"], "qty": qty, "expires_in_days": detail["expires_in_days"],
             "warehouse": detail.get("warehouse_id")}
    return Observation(AlertKey(Kind.EXPIRY, detail["sku"], f"batch:{detail['batch_id']}"), level, at, clear,
                       facts=facts)

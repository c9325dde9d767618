"""Alerts as messages: the Alert record, its 'what to do' text, SNS publish kwargs and filter policies.

One SNS topic; every message carries String attributes (severity, kind, event, sku, warehouse, channel,
abc_class) so each subscription filters with an SNS filter policy. A recovery keeps the severity of the
level that cleared, so a subscription to red alerts also hears when its red alert clears.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Iterable, Mapping

from stocklink.alerts.kinds import Kind
from stocklink.alerts.levels import Level
from stocklink.alerts.state import Action, Decision

ATTRIBUTES = ("severity", "kind", "event", "sku", "warehouse", "channel", "abc_class")
EVENT_OF = {Action.NOTIFY: "raised", Action.REPEAT: "repeat", Action.RECOVER: "recovered"}


@dataclass(frozen=True)
class Alert:
    id: str                  # deterministic per (key, state version): the notify fn dedupes SNS redeliveries
    key: str                 # rule#sku#scope
    kind: str
    event: str               # raised | repeat | recovered
    severity: str            # yellow | orange | red (for recovered: the level that cleared)
    sku: str
    title: str
    action: str              # what to do
    at: int
    warehouse: str | None = None
    channel: str | None = None
    abc_class: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> "Alert":
        return Alert(**{k: d.get(k) for k in Alert.__dataclass_fields__ if k in d})


# ---------------------------------------------------------------- what to do

@dataclass(frozen=True)
class WarehouseStock:
    warehouse: str
    available: int
    safety_stock: int | None = None


def days_of_cover(available: int, daily_sales: float | None) -> float | None:
    if not daily_sales or daily_sales <= 0:
        return None
    return max(available, 0) / daily_sales


def suggest_transfer(target: WarehouseStock, others: Iterable[WarehouseStock], *,
                     target_units: int | None = None, reserve_units: int = 15,
                     pack_size: int = 1) -> tuple[str, int] | None:
    """(donor warehouse, quantity) to bring `target` up to its safety stock (or `target_units`), taken
    from the warehouse with the most surplus. A donor keeps its own safety stock, or `reserve_units`
    when it has none, so a transfer never creates the next alert. Quantities are whole packs."""
    goal = target.safety_stock if target.safety_stock else target_units
    if not goal:
        return None
    need = goal - max(target.available, 0)
    if need <= 0:
        return None
    best: tuple[int, str] | None = None
    for w in others:
        if w.warehouse == target.warehouse:
            continue
        surplus = w.available - (w.safety_stock if w.safety_stock else reserve_units)
        # ties go to the alphabetically first warehouse so the text is stable
        if surplus > 0 and (best is None or (-surplus, w.warehouse) < (-best[0], best[1])):
            best = (surplus, w.warehouse)
    if best is None:
        return None
    pack = max(pack_size, 1)
    qty = min(need, best[0]) // pack * pack
    return (best[1], qty) if qty > 0 else None


def _days(x: float) -> str:
    return f"~{x:.1f} days"


def _wh(facts: Mapping[str, Any]) -> str:
    return facts.get("warehouse_name") or facts.get("warehouse") or "all warehouses"


def low_stock_transfer(f: Mapping[str, Any]) -> tuple[str, int] | None:
    """The transfer a warehouse's low-stock facts suggest (donor warehouse, units), or None."""
    if not (f.get("warehouse") and f.get("warehouses")):
        return None
    target = WarehouseStock(f["warehouse"], int(f.get("available", 0)), f.get("safety_stock"))
    others = [WarehouseStock(w["warehouse"], int(w["available"]), w.get("safety_stock")) for w in f["warehouses"]]
    return suggest_transfer(target, others, reserve_units=int(f.get("floor_units", 15)),
                            pack_size=int(f.get("pack_size", 1)))


def _low_stock_action(sku: str, f: Mapping[str, Any]) -> str:
    available = int(f.get("available", 0))
    parts = [f"SKU {sku}: {available} left in {_wh(f)}"]
    cover = days_of_cover(available, f.get("daily_sales"))
    if cover is not None:
        parts.append(f"{_days(cover)} of sales")
    transfer = low_stock_transfer(f)
    if transfer:
        parts.append(f"suggested transfer of {transfer[1]} from {transfer[0]}")
    elif f.get("suggested_order_qty"):
        parts.append(f"suggested purchase order of {int(f['suggested_order_qty'])}")
    elif f.get("available", 0) <= 0:
        parts.append("replenish or set the listing to 0 everywhere")
    return ", ".join(parts)


def action_text(kind: str, sku: str, facts: Mapping[str, Any]) -> str:
    """The 'what to do' line, from whatever data the observation carried."""
    f = facts
    k = Kind(kind)
    if k is Kind.LOW_STOCK:
        return _low_stock_action(sku, f)
    if k is Kind.OVERSTOCK:
        text = f"SKU {sku}: {f.get('available')} in {_wh(f)}, above the maximum"
        if f.get("max_units") is not None:
            text += f" of {f['max_units']}"
        cover = days_of_cover(int(f.get("available", 0)), f.get("daily_sales"))
        if cover is not None:
            text += f" ({_days(cover)} of sales)"
        return text + "; pause purchase orders for it"
    if k is Kind.OVERSELL:
        ch = f.get("channel") or "a channel"
        order = f" (order {f['order_id']}: wanted {f.get('requested')}, {f.get('available', 0)} available)" \
            if f.get("order_id") else ""
        return (f"SKU {sku} oversold on {ch}{order}. 0 was pushed to every channel; "
                f"fill the backorder or cancel and refund it")
    if k is Kind.UNMAPPED_SKU:
        where = f"{f.get('channel', '?')}" + (f"/{f['shop']}" if f.get("shop") else "")
        order = f" in order {f['order_id']}" if f.get("order_id") else ""
        return (f"Listing {sku} on {where}{order} maps to no SKU: map it in the catalogue so its "
                f"stock is reserved and synced")
    if k is Kind.ORDER_NEEDS_ATTENTION:
        return (f"Order {f.get('order_id')} on {f.get('channel', '?')}/{f.get('shop', '?')} was not applied "
                f"({f.get('reason', 'it cannot be applied')}): {f.get('units', '?')} units of {f.get('skus', '?')} "
                f"SKUs are not reserved. Fulfil it by hand (adjust the stock) or have it split; "
                f"GET /events?status=needs_attention lists its lines")
    if k is Kind.SYNC_ANOMALY:
        detail = f.get("description") or "listed quantity differs from StockLink"
        nums = ""
        if "listed" in f and "expected" in f:
            nums = f" (listed {f['listed']}, expected {f['expected']})"
        return f"SKU {sku} on {f.get('channel', '?')}: {detail}{nums}; check the listing and re-push"
    if k is Kind.ORDER_POLL_LAG:
        text = (f"Orders of {f.get('channel', '?')}/{f.get('shop', '?')} are pulled {_minutes(f.get('lag_s'))} late "
                f"(more than {_minutes(f.get('threshold_s'))}): their stock is not reserved yet")
        if f.get("error"):
            text += f"; last error: {f['error']}"
        return text + ". Check the shop's credentials and the platform's status"
    if k is Kind.PULLED_REFUNDS_UNREAD:
        return (f"Refunds of {f.get('channel', '?')}/{f.get('shop', '?')} are not read (the platform refuses them: "
                f"{f.get('error', 'no reason given')}); its orders still sync, but a refund before shipment does not "
                f"release its units (they stay committed). Grant the app the after-sales (售后) permission; refunds "
                f"settled meanwhile are not read later: correct their orders' reservations by hand "
                f"(POST /reservations/{{id}}/staff-action)")
    if k is Kind.LEDGER_MISMATCH:
        return (f"SKU {sku} in {_wh(f)}: stock item says {f.get('stored')}, ledger replay says "
                f"{f.get('replayed')}; hold manual adjustments and run a stock count")
    if k is Kind.PUSH_FAILURES:
        return (f"{f.get('depth')} stock pushes waiting in {f.get('queue', 'the DLQ')}: check channel "
                f"credentials and rate limits, then redrive the queue")
    if k is Kind.STOCKOUT_FORECAST:
        text = (f"SKU {sku}: projected to run out in {_days(float(f.get('days_to_stockout', 0)))}"
                f", lead time {f.get('lead_time_days')} days")
        if f.get("suggested_order_qty"):
            text += f"; order {int(f['suggested_order_qty'])} now"
        return text
    if k is Kind.DEMAND_BURST:
        return (f"SKU {sku}: {f.get('observed')} sold in 24 h vs ~{f.get('expected')} expected; check the "
                f"promotion and the allocation across channels")
    if k is Kind.SLOW_MOVER:
        return (f"SKU {sku}: no sale for {f.get('days_since_last_sale')} days, {f.get('on_hand')} on hand; "
                f"consider a markdown, a bundle or a transfer")
    if k is Kind.LATE_PO:
        return (f"Purchase order {f.get('po_id')} from {f.get('supplier_id')}: {f.get('outstanding')} of SKU {sku} "
                f"for {_wh(f)} promised by {f.get('promised_date')}, {f.get('days_late')} days late; chase the "
                f"supplier or move stock from another warehouse")
    if k is Kind.EXPIRY:
        return (f"SKU {sku} batch {f.get('batch_id')}: {f.get('qty')} units expire in "
                f"{f.get('expires_in_days')} days; sell it first or discount it")
    raise ValueError(kind)


def _minutes(seconds) -> str:
    minutes = max(0, int(seconds or 0)) // 60
    return f"{minutes} min" if minutes else f"{int(seconds or 0)} s"


_TITLES = {
    Kind.LOW_STOCK: "Low stock", Kind.OVERSTOCK: "Overstock", Kind.OVERSELL: "Oversell",
    Kind.UNMAPPED_SKU: "Unmapped SKU in orders", Kind.SYNC_ANOMALY: "Sync anomaly",
    Kind.ORDER_NEEDS_ATTENTION: "Order needs attention",
    Kind.LEDGER_MISMATCH: "Ledger mismatch", Kind.PUSH_FAILURES: "Stock pushes failing",
    Kind.STOCKOUT_FORECAST: "Projected stock-out", Kind.DEMAND_BURST: "Demand burst",
    Kind.SLOW_MOVER: "Slow mover", Kind.EXPIRY: "Batch near expiry", Kind.LATE_PO: "Purchase order late",
    Kind.ORDER_POLL_LAG: "Pulled orders late", Kind.PULLED_REFUNDS_UNREAD: "Refunds not read",
}


def build_alert(decision: Decision, facts: Mapping[str, Any] | None = None) -> Alert | None:
    """The message for a decision, or None when the decision sends nothing."""
    if not decision.notifies:
        return None
    st = decision.state
    f = dict(facts if facts is not None else st.facts)
    key = st.key
    event = EVENT_OF[decision.action]
    severity = decision.level.label
    scope_where = "" if key.scope == "all" else f" ({key.scope.split(':', 1)[-1]})"
    base_title = f"{_TITLES[Kind(key.rule)]}: {key.sku}{scope_where}"
    if event == "recovered":
        title = f"[RECOVERED] {base_title}"
        action = f"Cleared ({severity} before)"
        if "available" in f:
            action += f": {f['available']} now in {_wh(f)}"
    else:
        title = f"[{severity.upper()}] {base_title}" + (" (repeat)" if event == "repeat" else "")
        action = action_text(key.rule, key.sku, f)
    # one id per state version: SNS redelivery of the same message keeps the same id
    alert_id = hashlib.sha256(f"{key.id}|{st.version}|{event}".encode()).hexdigest()[:24]
    return Alert(
        id=alert_id, key=key.id, kind=key.rule, event=event, severity=severity, sku=key.sku,
        title=title, action=action, at=decision.at,
        warehouse=f.get("warehouse"), channel=f.get("channel"), abc_class=f.get("abc_class"),
        facts=f,
    )


# ---------------------------------------------------------------- SNS

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def sns_subject(title: str) -> str:
    """SNS Subject (email only): ASCII, no control characters or line breaks, at most 100 characters
    (the full UTF-8 title is in the message body)."""
    s = _NON_ASCII.sub("?", _CONTROL.sub(" ", title)).strip() or "StockLink alert"
    return s[:100]


def message_attributes(alert: Alert) -> dict[str, dict[str, str]]:
    # Absent values are left out (SNS rejects empty strings); a filter on that key then does not match.
    out = {}
    for name in ATTRIBUTES:
        value = getattr(alert, name)
        if value is not None and str(value) != "":
            out[name] = {"DataType": "String", "StringValue": str(value)}
    return out


def sns_publish_kwargs(alert: Alert, topic_arn: str) -> dict[str, Any]:
    """Keyword arguments for `sns_client.publish(**kwargs)`."""
    return {
        "TopicArn": topic_arn,
        "Subject": sns_subject(alert.title),
        "Message": json.dumps(alert.to_dict(), ensure_ascii=False, sort_keys=True, default=str),
        "MessageAttributes": message_attributes(alert),
    }


SEVERITIES = (Level.YELLOW.label, Level.ORANGE.label, Level.RED.label)


def filter_policy(spec: Mapping[str, Any]) -> str:
    """SNS FilterPolicy JSON (MessageAttributes scope) from a subscription's filter, e.g.
    {"severity": ["red"], "kind": ["low_stock", "oversell"], "warehouse": ["WH-A"]}.

    Extras: "min_severity": "orange" -> severity in [orange, red]; "match_missing": ["warehouse"] also
    lets through messages without that attribute (e.g. DLQ alerts carry no warehouse).
    SNS limits checked here: at most 5 keys, at most 150 value combinations."""
    spec = dict(spec)
    missing = set(spec.pop("match_missing", []) or [])
    min_sev = spec.pop("min_severity", None)
    if min_sev is not None:
        if "severity" in spec:
            raise ValueError("give either severity or min_severity")
        spec["severity"] = list(SEVERITIES[SEVERITIES.index(Level.parse(min_sev).label):])
    policy: dict[str, list] = {}
    for name, values in spec.items():
        if name not in ATTRIBUTES:
            raise ValueError(f"cannot filter on {name!r}; attributes are {ATTRIBUTES}")
        if isinstance(values, str):
            values = [values]
        vals: list[Any] = sorted({str(v) for v in values or []})
        if name == "severity":
            bad = set(vals) - set(SEVERITIES)
            if bad:
                raise ValueError(f"unknown severities {sorted(bad)}")
        if not vals:
            continue
        if name in missing:
            vals.append({"exists": False})
        policy[name] = vals
    unknown_missing = missing - set(policy)
    if unknown_missing:
        raise ValueError(f"match_missing names keys without values: {sorted(unknown_missing)}")
    if len(policy) > 5:
        raise ValueError("an SNS filter policy takes at most 5 keys")
    if math.prod(len(v) for v in policy.values()) > 150:
        raise ValueError("an SNS filter policy takes at most 150 value combinations")
    return json.dumps(policy, sort_keys=True, separators=(",", ":"))


# ---------------------------------------------------------------- what to do, from the alert's facts
# Some kinds know more than action_text can say from the observation alone (a listing's allocation rule,
# a failing shop's last error, the forecast's demand): these edits rewrite the action of an Alert built
# by build_alert. A recovery keeps its "Cleared" text.

def _channel_action(alert: Alert) -> Alert:
    f = alert.facts
    if alert.event == "recovered" or "pool" not in f:
        return alert
    where = f"listing {f.get('listing_id')} on {f.get('channel')}/{f.get('shop')}"
    text = f"SKU {alert.sku}: {where} shows {f.get('shown')} while {f.get('pool')} are available to sell"
    if f.get("push_failed"):
        text += (f"; its last stock push failed ({f.get('error', 'unknown error')}): fix the shop connection, "
                 f"then re-push (GET /sync/failures lists the failures)")
    else:
        text += (f"; the {f.get('rule', 'allocation')} rule gives it {f.get('computed_qty')}: raise this "
                 f"channel's quota or fixed quantity, or lower its buffer (PUT /shops/{f.get('channel')}/"
                 f"{f.get('shop')}/allocation)")
    return replace(alert, action=text)


def _push_failure_action(alert: Alert) -> Alert:
    f = alert.facts
    if alert.event == "recovered":
        return alert
    text = (f"{f.get('depth')} stock pushes to {f.get('channel')}/{f.get('shop')} failed in the last "
            f"{f.get('window_min')} min ({f.get('listings')} listings")
    text += f"; last error: {f['last_error']})" if f.get("last_error") else ")"
    return replace(alert, action=text + ": check the shop's credentials and rate limits; GET /sync/failures "
                   "lists them, and the next stock change or reconciliation re-pushes")


def _dead_letter_action(alert: Alert) -> Alert:
    f = alert.facts
    if alert.event == "recovered" or "push" in str(f.get("queue", "")):
        return alert   # the domain text is about stock pushes
    return replace(alert, action=f"{f.get('depth')} messages waiting in dead-letter queue {f.get('queue')}: "
                                 f"read the failed function's logs, fix the cause, then redrive the queue")


def _stockout_action(alert: Alert) -> Alert:
    f = alert.facts
    if alert.event == "recovered" or not f.get("daily_sales") or f.get("available") is None:
        return alert
    return replace(alert, action=alert.action + (f" ({float(f['available']):g} available, ~{float(f['daily_sales']):.1f}"
                                                 f"/day forecast: {f.get('days_of_cover')} days of cover)"))


def _burst_action(alert: Alert) -> Alert:
    f = alert.facts
    if alert.event == "recovered" or (f.get("observed") is not None and f.get("expected") is not None):
        return alert
    tail = f.get("tail_probability")
    odds = f" (tail probability {float(tail):.2g})" if tail is not None else ""
    return replace(alert, action=f"SKU {alert.sku}: sales in the last 24 h are far above the forecast{odds}; "
                                 f"check the promotion and the allocation across channels")


def _slow_mover_action(alert: Alert) -> Alert:
    f = alert.facts
    if alert.event == "recovered":
        return alert
    since = f.get("days_since_last_sale")
    text = f"SKU {alert.sku}: " + (f"no sale for {since} days" if since is not None else "no recorded sale")
    if f.get("demand_probability") is not None:
        text += f", sells on ~{100 * float(f['demand_probability']):.0f} % of days"
    if f.get("on_hand") is not None:
        text += f", {float(f['on_hand']):g} on hand"
    return replace(alert, action=text + "; consider a markdown, a bundle or a transfer")


def _scoped_action(alert: Alert) -> Alert:
    """Low stock and push failures: the text depends on the scope (a channel listing, a shop, a queue)."""
    scope = alert.key.split("#", 2)[2]
    if alert.kind == Kind.LOW_STOCK and scope.startswith("ch:"):
        return _channel_action(alert)
    if alert.kind == Kind.PUSH_FAILURES:
        return _push_failure_action(alert) if scope.startswith("ch:") else _dead_letter_action(alert)
    return alert


_ACTION_EDITS: Mapping[str, Callable[[Alert], Alert]] = {
    Kind.LOW_STOCK: _scoped_action, Kind.PUSH_FAILURES: _scoped_action,
    Kind.STOCKOUT_FORECAST: _stockout_action, Kind.DEMAND_BURST: _burst_action, Kind.SLOW_MOVER: _slow_mover_action,
}


def action_edit(kind: str) -> Callable[[Alert], Alert] | None:
    """The edit that rewrites the action of an alert of `kind` from its facts, or None (build_alert's
    text stands)."""
    return _ACTION_EDITS.get(kind)

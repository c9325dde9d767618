"""Alert wiring: bus events -> observations -> hysteresis state in DynamoDB -> one SNS message per level
crossed; the scheduled tick; acknowledgement; alert rules; subscriptions; chat fan-out.

The decisions are stocklink.alerts (pure); this module does the I/O around them:
- a state is written only when the decision changed it, conditioned on the version read (or on the
  item not existing); a lost race re-reads and decides again, so two alert functions handling events of
  one SKU at once cannot both notify a level;
- the state is written together with the alert in an outbox, then the alert is published and the outbox
  entry dropped: a retried event re-grades the same stored version (stale: nothing sent twice), and a
  publish that failed is resent by the scheduled tick from the outbox, with the same Alert.id (chat
  delivery dedupes by it). Nothing is silently lost.

Bus events arrive in SQS batches (handle_events): one SKU's stock.changed events are graded in one pass
per warehouse, and a group that fails fails only its own records.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

import boto3

from stocklink import secrets
from stocklink.alerts import chat, rules
from stocklink.alerts.kinds import Kind
from stocklink.alerts.levels import Level, ThresholdConfig, Thresholds
from stocklink.alerts.messages import ATTRIBUTES, Alert, build_alert, filter_policy, sns_publish_kwargs
from stocklink.alerts.state import (HOUR, Action, AlertKey, AlertState, Decision, Observation, Policy, acknowledge, decide,
                                   tick)
from stocklink.config import settings
from stocklink.errors import NotFound, StockLinkError, ValidationFailed
from stocklink.observability import logger, metrics
from stocklink.store import alert_models as store
from stocklink.store import repository

STOCK_CHANGED, ORDER_OVERSOLD, ORDER_UNMAPPED = "stock.changed", "order.oversold", "order.unmapped"
SYNC_ANOMALY, LEDGER_MISMATCH = "sync.anomaly", "ledger.mismatch"
# published by stocklink.logic.forecasting_service after each daily (or on-demand) run
FORECAST_STOCKOUT, FORECAST_BURST, FORECAST_SLOW = "forecast.stockout_risk", "forecast.burst", "forecast.slow_mover"
MAX_RACE_RETRIES = 8
PENDING_GRACE_MS = 120_000          # an outbox entry older than this was not published: the tick resends it
FAILURE_WINDOW_MS = 15 * 60 * 1000  # sync failure records counted by the tick
DAY = 24 * HOUR
# Forecasting publishes only positives (at risk, slow): an alert it stops confirming clears on the tick
# once a daily run has passed without it (36 h leaves room for a late run).
POLICY_OVERRIDES: Mapping[str, Policy] = {
    Kind.STOCKOUT_FORECAST: replace(rules.DEFAULT_POLICIES[Kind.STOCKOUT_FORECAST], auto_clear_after=36 * HOUR),
    Kind.SLOW_MOVER: replace(rules.DEFAULT_POLICIES[Kind.SLOW_MOVER], auto_clear_after=36 * HOUR),
}
CHAT_PROTOCOLS = {p.value for p in chat.Platform}
SNS_PROTOCOLS = {"email", "sms"}
SENT_TTL_S = 14 * 24 * 3600


class Conflict(StockLinkError):
    status, code = 409, "conflict"


@lru_cache(maxsize=1)
def _sns():
    return boto3.client("sns")


def topic_arn() -> str:
    arn = settings().alerts_topic_arn
    if not arn:
        raise RuntimeError("ALERTS_TOPIC_ARN is not set")
    return arn


# ---------------------------------------------------------------- thresholds (alert rules)

def _rule_pk(scope: str, name: str | None = None) -> str:
    return "cfg#global" if scope == "global" else f"cfg#{scope}#{name}"


SKU_META = ("abc_class", "safety_stock")


def sku_settings(sku: str) -> tuple[Thresholds, str | None, int | None]:
    """(thresholds, abc class, safety stock) for one SKU: global -> ABC class -> SKU."""
    docs = store.get_docs([_rule_pk("global"), _rule_pk("sku", sku)])
    sku_doc = dict(docs.get(_rule_pk("sku", sku)) or {})
    abc = sku_doc.pop("abc_class", None)
    safety = sku_doc.pop("safety_stock", None)
    abc_doc = store.get_doc(_rule_pk("abc", abc.upper())) if abc else None
    config = ThresholdConfig.from_dict({"global": docs.get(_rule_pk("global")) or {},
                                        "abc": {abc.upper(): abc_doc} if abc and abc_doc else {},
                                        "sku": {sku: sku_doc}})
    return config.resolve(sku, abc), abc, safety


def put_rule(scope: str, name: str | None, body: Mapping[str, Any], now_ms: int) -> dict:
    """PUT /alert-rules/global | abc/{class} | sku/{sku}: sparse threshold overrides (and, per SKU,
    abc_class and safety_stock). Validated by building the thresholds they produce."""
    body = dict(body)
    if scope == "abc":
        name = name.upper()
        if not re.fullmatch(r"[A-Z]", name):
            raise ValidationFailed("ABC class must be one letter, e.g. A")
    meta = {k: body.pop(k) for k in SKU_META if k in body}
    if meta and scope != "sku":
        raise ValidationFailed(f"{sorted(meta)} can only be set per SKU")
    if "abc_class" in meta and meta["abc_class"] is not None:
        meta["abc_class"] = str(meta["abc_class"]).upper()
        if not re.fullmatch(r"[A-Z]", meta["abc_class"]):
            raise ValidationFailed("abc_class must be one letter, e.g. A")
    if meta.get("safety_stock") is not None and (not isinstance(meta["safety_stock"], int)
                                                 or meta["safety_stock"] < 0):
        raise ValidationFailed("safety_stock must be a whole number >= 0")
    try:
        Thresholds().merged(body)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(str(exc)) from exc
    doc = {**body, **meta}
    store.put_doc(_rule_pk(scope, name), doc, now_ms, store.RULES)
    return {"scope": scope, "name": name, "rules": doc}


def list_rules() -> dict:
    out: dict[str, Any] = {"global": {}, "abc": {}, "sku": {}}
    for pk, doc in store.list_docs(store.RULES).items():
        parts = pk.split("#", 2)
        if parts[1] == "global":
            out["global"] = doc
        else:
            out[parts[1]][parts[2]] = doc
    out["defaults"] = Thresholds().__dict__
    return out


# ---------------------------------------------------------------- events -> observations

def event_time(event: Mapping[str, Any], now_ms: int) -> int:
    """Epoch seconds of an EventBridge event (its `time`), else now."""
    value = event.get("time")
    if value:
        try:
            return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
        except ValueError:
            pass
    return now_ms // 1000


def stored_item(items: Iterable, warehouse_id: Any):
    """The stored stock item of one warehouse among a SKU's items (None: not stored, or no warehouse)."""
    return next((i for i in items if i.warehouse_id == warehouse_id), None)


def warehouse_observations(sku: str, detail: Mapping[str, Any], thresholds: Thresholds, abc: str | None,
                           safety: int | None, items: list, at: int,
                           plan: Callable[[str], dict[str, Any]] | None = None) -> list[Observation]:
    """The warehouse-level observations of one stock.changed (scope "wh:<detail's warehouse_id>"), graded
    on `items`, the SKU's stored stock items."""
    enriched = dict(detail)
    if abc:
        enriched["abc_class"] = abc
    if safety is not None:
        enriched["safety_stock"] = safety
    # Grade the stored item, not the event's copy: a late or replayed event then re-reads the current
    # figures, and the item's version orders observations (equal version = nothing new).
    current = stored_item(items, detail.get("warehouse_id"))
    if current is not None:
        enriched.update(available=int(current.available), on_hand=int(current.on_hand),
                        version=int(current.version))
    # the SKU's other warehouses let the message suggest a transfer instead of a purchase
    enriched["warehouses"] = [{"warehouse_id": i.warehouse_id, "available": int(i.available),
                               "safety_stock": safety} for i in items]
    found = rules.from_stock_changed(enriched, thresholds, at)
    if any(o.level > Level.NONE for o in found):
        # only for a message: demand from the latest forecast gives days of cover and an order qty
        extra = (plan or _forecast_plan)(sku)
        if extra:
            found = rules.from_stock_changed({**extra, **enriched}, thresholds, at)
    return found


def observations(detail_type: str, detail: Mapping[str, Any], at: int) -> list[Observation]:
    if detail_type == STOCK_CHANGED:
        sku = detail["sku"]
        thresholds, abc, safety = sku_settings(sku)
        items = repository.stock_items(sku)
        return (warehouse_observations(sku, detail, thresholds, abc, safety, items, at)
                + channel_listing_observations(sku, thresholds, at))
    if detail_type == ORDER_OVERSOLD:
        skus = [detail["sku"]] if detail.get("sku") else _reservation_skus(detail.get("reservation_id"))
        return [rules.from_oversell({**detail, "sku": sku, "requested": detail.get("shortfall")}, at)
                for sku in skus]
    if detail_type == ORDER_UNMAPPED:
        return [rules.from_unmapped_sku({"platform": detail.get("platform"), "shop": detail.get("shop"),
                                         "order_id": detail.get("order_id"), **line}, at)
                for line in detail.get("unmapped") or [] if line.get("listing_id")]
    if detail_type == SYNC_ANOMALY:
        return [rules.from_sync_anomaly(detail, at)]
    if detail_type == LEDGER_MISMATCH:
        return [rules.from_ledger_mismatch(detail, at)]
    if detail_type == FORECAST_STOCKOUT:
        return stockout_observations(detail, at)
    if detail_type == FORECAST_BURST:
        return [burst_observation(detail, at)]
    if detail_type == FORECAST_SLOW:
        return [slow_mover_observation(detail, at)]
    logger.warning("alerts: ignoring event type %s", detail_type)
    return []


# ---------------------------------------------------------------- forecast events

def _forecast_result(sku: str) -> dict | None:
    from stocklink.store import sales_models
    try:
        return sales_models.get_result(sku)
    except Exception:  # noqa: BLE001 - enrichment only: the alert goes out without the demand figures
        logger.exception("alerts: could not read the forecast of %s", sku)
        return None


def _daily_demand(result: Mapping[str, Any] | None, days: float = 7) -> float | None:
    forecast = [float(x) for x in (result or {}).get("forecast") or []]
    n = max(1, min(len(forecast), int(round(days))))
    return sum(forecast[:n]) / n if forecast else None


def _forecast_plan(sku: str) -> dict[str, Any]:
    """{daily_sales, suggested_order_qty} from the SKU's latest forecast, or {} before the first run."""
    result = _forecast_result(sku)
    out: dict[str, Any] = {}
    daily = _daily_demand(result)
    if daily:
        out["daily_sales"] = round(daily, 2)
    if result and int(result.get("suggested_order_qty") or 0) > 0:
        out["suggested_order_qty"] = int(result["suggested_order_qty"])
    return out


def stockout_observations(detail: Mapping[str, Any], at: int) -> list[Observation]:
    """forecast.stockout_risk {sku, run_id, as_of, abc_class, stockout_date, lead_time_days, available,
    suggested_order_qty}: days of cover = stockout date - as_of; orange within the lead time (the
    forecaster's own flag, inclusive), red within half of it."""
    if not detail.get("stockout_date"):
        return []
    as_of = dt.date.fromisoformat(str(detail["as_of"])[:10])
    days = max(0, (dt.date.fromisoformat(str(detail["stockout_date"])[:10]) - as_of).days)
    obs = rules.from_stockout_forecast({**detail, "days_to_stockout": days}, at)
    level = max(obs.level, Level.ORANGE)   # the event says: within the lead time
    facts = {**obs.facts, "days_of_cover": days, "stockout_date": detail["stockout_date"], "as_of": str(as_of)}
    for name in ("available", "run_id"):
        if detail.get(name) is not None:
            facts[name] = detail[name]
    daily = _daily_demand(_forecast_result(detail["sku"]), float(detail.get("lead_time_days") or 7))
    if daily:
        facts["daily_sales"] = round(daily, 2)
    return [replace(obs, level=level, clear_level=max(obs.clear_level or level, level), facts=facts)]


def burst_observation(detail: Mapping[str, Any], at: int) -> Observation:
    """forecast.burst {sku, run_id, as_of, abc_class, burst_tail_prob}: observed = that day's sales
    counter, expected = the forecast's next-day level."""
    from stocklink.store import sales_models
    sku, day = detail["sku"], str(detail.get("as_of") or "")[:10]
    data: dict[str, Any] = {"sku": sku, "abc_class": detail.get("abc_class"),
                            "tail_probability": detail.get("burst_tail_prob")}
    try:
        sold = sales_models.daily_sales(sku, day, day) if day else []
        if sold:
            data["observed"] = int(round(sum(q for _, q in sold)))
    except Exception:  # noqa: BLE001 - enrichment only
        logger.exception("alerts: could not read the sales of %s", sku)
    expected = _daily_demand(_forecast_result(sku), 1)
    if expected is not None:
        data["expected"] = round(expected, 1)
    return rules.from_demand_burst(data, at)


def slow_mover_observation(detail: Mapping[str, Any], at: int) -> Observation:
    """forecast.slow_mover {sku, run_id, as_of, abc_class, demand_probability, days_since_last_sale,
    inventory_position}."""
    obs = rules.from_slow_mover({"sku": detail["sku"], "slow": True, "abc_class": detail.get("abc_class"),
                                 "days_since_last_sale": detail.get("days_since_last_sale"),
                                 "on_hand": detail.get("inventory_position")}, at)
    if detail.get("demand_probability") is not None:
        obs = replace(obs, facts={**obs.facts, "demand_probability": detail["demand_probability"]})
    return obs


# ---------------------------------------------------------------- per channel

def channel_listing_observations(sku: str, thresholds: Thresholds, at: int,
                                 stock: Mapping[str, list] | None = None) -> list[Observation]:
    """Each listing of the SKU that shows 0 or less than the floor while the pool could fill it: red,
    scope "ch:<platform>:<shop>:<listing>". What a listing shows is the last pushed value when its push
    failed (the platform still has the old figure), else the quantity its allocation rule computes.
    A pool itself below the floor grades NONE here: the warehouse low-stock alert covers it.
    `stock`: stock items already read in this pass, per SKU (not read again)."""
    from stocklink.logic.sync import views

    try:
        listings = views.sku_channels(sku, at * 1000)["listings"]
    except Exception:  # noqa: BLE001 - per-channel checks must not stop the warehouse alerts
        logger.exception("alerts: could not read the channel state of %s", sku)
        return []
    totals: dict[str, int] = {}
    out = []
    floor = max(thresholds.floor_units, 1)
    for listing in listings:
        if listing["computed_qty"] is None:   # sync off for this channel
            continue
        for c in listing["components"]:
            if c["sku"] not in totals:
                items = (stock or {}).get(c["sku"])
                if items is None:
                    items = repository.stock_items(c["sku"])
                totals[c["sku"]] = sum(max(0, int(i.available)) for i in items)
        pool = min(totals[c["sku"]] // max(int(c["qty"]), 1) for c in listing["components"])
        failed = listing["status"] == "failed" and listing["pushed_qty"] is not None
        shown = int(listing["pushed_qty"]) if failed else int(listing["computed_qty"])
        name = f"{listing['platform']}:{listing['shop']}:{listing['listing_id']}"
        (obs,) = rules.channel_observations(sku, {name: shown}, thresholds, at)
        if pool < floor or shown >= pool:
            obs = replace(obs, level=Level.NONE, clear_level=Level.NONE)
        facts = {**obs.facts, "channel": listing["platform"], "shop": listing["shop"],
                 "listing_id": listing["listing_id"], "pool": pool, "shown": shown, "rule": listing["rule"],
                 "computed_qty": listing["computed_qty"], "pushed_qty": listing["pushed_qty"],
                 "push_failed": failed, "error": listing["error"] if failed else None}
        out.append(replace(obs, facts={k: v for k, v in facts.items() if v is not None}))
    return out


def _channel_edit(alert: Alert) -> Alert:
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


# ---------------------------------------------------------------- push failures and dead letters

def push_failure_observations(now_ms: int, listed: Iterable[tuple[AlertState, Any, int]] = ()) -> list[Observation]:
    """Stock pushes that failed in the last FAILURE_WINDOW_MS, per shop (channel_sync's failure records):
    yellow from 1, orange from 10, red from 100; a shop with an open alert and no failures now clears."""
    from stocklink.store import sync_models

    now = now_ms // 1000
    shops: dict[tuple[str, str], dict[str, Any]] = {}
    for f in sync_models.recent_failures(limit=500):   # newest first
        if now_ms - int(f.get("at_ms", 0)) > FAILURE_WINDOW_MS:
            break
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


MAX_CHANNEL_RECHECKS = 50


def channel_recheck_observations(now_ms: int, listed: Iterable[tuple[AlertState, Any, int]] = ()) -> list[Observation]:
    """Listings re-graded on the tick: SKUs with an open per-channel alert (a push that later succeeded,
    e.g. on a Lambda retry, publishes no stock.changed) and SKUs of listings whose push failed in the
    failure window (the alert function may have run before the push failed)."""
    from stocklink.store import sync_models

    skus = [s.key.sku for s, _, _ in listed
            if s.key.rule == Kind.LOW_STOCK and s.key.scope.startswith("ch:") and s.level > Level.NONE]
    failed: dict[tuple[str, str], set[str]] = {}
    for f in sync_models.recent_failures(limit=500):
        if now_ms - int(f.get("at_ms", 0)) > FAILURE_WINDOW_MS:
            break
        failed.setdefault((f["platform"], f["shop"]), set()).add(f["listing_id"])
    for (platform, shop), ids in sorted(failed.items()):
        for data in repository.batch_get_catalog(repository.listing_pk(platform, shop), ids).values():
            skus += [c["sku"] for c in data.get("components") or []]
    out = []
    for sku in list(dict.fromkeys(skus))[:MAX_CHANNEL_RECHECKS]:
        thresholds, _, _ = sku_settings(sku)
        out += channel_listing_observations(sku, thresholds, now_ms // 1000)
    return out


def _failure_edit(alert: Alert) -> Alert:
    f = alert.facts
    if alert.event == "recovered":
        return alert
    text = (f"{f.get('depth')} stock pushes to {f.get('channel')}/{f.get('shop')} failed in the last "
            f"{f.get('window_min')} min ({f.get('listings')} listings")
    text += f"; last error: {f['last_error']})" if f.get("last_error") else ")"
    return replace(alert, action=text + ": check the shop's credentials and rate limits; GET /sync/failures "
                   "lists them, and the next stock change or reconciliation re-pushes")


@lru_cache(maxsize=1)
def _sqs():
    return boto3.client("sqs")


def dead_letter_queues() -> dict[str, str]:
    """DEAD_LETTER_QUEUES: JSON {name: queue URL or queue name}, set by the stack / local runtime."""
    raw = settings().dead_letter_queues
    try:
        return dict(json.loads(raw)) if raw else {}
    except ValueError:
        logger.error("DEAD_LETTER_QUEUES is not JSON")
        return {}


def dead_letter_observations(now_ms: int, listed: Iterable = ()) -> list[Observation]:
    """Depth of every dead-letter queue (messages waiting): yellow from 1, orange 10, red 100."""
    out = []
    for name, ref in sorted(dead_letter_queues().items()):
        try:
            url = ref if "://" in ref else _sqs().get_queue_url(QueueName=ref)["QueueUrl"]
            attrs = _sqs().get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        except Exception:  # noqa: BLE001 - one unreadable queue must not stop the rest of the tick
            logger.exception("alerts: could not read dead-letter queue %s", name)
            continue
        depth = int(attrs.get("ApproximateNumberOfMessages", 0)) + int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))
        out.append(rules.from_push_failures(name, depth, now_ms // 1000))
    return out


def _dlq_edit(alert: Alert) -> Alert:
    f = alert.facts
    if alert.event == "recovered" or "push" in str(f.get("queue", "")):
        return alert   # the domain text is about stock pushes
    return replace(alert, action=f"{f.get('depth')} messages waiting in dead-letter queue {f.get('queue')}: "
                                 f"read the failed function's logs, fix the cause, then redrive the queue")


def _stockout_edit(alert: Alert) -> Alert:
    f = alert.facts
    if alert.event == "recovered" or not f.get("daily_sales") or f.get("available") is None:
        return alert
    return replace(alert, action=alert.action + (f" ({float(f['available']):g} available, ~{float(f['daily_sales']):.1f}"
                                                 f"/day forecast: {f.get('days_of_cover')} days of cover)"))


def _burst_edit(alert: Alert) -> Alert:
    f = alert.facts
    if alert.event == "recovered" or (f.get("observed") is not None and f.get("expected") is not None):
        return alert
    tail = f.get("tail_probability")
    odds = f" (tail probability {float(tail):.2g})" if tail is not None else ""
    return replace(alert, action=f"SKU {alert.sku}: sales in the last 24 h are far above the forecast{odds}; "
                                 f"check the promotion and the allocation across channels")


def _slow_edit(alert: Alert) -> Alert:
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


def _scope_edit(alert: Alert) -> Alert:
    scope = alert.key.split("#", 2)[2]
    if alert.kind == Kind.LOW_STOCK and scope.startswith("ch:"):
        return _channel_edit(alert)
    if alert.kind == Kind.PUSH_FAILURES:
        return _failure_edit(alert) if scope.startswith("ch:") else _dlq_edit(alert)
    return alert


_EDITS: Mapping[str, Callable[[Alert], Alert]] = {
    Kind.LOW_STOCK: _scope_edit, Kind.PUSH_FAILURES: _scope_edit, Kind.STOCKOUT_FORECAST: _stockout_edit,
    Kind.DEMAND_BURST: _burst_edit, Kind.SLOW_MOVER: _slow_edit,
}


def _reservation_skus(reservation_id: str | None) -> list[str]:
    if not reservation_id:
        return []
    reservation = repository.get_reservation(reservation_id)
    if reservation is None:
        return []
    return list(dict.fromkeys(line.sku for line in reservation.lines or []))


# ---------------------------------------------------------------- decide, publish, store

def publish(alert: Alert) -> str:
    answer = _sns().publish(**sns_publish_kwargs(alert, topic_arn()))
    metrics.add_metric(name="AlertsPublished", unit="Count", value=1)
    logger.info("alert published", extra={"alert_id": alert.id, "key": alert.key, "event": alert.event,
                                          "severity": alert.severity})
    return answer["MessageId"]


def _apply(key_id: str, step: Callable[[AlertState | None], Decision], now_ms: int,
           edit: Callable[[Alert], Alert] | None = None) -> Alert | None:
    """Read, decide, conditionally write (the state, and the alert into the outbox in the same
    transaction), then publish and drop the outbox entry.

    The conditional write on `version` is the guard: of two functions deciding the same crossing only
    the one whose write lands publishes; the loser re-reads and decides again (now: nothing to send).
    A publish that fails leaves the alert in the outbox and raises (the event is retried); the tick
    resends outbox entries older than PENDING_GRACE_MS. No race sends a level twice; nothing is lost."""
    for _ in range(MAX_RACE_RETRIES):
        state, last_alert = store.get_state(key_id)
        decision = step(state)
        if not decision.changed or _only_recently_seen(state, decision):
            return None
        alert = build_alert(decision)
        if alert is not None and edit is not None:
            alert = edit(alert)
        try:
            store.save_state(decision.state, expected_version=None if state is None else state.version,
                             now_ms=now_ms, last_alert=alert.to_dict() if alert else None,
                             keep_last_alert=last_alert, outbox_alert=alert.to_dict() if alert else None)
        except store.Conflict:
            metrics.add_metric(name="AlertStateRaces", unit="Count", value=1)
            continue
        if alert is not None:
            publish(alert)
            store.clear_outbox(alert.id)
        return alert
    raise RuntimeError(f"alert state {key_id}: too many concurrent writers")


SEEN_WRITE_MIN_S = 60


def _only_recently_seen(old: AlertState | None, decision: Decision) -> bool:
    """True when the decision sends nothing and only refreshes an incident's last_seen_at (and times,
    facts) by less than SEEN_WRITE_MIN_S: not worth a write. Twenty oversold orders of one SKU at once
    would otherwise be twenty contending writes of the same item; auto-clear works in hours."""
    new = decision.state
    if old is None or decision.notifies or old.last_seen_at is None or new.last_seen_at is None:
        return False
    same = all(getattr(old, f) == getattr(new, f) for f in
               ("level", "since", "notified", "acked_level", "acked_at", "acked_by"))
    return same and 0 <= new.last_seen_at - old.last_seen_at < SEEN_WRITE_MIN_S


def _observe(obs: Observation, now_ms: int, edit: Callable[[Alert], Alert] | None = None) -> Alert | None:
    policy = rules.policy_for(obs.key.rule, POLICY_OVERRIDES)
    return _apply(obs.key.id, lambda state: decide(state, obs, policy), now_ms, edit)


def handle_event(event: Mapping[str, Any], now_ms: int) -> list[Alert]:
    """One EventBridge event -> the alerts it raised (published on SNS)."""
    detail_type = event.get("detail-type") or event.get("detail_type")
    detail = event.get("detail") or {}
    at = event_time(event, now_ms)
    sent = []
    for obs in observations(detail_type, detail, at):
        alert = _observe(obs, now_ms, _EDITS.get(obs.key.rule))
        if alert is not None:
            sent.append(alert)
    return sent


@dataclass
class BatchOutcome:
    sent: list[Alert] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)   # positions of the events to retry
    passes: int = 0                                     # stock.changed grading passes (after merging)


def handle_events(events: list[Mapping[str, Any]], now_ms: int) -> BatchOutcome:
    """A batch of EventBridge events (an SQS batch) -> the alerts it raised, and the events to retry.

    stock.changed events of one SKU are merged: the SKU's settings and stored stock items are read once,
    each warehouse named by the batch is graded once on its stored item at the latest event time of that
    warehouse, and the SKU's listings once at the latest event time of the SKU. Handled one by one at that
    moment, every event after the first would re-read the same stored item (same version: stale, nothing
    sent) and the same listings, so the alerts are the same. An event whose warehouse has no stored item is graded on its own figures, one by
    one, as before. Other event types are handled one by one (handle_event).

    A group that raises fails only its own events (a warehouse: the events naming it; the SKU's settings,
    items or listings: all the SKU's events; any other event: itself); the rest of the batch goes on.
    A retried group cannot send an alert twice: states are written (with the alert in the outbox) before
    the publish, so a re-grade of the same stored version is stale, and the tick resends what a failed
    publish left in the outbox."""
    out = BatchOutcome()
    by_sku: dict[str, list[int]] = {}
    for i, event in enumerate(events):
        detail = event.get("detail")
        if (event.get("detail-type") or event.get("detail_type")) == STOCK_CHANGED and isinstance(detail, Mapping) \
                and detail.get("sku"):
            by_sku.setdefault(str(detail["sku"]), []).append(i)
    grouped = {i for positions in by_sku.values() for i in positions}
    for sku, positions in by_sku.items():
        _stock_changed_batch(sku, [(i, events[i]) for i in positions], now_ms, out)
    for i, event in enumerate(events):
        if i in grouped:
            continue
        try:
            out.sent += handle_event(event, now_ms)
        except Exception:  # noqa: BLE001 - only this event is retried
            logger.exception("alerts: event failed", extra={"detail_type": event.get("detail-type")})
            out.failed.append(i)
    out.failed.sort()
    return out


def _stock_changed_batch(sku: str, events: list[tuple[int, Mapping[str, Any]]], now_ms: int,
                         out: BatchOutcome) -> None:
    """One SKU's stock.changed events of a batch: see handle_events."""
    everyone = [i for i, _ in events]
    try:
        thresholds, abc, safety = sku_settings(sku)
        items = repository.stock_items(sku)
    except Exception:  # noqa: BLE001 - only this SKU's events are retried
        logger.exception("alerts: could not read the settings or stock of %s", sku)
        out.failed += everyone
        return
    plans: dict[str, dict[str, Any]] = {}

    def plan(s: str) -> dict[str, Any]:
        if s not in plans:
            plans[s] = _forecast_plan(s)
        return plans[s]

    # passes: (event positions, detail, time). Events of a warehouse with a stored item merge into one pass
    # (the stored figures, the latest event's time); an event without a stored item keeps its own pass.
    passes: list[tuple[list[int], Mapping[str, Any], int]] = []
    merged: dict[Any, list[tuple[int, Mapping[str, Any], int]]] = {}
    latest_at = 0
    for i, event in events:
        at = event_time(event, now_ms)
        latest_at = max(latest_at, at)
        wh = event["detail"].get("warehouse_id")
        if stored_item(items, wh) is None:
            passes.append(([i], event["detail"], at))
        else:
            merged.setdefault(wh, []).append((i, event["detail"], at))
    for group in merged.values():
        # the latest event (the last one on a tie): its detail and time; the figures are the stored item's
        _, detail, at = max(group, key=lambda g: (g[2], g[0]))
        passes.append(([g[0] for g in group], detail, at))
    passes.sort(key=lambda p: p[0][0])      # in the batch's order
    for positions, detail, at in passes:
        out.passes += 1
        try:
            for obs in warehouse_observations(sku, detail, thresholds, abc, safety, items, at, plan):
                alert = _observe(obs, now_ms, _EDITS.get(obs.key.rule))
                if alert is not None:
                    out.sent.append(alert)
        except Exception:  # noqa: BLE001 - only the events naming this warehouse are retried
            logger.exception("alerts: grading %s failed", sku, extra={"warehouse_id": detail.get("warehouse_id")})
            out.failed += positions
    try:
        for obs in channel_listing_observations(sku, thresholds, latest_at, {sku: items}):
            alert = _observe(obs, now_ms, _EDITS.get(obs.key.rule))
            if alert is not None:
                out.sent.append(alert)
    except Exception:  # noqa: BLE001 - every event of the SKU graded its listings: all are retried
        logger.exception("alerts: grading the listings of %s failed", sku)
        out.failed += [i for i in everyone if i not in out.failed]


def run_tick(now_ms: int) -> dict:
    """Scheduled: push-failure and dead-letter depth checks, repeats that are due (unacknowledged),
    auto-clear of quiet incidents, and republishing of alerts a failed publish left in an outbox.
    Without it a red SKU that stops changing would never be repeated."""
    now = now_ms // 1000
    sent = []
    listed = store.open_states(limit=1000)
    checks = []
    for check in (push_failure_observations, dead_letter_observations, channel_recheck_observations):
        try:
            checks += check(now_ms, listed)
        except Exception:  # noqa: BLE001 - a failing check must not stop repeats and auto-clear
            logger.exception("alerts: %s failed", check.__name__)
    for obs in checks:
        alert = _observe(obs, now_ms, _scope_edit)
        if alert is not None:
            sent.append(alert)
    republished = 0
    for entry in store.outbox():
        if now_ms - int(entry.get("at_ms", 0)) >= PENDING_GRACE_MS:
            alert = Alert.from_dict(entry["alert"])
            publish(alert)     # same Alert.id as the lost one: chat delivery dedupes by it
            store.clear_outbox(alert.id)
            republished += 1
    for state, _, _ in listed:
        policy = rules.policy_for(state.key.rule, POLICY_OVERRIDES)
        alert = _apply(state.key.id, lambda current, policy=policy: _tick_step(current, now, policy), now_ms,
                       _EDITS.get(state.key.rule))
        if alert is not None:
            sent.append(alert)
    return {"sent": [a.id for a in sent], "republished": republished}


def _tick_step(current: AlertState | None, now: int, policy) -> Decision:
    if current is None:  # deleted between the listing and the read: nothing to do
        return Decision(Action.NONE, Level.NONE, Level.NONE, AlertState(AlertKey("none", "none")), False, "ok")
    return tick(current, now, policy)


# ---------------------------------------------------------------- API: alerts

def _view(state: AlertState, last_alert: dict | None, updated_at: int | None = None) -> dict:
    return {
        "id": state.key.id, "kind": state.key.rule, "sku": state.key.sku, "scope": state.key.scope,
        "level": state.level.label, "status": ("acked" if state.level is not Level.NONE
                                               and state.acked_level >= state.level else
                                               "open" if state.level is not Level.NONE else "closed"),
        "since": state.since, "last_at": state.last_at, "acked_level": state.acked_level.label,
        "acked_by": state.acked_by, "acked_at": state.acked_at, "version": state.version,
        "notified": {lvl.label: t for lvl, t in state.notified.items()},
        "title": (last_alert or {}).get("title"), "action": (last_alert or {}).get("action"),
        "last_alert_id": (last_alert or {}).get("id"), "facts": dict(state.facts),
        "updated_at": updated_at,
    }


def list_alerts(status: str = "open") -> dict:
    if status not in ("open", "acked", "unacked", "all"):
        raise ValidationFailed("status must be open, acked, unacked or all")
    views = [_view(s, a, u) for s, a, u in store.open_states()]
    if status == "acked":
        views = [v for v in views if v["status"] == "acked"]
    elif status == "unacked":
        views = [v for v in views if v["status"] == "open"]
    return {"alerts": views, "count": len(views)}


def ack(alert_id: str, by: str, now_ms: int) -> dict:
    try:
        AlertKey.parse(alert_id)
    except ValueError as exc:
        raise NotFound(f"no alert {alert_id}") from exc
    for _ in range(MAX_RACE_RETRIES):
        state, last_alert = store.get_state(alert_id)
        if state is None or state.level is Level.NONE:
            raise NotFound(f"no open alert {alert_id}")
        acked = acknowledge(state, now_ms // 1000, by)
        try:
            store.save_state(acked, expected_version=state.version, now_ms=now_ms, keep_last_alert=last_alert)
        except store.Conflict:
            continue
        return _view(acked, last_alert, now_ms)
    raise Conflict(f"alert {alert_id} is changing too fast; try again")


# ---------------------------------------------------------------- API: subscriptions

def _chat_secret_name(sub_id: str) -> str:
    return f"{settings().secrets_prefix}chat/{sub_id}"


def _mask(url: str) -> str:
    return url[:24] + "…" if len(url) > 24 else url


def put_subscription(sub_id: str, body: Mapping[str, Any], now_ms: int) -> dict:
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", sub_id):
        raise ValidationFailed("subscription id: 1-64 of A-Z a-z 0-9 . _ -")
    protocol = str(body.get("protocol") or "").lower()
    endpoint = body.get("endpoint")
    spec = body.get("filter") or {}
    if protocol not in SNS_PROTOCOLS | CHAT_PROTOCOLS:
        raise ValidationFailed(f"protocol must be one of {sorted(SNS_PROTOCOLS | CHAT_PROTOCOLS)}")
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise ValidationFailed("endpoint is required")
    if not isinstance(spec, dict):
        raise ValidationFailed("filter must be an object")
    try:
        policy = filter_policy(spec)
    except ValueError as exc:
        raise ValidationFailed(f"filter: {exc}") from exc
    previous = store.get_doc(f"sub#{sub_id}")
    doc: dict[str, Any] = {"id": sub_id, "protocol": protocol, "filter": spec, "filter_policy": policy,
                           "name": body.get("name") or sub_id}
    if protocol in SNS_PROTOCOLS:
        if protocol == "email" and "@" not in endpoint:
            raise ValidationFailed("endpoint must be an email address")
        if protocol == "sms" and not re.fullmatch(r"\+[1-9]\d{6,14}", endpoint):
            raise ValidationFailed("endpoint must be an E.164 phone number, e.g. +8613800000000")
        sns = _sns()
        arn = (previous or {}).get("subscription_arn")
        same = previous and previous.get("protocol") == protocol and previous.get("endpoint") == endpoint
        if arn and same:
            sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                            AttributeValue=policy)
        else:
            if arn:
                _unsubscribe(arn)
            arn = sns.subscribe(TopicArn=topic_arn(), Protocol=protocol, Endpoint=endpoint,
                                Attributes={"FilterPolicy": policy, "FilterPolicyScope": "MessageAttributes"},
                                ReturnSubscriptionArn=True)["SubscriptionArn"]
        doc.update(endpoint=endpoint, subscription_arn=arn)
    else:
        # plain http only to this machine (local runtime and tests): a deployed function cannot reach it
        if not (endpoint.startswith("https://")
                or re.match(r"http://(127\.0\.0\.1|localhost)(:\d+)?/", endpoint)):
            raise ValidationFailed("chat webhook endpoint must be an https:// URL")
        secret = body.get("secret")
        if secret is not None and not isinstance(secret, str):
            raise ValidationFailed("secret must be a string")
        # the webhook URL carries the robot's key: both live in Secrets Manager, never in the table
        secrets.write_json(_chat_secret_name(sub_id), {"url": endpoint, "secret": secret})
        doc.update(endpoint_hint=_mask(endpoint), signed=bool(secret))
        if previous and previous.get("subscription_arn"):
            _unsubscribe(previous["subscription_arn"])
    store.put_doc(f"sub#{sub_id}", doc, now_ms, store.SUBSCRIPTIONS)
    return doc


def _unsubscribe(arn: str) -> None:
    try:
        _sns().unsubscribe(SubscriptionArn=arn)
    except Exception:  # noqa: BLE001 - pending confirmations have no ARN to remove; nothing else to undo
        logger.warning("unsubscribe failed", extra={"arn": arn})


def delete_subscription(sub_id: str) -> dict:
    doc = store.get_doc(f"sub#{sub_id}")
    if doc is None:
        raise NotFound(f"no subscription {sub_id}")
    if doc.get("subscription_arn"):
        _unsubscribe(doc["subscription_arn"])
    store.delete_doc(f"sub#{sub_id}")
    return {"deleted": sub_id}


def list_subscriptions() -> dict:
    subs = sorted(store.list_docs(store.SUBSCRIPTIONS).values(), key=lambda d: d["id"])
    return {"subscriptions": subs}


# ---------------------------------------------------------------- notify: chat fan-out

def matches(policy_json: str, attributes: Mapping[str, str]) -> bool:
    """SNS filter-policy semantics for the policies `filter_policy` builds: every key must match one of
    its values (exact strings, or {"exists": false} for a missing attribute)."""
    policy = json.loads(policy_json or "{}")
    for name, allowed in policy.items():
        value = attributes.get(name)
        ok = False
        for a in allowed:
            if isinstance(a, dict):
                ok = ok or (a.get("exists") is False and value is None)
            elif value is not None and str(a) == value:
                ok = True
        if not ok:
            return False
    return True


_CHAT_CACHE: dict[str, Any] = {"at": 0.0, "subs": None}
CHAT_CACHE_SECONDS = 30


def chat_subscriptions(fresh: bool = False) -> list[dict]:
    now = time.monotonic()
    if fresh or _CHAT_CACHE["subs"] is None or now - _CHAT_CACHE["at"] > CHAT_CACHE_SECONDS:
        subs = [d for d in store.list_docs(store.SUBSCRIPTIONS).values() if d.get("protocol") in CHAT_PROTOCOLS]
        _CHAT_CACHE.update(at=now, subs=subs)
    return _CHAT_CACHE["subs"]


def http_transport(request: chat.HttpRequest, timeout: float = 10.0):
    req = urllib.request.Request(request.url, data=request.body, headers=dict(request.headers),
                                 method=request.method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers or {}), exc.read()


class DeliveryFailed(Exception):
    pass


def parse_sns_envelope(body: str) -> tuple[Alert, dict[str, str]]:
    envelope = json.loads(body)
    if "Message" in envelope and "TopicArn" in envelope:
        attrs = {k: v.get("Value") for k, v in (envelope.get("MessageAttributes") or {}).items()}
        message = envelope["Message"]
    else:  # raw message delivery
        attrs, message = {}, body
    alert = Alert.from_dict(json.loads(message))
    if not attrs:
        attrs = {k: str(getattr(alert, k)) for k in ATTRIBUTES if getattr(alert, k) not in (None, "")}
    return alert, attrs


def notify_message(body: str, now_ms: int, *, send: chat.Transport = http_transport,
                   sleep: Callable[[float], None] = time.sleep,
                   clock_ms: Callable[[], int] = lambda: int(time.time() * 1000)) -> dict:
    """Deliver one SNS message to every matching chat subscription not yet delivered to.
    Raises DeliveryFailed when any target is still undelivered (the queue redelivers; then its DLQ)."""
    alert, attrs = parse_sns_envelope(body)
    policy = chat.RetryPolicy(base_delay=settings().notify_retry_base_delay,
                              max_delay=30 * settings().notify_retry_base_delay,
                              max_total_wait=max(0.0, 60 * settings().notify_retry_base_delay))
    delivered, skipped, failed = [], [], []
    for sub in chat_subscriptions():
        if not matches(sub.get("filter_policy", "{}"), attrs):
            continue
        marker = f"sent#{alert.id}#{sub['id']}"
        if store.was_sent(marker):
            skipped.append(sub["id"])
            continue
        creds = secrets.read_json(_chat_secret_name(sub["id"])) or {}
        if not creds.get("url"):
            failed.append((sub["id"], "no_webhook_secret"))
            continue
        target = chat.ChatTarget(chat.Platform(sub["protocol"]), creds["url"], creds.get("secret"), sub["id"])
        result = chat.deliver(target, alert, send, clock_ms=clock_ms, sleep=sleep, policy=policy)
        if result.ok:
            store.mark_sent(marker, {"alert": alert.id, "sub": sub["id"], "attempts": result.attempts},
                            now_ms, SENT_TTL_S)
            delivered.append(sub["id"])
        else:
            failed.append((sub["id"], f"{result.status}:{result.outcome.code}"))
    metrics.add_metric(name="ChatDelivered", unit="Count", value=len(delivered))
    if failed:
        metrics.add_metric(name="ChatDeliveryFailed", unit="Count", value=len(failed))
        logger.warning("chat delivery failed", extra={"alert_id": alert.id, "failed": failed})
        raise DeliveryFailed(f"alert {alert.id}: {failed}")
    return {"alert_id": alert.id, "delivered": delivered, "already": skipped}

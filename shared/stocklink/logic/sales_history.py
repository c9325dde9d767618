"""Daily net demand per SKU (and per warehouse / channel), counted as it happens.

Demand is counted when an order is paid (committed), not when it ships: that is when the seller sees
the sale, and shipping can lag days behind (weekends, back-orders). Returns count negative. A paid order
cancelled before it ships is taken back on the day it was counted (the sale never happened). Shipping
and cancelling a held (unpaid) reservation count nothing.

Triggers: reservation.committed (a commit transition, or a platform order reserved as committed; its
allocations name the (sku, warehouse) streams) and stock.changed with cause "return". The counter
source is the ledger itself: the entries of each named (sku, warehouse) stream after a per-stream cursor
(minus a look-back window, so an entry written late with an earlier timestamp is not skipped). Each
commit (+qty) / return (−qty) entry is counted in one transaction with its marker (MARK#stream /
entry_id), so redelivered events, racing invocations and the re-read window never count an entry
twice, and a lost event is caught up by the next one on the same stream. Days are UTC days of the
ledger entry's created_at. Events arrive in batches (an SQS queue, on_events): each stream named by a
batch is read and counted once. Each commit entry also counts one order line on its counters (what the
oversell report divides by).

Stock-out marks: every stock.changed passes through here, with the (SKU, warehouse)'s counters after the
change. One showing nothing available marks that day's counter item of the warehouse (and, when the SKU's
total is 0 too, of the SKU): the daily snapshot then knows the SKU was out of stock during the day even if
it was restocked before the day ended. A container marks each (SKU, scope, day) once.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Callable, Iterable

from stocklink import events
from stocklink.observability import logger
from stocklink.store import sales_models as store

SALE_SIGN = {"commit": 1, "return": -1}
TRIGGER_CAUSES = ("return", "release")  # stock.changed causes that may move demand (commits have their own event)
# a release of a paid (counted) reservation takes its count back: its units on hand, its presold units that
# arrived, and those still on their way (a presale order's release writes up to one entry of each)
CANCELS = ("release", "presale_release_arrived", "presale_release")
LOOKBACK_MS = 10 * 60 * 1000
WRITE_CHUNK = 500


def day_of(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).date().isoformat()


def channel_of(source: str) -> str:
    """Commit entries: "<reservation source>:<reservation id>" ("storefront:…" or "<platform>:<shop>:…");
    returns: the order event key "<platform>#<shop>#…". The first token names the channel."""
    return re.split(r"[:#]", source or "", maxsplit=1)[0] or "unknown"


def counters_for(sku: str, warehouse_id: str | None, channel: str | None, day: str) -> list[tuple[str, str]]:
    keys = [(store.sales_pk(sku), day)]
    if warehouse_id:
        keys.append((store.sales_pk(sku, warehouse_id=warehouse_id), day))
    if channel:
        keys.append((store.sales_pk(sku, channel=channel), day))
    return keys


def streams_of(event: dict) -> list[tuple[str, str]]:
    """The (sku, warehouse) streams an event asks to count: a reservation.committed names the streams its
    allocations drew from; a stock.changed with a cause in TRIGGER_CAUSES names its own; others none."""
    detail = event.get("detail") or {}
    if event.get("detail-type") == events.RESERVATION_COMMITTED:
        streams = dict.fromkeys((a.get("sku"), a.get("warehouse_id")) for a in detail.get("allocations") or [])
        return [(sku, wh) for sku, wh in streams if sku and wh]
    if detail.get("cause") not in TRIGGER_CAUSES or not detail.get("sku") or not detail.get("warehouse_id"):
        return []
    return [(detail["sku"], detail["warehouse_id"])]


_marked: set[tuple[str, str | None, str]] = set()
_MARKED_MAX = 50_000          # bounds the memory of a long-lived container (forgetting costs one write)


def stockouts_of(event: dict, now_ms: int) -> list[tuple[str, str | None, str, int]]:
    """(sku, warehouse or None for the SKU's total, day, at ms) of each scope a stock.changed shows with
    nothing available; the day and time are the event's own (its envelope's `time`), else now."""
    detail = event.get("detail") or {}
    if event.get("detail-type") != events.STOCK_CHANGED or not detail.get("sku"):
        return []
    at_ms = now_ms
    if isinstance(event.get("time"), str):
        try:
            at_ms = int(dt.datetime.fromisoformat(event["time"].replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            pass
    day, out = day_of(at_ms), []
    if detail.get("warehouse_id") and isinstance(detail.get("available"), (int, float)) and detail["available"] <= 0:
        out.append((detail["sku"], detail["warehouse_id"], day, at_ms))
    if isinstance(detail.get("total_available"), (int, float)) and detail["total_available"] <= 0:
        out.append((detail["sku"], None, day, at_ms))
    return out


def forget_marks() -> None:
    """Tests: each starts as a fresh container."""
    _marked.clear()


def mark_stockouts(marks: list[tuple[str, str | None, str, int]]) -> int:
    """Write the marks this container has not written yet; returns how many it wrote."""
    written = 0
    for sku, warehouse_id, day, at_ms in marks:
        if (sku, warehouse_id, day) in _marked:
            continue
        store.mark_stockout(sku, warehouse_id, day, at_ms)
        if len(_marked) >= _MARKED_MAX:
            _marked.clear()
        _marked.add((sku, warehouse_id, day))
        written += 1
    return written


def _count_streams(streams: list[tuple[str, str]], now_ms: int) -> dict:
    if not streams:
        return {"counted": 0, "already_counted": 0, "ignored": True}
    out = {"counted": 0, "already_counted": 0, "ignored": False}
    for sku, warehouse_id in streams:
        r = count_stream(sku, warehouse_id, now_ms)
        out["counted"] += r["counted"]
        out["already_counted"] += r["already_counted"]
    return out


def on_stock_changed(detail: dict, now_ms: int) -> dict:
    """Count the sales of the stream this stock.changed is about; causes other than returns are ignored."""
    return _count_streams(streams_of({"detail-type": events.STOCK_CHANGED, "detail": detail}), now_ms)


def on_reservation_committed(detail: dict, now_ms: int) -> dict:
    """Count the commit entries of every (sku, warehouse) stream the committed reservation drew from."""
    return _count_streams(streams_of({"detail-type": events.RESERVATION_COMMITTED, "detail": detail}), now_ms)


def on_event(event: dict, now_ms: int) -> dict:
    mark_stockouts(stockouts_of(event, now_ms))
    return _count_streams(streams_of(event), now_ms)


def on_events(events: list[dict], now_ms: int) -> dict:
    """A batch of events (an SQS batch): the union of the streams they name, each counted once.

    count_stream counts every entry of a stream after its cursor (markers make it exactly once), so one
    count after all the batch's entries were written covers every event naming that stream: N events of
    a flash sale on one (sku, warehouse) cost one read of the stream instead of N. A stream that raises
    fails only the events that named it (`failed`: their positions), so only they are retried; an event
    that cannot be read fails alone."""
    named: dict[tuple[str, str], list[int]] = {}
    failed: set[int] = set()
    for i, event in enumerate(events):
        try:
            streams = streams_of(event)
        except (AttributeError, TypeError) as exc:     # not an event's shape (e.g. allocations not objects)
            logger.error("sales: unreadable event", extra={"position": i, "error": str(exc)})
            failed.add(i)
            continue
        for stream in streams:
            named.setdefault(stream, []).append(i)
        try:
            mark_stockouts(stockouts_of(event, now_ms))
        except Exception:  # noqa: BLE001 - retried with its event; counting is exactly once anyway
            logger.exception("sales: stock-out mark failed")
            failed.add(i)
    out = {"events": len(events), "streams": len(named), "counted": 0, "already_counted": 0}
    for (sku, warehouse_id), positions in named.items():
        try:
            r = count_stream(sku, warehouse_id, now_ms)
        except Exception:  # noqa: BLE001 - only the events naming this stream are retried
            logger.exception("sales: counting %s#%s failed", sku, warehouse_id)
            failed.update(positions)
            continue
        out["counted"] += r["counted"]
        out["already_counted"] += r["already_counted"]
    out["failed"] = sorted(failed)
    return out


def count_stream(sku: str, warehouse_id: str, now_ms: int) -> dict:
    stream = store.ledger_stream(sku, warehouse_id)
    cursor = store.get_cursor(stream)
    after = f"{max(0, int(cursor[:13]) - LOOKBACK_MS):013d}" if cursor else None
    entries = store.ledger_entries_after(stream, after)
    sales = [e for e in entries if e.movement in SALE_SIGN or e.movement in CANCELS]
    done = store.counted_markers(stream, [e.entry_id for e in sales])
    # what was counted for the paid orders whose releases are here (a release of an unpaid hold has none)
    sold = store.sold_records(stream, [e.source for e in sales if e.movement in CANCELS and e.entry_id not in done])
    counted = already = 0
    for e in sales:
        if e.entry_id in done:
            already += 1
            continue
        if e.movement in CANCELS:
            paid = sold.get(e.source)
            if paid is None:
                continue
            qty = -min(float(e.qty), float(paid["qty"]))
            keys = counters_for(e.sku, e.warehouse_id, paid["channel"], paid["day"])
            remember = None
        else:
            qty = SALE_SIGN[e.movement] * float(e.qty)
            channel, day = channel_of(e.source), day_of(int(e.created_at))
            keys = counters_for(e.sku, e.warehouse_id, channel, day)
            remember = (e.source, {"qty": float(e.qty), "channel": channel, "day": day}) \
                if e.movement == "commit" else None
            if remember is not None:
                sold[e.source] = remember[1]     # a release later in this same read takes it back
        if store.add_sale_once(stream, e.entry_id, keys, qty, now_ms, sold=remember,
                               lines=1 if e.movement == "commit" else 0):
            counted += 1
        else:
            already += 1
    if entries and entries[-1].entry_id != cursor:
        store.set_cursor(stream, entries[-1].entry_id, now_ms)
    return {"counted": counted, "already_counted": already, "ignored": False}


def import_rows(rows: Iterable, now_ms: int, progress: Callable[[int, int], None] | None = None) -> dict:
    """Write validated importer rows (SalesRow) as daily counters: totals per (sku, day), and per
    warehouse / channel where given. Rows of the same key are summed; the file's values replace the
    counters of the (sku, day)s it names, so importing the same file twice changes nothing."""
    values: dict[tuple[str, str], float] = {}
    skus = set()
    for r in rows:
        day = r.date.isoformat()
        skus.add(r.sku)
        for key in counters_for(r.sku, r.warehouse, r.channel, day):
            values[key] = values.get(key, 0.0) + float(r.qty)
    items = list(values.items())
    total = len(items)
    written = 0
    for start in range(0, total, WRITE_CHUNK):
        written += store.put_counters(dict(items[start:start + WRITE_CHUNK]), now_ms)
        if progress:
            progress(written, total)
    return {"skus": len(skus), "counters": written}


def history_rows(sku: str, first_day: dt.date, last_day: dt.date) -> list[tuple[str, dt.date, float]]:
    return [(sku, dt.date.fromisoformat(day), qty)
            for day, qty in store.daily_sales(sku, first_day.isoformat(), last_day.isoformat())]


def history_counters(sku: str, first_day: dt.date, last_day: dt.date) -> list[tuple[dt.date, float, bool]]:
    """(day, net units sold, out of stock at some moment of the day) of each counter of the SKU, oldest first:
    the stock-out marks ride on the same items as the sales, so the forecast reads censored days with no
    request of its own (the daily snapshot marks the days that began out of stock too)."""
    return [(dt.date.fromisoformat(day), qty, out)
            for day, qty, out in store.daily_counters(sku, first_day.isoformat(), last_day.isoformat())]


def daily_series(sku: str, first_day: dt.date, last_day: dt.date) -> list[float]:
    """Net units sold on each day from first_day to last_day (both included), 0 for a day without a
    counter: the SKU's SALES# counters, the series the forecast engine reads (one Query, no ledger)."""
    days = (last_day - first_day).days + 1
    if days <= 0:
        return []
    series = [0.0] * days
    for day, qty in store.daily_sales(sku, first_day.isoformat(), last_day.isoformat()):
        t = (dt.date.fromisoformat(day) - first_day).days
        if 0 <= t < days:
            series[t] = qty
    return series

"""Daily snapshot runs: for every catalogue SKU, over every warehouse and in each, the day's stock
(on hand, reserved, available, in transit), unit cost and stock value, units sold and order lines (the
sales counters the forecasting keeps), whether it was out of stock that day, and running sums
(domain.snapshots); per day, catalogue-wide figures: value per warehouse, oversold order lines (events
recorded oversold), listings reconciliation read back and found in sync.

When. The schedule fires every hour; a scheduled run snapshots the day that just ended, under the run id
daily-<day>, and only in the first DAILY_WINDOW_HOURS of the next day: the stock it reads then is that
day's end give or take the hour, and an hourly tick that failed is taken up by the next one. Past the
window a missed day stays missing (the reports skip it) rather than be written with a later day's stock.
POST /reports/snapshots/run snapshots today, now (run id manual-<day>-<ms>); the scheduled run of that
day overwrites it with the day's end after midnight.

Idempotent per day: rows are keyed by (day, scope, SKU) and overwritten, never added to; `prior` comes
from the last finished day before (never from the day itself), so running a day again writes the same
rows from the same data. A finished run id is not run again.

Chunked: a run pages over the catalogue's SKUs (PAGE_SIZE per page: a few BatchGetItems of stock,
counters and the previous day's rows, then BatchWriteItems), storing its cursor and running totals after
every page; a run cut short by the Lambda's time continues from there when invoked again (the handler asks
for itself on the bus). The day is listed as finished (its DAY item) only when the last page is written.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Callable

from stocklink import bus, events
from stocklink.config import settings
from stocklink.domain.snapshots import DayFacts, day_row, sums_through
from stocklink.errors import ValidationFailed
from stocklink.store import report_models as store
from stocklink.store import sales_models
from stocklink.time import iso_now

PAGE_SIZE = 100
DAILY_WINDOW_HOURS = 3
DAY_MS = 86_400_000
SNAPSHOT_REQUESTED = events.SNAPSHOT_REQUESTED


def day_of(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).date().isoformat()


def day_start_ms(day: str) -> int:
    return int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.timezone.utc).timestamp() * 1000)


def previous_day(day: str) -> str:
    return (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()


def daily_run_id(now_ms: int) -> str | None:
    """The scheduled run due now: the day that just ended, within the window after midnight; else None."""
    if now_ms - day_start_ms(day_of(now_ms)) >= DAILY_WINDOW_HOURS * 3_600_000:
        return None
    return f"daily-{previous_day(day_of(now_ms))}"


def request_run(now_ms: int, requested_by: str) -> dict:
    """On demand: ask the snapshot function for a run of today on the bus (the API only reads the reports
    table; the run's record is the snapshot function's to write)."""
    day = day_of(now_ms)
    run_id = f"manual-{day}-{now_ms}-{uuid.uuid4().hex[:6]}"
    if bus.publish(SNAPSHOT_REQUESTED, [{"run_id": run_id, "day": day, "requested_by": requested_by}]):
        raise ValidationFailed("could not queue the snapshot run; try again")
    return _public(_new_run(run_id, day, now_ms, requested_by))


def _public(state: dict) -> dict:
    return {k: state.get(k) for k in ("run_id", "day", "status", "skus", "rows", "requested_by", "started_at",
                                      "finished_at")}


def _new_run(run_id: str, day: str, now_ms: int, requested_by: str) -> dict:
    return {"run_id": run_id, "day": day, "status": "queued", "phase": "day", "cursor": None, "pages": 0,
            "skus": 0, "rows": 0, "requested_by": requested_by, "started_at": now_ms, "finished_at": None}


def run(run_id: str, now_ms: int, *, day: str | None = None, requested_by: str = "schedule",
        page_size: int = PAGE_SIZE, has_time: Callable[[], bool] = lambda: True,
        retention_days: int | None = None) -> dict:
    """Run (or continue) `run_id` of `day` (a daily-<day> id names its own) page by page while `has_time()`;
    returns the run's state."""
    state = store.get_run(run_id)
    if state is None:
        day = day or (run_id[len("daily-"):] if run_id.startswith("daily-") else None)
        if day is None:
            raise ValueError(f"snapshot run {run_id} names no day")
        state = _new_run(run_id, dt.date.fromisoformat(day).isoformat(), now_ms, requested_by)
    if state["status"] == "done":
        return state
    day = state["day"]
    retention = retention_days or settings().snapshot_retention_days
    expires_at_s = (day_start_ms(day) + DAY_MS) // 1000 + retention * 86_400
    if state["phase"] == "day":
        state.update(status="running", phase="skus", prev_day=store.last_day_before(day),
                     warehouses=store.warehouse_ids(), figures=day_figures(day), totals=_zero_totals())
        store.put_run(run_id, state, now_ms)
    while True:
        page, cursor = sales_models.catalog_sku_page(state["cursor"], page_size)
        rows = snapshot_page(day, page, state["warehouses"], state.get("prev_day"), state["totals"])
        state["rows"] += store.put_rows(rows, expires_at_s)
        state["skus"] += len(page)
        state["pages"] += 1
        state["cursor"] = cursor
        if cursor is None:
            store.put_day(day, {"day": day, **state["totals"], **state["figures"], "skus": state["skus"],
                                "taken_at": now_ms}, expires_at_s)
            state.update(status="done", finished_at=now_ms)
            store.put_run(run_id, state, now_ms)
            return state
        store.put_run(run_id, state, now_ms)
        if not has_time():
            return state


def day_figures(day: str) -> dict:
    """The day's catalogue-wide figures that are not per SKU: oversold order lines (each SKU short in an
    order recorded oversold that day) and reconciliation's listings read back / found in sync."""
    start = day_start_ms(day)
    oversold = 0
    for event in store.oversold_between(iso_now(start), iso_now(start + DAY_MS)):
        oversold += max(1, len((event.outcome or {}).get("shortfall") or []))
    checked = in_sync = 0
    for report in store.reconciliation_between(start, start + DAY_MS):
        checked += int(report.get("listings_checked") or 0)
        in_sync += int(report.get("in_sync") or 0)
    return {"oversold_lines": oversold, "listings_checked": checked, "listings_in_sync": in_sync}


def _zero_totals() -> dict:
    return {"on_hand": 0, "value": 0, "sold": 0, "cogs": 0, "order_lines": 0, "stockout_skus": 0, "warehouses": {}}


def _num(x) -> float | None:
    return None if x is None else float(x)


def snapshot_page(day: str, catalog: dict[str, dict], warehouses: list[str], prev_day: str | None,
                  totals: dict) -> list[tuple[str, str | None, str, dict]]:
    """The rows of one page of catalogue SKUs (sku -> its catalogue record); adds them into `totals`."""
    skus = sorted(catalog)
    stock = store.stock_of(skus, warehouses)
    scopes = [(sku, None) for sku in skus] + sorted(stock)
    counters = sales_models.day_counters(day, scopes)
    prev = store.rows_of(prev_day, [(wh, sku) for sku, wh in scopes]) if prev_day else {}
    yesterday = prev_day == previous_day(day)
    rows = []
    for sku in skus:
        item = catalog[sku] or {}
        unit_cost, price = _num(item.get("unit_cost")), _num(item.get("price"))
        levels = {"on_hand": 0.0, "reserved": 0.0, "available": 0.0, "in_transit": 0.0}
        for wh in warehouses:
            held = stock.get((sku, wh))
            if held is None:
                continue
            wh_levels = {k: float(getattr(held, k) or 0) for k in levels}
            for k in levels:
                levels[k] += wh_levels[k]
            row = _row(wh_levels, unit_cost, price, counters.get((sku, wh)), prev.get((wh, sku)), yesterday)
            rows.append((day, wh, sku, row))
            figures = totals["warehouses"].setdefault(wh, {"on_hand": 0, "value": 0})
            figures["on_hand"] += row["on_hand"]
            figures["value"] = round(figures["value"] + (row["value"] or 0), 6)
        counter = counters.get((sku, None))
        row = _row(levels, unit_cost, price, counter, prev.get((None, sku)), yesterday)
        rows.append((day, None, sku, row))
        if row["stockout"] and not (counter or {}).get("stockout") and any((sku, wh) in stock for wh in warehouses):
            # a day that began (or ended) out of stock with no stock.changed during it has no mark yet: the
            # forecast reads stock-out days from the counters (censored demand), so mark it there too
            sales_models.mark_stockout(sku, None, day, day_start_ms(day))
        totals["on_hand"] += row["on_hand"]
        totals["value"] = round(totals["value"] + (row["value"] or 0), 6)
        totals["sold"] += row["sold"]
        totals["cogs"] = round(totals["cogs"] + row["sold"] * (unit_cost or 0), 6)
        totals["order_lines"] += row["lines"]
        totals["stockout_skus"] += 1 if row["stockout"] else 0
    return rows


def _row(levels: dict, unit_cost: float | None, price: float | None, counter: dict | None, prev: dict | None,
         yesterday: bool) -> dict:
    counter = counter or {}
    facts = DayFacts(**levels, unit_cost=unit_cost, price=price, sold=counter.get("qty", 0.0),
                     lines=counter.get("lines", 0.0), marked_out=bool(counter.get("stockout")),
                     started_out=bool(yesterday and prev is not None and float(prev.get("available") or 0) <= 0))
    return day_row(facts, sums_through(prev) if prev else None)

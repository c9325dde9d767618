"""The reports API: which reports exist, and one report over a period, read from the daily snapshots.

A report over [from, to] reads the finished days in it (one Query of the DAY partition) and, for per-SKU
reports, the rows of the period's first and last snapshot day (two partitions, whatever the period's
length: domain.snapshots' running sums make the rest a subtraction). It never reads the ledger.
Rows come in the report's own order (problems first) and are paged by `limit` / `cursor`; the cursor is
bound to the report, period and warehouse it was made for (another one is a 400).
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from typing import Mapping

from stocklink.domain import reports as rd
from stocklink.domain.snapshots import range_sums
from stocklink.errors import NotFound, ValidationFailed
from stocklink.logic.paging import page_request
from stocklink.store import report_models as store
from stocklink.store.paging import BadCursor
from stocklink.ttl_cache import TtlCache

MAX_RANGE_DAYS = 400
DEFAULT_RANGE_DAYS = 30
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_IDENTIFIER = re.compile(r"[A-Za-z0-9._:@/+\-]{1,128}")
# A day's rows change only when it is snapshot again: paging through a report re-reads nothing for a minute.
_partitions = TtlCache(60.0, max_entries=8)

PER = {"turnover": "sku", "days-of-supply": "sku", "slow-movers": "sku", "fast-movers": "sku",
       "stockouts": "sku", "abc": "class", "oversell": "day", "sync-accuracy": "day", "stock-value": "warehouse"}
# Oversold orders and listings' accuracy belong to channels, not warehouses: warehouse_id does not filter them.
WAREHOUSE_FILTERED = {name for name in PER if name not in ("oversell", "sync-accuracy")}


def list_reports() -> dict:
    return {"reports": [{"name": name, "title": {"en": en, "zh": zh}, "rows_per": PER[name],
                         "filters": ["warehouse_id"] if name in WAREHOUSE_FILTERED else [],
                         "thresholds": rd.BANDS[name].as_dict() if name in rd.BANDS else {}}
                        for name, (en, zh) in rd.TITLES.items()]}


def period(query: Mapping[str, str], today: dt.date) -> tuple[dt.date, dt.date]:
    """`from` and `to` (YYYY-MM-DD, inclusive); by default the 30 days up to today. 400 on a bad date,
    from after to, or more than MAX_RANGE_DAYS days."""
    def parse(name: str) -> dt.date | None:
        raw = query.get(name)
        if raw is None or raw == "":
            return None
        if not _DATE.fullmatch(raw):
            raise ValidationFailed(f"{name}: a date as YYYY-MM-DD", field=name)
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise ValidationFailed(f"{name}: {raw} is not a date", field=name) from None

    last = parse("to") or today
    first = parse("from") or last - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if first > last:
        raise ValidationFailed("from is after to", field="from")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed(f"a report covers at most {MAX_RANGE_DAYS} days", field="from")
    return first, last


def report(name: str, query: Mapping[str, str] | None, today: dt.date) -> dict:
    if name not in rd.TITLES:
        raise NotFound(f"no report {name}; GET /reports lists them", report=name)
    query = query or {}
    first, last = period(query, today)
    warehouse_id = query.get("warehouse_id") or None
    if warehouse_id is not None and not _IDENTIFIER.fullmatch(warehouse_id):
        raise ValidationFailed("warehouse_id: 1-128 of A-Z a-z 0-9 . _ : @ / + -", field="warehouse_id")
    if name not in WAREHOUSE_FILTERED:
        warehouse_id = None
    page = page_request(query)
    bound = {"r": name, "f": first.isoformat(), "t": last.isoformat(), "w": warehouse_id}
    offset = _decode(page.cursor, bound)
    days = store.days_between(first.isoformat(), last.isoformat())
    result = _compute(name, days, warehouse_id)
    whole = {c["key"] for c in result.columns if c["type"] == "int"}
    rows = [{k: _whole(v) if k in whole else v for k, v in row.items()}
            for row in result.rows[offset:offset + page.limit]]
    more = offset + page.limit < len(result.rows)
    return {"name": name, "from": first.isoformat(), "to": last.isoformat(), "warehouse_id": warehouse_id,
            "snapshot_days": len(days), "first_snapshot": days[0][0] if days else None,
            "last_snapshot": days[-1][0] if days else None, "total_rows": len(result.rows),
            "summary": {"value": result.value, "band": result.band, "thresholds": result.thresholds},
            "columns": result.columns, "rows": rows,
            "next": _encode({**bound, "o": offset + page.limit}) if more else None}


def _whole(value):
    """Counts read back from JSON as floats (2.0) are answered as the integers they are."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _compute(name: str, days: list[tuple[str, dict]], warehouse_id: str | None) -> rd.Report:
    if name in rd.DAY_REPORTS:
        figures = [_day_figures(day, data, warehouse_id) for day, data in days]
        return rd.DAY_REPORTS[name](figures)
    if not days:
        return rd.SKU_REPORTS[name]([], 1)
    first_day, last_day = days[0][0], days[-1][0]
    end = _partition(last_day, warehouse_id)
    start = end if first_day == last_day else _partition(first_day, warehouse_id)
    skus = [rd.SkuPeriod(sku, range_sums(start.get(sku), row), row) for sku, row in sorted(end.items())]
    return rd.SKU_REPORTS[name](skus, len(days))


def _day_figures(day: str, data: dict, warehouse_id: str | None) -> rd.DayFigures:
    warehouses = data.get("warehouses") or {}
    if warehouse_id is not None:
        warehouses = {wh: f for wh, f in warehouses.items() if wh == warehouse_id}
    return rd.DayFigures(day, order_lines=float(data.get("order_lines") or 0),
                         oversold_lines=float(data.get("oversold_lines") or 0),
                         listings_checked=float(data.get("listings_checked") or 0),
                         listings_in_sync=float(data.get("listings_in_sync") or 0), warehouses=warehouses)


def _partition(day: str, warehouse_id: str | None) -> dict[str, dict]:
    return _partitions.get((day, warehouse_id), lambda: store.day_partition(day, warehouse_id))


def forget_cache() -> None:
    """Tests: each starts as a fresh container."""
    global _partitions
    _partitions = TtlCache(60.0, max_entries=8)


# --- cursors: an offset into the report's rows, bound to the request it continues ---------------------

def _encode(state: dict) -> str:
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str | None, bound: dict) -> int:
    if not cursor:
        return 0
    if len(cursor) > 1024 or not re.fullmatch(r"[A-Za-z0-9_-]+", cursor):
        raise BadCursor("not a cursor")
    try:
        state = json.loads(base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True))
    except (binascii.Error, ValueError):
        raise BadCursor("not a cursor") from None
    if not isinstance(state, dict) or set(state) != {*bound, "o"}:
        raise BadCursor("not a cursor of this list")
    offset = state["o"]
    if {k: state[k] for k in bound} != bound:
        raise BadCursor("a cursor of another report, period or warehouse")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 < offset <= 10_000_000:
        raise BadCursor("not a cursor of this list")
    return offset

"""Daily snapshot rows (pure): what one SKU (or one SKU in one warehouse) looked like at the end of a day,
and running sums that make any date range one subtraction.

A row holds the day's own figures and `prior`: the sums of every earlier snapshot day of the same SKU
(scope). The sums over the snapshot days from the row of day F to the row of day T (inclusive) are then
`T.prior + increments(T) - F.prior`: a report over 400 days reads two rows per SKU, never 400.
`prior` is carried from the previous snapshot day's row; a SKU first seen on a day starts at zero.

Stock-out day: the SKU could not be sold at some moment of the day — its available units were 0 (or less)
at the end of the day (the snapshot), at its start (the previous day's snapshot, when that day was the day
before), or at some moment between (the day's stock-out mark, set by the sales aggregation when a
stock.changed showed available 0).
"""
from __future__ import annotations

from dataclasses import dataclass

# The running sums every row carries (see increments()).
SUMS = ("days", "sold", "cogs", "revenue", "value", "lines", "stockout_days", "instock_days", "instock_sold",
        "stocked_days")


@dataclass(frozen=True)
class DayFacts:
    """Everything a snapshot row is made from, as read by the snapshot run."""
    on_hand: float = 0
    reserved: float = 0
    available: float = 0
    in_transit: float = 0
    unit_cost: float | None = None     # the catalogue's cost per unit (None: not set)
    price: float | None = None         # the catalogue's selling price (None: not set)
    sold: float = 0                    # net units sold that day (paid orders less returns)
    lines: float = 0                   # order lines paid that day (a line: one SKU of one order, per warehouse)
    marked_out: bool = False           # a stock.changed showed available <= 0 during the day
    started_out: bool = False          # the previous day's snapshot showed available <= 0


def _round(x: float) -> float:
    """Money and sums kept to 6 decimals: the same inputs give the same stored numbers, run after run."""
    value = round(float(x), 6)
    return int(value) if value.is_integer() else value


def stock_value(on_hand: float, unit_cost: float | None) -> float | None:
    return None if unit_cost is None else _round(max(on_hand, 0) * unit_cost)


def day_row(facts: DayFacts, prior: dict | None) -> dict:
    """The stored row of one day: its own figures and the running sums before it."""
    stockout = facts.marked_out or facts.started_out or facts.available <= 0
    row = {
        "on_hand": _round(facts.on_hand), "reserved": _round(facts.reserved),
        "available": _round(facts.available), "in_transit": _round(facts.in_transit),
        "unit_cost": None if facts.unit_cost is None else _round(facts.unit_cost),
        "price": None if facts.price is None else _round(facts.price),
        "value": stock_value(facts.on_hand, facts.unit_cost),
        "sold": _round(facts.sold), "lines": _round(facts.lines), "stockout": stockout,
    }
    row["prior"] = {k: _round((prior or {}).get(k, 0)) for k in SUMS}
    return row


def increments(row: dict) -> dict:
    """What the row's own day adds to the running sums."""
    sold = float(row.get("sold") or 0)
    stockout = bool(row.get("stockout"))
    return {
        "days": 1,
        "sold": sold,
        "cogs": sold * float(row.get("unit_cost") or 0),
        "revenue": sold * float(row.get("price") or 0),
        "value": float(row.get("value") or 0),
        "lines": float(row.get("lines") or 0),
        "stockout_days": 1 if stockout else 0,
        "instock_days": 0 if stockout else 1,
        "instock_sold": 0 if stockout else sold,
        "stocked_days": 1 if float(row.get("on_hand") or 0) > 0 else 0,
    }


def sums_through(row: dict) -> dict:
    """The running sums including the row's own day (what the next day's row carries as `prior`)."""
    inc = increments(row)
    return {k: _round(float(row["prior"].get(k, 0)) + inc[k]) for k in SUMS}


def range_sums(first: dict | None, last: dict) -> dict:
    """Sums over the snapshot days from `first`'s day to `last`'s (inclusive). `first` None: the SKU had no
    row on the range's first snapshot day (it appeared later), so everything up to `last` counts."""
    through = sums_through(last)
    before = (first or {}).get("prior") or {}
    return {k: _round(through[k] - float(before.get(k, 0))) for k in SUMS}

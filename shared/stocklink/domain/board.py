"""The stock board (库存看板): each SKU's status and days of cover, filters, sort order and pages. Pure: no
I/O, no clock.

A row is one SKU, its counters summed over every warehouse (or one warehouse's, when the board is filtered
by it), with the forecast's facts (daily demand, safety stock, ABC class) beside them:
  - presold: units sold against stock on its way (presale, domain/presale.py), part of in_transit;
  - days_of_cover = available / forecast daily demand, counting units on their way that arrive (by their ETA)
    before the shelf is empty, less the presold ones (they are sold already; the caller passes the arrivals
    net of them, domain/presale.unsold_arrivals) (None without a positive demand);
  - status `zero` when available <= 0; `low` when available is below the SKU's safety stock or below the
    board's low floor; `over` when days of cover exceed the board's over_days; `normal` otherwise.
Pages are keyset pages over the sorted rows: the cursor holds the sort key of the last row shown, so a page
continues after that row however the stock moved meanwhile (nothing is skipped or shown twice because a row
before it changed). Rows without a value (days of cover without demand) sort last in either order.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

STATUSES = ("normal", "low", "zero", "over")
STATUS_RANK = {"zero": 0, "low": 1, "normal": 2, "over": 3}     # ascending status: most urgent first
SORTS = ("sku", "name", "available", "on_hand", "reserved", "in_transit", "presold", "days_of_cover", "status")
ORDERS = ("asc", "desc")
ABC_CLASSES = ("A", "B", "C")
DEFAULT_LOW_FLOOR = 15
DEFAULT_OVER_DAYS = 90          # a quarter's demand on hand: more is capital tied up (the seed's "over")
DEMAND_DAYS = 7                 # daily demand = mean of the forecast's first week (as the alerts read it)
COUNTERS = ("on_hand", "reserved", "available", "in_transit", "presold")


class StockCounters(NamedTuple):
    """One stock item's counters as the board's whole-table read gives them (store.board.stock_counters):
    the one row shape every reader of that read takes (the board, the warehouse summary, transfer suggestions)."""
    sku: str
    warehouse_id: str
    on_hand: int
    reserved: int
    available: int
    in_transit: int
    presold: int = 0


class BadBoardCursor(ValueError):
    """A cursor this board did not make (or made for another sort order)."""


@dataclass(frozen=True)
class BoardSettings:
    low_floor: int = DEFAULT_LOW_FLOOR
    over_days: int = DEFAULT_OVER_DAYS

    @staticmethod
    def from_dict(data: Mapping | None) -> "BoardSettings":
        data = data or {}
        return BoardSettings(int(data.get("low_floor", DEFAULT_LOW_FLOOR)),
                             int(data.get("over_days", DEFAULT_OVER_DAYS)))

    def to_dict(self) -> dict:
        return {"low_floor": self.low_floor, "over_days": self.over_days}


@dataclass(frozen=True)
class PlanFacts:
    """What the last forecast run said of a SKU (stocklink.logic.forecasting_service writes them)."""
    daily_demand: float | None = None
    safety_stock: float | None = None
    abc: str | None = None

    @staticmethod
    def from_result(result: Mapping[str, Any]) -> "PlanFacts":
        """From a forecast result (engine.SkuResult.to_dict())."""
        ss = result.get("safety_stock")
        abc = result.get("abc_class")
        return PlanFacts(daily_demand(result.get("forecast")), None if ss is None else float(ss),
                         abc if abc in ABC_CLASSES else None)


def daily_demand(forecast: Sequence | None, days: int = DEMAND_DAYS) -> float | None:
    """Mean of the forecast's first `days` days (None without a forecast)."""
    values = [float(x) for x in (forecast or [])[:days] if x is not None]
    return sum(values) / len(values) if values else None


def days_of_cover(available: int, demand: float | None, arrivals: Iterable[tuple[int, int]] = ()) -> float | None:
    """Days the stock lasts at `demand` a day, counting `arrivals` (days from today, units) that land before it
    runs out: units due after the shelf is empty do not stretch the cover (the SKU runs out first)."""
    if demand is None or not demand > 0:
        return None
    stock = max(0, available)
    for day, qty in sorted(arrivals):
        if stock / demand < day:
            break
        stock += max(0, qty)
    return round(stock / demand, 1)


def whole_units(safety_stock: float | None) -> int | None:
    """A safety stock in whole units: 3.2 units of protection need 4 on the shelf."""
    if safety_stock is None or safety_stock != safety_stock:
        return None
    return max(0, math.ceil(safety_stock - 1e-9))


def status(available: int, safety_stock: int | None, cover: float | None, settings: BoardSettings) -> str:
    if available <= 0:
        return "zero"
    if available < settings.low_floor or (safety_stock is not None and available < safety_stock):
        return "low"
    if cover is not None and cover > settings.over_days:
        return "over"
    return "normal"


def rows(names: Mapping[str, str], counters: Iterable[StockCounters],
         plans: Mapping[str, PlanFacts], settings: BoardSettings, warehouse_id: str | None = None,
         arrivals: Mapping[str, Sequence[tuple[int, int]]] | None = None) -> list[dict]:
    """One row per SKU. `counters`: one StockCounters per stock item; `arrivals`: per SKU the units on their
    way and not presold, as (days from today, units). Without `warehouse_id` every catalogue SKU has a row
    (zeros where nothing was ever received); with it, the SKUs that warehouse holds a stock item for, with that
    warehouse's counters only. Stock of a SKU no longer in the catalogue is left out (SKUs are never deleted,
    so there is none)."""
    totals: dict[str, dict[str, int]] = {} if warehouse_id else {sku: dict.fromkeys(COUNTERS, 0) for sku in names}
    for item in counters:
        if warehouse_id is not None and item.warehouse_id != warehouse_id or item.sku not in names:
            continue
        row = totals.setdefault(item.sku, dict.fromkeys(COUNTERS, 0))
        for counter in COUNTERS:
            row[counter] += getattr(item, counter)
    out = []
    none = PlanFacts()
    for sku, summed in totals.items():
        plan = plans.get(sku, none)
        safety = whole_units(plan.safety_stock)
        cover = days_of_cover(summed["available"], plan.daily_demand, (arrivals or {}).get(sku, ()))
        out.append({"sku": sku, "name": names[sku], **summed, "days_of_cover": cover,
                    "status": status(summed["available"], safety, cover, settings), "abc": plan.abc,
                    "safety_stock": safety})
    return out


def matches(row: Mapping, abc: str | None, text: str | None) -> bool:
    """The filters the status counts are taken over: ABC class and text (case-insensitive substring of the
    SKU or its name)."""
    if abc is not None and row["abc"] != abc:
        return False
    if text:
        needle = text.casefold()
        return needle in row["sku"].casefold() or needle in row["name"].casefold()
    return True


def counts(filtered: Iterable[Mapping]) -> dict[str, int]:
    out = {name: 0 for name in STATUSES}
    for row in filtered:
        out[row["status"]] += 1
    return out


# --- sort order and keyset pages ---------------------------------------------------------------------------

def _value(row: Mapping, sort: str):
    if sort == "status":
        return STATUS_RANK[row["status"]]
    if sort == "name":
        return row["name"].casefold()
    return row[sort]


def sort_key(row: Mapping, sort: str, order: str) -> tuple:
    """(present, value, sku): rows without a value go last in either order (the list is reversed for desc)."""
    value = _value(row, sort)
    present = value is not None
    group = (0 if present else 1) if order == "asc" else (1 if present else 0)
    return (group, value if present else 0, row["sku"])


def ordered(rows_: list[dict], sort: str, order: str) -> list[tuple[tuple, dict]]:
    keyed = [(sort_key(row, sort, order), row) for row in rows_]
    keyed.sort(key=lambda kr: kr[0], reverse=order == "desc")
    return keyed


def page(keyed: list[tuple[tuple, dict]], limit: int, after: tuple | None, order: str
         ) -> tuple[list[dict], tuple | None]:
    """(the rows after `after`, at most `limit`; the key of the last row when more follow, else None)."""
    start = 0
    if after is not None:
        start = len(keyed)
        for index, (key, _) in enumerate(keyed):
            if (key > after) if order == "asc" else (key < after):
                start = index
                break
    chunk = keyed[start:start + limit]
    more = start + limit < len(keyed)
    return [row for _, row in chunk], (chunk[-1][0] if chunk and more else None)


def encode_cursor(key: tuple, sort: str, order: str) -> str:
    raw = json.dumps({"s": sort, "o": order, "k": list(key)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, order: str) -> tuple:
    """The sort key in `cursor`, checked to be one this board made for the same sort and order."""
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        raise BadBoardCursor("not a cursor") from None
    if not isinstance(data, dict) or set(data) != {"s", "o", "k"}:
        raise BadBoardCursor("not a cursor of the board")
    if data["s"] != sort or data["o"] != order:
        raise BadBoardCursor("a cursor of another sort order")
    key = data["k"]
    if not (isinstance(key, list) and len(key) == 3 and key[0] in (0, 1) and type(key[0]) is int
            and isinstance(key[2], str) and 0 < len(key[2]) <= 128):
        raise BadBoardCursor("not a cursor of the board")
    value = key[1]
    textual = sort in ("sku", "name")
    if textual and not isinstance(value, str) or not textual and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or value != value):
        raise BadBoardCursor("not a cursor of the board")
    return (key[0], value, key[2])

"""GET /stock/board, its settings (PUT /stock/board/settings) and GET /warehouses/summary: the console's
overview of every SKU and warehouse, from store.board's few whole-table reads (see there for their cost)."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Mapping

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from stocklink.domain import board
from stocklink.domain.presale import unsold_arrivals
from stocklink.domain.requests import Identifier
from stocklink.errors import ValidationFailed
from stocklink.logic import audit
from stocklink.logic.paging import page_request
from stocklink.store import board as store
from stocklink.store import catalog as catalog_store

MAX_TEXT = 200
_IDENTIFIER = TypeAdapter(Identifier)


class BoardSettingsIn(BaseModel):
    """PUT /stock/board/settings: a field left out takes its default."""
    model_config = ConfigDict(extra="forbid", defer_build=True)
    low_floor: Annotated[int, Field(ge=0, le=1_000_000, strict=True)] = board.DEFAULT_LOW_FLOOR
    over_days: Annotated[int, Field(ge=1, le=3650, strict=True)] = board.DEFAULT_OVER_DAYS


def settings() -> board.BoardSettings:
    return board.BoardSettings.from_dict(store.board_settings())


def get_settings() -> dict:
    return settings().to_dict()


def put_settings(body: BoardSettingsIn, now_ms: int) -> dict:
    data = board.BoardSettings(body.low_floor, body.over_days).to_dict()
    audit.note_before(store.put_board_settings(data, now_ms))
    return data


def _choice(query: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
    value = query.get(name)
    if value is None or value == "":
        return default
    if value not in allowed:
        raise ValidationFailed(f"{name} must be one of {', '.join(allowed)}", field=name)
    return value


def _warehouse(query: Mapping[str, str]) -> str | None:
    value = query.get("warehouse_id")
    if value is None or value == "":
        return None
    try:
        if _IDENTIFIER.validate_python(value) == value:
            return value
    except ValidationError:
        pass
    raise ValidationFailed("warehouse_id: 1-128 of A-Z a-z 0-9 . _ : @ / + -", field="warehouse_id")


def stock_board(query: Mapping[str, str] | None) -> dict:
    """One page of the board, its counts per status over every filter but the status, and the total of
    rows the status filter leaves."""
    query = query or {}
    page = page_request(query)
    warehouse_id = _warehouse(query)
    status = _choice(query, "status", board.STATUSES, None)
    abc = _choice(query, "abc", board.ABC_CLASSES, None)
    sort = _choice(query, "sort", board.SORTS, "sku")
    order = _choice(query, "order", board.ORDERS, "asc")
    text = query.get("q") or None
    if text is not None and len(text) > MAX_TEXT:
        raise ValidationFailed(f"q: at most {MAX_TEXT} characters", field="q")
    after = None
    if page.cursor:
        try:
            after = board.decode_cursor(page.cursor, sort, order)
        except board.BadBoardCursor as exc:
            raise ValidationFailed(f"cursor: {exc}; pass the `next` of a previous page unchanged",
                                   field="cursor") from None
    chosen = settings()
    counters, documents, plans = store.read_all(warehouse_id)
    names = {sku: str(doc.get("name") or sku) for sku, doc in documents.items()}
    facts = {sku: board.PlanFacts(p.get("d"), p.get("ss"), p.get("abc")) for sku, p in plans.items()}
    arrivals = _arrivals(store.inbound(), counters, warehouse_id, dt.datetime.now(dt.timezone.utc).date())
    everything = board.rows(names, counters, facts, chosen, warehouse_id, arrivals)
    filtered = [row for row in everything if board.matches(row, abc, text)]
    shown = [row for row in filtered if status is None or row["status"] == status]
    rows, last = board.page(board.ordered(shown, sort, order), page.limit, after, order)
    return {"rows": rows, "counts": board.counts(filtered), "total": len(shown),
            "next": board.encode_cursor(last, sort, order) if last is not None else None,
            "settings": chosen.to_dict()}


def _arrivals(inbound: list[dict], counters: list[board.StockCounters], warehouse_id: str | None,
              today: dt.date) -> dict[str, list[tuple[int, int]]]:
    """Units on their way and not presold per SKU (to one warehouse, when the board shows one) as (days from
    today, units): each stock item's presold units leave its earliest arrivals (domain/presale.unsold_arrivals);
    a shipment without an ETA, or one past it, counts as arriving today."""
    lines: dict[tuple[str, str], list[tuple[dt.date | None, int]]] = {}
    for arriving in inbound:
        if warehouse_id is not None and arriving["warehouse_id"] != warehouse_id:
            continue
        eta = dt.date.fromisoformat(arriving["eta"]) if arriving.get("eta") else None
        lines.setdefault((arriving["sku"], arriving["warehouse_id"]), []).append((eta, int(arriving["qty"])))
    presold = {(item.sku, item.warehouse_id): item.presold for item in counters if item.presold}
    out: dict[str, list[tuple[int, int]]] = {}
    for (sku, warehouse), arriving in lines.items():
        for eta, qty in unsold_arrivals(arriving, presold.get((sku, warehouse), 0)):
            out.setdefault(sku, []).append((max(0, (eta - today).days) if eta else 0, qty))
    return out


def warehouses_summary() -> dict:
    """Per warehouse: SKUs holding units, the counters, and their value at the catalogue's unit cost. A SKU
    without a unit cost adds nothing to the value and is counted in missing_cost."""
    counters, documents, _ = store.read_all()
    warehouses = catalog_store.warehouses()
    out: dict[str, dict] = {
        wid: _summary_row(wid, str(data.get("name") or wid)) for wid, data in sorted(warehouses.items())}
    for item in counters:
        row = out.setdefault(item.warehouse_id, _summary_row(item.warehouse_id, item.warehouse_id))
        for counter in board.COUNTERS:
            row[counter] += getattr(item, counter)
        if item.on_hand <= 0 and item.in_transit <= 0:
            continue
        row["skus"] += 1
        cost = (documents.get(item.sku) or {}).get("unit_cost")
        if cost is None:
            row["missing_cost"] += 1
            continue
        row["stock_value"] += max(0, item.on_hand) * float(cost)
        row["in_transit_value"] += max(0, item.in_transit) * float(cost)
    for row in out.values():
        row["stock_value"] = round(row["stock_value"], 2)
        row["in_transit_value"] = round(row["in_transit_value"], 2)
    return {"warehouses": list(out.values())}


def _summary_row(warehouse_id: str, name: str) -> dict:
    return {"warehouse_id": warehouse_id, "name": name, "skus": 0, **dict.fromkeys(board.COUNTERS, 0),
            "stock_value": 0.0, "in_transit_value": 0.0, "missing_cost": 0}

"""Transfers between warehouses: lanes, suggestions ("move X from B to A before A runs out") and transfer
orders (draft → picked → received, or cancelled), each step one guarded transaction with its ledger
entries: picking moves only unreserved units (a unit held or sold stays for its order)."""
from __future__ import annotations

import datetime as dt
import uuid

from stocklink import time_budget
from stocklink.domain import transfers as rules
from stocklink.domain.board import StockCounters
from stocklink.domain.purchase_requests import LaneIn, TransferActionIn, TransferIn, TransferReceiveIn
from stocklink.domain.stock import Movement
from stocklink.domain.transfers import TransferLine, TransferStatus
from stocklink.errors import IdempotencyConflict, InsufficientStock, NotFound, ValidationFailed
from stocklink.logic import paging, presale, suppliers
from stocklink.logic.catalog import require_skus, require_warehouse
from stocklink.logic.purchasing import busy
from stocklink.logic.stock_events import publish_stock_changed
from stocklink.store import board as board_store
from stocklink.store import purchasing as inbound_store
from stocklink.store import repository, sales_models
from stocklink.store import transfers as store
from stocklink.store.transactions import StockOp, StockTransaction, TransactionRefused

DEMAND_DAYS = 28            # per-warehouse demand: units fulfilled there over the last four weeks (today too), per day
DEFAULT_DONOR_DAYS = 60     # a donor keeps at least this many days of its own cover


def put_lane(from_warehouse: str, to_warehouse: str, body: LaneIn, now_ms: int) -> dict:
    if from_warehouse == to_warehouse:
        raise ValidationFailed("a lane joins two different warehouses")
    require_warehouse(from_warehouse)
    require_warehouse(to_warehouse)
    data = {"from_warehouse": from_warehouse, "to_warehouse": to_warehouse, "transit_days": body.transit_days,
            "cost_per_unit": body.cost_per_unit}
    store.put_lane(from_warehouse, to_warehouse, data, now_ms)
    return data


def list_lanes() -> dict:
    return {"lanes": sorted(store.lanes().values(), key=lambda lane: (lane["from_warehouse"], lane["to_warehouse"]))}


def create(body: TransferIn, *, actor: str, now_ms: int) -> dict:
    if body.from_warehouse == body.to_warehouse:
        raise ValidationFailed("a transfer moves stock between two different warehouses")
    require_warehouse(body.from_warehouse)
    require_warehouse(body.to_warehouse)
    require_skus(line.sku for line in body.lines)
    day = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC)
    transfer_id = body.transfer_id or f"TR-{day:%Y%m%d}-{uuid.uuid4().hex[:6].upper()}"
    lane = store.lanes().get((body.from_warehouse, body.to_warehouse)) or {}
    document = {"transfer_id": transfer_id, "from_warehouse": body.from_warehouse, "to_warehouse": body.to_warehouse,
                "status": TransferStatus.DRAFT.value, "note": body.note, "created_at": now_ms, "created_by": actor,
                "transit_days": lane.get("transit_days", rules.DEFAULT_TRANSIT_DAYS),
                "cost_per_unit": lane.get("cost_per_unit"), "eta": None,
                "lines": [{"line": n, "sku": line.sku, "qty": line.qty, "received": 0, "lost": 0}
                          for n, line in enumerate(body.lines, start=1)],
                "history": [{"status": TransferStatus.DRAFT.value, "at": now_ms, "by": actor, "note": body.note}]}
    if not store.create_transfer(transfer_id, document, now_ms):
        raise IdempotencyConflict(f"transfer {transfer_id} exists", transfer_id=transfer_id)
    return document


def get(transfer_id: str) -> dict:
    return _read(transfer_id)[0]


def list_transfers(query: dict | None) -> dict:
    query = query or {}
    page = paging.page_request(query)
    status = query.get("status") or None
    if status is not None and status not in TransferStatus.__members__.values():
        raise ValidationFailed(f"status: one of {', '.join(s.value for s in TransferStatus)}", field="status")
    found = store.transfer_page(page.limit, page.cursor, status)
    return {"transfers": found.items, "next": found.next}


def pick(transfer_id: str, body: TransferActionIn, *, actor: str, now_ms: int) -> dict:
    """The units leave the source (only unreserved ones) and are on their way to the destination, expected
    after the lane's transit days."""
    for _attempt in time_budget.attempts():
        document, version = _read(transfer_id)
        rules.check_transition(TransferStatus(document["status"]), TransferStatus.PICKED)
        source, destination = document["from_warehouse"], document["to_warehouse"]
        today = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC).date()
        eta = (today + dt.timedelta(days=round(float(document["transit_days"])))).isoformat()
        txn = _txn(transfer_id, actor, now_ms, "picked")
        for line in _lines(document):
            ref = _line_source(transfer_id, line.line)
            txn.stock(StockOp(line.sku, source, Movement.TRANSFER_OUT, line.qty), source=ref)
            txn.stock(StockOp(line.sku, destination, Movement.TRANSIT_IN, line.qty), source=ref)
            inbound_store.include_inbound(txn, line.sku, destination, ref, qty_before=0, qty_after=line.qty, eta=eta,
                                          detail={"kind": "transfer", "transfer_id": transfer_id, "line": line.line,
                                                  "from_warehouse": source}, now_ms=now_ms)
        updated = _moved(document, TransferStatus.PICKED, actor, now_ms, body.note, eta=eta)
        store.include_transfer_change(txn, transfer_id, updated, version, now_ms)
        if _committed(txn, document):
            publish_stock_changed([(line.sku, w) for line in _lines(document) for w in (source, destination)],
                                  "transfer", f"tr#{transfer_id}")
            return updated
    raise busy(f"transfer {transfer_id}")


def receive(transfer_id: str, body: TransferReceiveIn, *, actor: str, now_ms: int) -> dict:
    """Units arrive at the destination; short lines record the lost units with their reason."""
    counted = {}
    for line in body.lines:
        if line.line in counted:
            raise ValidationFailed(f"line {line.line} is counted twice", line=line.line)
        counted[line.line] = (line.received, line.loss_reason)
    for _attempt in time_budget.attempts():
        document, version = _read(transfer_id)
        rules.check_transition(TransferStatus(document["status"]), TransferStatus.RECEIVED)
        destination = document["to_warehouse"]
        plan = rules.arrivals(_lines(document), counted)
        txn = _txn(transfer_id, actor, now_ms, "received")
        presale.settle_transit(txn, destination, [
            presale.TransitMove(a.sku, a.received, a.received + a.lost, _line_source(transfer_id, a.line))
            for a in plan if a.received + a.lost])
        for arrival in plan:
            ref = _line_source(transfer_id, arrival.line)
            if arrival.received:
                txn.stock(StockOp(arrival.sku, destination, Movement.TRANSIT_ARRIVE, arrival.received), source=ref)
            if arrival.lost:
                txn.stock(StockOp(arrival.sku, destination, Movement.TRANSIT_DROP, arrival.lost), source=ref,
                          reason=f"lost in transfer: {arrival.loss_reason}")
            inbound_store.include_inbound(txn, arrival.sku, destination, ref,
                                          qty_before=arrival.received + arrival.lost, qty_after=0, eta=None,
                                          detail={}, now_ms=now_ms)
        by_line = {a.line: a for a in plan}
        updated = _moved(document, TransferStatus.RECEIVED, actor, now_ms, body.note)
        updated["lines"] = [{**line, "received": by_line[line["line"]].received, "lost": by_line[line["line"]].lost,
                             "loss_reason": by_line[line["line"]].loss_reason} for line in document["lines"]]
        store.include_transfer_change(txn, transfer_id, updated, version, now_ms)
        if _committed(txn, document):
            publish_stock_changed([(a.sku, destination) for a in plan], "transfer", f"tr#{transfer_id}")
            return updated
    raise busy(f"transfer {transfer_id}")


def cancel(transfer_id: str, body: TransferActionIn, *, actor: str, now_ms: int) -> dict:
    """A draft is dropped; a picked transfer's units go back on hand where they left."""
    for _attempt in time_budget.attempts():
        document, version = _read(transfer_id)
        current = TransferStatus(document["status"])
        rules.check_transition(current, TransferStatus.CANCELLED)
        source, destination = document["from_warehouse"], document["to_warehouse"]
        txn = _txn(transfer_id, actor, now_ms, "cancelled")
        if current is TransferStatus.PICKED:
            presale.settle_transit(txn, destination, [
                presale.TransitMove(line.sku, 0, line.qty, _line_source(transfer_id, line.line))
                for line in _lines(document)])
            for line in _lines(document):
                ref = _line_source(transfer_id, line.line)
                txn.stock(StockOp(line.sku, destination, Movement.TRANSIT_DROP, line.qty), source=ref)
                txn.stock(StockOp(line.sku, source, Movement.TRANSFER_BACK, line.qty), source=ref)
                inbound_store.include_inbound(txn, line.sku, destination, ref, qty_before=line.qty, qty_after=0,
                                              eta=None, detail={}, now_ms=now_ms)
        updated = _moved(document, TransferStatus.CANCELLED, actor, now_ms, body.note)
        store.include_transfer_change(txn, transfer_id, updated, version, now_ms)
        if _committed(txn, document):
            if current is TransferStatus.PICKED:
                publish_stock_changed([(line.sku, w) for line in _lines(document) for w in (source, destination)],
                                      "transfer", f"tr#{transfer_id}")
            return updated
    raise busy(f"transfer {transfer_id}")


def suggestions(query: dict | None, today: dt.date) -> dict:
    """Transfers that prevent a projected stock-out, for every SKU held in two or more warehouses."""
    query = query or {}
    if len(str(query.get("donor_days") or "")) > 10:          # the contract's maxLength
        raise ValidationFailed("donor_days: at most 10 characters", field="donor_days")
    try:
        donor_days = float(query.get("donor_days") or DEFAULT_DONOR_DAYS)
    except ValueError:
        raise ValidationFailed("donor_days: a number of days", field="donor_days") from None
    if not 0 <= donor_days <= 3650:
        raise ValidationFailed("donor_days: 0 to 3650", field="donor_days")
    wanted = query.get("sku") or None
    positions: dict[str, list[StockCounters]] = {}
    for item in board_store.stock_counters():
        if wanted is None or item.sku == wanted:
            positions.setdefault(item.sku, []).append(item)
    positions = {sku: rows for sku, rows in positions.items() if len(rows) > 1}
    # today counts: a warehouse emptied by this morning's orders needs the transfer today
    first = (today - dt.timedelta(days=DEMAND_DAYS - 1)).isoformat()
    last = today.isoformat()
    sold = sales_models.warehouse_sales([(sku, i.warehouse_id) for sku, rows in positions.items() for i in rows],
                                        first, last)
    terms = suppliers.terms_for(positions)
    lanes = {key: rules.Lane(key[0], key[1], float(lane["transit_days"]), lane.get("cost_per_unit"))
             for key, lane in store.lanes().items()}
    found = []
    for sku, rows in sorted(positions.items()):
        lead = float((terms.get(sku) or {}).get("lead_time_days") or suppliers.DEFAULT_LEAD_TIME_DAYS)
        found += rules.suggest(sku, [rules.WarehousePosition(i.warehouse_id, i.available, i.in_transit,
                                                             sold[(sku, i.warehouse_id)] / DEMAND_DAYS, i.presold)
                                     for i in rows],
                               lanes, lead_time_days=lead, donor_min_days=donor_days, today=today)
    found.sort(key=lambda s: (s.stockout_date, s.sku))
    return {"as_of": today.isoformat(), "donor_days": donor_days, "demand_days": DEMAND_DAYS,
            "suggestions": [s.as_dict() for s in found]}


# --- helpers -------------------------------------------------------------------------------------------


def _read(transfer_id: str) -> tuple[dict, int]:
    found = store.get_transfer(transfer_id)
    if found is None:
        raise NotFound(f"transfer {transfer_id} not found", transfer_id=transfer_id)
    return found


def _lines(document: dict) -> list[TransferLine]:
    return [TransferLine(line["line"], line["sku"], int(line["qty"])) for line in document["lines"]]


def _line_source(transfer_id: str, line: int) -> str:
    return f"tr#{transfer_id}#{line}"


def _txn(transfer_id: str, actor: str, now_ms: int, step: str) -> StockTransaction:
    return StockTransaction(actor=actor, source=f"tr#{transfer_id}", reason=f"transfer {transfer_id} {step}",
                            now_ms=now_ms)


def _moved(document: dict, target: TransferStatus, actor: str, now_ms: int, note: str | None, **changes) -> dict:
    return {**document, **changes, "status": target.value,
            "history": document["history"] + [{"status": target.value, "at": now_ms, "by": actor, "note": note}]}


def _committed(txn: StockTransaction, document: dict) -> bool:
    """True when written; False when the transfer changed meanwhile (decide again). A source that no longer
    has the units unreserved is a 409 naming the SKU."""
    try:
        txn.commit()
        return True
    except TransactionRefused as refused:
        if store.TR_LABEL in refused.failed or any(label.startswith("inbound:") for label in refused.failed):
            return False
        if txn.read_items() & set(refused.failed):
            return False    # a stock item read for the presale guard changed: decide again
        short = next((label for label in refused.failed if label.startswith("stock:")), None)
        if short is not None:
            _, sku, warehouse_id = short.split(":", 2)
            line = next(line for line in document["lines"] if line["sku"] == sku)
            item = next((i for i in repository.stock_items(sku) if i.warehouse_id == warehouse_id), None)
            raise InsufficientStock(sku, int(line["qty"]), int(item.available) if item else 0) from refused
        raise

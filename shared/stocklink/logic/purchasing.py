"""Purchase orders: create, move through their states, ship (units become in transit with an ETA) and
receive (in transit → on hand, partial receipts, rejects with a reason, over-receipt only when accepted).

Every change that moves stock is one guarded transaction holding the PO (conditioned on the version read),
the stock counters, their ledger entries (source po#<id>#<line>) and the inbound items; a change that lost a
race is decided again on a fresh read, within the invocation's time budget (then a retryable 503).
"""
from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stocklink.domain import purchasing as rules
from stocklink.domain import suppliers as supplier_rules
from stocklink.domain.purchasing import PoLine, PoStatus, ReceiptLine
from stocklink.domain.stock import Movement
from stocklink import bus, events, time_budget
from stocklink.errors import (
    Busy, IdempotencyConflict, InvalidTransition, NotFound, StockLinkError, ValidationFailed,
)
from stocklink.logic import paging, presale, suppliers
from stocklink.logic.catalog import require_skus, require_warehouse
from stocklink.logic.stock_events import publish_stock_changed
from stocklink.observability import logger
from stocklink.store import purchasing as store
from stocklink.store import sales_models as forecast_store
from stocklink.store.transactions import StockOp, StockTransaction, TransactionRefused

if TYPE_CHECKING:   # the API's request models (pydantic): only the API needs them loaded, not the forecast run
    from stocklink.domain.purchase_requests import (PoFromSuggestionsIn, PoReceiptIn, PoShipIn, PoStatusIn,
                                                    PurchaseOrderIn)


def create(body: PurchaseOrderIn, *, actor: str, now_ms: int) -> dict:
    require_warehouse(body.warehouse_id)
    require_skus(line.sku for line in body.lines)
    supplier = suppliers.get_supplier(body.supplier_id)
    po_id = body.po_id or f"PO-{dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC):%Y%m%d}-{uuid.uuid4().hex[:6].upper()}"
    document = {
        "po_id": po_id, "supplier_id": body.supplier_id, "warehouse_id": body.warehouse_id,
        "currency": body.currency or supplier.get("currency"), "status": PoStatus.DRAFT.value, "note": body.note,
        "eta": None,
        "created_at": now_ms, "created_by": actor,
        "lines": [{"line": n, "sku": line.sku, "qty": line.qty,
                   "unit_price": (line.unit_price if line.unit_price is not None
                                  else _quoted_price(body.supplier_id, line.sku, line.qty)),
                   "promised_date": line.promised_date, "shipped": 0, "received": 0, "rejected": 0}
                  for n, line in enumerate(body.lines, start=1)],
        "history": [{"status": PoStatus.DRAFT.value, "at": now_ms, "by": actor, "note": body.note}],
    }
    if not store.create_po(po_id, document, now_ms):
        raise IdempotencyConflict(f"purchase order {po_id} exists", po_id=po_id)
    return view(document)


def from_suggestions(body: PoFromSuggestionsIn, *, actor: str, now_ms: int) -> dict:
    """One draft PO per supplier for the chosen SKUs: each line the latest forecast's suggested quantity,
    rounded up to the supplier's MOQ, first price break and case pack, at the price of that quantity, promised
    after the lead time. Everything is checked before the first PO is written."""
    from stocklink.domain.purchase_requests import PurchaseOrderIn   # loaded with the API that calls this

    require_warehouse(body.warehouse_id)
    require_skus(body.skus)
    terms = suppliers.terms_for(body.skus)
    today = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC).date()
    groups: dict[str, list[dict]] = {}
    for sku in body.skus:
        result = forecast_store.get_result(sku) or {}
        qty = int(result.get("suggested_order_qty") or 0)
        if qty <= 0:
            raise ValidationFailed(f"{sku}: the latest forecast suggests ordering none", sku=sku)
        supplier_id = body.supplier_id or (terms.get(sku) or {}).get("supplier_id")
        if not supplier_id:
            raise ValidationFailed(f"{sku} has no supplier: choose one (supplier_id) or quote it first", sku=sku)
        groups.setdefault(supplier_id, []).append(_suggested_line(supplier_id, sku, qty, terms.get(sku) or {}, today))
    for supplier_id in groups:
        suppliers.get_supplier(supplier_id)
    made = []
    for supplier_id, lines in sorted(groups.items()):
        order = PurchaseOrderIn.model_validate({"supplier_id": supplier_id, "warehouse_id": body.warehouse_id,
                                                "lines": lines, "note": "from replenishment suggestions"})
        made.append(create(order, actor=actor, now_ms=now_ms))
    return {"purchase_orders": made}


def _suggested_line(supplier_id: str, sku: str, qty: int, terms: dict, today: dt.date) -> dict:
    try:
        line = suppliers.order_line(supplier_id, sku, qty)
        ordered, price = line["qty"], line["unit_price"]
    except NotFound:      # no quote from this supplier: its (or the SKU's own) MOQ and case pack, no price
        ordered = supplier_rules.round_order(qty, int(terms.get("moq") or 1), int(terms.get("case_pack") or 1))
        price = None
    return {"sku": sku, "qty": ordered, "unit_price": price, "promised_date": _promised(supplier_id, sku, today)}


def get(po_id: str) -> dict:
    document, _version = _read(po_id)
    return view(document)


def list_pos(query: dict | None) -> dict:
    query = query or {}
    page = paging.page_request(query)
    status = query.get("status") or None
    if status is not None and status not in PoStatus.__members__.values():
        raise ValidationFailed(f"status: one of {', '.join(s.value for s in PoStatus)}", field="status")
    found = store.po_page(page.limit, page.cursor, status)
    return {"purchase_orders": [view(d) for d in found.items], "next": found.next}


def change_status(po_id: str, body: PoStatusIn, *, actor: str, now_ms: int) -> dict:
    """ordered / paid / producing / cancelled move the PO only; closed also drops what is still on its way."""
    for _attempt in time_budget.attempts():
        document, version = _read(po_id)
        current, target = PoStatus(document["status"]), PoStatus(body.status)
        rules.check_transition(current, target)
        lines = _lines(document)
        txn = StockTransaction(actor=actor, source=f"po#{po_id}", reason=f"purchase order {po_id} {target}",
                               now_ms=now_ms)
        touched = []
        if target is PoStatus.CLOSED:
            presale.settle_transit(txn, document["warehouse_id"], [
                presale.TransitMove(line.sku, 0, line.on_the_way, _line_source(po_id, line.line))
                for line in lines if line.on_the_way])
            for line in lines:
                if line.on_the_way:
                    source = _line_source(po_id, line.line)
                    txn.stock(StockOp(line.sku, document["warehouse_id"], Movement.TRANSIT_DROP, line.on_the_way),
                              source=source, reason="purchase order closed short")
                    store.include_inbound(txn, line.sku, document["warehouse_id"], source,
                                          qty_before=line.on_the_way, qty_after=0, eta=document.get("eta"),
                                          detail={}, now_ms=now_ms)
                    touched.append((line.sku, document["warehouse_id"]))
        if target is PoStatus.ORDERED:      # ordered now: a line without a promise gets the lead time's
            today = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC).date()
            document = {**document, "lines": [
                {**line, "promised_date": line.get("promised_date")
                 or _promised(document["supplier_id"], line["sku"], today)} for line in document["lines"]]}
        updated = {**document, "status": target.value,
                   "history": document["history"] + [{"status": target.value, "at": now_ms, "by": actor,
                                                      "note": body.note}]}
        store.include_po_change(txn, po_id, updated, version, now_ms)
        if _committed(txn):
            if touched:
                publish_stock_changed(touched, "transit", f"po#{po_id}")
            return view(updated)
    raise _busy(po_id)


def ship(po_id: str, body: PoShipIn, *, actor: str, now_ms: int) -> dict:
    """The PO's lines (or the quantities given per line) leave the supplier: in transit to the PO's
    warehouse until received, expected on `eta`."""
    for _attempt in time_budget.attempts():
        document, version = _read(po_id)
        rules.check_transition(PoStatus(document["status"]), PoStatus.SHIPPED)
        lines = _lines(document)
        shipped = rules.shipment(lines, {s.line: s.qty for s in body.lines} if body.lines else None)
        warehouse = document["warehouse_id"]
        txn = StockTransaction(actor=actor, source=f"po#{po_id}", reason=f"purchase order {po_id} shipped",
                               now_ms=now_ms)
        by_line = {s.line: s.qty for s in shipped}
        for s in shipped:
            source = _line_source(po_id, s.line)
            txn.stock(StockOp(s.sku, warehouse, Movement.TRANSIT_IN, s.qty), source=source)
            store.include_inbound(txn, s.sku, warehouse, source, qty_before=0, qty_after=s.qty, eta=body.eta,
                                  detail={"kind": "po", "po_id": po_id, "line": s.line,
                                          "supplier_id": document["supplier_id"]}, now_ms=now_ms)
        updated = {**document, "status": PoStatus.SHIPPED.value, "eta": body.eta,
                   "lines": [{**line, "shipped": by_line.get(line["line"], 0)} for line in document["lines"]],
                   "history": document["history"] + [{"status": PoStatus.SHIPPED.value, "at": now_ms,
                                                      "by": actor, "note": body.note, "eta": body.eta}]}
        store.include_po_change(txn, po_id, updated, version, now_ms)
        if _committed(txn):
            publish_stock_changed(((s.sku, warehouse) for s in shipped), "transit", f"po#{po_id}")
            return view(updated)
    raise _busy(po_id)


def receive(po_id: str, body: PoReceiptIn, *, actor: str, now_ms: int) -> tuple[int, dict]:
    """Book a receipt: (201, the PO) when booked, (200, the PO) when this reference was booked before with
    the same lines (nothing booked again); a reference reused for other lines is a 409."""
    counted = [ReceiptLine(r.line, r.received, r.rejected, r.reject_reason) for r in body.lines]
    booked = {"reference": body.reference, "lines": [r.model_dump() for r in body.lines],
              "accept_over_receipt": body.accept_over_receipt}
    for _attempt in time_budget.attempts():
        previous = store.receipt_marker(po_id, body.reference)
        if previous is not None:
            return 200, {**get(po_id), "receipt": _same_receipt(previous, booked, body.reference)}
        document, version = _read(po_id)
        if PoStatus(document["status"]) is not PoStatus.SHIPPED:
            raise InvalidTransition(f"a {document['status']} purchase order cannot be received; ship it first",
                                    status=document["status"])
        lines = _lines(document)
        plan = rules.receipt(lines, counted, accept_over_receipt=body.accept_over_receipt)
        updated_lines, status = rules.after_receipt(lines, plan)
        warehouse = document["warehouse_id"]
        txn = StockTransaction(actor=actor, source=f"po#{po_id}", reason=f"purchase order {po_id} received",
                               now_ms=now_ms)
        store.include_receipt_marker(txn, po_id, body.reference, {**booked, "at": now_ms, "by": actor}, now_ms)
        on_the_way = {line.line: line.on_the_way for line in lines}
        presale.settle_transit(txn, warehouse, [presale.TransitMove(p.sku, p.arrived, p.from_transit,
                                                                    _line_source(po_id, p.line))
                                                for p in plan if p.from_transit])
        for p in plan:
            source = _line_source(po_id, p.line)
            if p.arrived:
                txn.stock(StockOp(p.sku, warehouse, Movement.TRANSIT_ARRIVE, p.arrived), source=source,
                          reason=f"received, receipt {body.reference}")
            if p.rejected:
                txn.stock(StockOp(p.sku, warehouse, Movement.TRANSIT_DROP, p.rejected), source=source,
                          reason=f"rejected: {p.reject_reason}")
            if p.extra:
                txn.stock(StockOp(p.sku, warehouse, Movement.RECEIVE, p.extra), source=source,
                          reason=f"over-receipt accepted, receipt {body.reference}")
            if p.from_transit:
                store.include_inbound(txn, p.sku, warehouse, source, qty_before=on_the_way[p.line],
                                      qty_after=on_the_way[p.line] - p.from_transit, eta=document.get("eta"),
                                      detail={"kind": "po", "po_id": po_id, "line": p.line,
                                              "supplier_id": document["supplier_id"]}, now_ms=now_ms)
        receipts = document.get("receipts", []) + [{"reference": body.reference, "at": now_ms, "by": actor}]
        updated = {**document, "status": status.value, "receipts": receipts[-50:],
                   "lines": [_line_dict(line) for line in updated_lines],
                   "history": document["history"] + ([{"status": status.value, "at": now_ms, "by": actor,
                                                       "note": f"receipt {body.reference}"}]
                                                     if status.value != document["status"] else [])}
        store.include_po_change(txn, po_id, updated, version, now_ms)
        if _committed(txn, duplicate_ok=True):
            publish_stock_changed(((p.sku, warehouse) for p in plan), "receive", f"po#{po_id}")
            _record_for_scorecard(document, plan, body.reference, now_ms)
            return 201, {**view(updated), "receipt": {"reference": body.reference, "duplicate": False}}
    raise _busy(po_id)


def late(today: dt.date) -> list[dict]:
    """Open POs with lines past their promised date and not fully received."""
    found = []
    for document in store.open_pos():
        lines = _lines(document)
        overdue = rules.is_late(PoStatus(document["status"]), lines, today)
        if overdue:
            found.append({"po_id": document["po_id"], "supplier_id": document["supplier_id"],
                          "warehouse_id": document["warehouse_id"], "status": document["status"],
                          "lines": [_line_dict(line) for line in lines if line.line in overdue]})
    return found


@dataclass(frozen=True)
class Incoming:
    """Units a SKU will receive: `shipped` ones are counted in in_transit already (their ETA from the
    shipment), on-order ones (ordered, paid, producing) are not (expected on the line's promised date)."""

    eta: dt.date | None
    qty: int
    shipped: bool


def incoming() -> dict[str, list[Incoming]]:
    """Every SKU's incoming units: two queries of the purchasing index, whatever the catalogue's size."""
    found: dict[str, list[Incoming]] = {}
    for inbound in store.all_inbound():
        found.setdefault(inbound["sku"], []).append(Incoming(_date(inbound.get("eta")), inbound["qty"], True))
    for document in store.open_pos():
        if document["status"] not in (PoStatus.ORDERED, PoStatus.PAID, PoStatus.PRODUCING):
            continue
        for line in document["lines"]:
            found.setdefault(line["sku"], []).append(Incoming(_date(line.get("promised_date")), int(line["qty"]),
                                                              False))
    return found


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def publish_late(today: dt.date) -> int:
    """One purchase_order.late event per late PO line (the alerts function grades them); events not
    published are counted and logged by the bus, and the next daily run says it again."""
    details = []
    for po in late(today):
        for line in po["lines"]:
            details.append({"po_id": po["po_id"], "supplier_id": po["supplier_id"], "sku": line["sku"],
                            "warehouse_id": po["warehouse_id"], "promised_date": line["promised_date"],
                            "days_late": (today - dt.date.fromisoformat(line["promised_date"])).days,
                            "outstanding": line["qty"] - line["received"] - line["rejected"]})
    if details:
        bus.publish(events.PURCHASE_ORDER_LATE, details)
    return len(details)


def view(document: dict) -> dict:
    lines = [{**line, "on_the_way": max(0, line["shipped"] - line["received"] - line["rejected"])}
             for line in document["lines"]]
    total = sum((line["unit_price"] or 0) * line["qty"] for line in lines)
    return {**{k: v for k, v in document.items() if k != "lines"}, "lines": lines, "total": round(total, 2)}


# --- helpers -------------------------------------------------------------------------------------------


def _read(po_id: str) -> tuple[dict, int]:
    found = store.get_po(po_id)
    if found is None:
        raise NotFound(f"purchase order {po_id} not found", po_id=po_id)
    return found


def _lines(document: dict) -> list[PoLine]:
    return [PoLine(line["line"], line["sku"], int(line["qty"]), line.get("unit_price"), line.get("promised_date"),
                   int(line.get("shipped", 0)), int(line.get("received", 0)), int(line.get("rejected", 0)))
            for line in document["lines"]]


def _line_dict(line: PoLine) -> dict:
    return {"line": line.line, "sku": line.sku, "qty": line.qty, "unit_price": line.unit_price,
            "promised_date": line.promised_date, "shipped": line.shipped, "received": line.received,
            "rejected": line.rejected}


def _line_source(po_id: str, line: int) -> str:
    return f"po#{po_id}#{line}"


def _committed(txn: StockTransaction, duplicate_ok: bool = False) -> bool:
    """True when written; False when another change of the PO (or of its inbound units, its stock items as
    read for the presale guard, or the same receipt) got there first: the caller reads again and decides
    again. A stock guard refusing otherwise is a 409."""
    try:
        txn.commit()
        return True
    except TransactionRefused as refused:
        if any(label == store.PO_LABEL or label.startswith("inbound:") for label in refused.failed):
            return False
        if txn.read_items() & set(refused.failed):
            return False
        if duplicate_ok and store.RECEIPT_LABEL in refused.failed:
            return False
        raise InvalidTransition("the stock this change needs is no longer there (it moved meanwhile)",
                                failed=refused.failed) from refused


def _same_receipt(previous: dict, booked: dict, reference: str) -> dict:
    if any(previous.get(k) != v for k, v in booked.items()):
        raise IdempotencyConflict(f"receipt {reference} was already booked with other lines", reference=reference)
    return {"reference": reference, "duplicate": True}


def _busy(po_id: str) -> Busy:
    return busy(f"purchase order {po_id}")


def busy(what: str) -> Busy:
    """The answer when `what` kept changing until the time budget ran out: nothing written, send it again."""
    return Busy(f"{what} kept changing while this change was made; send it again",
                retry_after_s=time_budget.RETRY_AFTER_S)


def _quoted_price(supplier_id: str, sku: str, qty: int) -> float | None:
    """The supplier's price for that quantity (its price breaks), None without a quote."""
    try:
        return suppliers.order_line(supplier_id, sku, qty)["unit_price"]
    except NotFound:
        return None


def _promised(supplier_id: str, sku: str, today: dt.date) -> str:
    """Ordered today, promised after the quote's (else the supplier's) lead time."""
    try:
        lead = suppliers.quote(supplier_id, sku)["terms"]["lead_time_days"]
    except NotFound:
        lead = suppliers.get_supplier(supplier_id).get("lead_time_days") or suppliers.DEFAULT_LEAD_TIME_DAYS
    return (today + dt.timedelta(days=math.ceil(float(lead)))).isoformat()


def _record_for_scorecard(document: dict, plan, reference: str, now_ms: int) -> None:
    """Each received line feeds the supplier's scorecard (on time, lead time, rejects, price), once per
    receipt reference. The receipt is booked already: a line the history cannot take (no promised date or
    price) is logged and skipped, never undone."""
    ordered_at = next((h["at"] for h in document["history"] if h["status"] == "ordered"), document["created_at"])
    by_line = {line["line"]: line for line in document["lines"]}
    for p in plan:
        line = by_line[p.line]
        try:
            suppliers.record_receipt(document["supplier_id"], p.sku, ordered_at=ordered_at,
                                     promised_date=line.get("promised_date"), received_at=now_ms,
                                     received_qty=p.arrived + p.extra + p.rejected, rejected_qty=p.rejected,
                                     unit_price=line.get("unit_price"),
                                     reference=f"{document['po_id']}#{p.line}#{reference}", now_ms=now_ms)
        except StockLinkError as refused:
            logger.warning("receipt not recorded in the supplier's scorecard",
                           extra={"po_id": document["po_id"], "line": p.line, "why": refused.message})

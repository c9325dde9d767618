"""Catalogue imports (dry run, then apply in chunks), sales-history uploads, and the catalogue / stock exports.

POST /imports/catalog takes a CSV body of at most web.MAX_BODY_BYTES (1 MiB). A larger file is sent in parts
(the CLI does it): each part is a CSV with the header row, `parts` says how many, `part` which one, `first_line`
the file's line number of the part's first data row, and parts after the first name the `import_id` the first
answered. When every part is in, the dry run is made (stocklink.domain.catalog_import) and stored with the job;
nothing is written to the catalogue or stock before an apply. An apply books the plan's chunks one stock
transaction each (idempotent per import id and chunk), a bounded number per invocation: the job continues itself
through the bus (import.requested) and GET /imports/{id} shows its progress.
"""
from __future__ import annotations

import json
import uuid
from typing import Annotated, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from stocklink import bus, events
from stocklink.domain import catalog_import as ci
from stocklink.domain import catalog_sheet as cs
from stocklink.domain.stock import Movement
from stocklink.errors import IdempotencyConflict, NotFound, ValidationFailed
from stocklink.logic.stock_events import publish_stock_changed
from stocklink.store import catalog as catalog_store
from stocklink.store import imports as store
from stocklink.store.transactions import StockOp, StockTransaction, TransactionRefused
from stocklink.time import iso_now

MAX_PARTS = 200                 # 200 MiB of CSV
MAX_ROWS = 25_000               # data rows in one import: its dry run (one BatchGetItem per 100 SKUs and per 100
                                # stock items, in the last part's request) must end within API Gateway's 29 s
SHOWN_ERRORS = 200              # errors kept with the job and shown (error_count is always whole)
RECEIVING, INVALID, READY, APPLYING, APPLIED = "receiving", "invalid", "ready", "applying", "applied"


class ApplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    accept_adjustments: Literal["all"] | Annotated[list[Annotated[str, StringConstraints(
        min_length=3, max_length=260)]], Field(max_length=ci.MAX_LISTED_ADJUSTMENTS)] = Field(default_factory=list)


# --- upload and dry run ------------------------------------------------------------------------------------

def decode(body: bytes) -> str:
    """UTF-8 (with or without BOM); a CSV saved by Chinese Excel is GB18030 (GBK): read as that."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return body.decode("gb18030")
        except UnicodeDecodeError:
            raise ValidationFailed("body is neither UTF-8 nor GB18030 text (send the sheet as CSV)") from None


def _int_param(query: dict, name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(f"{name}: a whole number", field=name) from None
    if not low <= value <= high:
        raise ValidationFailed(f"{name}: {low}-{high}", field=name)
    return value


def upload_catalog(body: bytes, query: dict, *, actor: str, now_ms: int) -> tuple[int, dict]:
    """One part (or the whole sheet). Answers 201 with the dry run when the last part is in, else 202."""
    parts = _int_param(query, "parts", 1, 1, MAX_PARTS)
    part = _int_param(query, "part", 1, 1, parts)
    first_line = _int_param(query, "first_line", 2, 2, 100_000_000)
    import_id = query.get("import_id") or None
    if not body:
        raise ValidationFailed("empty body: send the sheet as CSV")
    text = decode(body)
    warehouses = {wid: doc.get("name", wid) for wid, doc in catalog_store.warehouses().items()}
    sheet = cs.read_csv_text(text, warehouses, first_line=first_line)
    if import_id is None:
        if part != 1:
            raise ValidationFailed("import_id: parts after the first name the import the first part started",
                                   field="import_id")
        import_id = uuid.uuid4().hex[:16]
        store.create_job(import_id, RECEIVING, {"import_id": import_id, "parts": parts, "created_by": actor,
                                                "created_at": now_ms}, now_ms)
    job = _require(import_id)
    if job.status != RECEIVING:
        raise IdempotencyConflict(f"import {import_id} is {job.status}: it takes no more parts", import_id=import_id)
    if int(job.doc.get("parts", 1)) != parts:
        raise ValidationFailed(f"parts: this import has {job.doc.get('parts')}", field="parts")
    if parts == 1:
        return 201, _plan(import_id, job.doc, [sheet], now_ms)
    store.save_part(import_id, part, _sheet_dump(sheet), now_ms)
    if len(store.part_numbers(import_id)) < parts:
        return 202, view(store.job(import_id))
    received = store.parts(import_id)
    return 201, _plan(import_id, job.doc, [_sheet_load(received[n]) for n in sorted(received)], now_ms)


def _sheet_dump(sheet: cs.Sheet) -> dict:
    return {"rows": sheet.rows, "error_count": sheet.error_count, "errors": [e.as_dict() for e in sheet.errors],
            "skus": [[s.sku, s.line, s.fields, s.stock] for s in sheet.skus.values()]}


def _sheet_load(data: dict) -> cs.Sheet:
    sheet = cs.Sheet(rows=data["rows"], error_count=data["error_count"],
                     errors=[cs.RowError(e["line"], e["message"]) for e in data["errors"]])
    sheet.skus = {sku: cs.SheetSku(sku, line, fields, stock) for sku, line, fields, stock in data["skus"]}
    return sheet


def _combined(sheets: list[cs.Sheet]) -> cs.Sheet:
    """The parts as one sheet: a SKU on rows of two parts merges as within one part (clashes are errors)."""
    whole = cs.Sheet()
    for sheet in sheets:
        whole.rows += sheet.rows
        whole.error_count += sheet.error_count
        whole.errors += sheet.errors
        for row in sheet.skus.values():
            cs.merge_row(whole, row.line, row.sku, row.fields, row.stock)
    return whole


def _plan(import_id: str, doc: dict, sheets: list[cs.Sheet], now_ms: int) -> dict:
    sheet = sheets[0] if len(sheets) == 1 else _combined(sheets)
    if sheet.rows > MAX_ROWS:
        sheet.error(1, f"{sheet.rows} data rows: at most {MAX_ROWS:,} in one import (split the sheet)")
    if sheet.error_count:
        plan = ci.Plan(errors=list(sheet.errors))          # row problems: no catalogue read needed
    else:
        named = set(sheet.skus) | {c["sku"] for row in sheet.skus.values() for c in row.fields.get("components", [])}
        existing = store.skus_any(named)
        on_hand = store.on_hand((sku, wid) for sku, row in sheet.skus.items() for wid in row.stock)
        plan = ci.plan_import(sheet, existing, on_hand)
    errors = sorted(plan.errors, key=lambda e: e.line)
    error_count = sheet.error_count + len(plan.errors) - len(sheet.errors)   # row + cross-row problems
    doc = {**doc, "rows": sheet.rows, "summary": plan.summary(), "preview": plan.preview(),
           "error_count": error_count, "errors": [e.as_dict() for e in errors[:SHOWN_ERRORS]],
           "adjustment_keys": [a.key for a in plan.adjustments], "planned_at": now_ms}
    if error_count:
        store.move_job(import_id, RECEIVING, INVALID, doc, now_ms)
    else:
        store.save_chunks(import_id, [c.as_dict() for c in plan.chunks], now_ms)
        store.move_job(import_id, RECEIVING, READY, doc, now_ms, chunks=len(plan.chunks))
    return view(store.job(import_id))


def _require(import_id: str) -> store.ImportJob:
    job = store.job(import_id) if 0 < len(import_id) <= 64 else None
    if job is None:
        raise NotFound(f"import {import_id} not found", import_id=import_id)
    return job


def view(job: store.ImportJob) -> dict:
    doc = dict(job.doc or {})
    doc.pop("adjustment_keys", None)
    chunks, done = int(job.chunks or 0), int(job.chunks_done or 0)
    received = len(store.part_numbers(doc["import_id"])) if job.status == RECEIVING else doc.get("parts", 1)
    return {**doc, "status": job.status, "parts_received": received,
            "progress": {"chunks": chunks, "chunks_done": done,
                         "percent": round(100.0 * done / chunks, 1) if chunks else (100.0 if job.status == APPLIED
                                                                                    else 0.0)},
            "refused": [json.loads(r) for r in (job.refused or [])]}


def get(import_id: str) -> dict:
    return view(_require(import_id))


# --- apply ----------------------------------------------------------------------------------------------------

def request_apply(import_id: str, body: ApplyIn, *, actor: str, now_ms: int) -> tuple[int, dict]:
    """ready → applying (202, continued on the bus); an import applying or applied answers 200 unchanged."""
    job = _require(import_id)
    if job.status in (APPLYING, APPLIED):
        return 200, view(job)
    if job.status == INVALID:
        raise ValidationFailed(f"import {import_id} has {job.doc.get('error_count')} bad row(s): fix the sheet "
                               "and upload it again; nothing was written", import_id=import_id)
    if job.status != READY:
        raise IdempotencyConflict(f"import {import_id} is still receiving parts", import_id=import_id)
    accept = body.accept_adjustments
    if accept != "all":
        known = set(job.doc.get("adjustment_keys") or [])
        unknown = [key for key in accept if key not in known]
        if unknown:
            raise ValidationFailed(f"accept_adjustments: {unknown[0]} is no proposed adjustment of this import "
                                   "(keys are sku@warehouse_id)", field="accept_adjustments")
    doc = {**job.doc, "accept_adjustments": accept, "applied_by": actor, "apply_requested_at": now_ms}
    if not store.move_job(import_id, READY, APPLYING, doc, now_ms):
        return 200, view(_require(import_id))      # another request started it meanwhile
    bus.publish(events.IMPORT_REQUESTED, [{"import_id": import_id}])
    return 202, view(store.job(import_id))


def run_apply(import_id: str, now_ms: int, has_time: Callable[[], bool]) -> dict:
    """Book the chunks still to do while `has_time()`; the caller asks for another run unless the answer's
    status is applied (or the job is not applying: nothing to do)."""
    job = store.job(import_id)
    if job is None or job.status != APPLYING:
        return {"import_id": import_id, "status": job.status if job else "missing"}
    doc, total = job.doc, int(job.chunks or 0)
    accept = doc.get("accept_adjustments") or []
    actor = doc.get("applied_by") or "import"
    number = int(job.chunks_done or 0)
    while number < total:
        if not has_time():
            return {"import_id": import_id, "status": APPLYING, "chunks_done": number, "chunks": total}
        refused = apply_chunk(import_id, number, store.chunk(import_id, number), accept, actor, now_ms)
        number += 1
        store.record_progress(import_id, number, refused, now_ms)
    store.move_job(import_id, APPLYING, APPLIED, {**doc, "applied_at": now_ms}, now_ms)
    return {"import_id": import_id, "status": APPLIED, "chunks_done": number, "chunks": total}


def apply_chunk(import_id: str, number: int, chunk: dict, accept, actor: str, now_ms: int) -> list[dict]:
    """The chunk's SKU documents (idempotent puts), then its opening balances and accepted adjustments in one
    stock transaction with the chunk's marker: booked once whatever the retries. An adjustment the counters
    refuse (it would take on-hand below what is reserved) is left out and returned, the rest booked."""
    if chunk["skus"]:
        store.put_skus(chunk["skus"], now_ms)
    openings = chunk["openings"]
    adjustments = ci.accepted(chunk["adjustments"], accept)
    refused: list[dict] = []
    if not openings and not adjustments:
        return refused
    source = f"import#{import_id}"
    while True:
        txn = StockTransaction(actor=actor, source=source, reason=ci.OPENING, now_ms=now_ms)
        txn.put_marker(store.marker(import_id, number, iso_now(now_ms), {
            "openings": len(openings), "adjustments": len(adjustments), "refused": refused}))
        for line in openings:
            txn.stock(StockOp(line["sku"], line["warehouse_id"], Movement.RECEIVE, int(line["qty"])))
        for line in adjustments:
            txn.stock(StockOp(line["sku"], line["warehouse_id"], Movement.ADJUST, int(line["delta"])))
        try:
            txn.commit()
            break
        except TransactionRefused as exc:
            if exc.duplicate:
                return []                       # booked before (a redelivered run): nothing more to do
            failed = set(exc.failed)
            short = [a for a in adjustments if f"stock:{a['sku']}:{a['warehouse_id']}" in failed]
            if not short:
                raise
            refused += [{**a, "reason": "on hand would drop below what is reserved"} for a in short]
            adjustments = [a for a in adjustments if a not in short]
    touched = [(l["sku"], l["warehouse_id"]) for l in [*openings, *adjustments]]
    publish_stock_changed(touched, ci.OPENING, source)
    return refused


# --- sales history ----------------------------------------------------------------------------------------------

def upload_sales(body: bytes, now_ms: int) -> dict:
    """POST /imports/sales: daily sales rows as CSV (sku, date, qty[, channel, warehouse]; see
    stocklink.forecasting.importer), all or nothing: any bad row answers 400 with every problem's line and
    writes nothing. The file's values replace the counters of the (sku, day)s it names (sending it again
    changes nothing); a file sent in parts keeps each SKU's rows in one part."""
    from stocklink.forecasting.importer import read_csv
    from stocklink.logic.sales_history import import_rows

    if not body:
        raise ValidationFailed("empty body: send the sales rows as CSV")
    result = read_csv(decode(body).encode())
    if not result.ok:
        problems = [{"line": e.line, "message": e.message} for e in result.errors[:SHOWN_ERRORS]]
        raise ValidationFailed(f"{result.error_count} bad row(s), the first on line {problems[0]['line']}: "
                               f"{problems[0]['message']}; nothing was imported", problems=problems,
                               error_count=result.error_count)
    outcome = import_rows(result.rows, now_ms)
    return {"rows": len(result.rows), "skus": outcome["skus"], "counters": outcome["counters"]}

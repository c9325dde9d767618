"""Catalogue import jobs in the catalog table, and the writes their apply makes.

    IMPORT#<id> / JOB             the job: status, progress (chunks_done of chunks), the dry run's summary,
                                  preview and errors (ImportJob)
    IMPORT#<id> / PART#<nnnn>#<k> a received part's rows, compressed, in pieces under the item size limit
    IMPORT#<id> / CHUNK#<nnnnn>   one chunk of the plan: its SKU documents, openings, adjustments
    events: import#<id>#chunk<n>  the idempotency marker booked in each chunk's stock transaction

Status moves only forward, each move conditional on the status it leaves (two apply requests start one
apply; a redelivered continuation finds the job applied and does nothing). Progress only rises.
"""
from __future__ import annotations

import base64
import json
import zlib
from typing import Iterable

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from stocklink.config import table_name
from stocklink.store import catalog
from stocklink.store.models import _Meta, InboundEvent, StockItem, written
from stocklink.store.repository import scan_stock

PIECE_BYTES = 300_000              # a stored piece of a part (DynamoDB items hold at most 400 KB)


def job_pk(import_id: str) -> str:
    return f"IMPORT#{import_id}"


def chunk_event(import_id: str, chunk: int) -> str:
    return f"import#{import_id}#chunk{chunk}"


class ImportJob(Model):
    class Meta(_Meta):
        table_name = table_name("catalog")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    doc = JSONAttribute(default=dict)
    chunks = NumberAttribute(default=0)
    chunks_done = NumberAttribute(default=0)
    refused = ListAttribute(of=UnicodeAttribute, null=True)     # JSON of lines an apply could not book
    updated_at = NumberAttribute(null=True)


class ImportBlob(Model):
    class Meta(_Meta):
        table_name = table_name("catalog")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    blob = UnicodeAttribute()          # base64 of zlib-compressed JSON
    updated_at = NumberAttribute(null=True)


JOB_SK = "JOB"


def _pack(value) -> str:
    return base64.b64encode(zlib.compress(json.dumps(value, separators=(",", ":")).encode(), 6)).decode()


def _unpack(text: str):
    return json.loads(zlib.decompress(base64.b64decode(text)))


def create_job(import_id: str, status: str, doc: dict, now_ms: int) -> bool:
    """False when a job of that id exists already."""
    job = ImportJob(job_pk(import_id), JOB_SK, status=status, doc=doc, updated_at=now_ms)
    return written(lambda: job.save(condition=ImportJob.pk.does_not_exist()))


def job(import_id: str) -> ImportJob | None:
    try:
        return ImportJob.get(job_pk(import_id), JOB_SK, consistent_read=True)
    except DoesNotExist:
        return None


def move_job(import_id: str, from_status: str, to_status: str, doc: dict, now_ms: int, *,
             chunks: int | None = None) -> bool:
    """Replace the job's status and document, only while it is in `from_status` (False otherwise)."""
    actions = [ImportJob.status.set(to_status), ImportJob.doc.set(doc), ImportJob.updated_at.set(now_ms)]
    if chunks is not None:
        actions.append(ImportJob.chunks.set(chunks))
    item = ImportJob(job_pk(import_id), JOB_SK)
    return written(lambda: item.update(actions=actions, condition=ImportJob.status == from_status))


def record_progress(import_id: str, chunks_done: int, refused: list[dict], now_ms: int) -> None:
    """Progress only rises (a redelivered continuation booking the same chunk again changes nothing)."""
    actions = [ImportJob.chunks_done.set(chunks_done), ImportJob.updated_at.set(now_ms)]
    if refused:
        actions.append(ImportJob.refused.set((ImportJob.refused | []).append([json.dumps(r) for r in refused])))
    item = ImportJob(job_pk(import_id), JOB_SK)
    written(lambda: item.update(actions=actions, condition=ImportJob.chunks_done < chunks_done))


def save_part(import_id: str, part: int, value, now_ms: int) -> None:
    packed = _pack(value)
    pieces = [packed[i:i + PIECE_BYTES] for i in range(0, len(packed), PIECE_BYTES)]
    with ImportBlob.batch_write() as batch:
        for index, piece in enumerate(pieces):
            batch.save(ImportBlob(job_pk(import_id), f"PART#{part:04d}#{index:02d}", blob=piece, updated_at=now_ms))


def parts(import_id: str) -> dict[int, object]:
    """The received parts by number (one Query)."""
    pieces: dict[int, list[str]] = {}
    for item in ImportBlob.query(job_pk(import_id), ImportBlob.sk.startswith("PART#"), consistent_read=True):
        pieces.setdefault(int(item.sk.split("#")[1]), []).append(item.blob)   # in sort-key order
    return {number: _unpack("".join(chunks)) for number, chunks in pieces.items()}


def part_numbers(import_id: str) -> set[int]:
    return {int(item.sk.split("#")[1]) for item in ImportBlob.query(
        job_pk(import_id), ImportBlob.sk.startswith("PART#"), consistent_read=True, attributes_to_get=["sk"])}


def save_chunks(import_id: str, chunks: list[dict], now_ms: int) -> None:
    with ImportBlob.batch_write() as batch:
        for number, chunk in enumerate(chunks):
            batch.save(ImportBlob(job_pk(import_id), f"CHUNK#{number:05d}", blob=_pack(chunk), updated_at=now_ms))


def chunk(import_id: str, number: int) -> dict:
    return _unpack(ImportBlob.get(job_pk(import_id), f"CHUNK#{number:05d}").blob)


def put_skus(docs: list[dict], now_ms: int) -> None:
    """SKU documents (replacing those there: the plan merged the old fields in) in BatchWriteItem requests."""
    catalog.put_skus(docs, now_ms)


def on_hand(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """On-hand units of each (sku, warehouse) among `pairs` that has a stock item (BatchGetItem per 100)."""
    pairs = list(dict.fromkeys(pairs))
    return {(item.sku, item.warehouse_id): int(item.on_hand or 0) for item in StockItem.batch_get(pairs)} \
        if pairs else {}


def marker(import_id: str, number: int, now_iso: str, outcome: dict) -> InboundEvent:
    return InboundEvent(chunk_event(import_id, number), kind="catalog.import", status="applied",
                        received_at=now_iso, outcome=outcome)


def skus_any(pks: Iterable[str]) -> dict[str, dict]:
    """The catalogue documents of the SKUs among `pks`, read now."""
    return catalog.skus_now(pks)


def all_skus_pages(page_size: int = 1000):
    """Every SKU document in SKU order, a page at a time (the catalogue export)."""
    cursor = None
    while True:
        page = catalog.skus_page(page_size, cursor)
        yield page.items
        if not page.next:
            return
        cursor = page.next


def on_hand_everywhere() -> dict[str, dict[str, int]]:
    """On-hand units per warehouse of every SKU with stock (one Scan of the stock table: the stock export)."""
    out: dict[str, dict[str, int]] = {}
    for item in scan_stock():
        out.setdefault(item.sku, {})[item.warehouse_id] = int(item.on_hand or 0)
    return out

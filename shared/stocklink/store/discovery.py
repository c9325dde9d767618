"""Listing discovery jobs in the catalog table (the imports' job and blob items under their own prefix).

    DISCOVERY#<id> / JOB            the job: status, the adapter's cursor, pages and calls so far, the report's
                                    summary, the first-sync choices (ImportJob)
    DISCOVERY#<id> / PAGE#<nnnnn>   the listings one list call found, compressed
    DISCOVERY#<id> / REPORT#<kk>    the match report (mapped / unmapped / conflicts), in pieces
    DISCOVERY#<id> / FIRSTSYNC#<kk> each mapped listing's platform quantity next to what StockLink would show
    events: discovery#<id>#opening#<sku>   the marker of a SKU's opening count, in its stock transaction

Status moves only forward, each move conditional on the status it leaves (a redelivered continuation finds the
job moved on and does nothing)."""
from __future__ import annotations

from stocklink.store.imports import PIECE_BYTES, ImportBlob, ImportJob, _pack, _unpack
from stocklink.store.models import InboundEvent, written

JOB_SK = "JOB"


def job_pk(discovery_id: str) -> str:
    return f"DISCOVERY#{discovery_id}"


def opening_event(discovery_id: str, sku: str) -> str:
    return f"discovery#{discovery_id}#opening#{sku}"


def create_job(discovery_id: str, status: str, doc: dict, now_ms: int) -> bool:
    item = ImportJob(job_pk(discovery_id), JOB_SK, status=status, doc=doc, updated_at=now_ms)
    return written(lambda: item.save(condition=ImportJob.pk.does_not_exist()))


def job(discovery_id: str) -> ImportJob | None:
    try:
        return ImportJob.get(job_pk(discovery_id), JOB_SK, consistent_read=True)
    except ImportJob.DoesNotExist:
        return None


def move_job(discovery_id: str, from_status: str, to_status: str, doc: dict, now_ms: int) -> bool:
    """Replace status and document while the job is in `from_status` (False otherwise); from == to records
    progress within a status."""
    item = ImportJob(job_pk(discovery_id), JOB_SK)
    return written(lambda: item.update(
        actions=[ImportJob.status.set(to_status), ImportJob.doc.set(doc), ImportJob.updated_at.set(now_ms)],
        condition=ImportJob.status == from_status))


def save_page(discovery_id: str, number: int, listings: list[dict], now_ms: int) -> None:
    ImportBlob(job_pk(discovery_id), f"PAGE#{number:05d}", blob=_pack(listings), updated_at=now_ms).save()


def pages(discovery_id: str) -> list[dict]:
    """Every listing the pages found, in page order (one Query)."""
    out: list[dict] = []
    for item in ImportBlob.query(job_pk(discovery_id), ImportBlob.sk.startswith("PAGE#"), consistent_read=True):
        out += _unpack(item.blob)
    return out


def save_value(discovery_id: str, name: str, value, now_ms: int) -> None:
    """A JSON value under `name` (REPORT, FIRSTSYNC), in pieces under DynamoDB's item size limit."""
    packed = _pack(value)
    with ImportBlob.batch_write() as batch:
        for index, start in enumerate(range(0, len(packed) or 1, PIECE_BYTES)):
            batch.save(ImportBlob(job_pk(discovery_id), f"{name}#{index:02d}", blob=packed[start:start + PIECE_BYTES],
                                  updated_at=now_ms))


def value(discovery_id: str, name: str):
    pieces = [item.blob for item in ImportBlob.query(job_pk(discovery_id), ImportBlob.sk.startswith(f"{name}#"),
                                                      consistent_read=True)]
    return _unpack("".join(pieces)) if pieces else None


def opening_marker(discovery_id: str, sku: str, now_iso: str, outcome: dict) -> InboundEvent:
    return InboundEvent(opening_event(discovery_id, sku), kind="listings.opening", status="applied",
                        received_at=now_iso, outcome=outcome)

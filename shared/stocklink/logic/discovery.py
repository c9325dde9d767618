"""Discover a shop's listings, map them to master SKUs, and let the seller choose how their first sync goes.

POST /shops/{platform}/{shop}/listings/discover answers 202 with a job; imports_run does the work on the bus
(discovery.requested), a bounded number of platform calls per invocation, continuing itself until done:

  discovering  page by page through the adapter's product-list API (build_list_listings / parse_list_listings),
               every call taking a slot from the shop's limiter as pushes do, retried on 429/5xx
  ready        the match report (domain/listing_match) is stored: GET shows mapped, unmapped with suggestions,
               conflicts; nothing is written to the catalogue yet
  applying     (POST .../apply) the mapped listings are written as PUT /listings writes them, with the platform
               ids the adapter found, but pending their first sync (store.catalog.put_pending_listing: no
               reverse-index entry, so no push reaches them); then the platform's quantities are read back
               (the adapter's read-back, slots taken) next to what StockLink would show
  choosing     GET shows the differences; POST .../first-sync picks per shop (every listing still pending) or
               per listing: "push" (StockLink's pool is the truth) or "opening" (the platform's quantity becomes
               the opening count of a warehouse: one guarded stock transaction per SKU, ledger reason opening)
  settling     the choices are carried out; the listings are activated and a stock.changed per SKU starts
               their pushes; back to choosing while listings remain pending, else done
Unmapped and conflicting listings are never written, so never pushed to. A platform refusal ends the job as
failed with the platform's reason (credentials, permissions); nothing is half-written by a failed discovery.
"""
from __future__ import annotations

import uuid
from typing import Annotated, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from stocklink import bus, events
from stocklink.channels._common import Outcome
from stocklink.domain import listing_match
from stocklink.domain.requests import ComponentIn
from stocklink.domain.stock import Movement
from stocklink.errors import IdempotencyConflict, NotFound, ValidationFailed
from stocklink.logic import catalog as catalog_logic
from stocklink.logic.stock_events import publish_stock_changed
from stocklink.logic.sync import seams
from stocklink.logic.sync.platform_calls import MAX_ATTEMPTS, backoff_delay
from stocklink.outbound_policy import OutboundRefused, error_text
from stocklink.store import catalog as catalog_store
from stocklink.store import discovery as store
from stocklink.store import imports as import_store
from stocklink.store import repository
from stocklink.store.transactions import StockOp, StockTransaction, TransactionRefused
from stocklink.time import iso_now

DISCOVERING, READY, APPLYING, CHOOSING, SETTLING, DONE, FAILED = (
    "discovering", "ready", "applying", "choosing", "settling", "done", "failed")
MAX_PAGES = 5_000                # list calls of one discovery (a runaway cursor stops here)
APPLY_CHUNK = 100                # listings written between progress records
OPENING = "opening"
Code = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class DiscoverIn(BaseModel):
    """The explicit mapping file: listing id or seller SKU code -> the components it sells."""
    model_config = ConfigDict(extra="forbid")
    mapping: Annotated[dict[Code, Annotated[list[ComponentIn], Field(min_length=1, max_length=20)]],
                       Field(max_length=20_000)] = Field(default_factory=dict)


class FirstSyncIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    choice: Literal["push", "opening"]
    warehouse_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    listing_ids: Annotated[list[Code], Field(min_length=1, max_length=20_000)] | None = None   # None: all pending


# --- the API side -------------------------------------------------------------------------------------------

def start(platform: str, shop: str, body: DiscoverIn, *, actor: str, now_ms: int) -> tuple[int, dict]:
    from stocklink.channels.registry import UnknownPlatform, adapter_for

    catalog_logic.require_shop(platform, shop)
    try:
        adapter_for(platform)
    except UnknownPlatform:
        raise ValidationFailed(f"StockLink cannot list {platform} listings (no adapter)", platform=platform) from None
    discovery_id = uuid.uuid4().hex[:16]
    doc = {"discovery_id": discovery_id, "platform": platform, "shop": shop, "created_by": actor,
           "created_at": now_ms, "mapping": {k: [c.model_dump() for c in v] for k, v in body.mapping.items()},
           "cursor": None, "pages": 0, "calls": 0, "found": 0}
    store.create_job(discovery_id, DISCOVERING, doc, now_ms)
    bus.publish(events.DISCOVERY_REQUESTED, [{"discovery_id": discovery_id}])
    return 202, view(store.job(discovery_id))


def _require(platform: str, shop: str, discovery_id: str) -> store.ImportJob:
    job = store.job(discovery_id) if 0 < len(discovery_id) <= 64 else None
    if job is None or job.doc.get("platform") != platform or job.doc.get("shop") != shop:
        raise NotFound(f"discovery {discovery_id} not found for {platform}/{shop}", discovery_id=discovery_id)
    return job


def view(job: store.ImportJob, with_lists: bool = True) -> dict:
    doc = {k: v for k, v in (job.doc or {}).items() if k not in ("cursor", "mapping")}
    out = {**doc, "status": job.status, "progress": {"pages": doc.get("pages", 0), "calls": doc.get("calls", 0),
                                                      "listings_found": doc.get("found", 0),
                                                      "applied": doc.get("applied", 0)}}
    if with_lists and job.status not in (DISCOVERING, FAILED):
        report = store.value(doc["discovery_id"], "REPORT") or {}
        out.update({k: report.get(k, []) for k in ("mapped", "unmapped", "conflicts", "already_mapped")})
        first = store.value(doc["discovery_id"], "FIRSTSYNC")
        if first is not None:
            out["first_sync"] = first
    return out


def get(platform: str, shop: str, discovery_id: str) -> dict:
    return view(_require(platform, shop, discovery_id))


def request_apply(platform: str, shop: str, discovery_id: str, *, actor: str, now_ms: int) -> tuple[int, dict]:
    """ready → applying (202); a job applying or past it answers 200 unchanged."""
    job = _require(platform, shop, discovery_id)
    if job.status in (APPLYING, CHOOSING, SETTLING, DONE):
        return 200, view(job)
    if job.status != READY:
        raise IdempotencyConflict(f"discovery {discovery_id} is {job.status}: nothing to apply yet",
                                  discovery_id=discovery_id)
    doc = {**job.doc, "applied_by": actor, "apply_requested_at": now_ms, "applied": 0}
    if store.move_job(discovery_id, READY, APPLYING, doc, now_ms):
        bus.publish(events.DISCOVERY_REQUESTED, [{"discovery_id": discovery_id}])
    return 202, view(store.job(discovery_id))


def choose(platform: str, shop: str, discovery_id: str, body: FirstSyncIn, *, actor: str,
           now_ms: int) -> tuple[int, dict]:
    """The seller's first-sync choice for every listing still pending (or those named): carried out on the bus."""
    job = _require(platform, shop, discovery_id)
    if job.status != CHOOSING:
        raise IdempotencyConflict(f"discovery {discovery_id} is {job.status}: a first-sync choice is taken once "
                                  "its listings are applied and read back", discovery_id=discovery_id)
    pending = [row["listing_id"] for row in store.value(discovery_id, "FIRSTSYNC") or [] if row["status"] == "pending"]
    chosen = body.listing_ids if body.listing_ids is not None else pending
    unknown = [lid for lid in chosen if lid not in set(pending)]
    if unknown:
        raise ValidationFailed(f"listing_ids: {unknown[0]} is no listing of this discovery awaiting its first sync",
                               field="listing_ids")
    if body.choice == OPENING:
        if not body.warehouse_id:
            raise ValidationFailed("warehouse_id: the warehouse whose opening count the platform's numbers become",
                                   field="warehouse_id")
        catalog_logic.require_warehouse(body.warehouse_id)
    choice = {"choice": body.choice, "warehouse_id": body.warehouse_id, "listing_ids": sorted(set(chosen)),
              "by": actor, "at": now_ms}
    doc = {**job.doc, "choices": [*(job.doc.get("choices") or []), choice]}
    if not store.move_job(discovery_id, CHOOSING, SETTLING, doc, now_ms):
        raise IdempotencyConflict(f"discovery {discovery_id} changed meanwhile: read it again", discovery_id=discovery_id)
    bus.publish(events.DISCOVERY_REQUESTED, [{"discovery_id": discovery_id}])
    return 202, view(store.job(discovery_id))


# --- the job side (imports_run) -----------------------------------------------------------------------------

def run(discovery_id: str, now_ms: int, has_time: Callable[[], bool]) -> dict:
    """Continue the job while `has_time()`; the caller asks for another run while the answer's `again` is True."""
    job = store.job(discovery_id)
    if job is None:
        return {"discovery_id": discovery_id, "status": "missing", "again": False}
    step = {DISCOVERING: _discover, APPLYING: _apply, SETTLING: _settle}.get(job.status)
    if step is None:
        return {"discovery_id": discovery_id, "status": job.status, "again": False}
    status = step(discovery_id, job, now_ms, has_time)
    return {"discovery_id": discovery_id, "status": status, "again": status in (DISCOVERING, APPLYING, SETTLING)}


class _Shop:
    def __init__(self, platform: str, shop: str):
        from stocklink.channels.registry import adapter_for
        from stocklink.logic.sync.rate_limit import shop_limiter

        self.adapter = adapter_for(platform)
        self.credentials = catalog_logic.shop_credentials(platform, shop)
        self.limiter = shop_limiter(platform, shop, self.adapter)

    def fetch(self, build: Callable[[], object]) -> tuple[int, dict, bytes, int]:
        """(status, headers, body, calls made) of one call, each attempt taking a slot and rebuilt (re-signed);
        429/5xx/network errors retried with backoff. Raises _Refused on a permanent answer or after the last try."""
        error = ""
        for attempt in range(MAX_ATTEMPTS):
            self.limiter.acquire()
            try:
                status, headers, body = seams.send(build())
            except OutboundRefused as exc:
                raise _Refused(error_text(f"refused by the outbound policy: {exc}")) from None
            if status:
                verdict = self.adapter.classify_response(status, body, headers)
                if verdict.outcome is Outcome.OK:
                    return status, {k.lower(): v for k, v in (headers or {}).items()}, body, attempt + 1
                error = error_text(f"HTTP {status} {verdict.code} {verdict.message}")
                if verdict.outcome is Outcome.PERMANENT:
                    raise _Refused(error)
                retry_after = verdict.retry_after
            else:
                error, retry_after = error_text(f"network error: {body.decode(errors='replace')}"), None
            if attempt + 1 < MAX_ATTEMPTS:
                seams.sleep(backoff_delay(attempt, retry_after))
        raise _Refused(f"gave up after {MAX_ATTEMPTS} tries: {error}")


class _Refused(Exception):
    pass


def _fail(discovery_id: str, job, reason: str, now_ms: int) -> str:
    store.move_job(discovery_id, job.status, FAILED, {**job.doc, "error": reason, "failed_at": now_ms}, now_ms)
    return FAILED


def _discover(discovery_id: str, job, now_ms: int, has_time: Callable[[], bool]) -> str:
    from stocklink.channels.base import PayloadInvalid

    doc = dict(job.doc)
    shop = _Shop(doc["platform"], doc["shop"])
    if shop.credentials is None:
        return _fail(discovery_id, job, "shop credentials missing", now_ms)
    cursor = doc.get("cursor")
    steps = 0
    while not steps or has_time():          # at least one call a run: a job always moves
        steps += 1
        if doc["pages"] >= MAX_PAGES:
            return _fail(discovery_id, job, f"more than {MAX_PAGES} list calls: the platform's cursor never ended",
                         now_ms)
        try:
            status, headers, body, calls = shop.fetch(lambda: shop.adapter.build_list_listings(shop.credentials, cursor))
            page = shop.adapter.parse_list_listings(cursor, status, body, headers)
        except (_Refused, PayloadInvalid, ValueError) as exc:
            return _fail(discovery_id, job, error_text(str(exc)), now_ms)
        if page.listings:
            store.save_page(discovery_id, doc["pages"], [_listing_doc(l) for l in page.listings], now_ms)
        doc.update(pages=doc["pages"] + 1, calls=doc["calls"] + calls, found=doc["found"] + len(page.listings),
                   cursor=page.cursor)
        cursor = page.cursor
        if cursor is None:
            return _report(discovery_id, doc, now_ms)
        store.move_job(discovery_id, DISCOVERING, DISCOVERING, doc, now_ms)
    return DISCOVERING


def _listing_doc(listing) -> dict:
    return {"listing_id": listing.listing_id, "seller_sku": listing.seller_sku, "barcode": listing.barcode,
            "title": listing.title, "platform_ids": dict(listing.platform_ids), "quantity": listing.quantity}


def _report(discovery_id: str, doc: dict, now_ms: int) -> str:
    skus: dict[str, dict] = {}
    for page in import_store.all_skus_pages():
        skus.update({d["sku"]: d for d in page})
    found = list({l["listing_id"]: l for l in store.pages(discovery_id)}.values())   # a listing once
    report = listing_match.match_listings(found, skus, doc.get("mapping") or {},
                                          catalog_store.listing_ids(doc["platform"], doc["shop"]))
    store.save_value(discovery_id, "REPORT", report.as_dict(), now_ms)
    store.move_job(discovery_id, DISCOVERING, READY, {**doc, "summary": report.summary(), "discovered_at": now_ms},
                   now_ms)
    return READY


def _apply(discovery_id: str, job, now_ms: int, has_time: Callable[[], bool]) -> str:
    doc = dict(job.doc)
    platform, shop = doc["platform"], doc["shop"]
    mapped = (store.value(discovery_id, "REPORT") or {}).get("mapped") or []
    done = int(doc.get("applied") or 0)
    started = done
    while done < len(mapped):
        if done > started and not has_time():
            return APPLYING
        for entry in mapped[done:done + APPLY_CHUNK]:
            # the listing document PUT /listings writes, with the platform ids the adapter's pushes read
            data = {"platform": platform, "shop": shop, "listing_id": entry["listing_id"],
                    "components": entry["components"], "platform_ids": entry["platform_ids"],
                    "discovery_id": discovery_id}
            entry["written"] = catalog_store.put_pending_listing(platform, shop, entry["listing_id"], data, now_ms)
        done = min(done + APPLY_CHUNK, len(mapped))
        doc["applied"] = done
        store.move_job(discovery_id, APPLYING, APPLYING, doc, now_ms)
    return _read_back(discovery_id, doc, mapped, now_ms)


def _read_back(discovery_id: str, doc: dict, mapped: list[dict], now_ms: int) -> str:
    """What each mapped listing shows on the platform now (the adapter's read-back, a slot per call) and what
    StockLink would show once it pushes (the allocation over the SKUs' listings, these included)."""
    from stocklink.channels.base import PayloadInvalid
    from stocklink.domain.allocation import Component, ListingRef
    from stocklink.logic.sync import displays

    platform, shop_name = doc["platform"], doc["shop"]
    pending = {lid: data for lid, data in catalog_store.listings(platform, shop_name, [m["listing_id"] for m in mapped])
               .items() if (data.get("first_sync") or {}).get("status") == catalog_store.PENDING
               and data.get("discovery_id") == discovery_id}
    shop = _Shop(platform, shop_name)
    shown: dict[str, int] = {}
    errors: list[str] = []
    ids = sorted(pending)
    try:
        calls = shop.adapter.build_read_back(shop.credentials, ids, {lid: pending[lid]["platform_ids"] for lid in ids}) \
            if ids and shop.credentials else []
    except ValueError as exc:
        calls, errors = [], [error_text(str(exc))]
    for index in range(len(calls)):
        try:
            status, _, body, made = shop.fetch(lambda: shop.adapter.build_read_back(
                shop.credentials, ids, {lid: pending[lid]["platform_ids"] for lid in ids})[index])
            doc["calls"] = doc.get("calls", 0) + made
            shown.update({str(k): int(v) for k, v in shop.adapter.parse_read_back(status, body).items()})
        except (_Refused, PayloadInvalid) as exc:
            errors.append(error_text(str(exc)))
    refs = [ListingRef(f"{platform}#{shop_name}", lid, tuple(Component(c["sku"], int(c.get("qty", 1)))
                                                              for c in pending[lid]["components"]),
                       dict(pending[lid]["platform_ids"])) for lid in ids]
    skus = displays.skus_of(refs)
    others = [l for l in displays.listings_for(skus) if (l.channel, l.listing_id) not in
              {(r.channel, r.listing_id) for r in refs}]
    plan, _, _ = displays.compute_displays([*others, *refs], now_ms) if refs else ([], {}, {})
    would = {d.listing_id: d.quantity for d in plan if d.channel == f"{platform}#{shop_name}"}
    rows = [{"listing_id": lid, "components": pending[lid]["components"], "status": "pending",
             "platform_qty": shown.get(lid), "stocklink_qty": would.get(lid),
             "difference": None if shown.get(lid) is None or would.get(lid) is None
             else would[lid] - shown[lid]} for lid in ids]
    store.save_value(discovery_id, "FIRSTSYNC", rows, now_ms)
    status = CHOOSING if rows else DONE
    store.move_job(discovery_id, APPLYING, status, {**doc, "read_back_errors": errors[:20], "applied_at": now_ms},
                   now_ms)
    return status


def _settle(discovery_id: str, job, now_ms: int, has_time: Callable[[], bool]) -> str:
    doc = dict(job.doc)
    platform, shop = doc["platform"], doc["shop"]
    rows = store.value(discovery_id, "FIRSTSYNC") or []
    by_id = {row["listing_id"]: row for row in rows}
    for choice in doc.get("choices") or []:
        todo = [lid for lid in choice["listing_ids"] if by_id.get(lid, {}).get("status") == "pending"]
        if not todo:
            continue
        counted: dict[str, dict] = {}
        if choice["choice"] == OPENING:
            for n, lid in enumerate(todo):
                if n and not has_time():
                    store.save_value(discovery_id, "FIRSTSYNC", rows, now_ms)
                    return SETTLING
                counted[lid] = _opening(discovery_id, by_id[lid], choice, now_ms)
        activated = catalog_store.activate_listings(platform, shop, todo, {"choice": choice["choice"],
                                                                          "warehouse_id": choice["warehouse_id"]},
                                                    now_ms)
        for lid in todo:
            by_id[lid].update(status=choice["choice"], **counted.get(lid, {}))
        _start_pushes(sorted({c["sku"] for data in activated for c in data["components"]}), discovery_id)
    store.save_value(discovery_id, "FIRSTSYNC", rows, now_ms)
    left = any(row["status"] == "pending" for row in rows)
    status = CHOOSING if left else DONE
    store.move_job(discovery_id, SETTLING, status, doc, now_ms)
    return status


def _opening(discovery_id: str, row: dict, choice: dict, now_ms: int) -> dict:
    """The platform's quantity as the opening count of the chosen warehouse: one guarded transaction for the
    SKU (its marker makes a redelivered run book it once). Only a listing selling one unit of one SKU says how
    many of that SKU there are; a bundle or multipack is pushed to instead."""
    components, qty = row["components"], row.get("platform_qty")
    if len(components) != 1 or int(components[0].get("qty", 1)) != 1 or qty is None:
        return {"opening": "not counted: a bundle or multipack, or no platform quantity read"}
    sku, warehouse = components[0]["sku"], choice["warehouse_id"]
    items = {i.warehouse_id: i for i in repository.stock_items(sku)}
    on_hand = int(items[warehouse].on_hand) if warehouse in items else 0
    delta = int(qty) - on_hand
    if delta == 0:
        return {"opening": "unchanged", "opening_qty": qty}
    txn = StockTransaction(actor=choice.get("by") or "discovery", source=f"discovery#{discovery_id}",
                           reason=OPENING, now_ms=now_ms)
    txn.put_marker(store.opening_marker(discovery_id, sku, iso_now(now_ms), {"warehouse_id": warehouse, "qty": qty}))
    movement = Movement.RECEIVE if warehouse not in items and delta > 0 else Movement.ADJUST
    txn.stock(StockOp(sku, warehouse, movement, delta))
    try:
        txn.commit()
    except TransactionRefused as exc:
        if exc.duplicate:
            return {"opening": "booked", "opening_qty": qty}
        return {"opening": "refused: on hand would drop below what is reserved", "opening_qty": qty}
    publish_stock_changed([(sku, warehouse)], OPENING, f"discovery#{discovery_id}")
    return {"opening": "booked", "opening_qty": qty, "opening_delta": delta}


def _start_pushes(skus: list[str], discovery_id: str) -> None:
    """A stock.changed per SKU and warehouse it has stock in (channel_push then brings every listing of it to
    its number); a SKU with no stock item yet is marked for the next reconciliation pass instead."""
    from stocklink.logic.stock_events import mark_unpublished

    touched, bare = [], []
    for sku in skus:
        items = repository.stock_items(sku)
        (touched.extend((sku, i.warehouse_id) for i in items) if items else bare.append(sku))
    if touched:
        publish_stock_changed(touched, "first_sync", f"discovery#{discovery_id}")
    if bare:
        mark_unpublished([{"sku": sku, "cause": "first_sync"} for sku in bare])

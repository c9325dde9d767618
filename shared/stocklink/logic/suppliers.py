"""Suppliers: records, per-SKU quotes, receipt history and scorecards, the recommended supplier per SKU, and
the terms replenishment plans with (the SKU's chosen supplier). Rules in stocklink.domain.suppliers; items
in stocklink.store.suppliers.

What other features call (purchase orders, receiving, transfers):
  get_supplier(id)                        the record, or NotFound
  terms_for(skus) / sku_terms(sku)        each SKU's buying terms from its chosen supplier and quote
  quote(supplier_id, sku)                 one quote with the supplier's terms filled in, or NotFound
  order_line(supplier_id, sku, qty)       a quantity rounded to MOQ / case pack and its price break
  record_receipt(...)                     a receipt's history record: the scorecard counts it once

A SKU's choice (SUPPLIER / <sku>) is one of:
  {"supplier_id", "review_period_days", "service_level"}    a supplier (terms: its quote, else its record);
  {"supplier": "", "lead_time_days", ...}                   the SKU's own terms, no supplier named;
  {"supplier": "<name>", "lead_time_days", ...}             settings written before suppliers existed.
The last kind is read as it is (the terms are the same either way) and migrated by `migrate_legacy`: a
supplier record per name (id: the name's slug; created if absent, left as it is if present), that SKU's
quote holding its own terms, and the choice pointing at it, in one transaction that keeps the old
document under "legacy" and is refused if the settings changed meanwhile. The forecast run migrates each
page it plans; `stocklink suppliers migrate` does the whole catalogue at once.
"""
from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from stocklink.domain import suppliers as rules
from stocklink.domain.requests import Identifier, Money
from stocklink.errors import NotFound, ValidationFailed
from stocklink.logic import audit
from stocklink.logic.catalog import require_skus
from stocklink.logic.paging import PageRequest
from stocklink.store import suppliers as store

DEFAULT_LEAD_TIME_DAYS = 7.0
DEFAULT_REVIEW_PERIOD_DAYS = 7.0
Currency = Literal[tuple(sorted(rules.CURRENCIES))]
Qty = Annotated[int, Field(ge=1, le=10_000_000, strict=True)]
Days = Annotated[float, Field(gt=0, le=365, allow_inf_nan=False)]
Spread = Annotated[float, Field(ge=0, le=365, allow_inf_nan=False)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class ContactIn(_In):
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    email: Annotated[str, StringConstraints(max_length=254, pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$")] = ""
    phone: Annotated[str, StringConstraints(max_length=40, pattern=r"^[0-9+() .\-]*$")] = ""


class SupplierRecordIn(_In):
    """PUT /suppliers/{supplier_id}: the whole record (a supplier is retired with active: false)."""
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    currency: Currency
    contact: ContactIn = ContactIn()
    lead_time_days: Days = DEFAULT_LEAD_TIME_DAYS
    lead_time_spread_days: Spread = 0.0
    moq: Qty = 1
    case_pack: Annotated[int, Field(ge=1, le=100_000, strict=True)] = 1
    payment_terms: Annotated[str, StringConstraints(max_length=200)] = ""
    active: Annotated[bool, Field(strict=True)] = True


class QuoteBreakIn(_In):
    min_qty: Qty
    unit_price: Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]


class QuoteIn(_In):
    """PUT /suppliers/{supplier_id}/quotes/{sku}: price breaks, and terms for this SKU where they differ
    from the supplier's (absent: the supplier's)."""
    price_breaks: Annotated[list[QuoteBreakIn], Field(min_length=1, max_length=rules.MAX_BREAKS)]
    moq: Qty | None = None
    case_pack: Annotated[int, Field(ge=1, le=100_000, strict=True)] | None = None
    lead_time_days: Days | None = None
    lead_time_spread_days: Spread | None = None

    @field_validator("price_breaks")
    @classmethod
    def _ascending(cls, breaks: list[QuoteBreakIn]) -> list[QuoteBreakIn]:
        problem = rules.break_problems([b.model_dump() for b in breaks])
        if problem:
            raise ValueError(problem)
        return breaks


class PriceBreakIn(_In):
    min_qty: Qty
    unit_cost: Money


class SupplierIn(_In):
    """PUT /skus/{sku}/supplier (the per-SKU settings that came before supplier records): the SKU's supplier
    by name (its record is created if absent) or by `supplier_id` (an existing one), and this SKU's terms
    with it; with neither, terms of the SKU's own."""
    supplier: Annotated[str, Field(max_length=200)] = ""
    supplier_id: Identifier | None = None
    lead_time_days: Days = DEFAULT_LEAD_TIME_DAYS
    lead_time_std_days: Spread = 0.0
    review_period_days: Annotated[float, Field(ge=0, le=365)] = DEFAULT_REVIEW_PERIOD_DAYS
    moq: Qty = 1
    case_pack: Annotated[int, Field(ge=1, le=100_000, strict=True)] = 1
    price_breaks: Annotated[list[PriceBreakIn], Field(max_length=rules.MAX_BREAKS)] = []
    service_level: Annotated[float, Field(gt=0.5, lt=1)] | None = None


def _missing_supplier(supplier_id: str) -> NotFound:
    return NotFound(f"unknown supplier {supplier_id}", supplier_id=supplier_id)


# --- suppliers ----------------------------------------------------------------------------------------------

def put_supplier(supplier_id: str, body: SupplierRecordIn, now_ms: int) -> dict:
    record = {"supplier_id": supplier_id, **body.model_dump(), "updated_at": now_ms}
    audit.note_before(store.put_supplier(supplier_id, record, now_ms))
    return record


def get_supplier(supplier_id: str) -> dict:
    record = store.get_supplier(supplier_id)
    if record is None:
        raise _missing_supplier(supplier_id)
    return _with_defaults(record)


def _with_defaults(record: dict) -> dict:
    """A record as answered: a migrated one lacks what the per-SKU settings never said (currency...)."""
    return {"contact": {"name": "", "email": "", "phone": ""}, "currency": None, "lead_time_days":
            DEFAULT_LEAD_TIME_DAYS, "lead_time_spread_days": 0.0, "moq": 1, "case_pack": 1, "payment_terms": "",
            "active": True, **record}


def list_suppliers(page: PageRequest, active: str | None = None) -> dict:
    if active not in (None, "", "true", "false"):
        raise ValidationFailed("active must be true or false", field="active")
    flag = None if not active else active == "true"
    found = store.suppliers_page(page.limit, page.cursor, flag)
    return {"suppliers": [_with_defaults(r) for r in found.items], "next": found.next}


# --- quotes -------------------------------------------------------------------------------------------------

def put_quote(supplier_id: str, sku: str, body: QuoteIn, now_ms: int) -> dict:
    """Store the supplier's quote for the SKU (a SKU without a supplier yet gets this one as its choice)."""
    require_skus([sku])
    quote = {"sku": sku, "supplier_id": supplier_id, **body.model_dump(), "updated_at": now_ms}
    try:
        audit.note_before(store.put_quote(sku, supplier_id, quote, now_ms, _choice(sku, supplier_id)))
    except store.Conflict:
        raise _missing_supplier(supplier_id) from None
    return quote_view(quote, store.get_supplier(supplier_id) or {})


def quote(supplier_id: str, sku: str) -> dict:
    supplier = get_supplier(supplier_id)
    found = store.get_quote(sku, supplier_id)
    if found is None:
        raise NotFound(f"supplier {supplier_id} has no quote for {sku}", supplier_id=supplier_id, sku=sku)
    return quote_view(found, supplier)


def quote_view(quote: dict, supplier: dict) -> dict:
    """The quote with `terms`: its own where it sets them, else the supplier's."""
    return {**quote, "currency": supplier.get("currency"), "terms": _terms_of(quote, supplier)}


def _terms_of(quote: dict | None, supplier: dict) -> dict:
    q = quote or {}

    def pick(quote_key: str, supplier_key: str, default):
        value = q.get(quote_key)
        if value is None:
            value = supplier.get(supplier_key)
        return default if value is None else value
    return {"lead_time_days": float(pick("lead_time_days", "lead_time_days", DEFAULT_LEAD_TIME_DAYS)),
            "lead_time_spread_days": float(pick("lead_time_spread_days", "lead_time_spread_days", 0.0)),
            "moq": int(pick("moq", "moq", 1)), "case_pack": int(pick("case_pack", "case_pack", 1))}


def order_line(supplier_id: str, sku: str, qty: int) -> dict:
    """What ordering `qty` of the SKU from the supplier means: the quantity rounded to its MOQ, first price
    break and case pack, the unit price of that quantity and the line's cost (None without a price)."""
    found = quote(supplier_id, sku)
    breaks = rules.as_breaks(found.get("price_breaks"))
    terms = found["terms"]
    ordered = rules.round_order(qty, terms["moq"], terms["case_pack"], breaks)
    price = rules.price_for(ordered, breaks)
    return {"supplier_id": supplier_id, "sku": sku, "requested_qty": qty, "qty": ordered, "unit_price": price,
            "currency": found["currency"], "line_cost": None if price is None else round(ordered * price, 2)}


# --- receipt history and the scorecard --------------------------------------------------------------------

def record_receipt(supplier_id: str, sku: str, ordered_at: int, promised_date: str, received_at: int,
                   received_qty: int, rejected_qty: int, unit_price: float, *, reference: str | None = None,
                   now_ms: int | None = None) -> dict:
    """Record one receipt in the supplier's history (the purchase-order receiving calls this once per receipt).

    Times are epoch ms, promised_date a UTC day. `reference` identifies the receipt (e.g. "<po>#<line>#<n>"):
    recording it again adds nothing (`recorded: false`); without one, the receipt's own fields make it.
    The price is compared with the SKU's quotes in the supplier's currency at the received quantity, as
    they stand when the receipt is recorded."""
    problem = rules.receipt_problems(ordered_at, promised_date, received_at, received_qty, rejected_qty,
                                     unit_price)
    if problem:
        raise ValidationFailed(problem)
    supplier = get_supplier(supplier_id)
    fields = {"supplier_id": supplier_id, "sku": sku, "ordered_at": ordered_at, "promised_date": promised_date,
              "received_at": received_at, "received_qty": received_qty, "rejected_qty": rejected_qty,
              "unit_price": float(unit_price)}
    reference = reference or hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]
    ref_price = _lowest_quote(sku, supplier.get("currency"), received_qty)
    increments = rules.receipt_increments(ordered_at, promised_date, received_at, received_qty, rejected_qty,
                                          float(unit_price), ref_price)
    record = {**fields, "reference": reference, "ref_price": ref_price, "on_time": bool(increments["on_time"])}
    try:
        recorded = store.record_receipt(supplier_id, reference, record, rules.month_of(received_at), increments,
                                        now_ms if now_ms is not None else received_at)
    except store.Conflict:
        raise _missing_supplier(supplier_id) from None
    return {**record, "recorded": recorded}


def _lowest_quote(sku: str, currency: str | None, qty: int) -> float | None:
    quotes = store.quotes_for(sku)
    owners = store.suppliers(q["supplier_id"] for q in quotes)
    prices = [rules.price_for(qty, rules.as_breaks(q.get("price_breaks"))) for q in quotes
              if (owners.get(q["supplier_id"]) or {}).get("currency") == currency]
    prices = [p for p in prices if p is not None]
    return min(prices) if prices else None


def scorecard(supplier_id: str, now_ms: int) -> dict:
    """GET /suppliers/{id}/scorecard: the last 12 months of the supplier's receipts."""
    supplier = get_supplier(supplier_id)
    return {"supplier_id": supplier_id, "name": supplier["name"], "currency": supplier["currency"],
            **_card(supplier_id, supplier, now_ms)}


def _card(supplier_id: str, supplier: dict, now_ms: int, terms: dict | None = None) -> dict:
    first, last = rules.scorecard_months(now_ms)
    terms = terms or _terms_of(None, supplier)
    totals = rules.sum_months(store.receipt_months(supplier_id, first, last))
    return {"window": {"from_month": first, "to_month": last},
            **rules.scorecard(totals, terms["lead_time_days"], terms["lead_time_spread_days"])}


# --- the recommended supplier per SKU ----------------------------------------------------------------------

def sku_suppliers(sku: str, qty: int | None, now_ms: int) -> dict:
    """GET /skus/{sku}/suppliers: every supplier quoting the SKU, its terms, the price of the reference
    quantity (`qty`, default the largest of the suppliers' minimum orders) and its score, best first;
    retired suppliers last, unscored. `chosen`: the supplier replenishment plans with."""
    require_skus([sku])
    quotes = store.quotes_for(sku)
    records = {sid: _with_defaults(r) for sid, r in store.suppliers(q["supplier_id"] for q in quotes).items()}
    rows = []
    for q in quotes:
        supplier = records.get(q["supplier_id"])
        if supplier is None:
            continue
        view = quote_view(q, supplier)
        view["breaks"] = rules.as_breaks(q.get("price_breaks"))
        rows.append((supplier, view))
    minimums = [rules.minimum_order(v["terms"]["moq"], v["terms"]["case_pack"], v["breaks"]) for _, v in rows]
    reference_qty = qty or max(minimums, default=1)
    entries, candidates = {}, []
    for supplier, view in rows:
        sid, terms, breaks = supplier["supplier_id"], view["terms"], view.pop("breaks")
        ordered = rules.round_order(reference_qty, terms["moq"], terms["case_pack"], breaks)
        price = rules.price_for(ordered, breaks)
        card = _card(sid, supplier, now_ms, terms)
        entries[sid] = {"supplier_id": sid, "name": supplier["name"], "active": supplier["active"],
                        "currency": supplier["currency"], "quote": view, "order_qty": ordered, "unit_price": price,
                        "scorecard": card, "score": None, "factors": None}
        if supplier["active"]:
            blended = card["blended"]
            candidates.append(rules.Candidate(sid, supplier["currency"], price, blended["lead_time_days"],
                                              blended["lead_time_spread_days"], blended["on_time_rate"],
                                              blended["reject_rate"]))
    ranked = rules.rank(candidates)
    for r in ranked:
        entries[r["supplier_id"]].update(score=r["score"], factors=r["factors"])
    order = [r["supplier_id"] for r in ranked] + sorted(set(entries) - {r["supplier_id"] for r in ranked})
    choice = (store.sku_settings([sku]).get(sku) or {}).get("data") or {}
    return {"sku": sku, "reference_qty": reference_qty, "weights": rules.WEIGHTS,
            "recommended": ranked[0]["supplier_id"] if ranked else None,
            "chosen": choice.get("supplier_id"), "suppliers": [entries[sid] for sid in order]}


# --- each SKU's terms (replenishment, the forecast run, PUT/GET /skus/{sku}/supplier) -----------------------

def _choice(sku: str, supplier_id: str, planning: dict | None = None) -> dict:
    planning = planning or {}
    return {"sku": sku, "supplier_id": supplier_id,
            "review_period_days": planning.get("review_period_days", DEFAULT_REVIEW_PERIOD_DAYS),
            "service_level": planning.get("service_level")}


def terms_for(skus, consistent: bool = False) -> dict[str, dict]:
    """Each SKU's buying terms (SKUs without settings are left out), in the shape the forecast engine and
    replenishment read: supplier (name), supplier_id, currency, lead_time_days, lead_time_std_days,
    review_period_days, moq, case_pack, price_breaks [{min_qty, unit_cost}], service_level.
    Three batch reads whatever the number of SKUs (settings, then the chosen quotes and suppliers)."""
    settings = {sku: item["data"] or {} for sku, item in store.sku_settings(skus, consistent).items()}
    chosen = {sku: d["supplier_id"] for sku, d in settings.items() if d.get("supplier_id")}
    quotes = store.quotes(((sku, sid) for sku, sid in chosen.items()), consistent)
    records = store.suppliers(chosen.values(), consistent)
    out = {}
    for sku, data in settings.items():
        if sku in chosen:
            supplier = records.get(chosen[sku]) or {}
            out[sku] = _chosen_terms(sku, data, quotes.get((sku, chosen[sku])), supplier)
        else:
            out[sku] = _own_terms(sku, data)
    return out


def _chosen_terms(sku: str, data: dict, quote: dict | None, supplier: dict) -> dict:
    terms = _terms_of(quote, supplier)
    breaks = rules.as_breaks((quote or {}).get("price_breaks"))
    return {"sku": sku, "supplier": supplier.get("name") or data["supplier_id"], "supplier_id": data["supplier_id"],
            "currency": supplier.get("currency"), "supplier_active": bool(supplier.get("active", True)),
            "lead_time_days": terms["lead_time_days"], "lead_time_std_days": terms["lead_time_spread_days"],
            "review_period_days": float(data.get("review_period_days", DEFAULT_REVIEW_PERIOD_DAYS)),
            "moq": terms["moq"], "case_pack": terms["case_pack"],
            "price_breaks": [{"min_qty": b.min_qty, "unit_cost": b.unit_price} for b in breaks],
            "service_level": data.get("service_level")}


def _own_terms(sku: str, data: dict) -> dict:
    """Settings without a supplier record: the SKU's own terms, or named ones not migrated yet."""
    return {"sku": sku, "supplier": data.get("supplier", ""), "supplier_id": None, "currency": None,
            "supplier_active": True, "lead_time_days": float(data.get("lead_time_days", DEFAULT_LEAD_TIME_DAYS)),
            "lead_time_std_days": float(data.get("lead_time_std_days", 0.0)),
            "review_period_days": float(data.get("review_period_days", DEFAULT_REVIEW_PERIOD_DAYS)),
            "moq": int(data.get("moq", 1)), "case_pack": int(data.get("case_pack", 1)),
            "price_breaks": sorted(data.get("price_breaks") or [], key=lambda b: b["min_qty"]),
            "service_level": data.get("service_level")}


def sku_terms(sku: str) -> dict:
    found = terms_for([sku], consistent=True).get(sku)
    if found is None:
        raise NotFound(f"no supplier settings for {sku}", sku=sku)
    return found


def put_sku_terms(sku: str, body: SupplierIn, now_ms: int) -> dict:
    """PUT /skus/{sku}/supplier: see SupplierIn. Answers the SKU's terms as replenishment now reads them."""
    require_skus([sku])
    audit.note_before(terms_for([sku], consistent=True).get(sku))
    planning = {"review_period_days": body.review_period_days, "service_level": body.service_level}
    if body.supplier_id:
        sent = body.model_fields_set
        old = store.get_quote(sku, body.supplier_id)
        quote = {"sku": sku, "supplier_id": body.supplier_id, "price_breaks": [], **(old or {}),
                 **{k: v for k, v in _quote_terms(body).items() if _sent(k, sent)}, "updated_at": now_ms}
        try:
            store.adopt(sku, _choice(sku, body.supplier_id, planning), quote, now_ms,
                        existing_supplier=body.supplier_id)
        except store.Conflict:
            raise _missing_supplier(body.supplier_id) from None
    elif body.supplier:
        supplier_id, record, quote = _adoption(sku, body.model_dump(), now_ms)
        store.adopt(sku, _choice(sku, supplier_id, planning), quote, now_ms, new_supplier=record)
    else:
        store.put_sku_settings(sku, {"sku": sku, **body.model_dump(exclude={"supplier_id"})}, now_ms)
    return sku_terms(sku)


_QUOTE_FIELD = {"lead_time_std_days": "lead_time_spread_days"}


def _sent(quote_key: str, sent: set[str]) -> bool:
    return {v: k for k, v in _QUOTE_FIELD.items()}.get(quote_key, quote_key) in sent


def _quote_terms(body) -> dict:
    data = body if isinstance(body, dict) else body.model_dump()
    return {"lead_time_days": float(data.get("lead_time_days", DEFAULT_LEAD_TIME_DAYS)),
            "lead_time_spread_days": float(data.get("lead_time_std_days", 0.0)),
            "moq": int(data.get("moq", 1)), "case_pack": int(data.get("case_pack", 1)),
            "price_breaks": [{"min_qty": int(b["min_qty"]), "unit_price": float(b["unit_cost"])}
                             for b in sorted(data.get("price_breaks") or [], key=lambda b: b["min_qty"])]}


def _adoption(sku: str, data: dict, now_ms: int) -> tuple[str, dict, dict]:
    """For settings naming a supplier: its id, the record to create if absent, and the SKU's quote."""
    name = data["supplier"].strip()
    supplier_id = rules.supplier_id_for(name)
    terms = _quote_terms(data)
    record = {"supplier_id": supplier_id, "name": name, "currency": None,
              "contact": {"name": "", "email": "", "phone": ""}, "lead_time_days": terms["lead_time_days"],
              "lead_time_spread_days": terms["lead_time_spread_days"], "moq": terms["moq"],
              "case_pack": terms["case_pack"], "payment_terms": "", "active": True,
              "source": "sku_settings", "updated_at": now_ms}
    quote = {"sku": sku, "supplier_id": supplier_id, **terms, "updated_at": now_ms}
    return supplier_id, record, quote


def migrate_legacy(skus, now_ms: int) -> int:
    """Turn the SKUs' old named settings into supplier + quote + choice (see the module docstring); settings
    changed meanwhile are left for the next pass. Returns how many were migrated."""
    migrated = 0
    for sku, item in store.sku_settings(skus, consistent=True).items():
        data = item["data"] or {}
        if data.get("supplier_id") or not str(data.get("supplier") or "").strip() or item["updated_at"] is None:
            continue
        supplier_id, record, quote = _adoption(sku, data, now_ms)
        choice = {**_choice(sku, supplier_id, data), "legacy": data}
        try:
            store.adopt(sku, choice, quote, now_ms, new_supplier=record, unless_changed_since=item["updated_at"])
            migrated += 1
        except store.Conflict:
            continue
    return migrated


def migrate_all(now_ms: int) -> dict:
    """Migrate every SKU's old named settings now (`stocklink suppliers migrate`); safe to run again."""
    seen = migrated = 0
    for skus in store.skus_with_settings():
        seen += len(skus)
        migrated += migrate_legacy(skus, now_ms)
    return {"skus_with_settings": seen, "migrated": migrated}

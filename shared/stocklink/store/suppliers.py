"""Suppliers, their quotes, their receipt history and each SKU's supplier choice: the forecast table's items
(keys in store.keys: SUPPLIERS, QUOTE#<sku>, RCPT#/RCPTM#<supplier>, SUPPLIER/<sku>), and the only code that
reads or writes them.

They live in the forecast table because the per-SKU supplier settings did (SUPPLIER / <sku>) and the
forecast run reads them there page by page: the run's batch read of a page's terms stays in one table.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from stocklink.config import table_name
from stocklink.domain.suppliers import FIELDS
from stocklink.store import paging
from stocklink.store.keys import SUPPLIER_PK, SUPPLIERS_PK, quote_pk, receipt_month_pk, receipt_pk
from stocklink.store.models import _Meta, connection_for, save_returning_old
from stocklink.store.sales_models import ForecastItem

MAX_QUOTES_READ = 100         # a SKU's quotes read for ranking (one Query page; nobody has 100 suppliers)


class ReceiptMonth(Model):
    """RCPTM#<supplier> / <YYYY-MM>: the month's receipt sums, each ADDed in the receipt's transaction."""
    class Meta(_Meta):
        table_name = table_name("forecast")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    receipts = NumberAttribute(null=True)
    on_time = NumberAttribute(null=True)
    lead_days_sum = NumberAttribute(null=True)
    lead_days_sq = NumberAttribute(null=True)
    late_days_sum = NumberAttribute(null=True)
    received = NumberAttribute(null=True)
    rejected = NumberAttribute(null=True)
    priced = NumberAttribute(null=True)
    paid_value = NumberAttribute(null=True)
    ref_value = NumberAttribute(null=True)
    updated_at = NumberAttribute(null=True)


class Conflict(Exception):
    """A conditional write found the state changed (or a named item missing): nothing was written."""

    def __init__(self, reasons: list[str | None]):
        super().__init__(reasons)
        self.reasons = reasons


def _transact(build) -> None:
    """Run `build(txn)` as one transaction; a failed condition raises Conflict with each item's reason."""
    try:
        with TransactWrite(connection=connection_for(ForecastItem)) as txn:
            build(txn)
    except TransactWriteError as exc:
        reasons = [(r.code if r else None) for r in (exc.cancellation_reasons or [])]
        if "ConditionalCheckFailed" in reasons:
            raise Conflict(reasons) from exc
        raise


# --- suppliers ----------------------------------------------------------------------------------------------

def put_supplier(supplier_id: str, record: dict, now_ms: int) -> dict | None:
    """Create or replace; returns the record it replaced (None if new)."""
    old = save_returning_old(ForecastItem(SUPPLIERS_PK, supplier_id, data=record, updated_at=now_ms))
    return old.data if old else None


def get_supplier(supplier_id: str, consistent: bool = True) -> dict | None:
    try:
        return ForecastItem.get(SUPPLIERS_PK, supplier_id, consistent_read=consistent).data
    except DoesNotExist:
        return None


def suppliers(ids: Iterable[str], consistent: bool = False) -> dict[str, dict]:
    keys = [(SUPPLIERS_PK, i) for i in dict.fromkeys(ids)]
    return {i.sk: i.data for i in ForecastItem.batch_get(keys, consistent_read=consistent)} if keys else {}


def suppliers_page(limit: int, cursor: str | None, active: bool | None = None) -> paging.Page:
    keep = None if active is None else (lambda item: bool((item.data or {}).get("active", True)) == active)
    page = paging.query_page(ForecastItem, SUPPLIERS_PK, limit=limit, cursor=cursor, keep=keep)
    return paging.Page([item.data for item in page.items], page.next)


# --- quotes -------------------------------------------------------------------------------------------------

def put_quote(sku: str, supplier_id: str, quote: dict, now_ms: int, first_choice: dict) -> dict | None:
    """Store the quote, only while the supplier exists (Conflict otherwise), and in the same transaction make
    the supplier the SKU's choice if the SKU has none yet (`first_choice`: that choice's document; a SKU's
    existing choice or own terms are left alone). Returns the quote replaced (None if new)."""
    old = get_quote(sku, supplier_id)

    def build(txn):
        txn.condition_check(ForecastItem, SUPPLIERS_PK, supplier_id, condition=ForecastItem.pk.exists())
        txn.save(ForecastItem(quote_pk(sku), supplier_id, data=quote, updated_at=now_ms))
        txn.update(ForecastItem(SUPPLIER_PK, sku), actions=[
            ForecastItem.data.set(ForecastItem.data | first_choice),
            ForecastItem.updated_at.set(ForecastItem.updated_at | now_ms)])
    _transact(build)
    return old


def get_quote(sku: str, supplier_id: str) -> dict | None:
    try:
        return ForecastItem.get(quote_pk(sku), supplier_id, consistent_read=True).data
    except DoesNotExist:
        return None


def quotes_for(sku: str) -> list[dict]:
    """The SKU's quotes (at most MAX_QUOTES_READ), by supplier id."""
    return [i.data for i in ForecastItem.query(quote_pk(sku), limit=MAX_QUOTES_READ)]


def quotes(pairs: Iterable[tuple[str, str]], consistent: bool = False) -> dict[tuple[str, str], dict]:
    """(sku, supplier_id) -> quote, for those that exist: one batch read."""
    keys = [(quote_pk(sku), sid) for sku, sid in dict.fromkeys(pairs)]
    if not keys:
        return {}
    return {(i.pk[len(quote_pk("")):], i.sk): i.data
            for i in ForecastItem.batch_get(keys, consistent_read=consistent)}


# --- each SKU's choice (SUPPLIER / <sku>) ------------------------------------------------------------------

def sku_settings(skus: Iterable[str], consistent: bool = False) -> dict[str, dict]:
    """The SKUs' SUPPLIER items: {"data", "updated_at"} each, for those that have one."""
    keys = [(SUPPLIER_PK, s) for s in dict.fromkeys(skus)]
    if not keys:
        return {}
    return {i.sk: {"data": i.data, "updated_at": i.updated_at}
            for i in ForecastItem.batch_get(keys, consistent_read=consistent)}


def skus_with_settings(page_size: int = 100):
    """Every SKU that has a SUPPLIER item, a page (list of SKUs) at a time."""
    cursor = None
    while True:
        result = ForecastItem.query(SUPPLIER_PK, limit=page_size, last_evaluated_key=cursor,
                                    attributes_to_get=["pk", "sk"])
        page = [item.sk for item in result]
        if page:
            yield page
        cursor = result.last_evaluated_key
        if not cursor:
            return


def put_sku_settings(sku: str, data: dict, now_ms: int) -> None:
    ForecastItem(SUPPLIER_PK, sku, data=data, updated_at=now_ms).save()


def adopt(sku: str, choice: dict, quote: dict, now_ms: int, *, new_supplier: dict | None = None,
          existing_supplier: str | None = None, unless_changed_since: float | None = None) -> None:
    """One transaction making a supplier the SKU's choice with the SKU's quote:
    - `new_supplier` (its record, with supplier_id): created if absent, left as it is if present;
    - `existing_supplier`: must exist (Conflict otherwise);
    - `unless_changed_since`: the SKU item's updated_at as read (a migration): Conflict if it changed."""
    supplier_id = choice["supplier_id"]

    def build(txn):
        if new_supplier is not None:
            txn.update(ForecastItem(SUPPLIERS_PK, supplier_id), actions=[
                ForecastItem.data.set(ForecastItem.data | new_supplier),
                ForecastItem.updated_at.set(ForecastItem.updated_at | now_ms)])
        if existing_supplier is not None:
            txn.condition_check(ForecastItem, SUPPLIERS_PK, existing_supplier, condition=ForecastItem.pk.exists())
        txn.save(ForecastItem(quote_pk(sku), supplier_id, data=quote, updated_at=now_ms))
        condition = None
        if unless_changed_since is not None:
            condition = ForecastItem.updated_at == unless_changed_since
        txn.save(ForecastItem(SUPPLIER_PK, sku, data=choice, updated_at=now_ms), condition=condition)
    _transact(build)


# --- receipt history ----------------------------------------------------------------------------------------

def record_receipt(supplier_id: str, reference: str, record: dict, month: str,
                   increments: Mapping[str, float], now_ms: int) -> bool:
    """The receipt's record (once per reference) and its month's sums, in one transaction, while the
    supplier exists. False if the reference was recorded before (nothing added); Conflict if the supplier
    is gone."""
    def build(txn):
        txn.condition_check(ForecastItem, SUPPLIERS_PK, supplier_id, condition=ForecastItem.pk.exists())
        txn.save(ForecastItem(receipt_pk(supplier_id), reference, data=record, updated_at=now_ms),
                 condition=ForecastItem.pk.does_not_exist())
        actions = [getattr(ReceiptMonth, k).add(increments[k]) for k in FIELDS if increments.get(k)]
        txn.update(ReceiptMonth(receipt_month_pk(supplier_id), month),
                   actions=[*actions, ReceiptMonth.updated_at.set(now_ms)])
    try:
        _transact(build)
    except Conflict as exc:
        if len(exc.reasons) > 1 and exc.reasons[1] == "ConditionalCheckFailed" \
                and exc.reasons[0] != "ConditionalCheckFailed":
            return False
        raise
    return True


def get_receipt(supplier_id: str, reference: str) -> dict | None:
    try:
        return ForecastItem.get(receipt_pk(supplier_id), reference, consistent_read=True).data
    except DoesNotExist:
        return None


def receipt_months(supplier_id: str, first: str, last: str) -> list[dict]:
    """The supplier's month sums from `first` to `last` (YYYY-MM), at most 12 items for a year."""
    return [{k: float(getattr(i, k) or 0) for k in FIELDS}
            for i in ReceiptMonth.query(receipt_month_pk(supplier_id), ReceiptMonth.sk.between(first, last))]

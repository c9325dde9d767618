"""Validated request bodies of the purchasing routes (purchase orders, shipping, receipts)."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from stocklink.domain.requests import Identifier, Money, PositiveQty, _Strict

# One shipment is one transaction: the PO and, per line, a counter update, a ledger entry and the inbound item.
MAX_PO_LINES = 30
# One receipt is one transaction: the marker, the PO and, per line, a counter update, up to three ledger
# entries (arrived, extra, rejected) and the inbound item.
MAX_RECEIPT_LINES = 19
Note = Annotated[str, StringConstraints(max_length=500)]


def _iso_date(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError("an ISO date, YYYY-MM-DD") from None


def _one_line_per_sku(lines: list) -> list:
    """A PO or a transfer names each SKU once (one transaction may touch a stock item once)."""
    skus = [line.sku for line in lines]
    repeated = sorted({sku for sku in skus if skus.count(sku) > 1})
    if repeated:
        raise ValueError(f"one line per SKU: {', '.join(repeated)} repeated")
    return lines


class PoLineIn(_Strict):
    sku: Identifier
    qty: PositiveQty
    unit_price: Money | None = None
    promised_date: str | None = None

    @field_validator("promised_date")
    @classmethod
    def _promised_is_a_date(cls, value: str | None) -> str | None:
        return _iso_date(value)


class PurchaseOrderIn(_Strict):
    po_id: Identifier | None = None          # generated when absent
    supplier_id: Identifier
    warehouse_id: Identifier                 # where the goods go
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    lines: Annotated[list[PoLineIn], Field(min_length=1, max_length=MAX_PO_LINES)]
    note: Note | None = None

    @field_validator("lines")
    @classmethod
    def _lines_distinct(cls, lines: list) -> list:
        return _one_line_per_sku(lines)


class PoFromSuggestionsIn(_Strict):
    """Draft purchase orders from the latest forecast's suggestions: one per supplier of the SKUs chosen."""
    warehouse_id: Identifier
    skus: Annotated[list[Identifier], Field(min_length=1, max_length=MAX_PO_LINES)]
    supplier_id: Identifier | None = None    # order every SKU from this supplier instead of each SKU's chosen one

    @field_validator("skus")
    @classmethod
    def _distinct(cls, skus: list[str]) -> list[str]:
        if len(set(skus)) != len(skus):
            raise ValueError("each SKU once")
        return skus


class PoStatusIn(_Strict):
    status: Literal["ordered", "paid", "producing", "cancelled", "closed"]
    note: Note | None = None


class ShipLineIn(_Strict):
    line: Annotated[int, Field(ge=1, le=MAX_PO_LINES, strict=True)]
    qty: Annotated[int, Field(ge=0, le=1_000_000, strict=True)]


class PoShipIn(_Strict):
    eta: str
    lines: Annotated[list[ShipLineIn], Field(min_length=1, max_length=MAX_PO_LINES)] | None = None
    note: Note | None = None

    @field_validator("eta")
    @classmethod
    def _eta_is_a_date(cls, value: str) -> str:
        return _iso_date(value)


class ReceiveLineIn(_Strict):
    line: Annotated[int, Field(ge=1, le=MAX_PO_LINES, strict=True)]
    received: Annotated[int, Field(ge=0, le=1_000_000, strict=True)] = 0
    rejected: Annotated[int, Field(ge=0, le=1_000_000, strict=True)] = 0
    reject_reason: Note | None = None


class PoReceiptIn(_Strict):
    reference: Identifier                    # idempotency key: the same receipt posted twice books once
    lines: Annotated[list[ReceiveLineIn], Field(min_length=1, max_length=MAX_RECEIPT_LINES)]
    accept_over_receipt: bool = False


# --- transfers -----------------------------------------------------------------------------------------

# One pick (or cancel after it) is one transaction: the transfer and, per line, two counter updates, two
# ledger entries and the inbound item.
MAX_TRANSFER_LINES = 19


class TransferLineIn(_Strict):
    sku: Identifier
    qty: PositiveQty


class TransferIn(_Strict):
    transfer_id: Identifier | None = None
    from_warehouse: Identifier
    to_warehouse: Identifier
    lines: Annotated[list[TransferLineIn], Field(min_length=1, max_length=MAX_TRANSFER_LINES)]
    note: Note | None = None

    @field_validator("lines")
    @classmethod
    def _lines_distinct(cls, lines: list) -> list:
        return _one_line_per_sku(lines)


class TransferReceiveLineIn(_Strict):
    line: Annotated[int, Field(ge=1, le=MAX_TRANSFER_LINES, strict=True)]
    received: Annotated[int, Field(ge=0, le=1_000_000, strict=True)]
    loss_reason: Note | None = None


class TransferReceiveIn(_Strict):
    lines: Annotated[list[TransferReceiveLineIn], Field(max_length=MAX_TRANSFER_LINES)] = []   # none: all arrived
    note: Note | None = None


class TransferActionIn(_Strict):
    note: Note | None = None


class LaneIn(_Strict):
    transit_days: Annotated[float, Field(ge=0, le=365, allow_inf_nan=False)]
    cost_per_unit: Money | None = None

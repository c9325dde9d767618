"""Validated request bodies. Pydantic rejects bad input before anything is written."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128,
                                              pattern=r"^[A-Za-z0-9._:@/+\-]+$")]
PositiveQty = Annotated[int, Field(gt=0, le=1_000_000, strict=True)]

# A hold is one DynamoDB transaction of at most 100 items: the reservation, one more fixed item, and per
# (SKU, warehouse) it draws on a counter update and a ledger entry. A line split over two warehouses costs
# 4 items, so 24 lines always fit (2 + 24 x 4 = 98); a hold that would need a third warehouse for enough
# of its lines to pass 49 (SKU, warehouse) pairs is refused at planning time (errors.TooLargeForOneTransaction).
MAX_HOLD_LINES = 24


# defer_build: a model's validator is built when it first validates (or gives its schema), not at import;
# each function builds only the models its routes use (tests/bench/cold_import.py).
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class WarehouseIn(_Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    region: Annotated[str, StringConstraints(max_length=100)] = ""
    priority: Annotated[int, Field(ge=0, le=10_000, strict=True)] = 100


# A price or cost is a finite amount: JSON parsers take Infinity and NaN, and an infinite price would
# poison every revenue figure computed from it (ABC classes, replenishment).
Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class ComponentIn(_Strict):
    sku: Identifier
    qty: PositiveQty = 1


class SkuIn(_Strict):
    """The whole SKU record (PUT replaces it): every field the catalogue import writes is here, so reading a
    SKU, changing its name and writing it back keeps its barcode, supplier and bundle components."""
    name: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    price: Money | None = None
    unit_cost: Money | None = None
    category: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    barcode: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9\-]{1,64}$")] | None = None
    supplier: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    components: Annotated[list[ComponentIn], Field(min_length=1, max_length=20)] | None = None
    # when the SKU went on sale: the forecast starts its demand history there, not at its first sale
    launch_date: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")] | None = None

    @field_validator("launch_date")
    @classmethod
    def _a_real_date(cls, value):
        if value is not None:
            import datetime as dt
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise ValueError("not a date (YYYY-MM-DD)") from None
        return value

    @field_validator("components")
    @classmethod
    def _one_line_per_component(cls, components):
        if components is not None and len({c.sku for c in components}) != len(components):
            raise ValueError("each component SKU once")
        return components


class LineIn(_Strict):
    sku: Identifier
    qty: PositiveQty


class ReceiptIn(_Strict):
    warehouse_id: Identifier
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=90)]
    reference: Identifier


class AdjustmentIn(_Strict):
    warehouse_id: Identifier
    sku: Identifier
    delta: Annotated[int, Field(strict=True, ge=-1_000_000, le=1_000_000)]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]

    @field_validator("delta")
    @classmethod
    def _non_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("delta must not be 0")
        return value


class ReservationIn(_Strict):
    reservation_id: Identifier
    channel: Identifier
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=MAX_HOLD_LINES)]
    hold_seconds: Annotated[int, Field(gt=0, le=7 * 24 * 3600, strict=True)] | None = None


class StaffActionIn(_Strict):
    """A staff member moves a reservation (a platform order's too) and says why."""
    action: Literal["commit", "release", "ship"]
    reason: Annotated[str, StringConstraints(min_length=3, max_length=500)]


class ShopIn(BaseModel):
    """Platform credentials: every field but `api_base_url`, `max_calls_per_second` and `display` goes to
    Secrets Manager. `max_calls_per_second` overrides the platform's default call rate for this shop (a
    WooCommerce host that takes more than 2 calls a second, or a marketplace quota shared with another
    tool)."""

    model_config = ConfigDict(extra="allow", defer_build=True)
    api_base_url: Annotated[str, StringConstraints(max_length=500)] | None = None
    max_calls_per_second: Annotated[float, Field(gt=0, le=100)] | None = None


class ListingIn(_Strict):
    components: Annotated[list[ComponentIn], Field(min_length=1, max_length=20)]
    platform_ids: dict[str, str] = Field(default_factory=dict)


# A token's name is its handle in URLs (DELETE /tokens/{name}) and in the audit trail: no "/" or spaces.
TokenName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                             pattern=r"^[A-Za-z0-9._@+\-]+$")]
TokenRole = Literal["admin", "buyer", "staff", "storefront", "viewer"]


class TokenIn(_Strict):
    """POST /tokens. `max_open_holds` and `max_hold_seconds` bound a storefront token's reservations
    (absent: the service's defaults)."""
    name: TokenName
    roles: Annotated[list[TokenRole], Field(min_length=1, max_length=5)]
    max_open_holds: Annotated[int, Field(gt=0, le=100_000, strict=True)] | None = None
    max_hold_seconds: Annotated[int, Field(gt=0, le=7 * 24 * 3600, strict=True)] | None = None

    @field_validator("roles")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("roles must not repeat")
        return sorted(value)

"""A shop's allocation settings (rule, buffers, min/max display, sync switch, presale): the API and the reads
channel sync makes of them."""
from __future__ import annotations

from typing import Annotated, Iterable

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from stocklink.domain.allocation import AllocationSettings
from stocklink.domain.presale import MAX_WITHIN_DAYS
from stocklink.errors import ValidationFailed
from stocklink.logic import audit
from stocklink.logic.catalog import require_shop
from stocklink.logic.sync import config
from stocklink.store import catalog


class PresaleIn(BaseModel):
    """Presale (预售, domain/presale.py): the shop may also sell units on their way that arrive within
    `within_days` days (off by default)."""
    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    within_days: Annotated[int, Field(ge=0, le=MAX_WITHIN_DAYS)] = 7


class AllocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    rule: Annotated[str, Field(pattern="^(shared|quota|fixed)$")] = "shared"
    buffer: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    buffer_mode: Annotated[str, Field(pattern="^(static|dynamic)$")] = "static"
    ratio: Annotated[float, Field(ge=0, le=1)] = 1.0
    minimum: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    fixed: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    min_display: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    max_display: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    sellout_threshold: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    sync: bool = True
    warehouses: list[str] | None = None
    presale: PresaleIn = PresaleIn()


def put_allocation(platform: str, shop: str, body: AllocationIn, now_ms: int) -> dict:
    require_shop(platform, shop)
    try:
        settings = AllocationSettings.from_dict(body.model_dump())
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    data = {"platform": platform, "shop": shop, **settings.to_dict()}
    audit.note_before(catalog.put_allocation(platform, shop, data, now_ms))
    config.forget()
    return data


def get_allocation(platform: str, shop: str) -> dict:
    require_shop(platform, shop)
    data = catalog.allocation(platform, shop)
    return {"platform": platform, "shop": shop, **AllocationSettings.from_dict(data).to_dict()}


class LastUnitsIn(BaseModel):
    """The last-units policy (domain/last_units.RiskPolicy): whether SKUs at risk are guarded, and when a SKU
    counts as at risk."""
    model_config = ConfigDict(extra="forbid", defer_build=True)
    enabled: bool = True
    k: Annotated[float, Field(ge=0, le=100)] = 2.0
    min_units_per_channel: Annotated[int, Field(ge=0, le=1_000_000)] = 3
    exit_factor: Annotated[float, Field(ge=1, le=10)] = 1.5
    default_push_latency_s: Annotated[float, Field(ge=0, le=3600)] = 1.0
    default_webhook_delay_s: Annotated[float, Field(ge=0, le=3600)] = 3.0
    absolute_refill_s: Annotated[float, Field(ge=0, le=86_400)] = 10.0
    drain_s: Annotated[float, Field(ge=0, le=86_400)] = 8.0


def put_last_units(body: LastUnitsIn, now_ms: int) -> dict:
    data = body.model_dump()
    audit.note_before(catalog.put_last_units_policy(data, now_ms))
    config.forget()
    return data


def get_last_units() -> dict:
    from stocklink.domain.last_units import RiskPolicy

    return RiskPolicy.from_dict(catalog.last_units_policy()).to_dict()


MAX_DECLARED_SALE_MS = 31 * 24 * 3600 * 1000


class DeclaredSaleIn(BaseModel):
    """PUT /skus/{sku}/sale: the seller announces a sale; the SKU is guarded until `until` whatever its demand
    (a burst that outruns the platforms' webhooks is over before measured demand could flag it)."""
    model_config = ConfigDict(extra="forbid", defer_build=True)
    until: AwareDatetime


def declare_sale(sku: str, body: DeclaredSaleIn, now_ms: int, actor: str) -> dict:
    from stocklink.logic.catalog import require_skus
    from stocklink.logic.stock_events import publish_stock_changed
    from stocklink.store import last_units_models, repository

    require_skus([sku])
    until = int(body.until.timestamp() * 1000)
    if not now_ms < until <= now_ms + MAX_DECLARED_SALE_MS:
        raise ValidationFailed("until must be in the future and at most 31 days ahead")
    last_units_models.declare_sale(sku, until, now_ms)
    # the channels get their shares now, not at the SKU's next order
    publish_stock_changed([(sku, item.warehouse_id) for item in repository.stock_items(sku)], "sale_declared", actor)
    return {"sku": sku, "guarded_until": body.until.isoformat().replace("+00:00", "Z")}


def end_sale(sku: str, now_ms: int, actor: str) -> dict:
    from stocklink.logic.catalog import require_skus
    from stocklink.logic.stock_events import publish_stock_changed
    from stocklink.store import last_units_models, repository

    require_skus([sku])
    last_units_models.declare_sale(sku, None, now_ms)
    publish_stock_changed([(sku, item.warehouse_id) for item in repository.stock_items(sku)], "sale_ended", actor)
    return {"sku": sku, "guarded_until": None}

"""The one declaration of StockLink's functions, routes, event rules and schedules.

Both the CDK app (infra/app.py) and the local runtime (infra/local/) are built from this module, so the
deployed system and the laptop system cannot drift apart. Pure data: importing it needs neither CDK nor
boto3.
"""
from __future__ import annotations

from dataclasses import dataclass, field

EVENT_SOURCE = "stocklink"


@dataclass(frozen=True)
class Function:
    name: str                         # folder under functions/, and the logical id stem in CDK
    handler: str                      # module.attribute, importable with functions/ and the layer on path
    description: str
    memory_mb: int = 512
    timeout_s: int = 15
    # logical table name -> "read" | "write" (write implies read); least-privilege grants in CDK
    tables: dict[str, str] = field(default_factory=dict)
    publishes_events: bool = False    # may PutEvents on the StockLink bus
    reads_secrets: bool = False       # may read secrets under the StockLink prefix
    writes_secrets: bool = False      # may create/update secrets under the StockLink prefix
    local_workers: int = 2            # warm containers the local runtime keeps for this function


@dataclass(frozen=True)
class Route:
    method: str
    path: str                         # API Gateway resource path, e.g. /reservations/{reservation_id}
    function: str
    auth: str = "none"                # "none" | "token" (Bearer token checked by the function)


@dataclass(frozen=True)
class EventRule:
    name: str
    detail_types: tuple[str, ...]
    function: str
    source: str = EVENT_SOURCE


@dataclass(frozen=True)
class Schedule:
    name: str
    every_seconds: int                # 30 -> in AWS a 1-minute rule + Step Functions Wait 30 s
    function: str


@dataclass(frozen=True)
class TableSpec:
    name: str                         # logical name, see stocklink.config.TABLE_ENV
    partition_key: str
    sort_key: str | None = None
    # index name -> (partition key, sort key or None); all attributes are strings unless in NUMBER_KEYS
    indexes: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    number_keys: tuple[str, ...] = ()
    ttl_attribute: str | None = None


TABLES: tuple[TableSpec, ...] = (
    TableSpec("stock", "sku", "warehouse_id"),
    # Ledger keyed apart from stock so a hot SKU's stock partition carries only its own item's writes.
    TableSpec("ledger", "stream", "entry_id"),
    TableSpec(
        "reservations", "reservation_id",
        # Sparse: only held reservations carry hold_shard/expires_at, so the sweep reads just live holds.
        indexes={"by_expiry": ("hold_shard", "expires_at")},
        number_keys=("expires_at",),
    ),
    TableSpec(
        "events", "event_key",
        indexes={"by_status": ("status_index", "received_at")},
    ),
    TableSpec("catalog", "pk", "sk"),
)

FUNCTIONS: tuple[Function, ...] = (
    Function(
        "staff_api", "functions.staff_api.handler.handler",
        "Staff API: warehouses, SKUs, stock views, receipts, adjustments, ledger, shops, listings, events",
        tables={"stock": "write", "ledger": "write", "catalog": "write", "events": "read",
                "reservations": "read"},
        publishes_events=True, reads_secrets=True, writes_secrets=True,
    ),
    Function(
        "storefront_api", "functions.storefront_api.handler.handler",
        "Storefront reservations: hold, commit, release, ship",
        tables={"stock": "write", "ledger": "write", "reservations": "write", "catalog": "read"},
        publishes_events=True, reads_secrets=True, local_workers=3,
    ),
    Function(
        "webhook_ingest", "functions.webhook_ingest.handler.handler",
        "Platform order webhooks: verify signature on raw bytes, apply order events exactly once",
        tables={"stock": "write", "ledger": "write", "reservations": "write", "events": "write",
                "catalog": "read"},
        publishes_events=True, reads_secrets=True, local_workers=3,
    ),
    Function(
        "reconcile", "functions.reconcile.handler.handler",
        "Every 30 s: release expired holds",
        tables={"stock": "write", "ledger": "write", "reservations": "write", "catalog": "read"},
        publishes_events=True, timeout_s=25, local_workers=1,
    ),
)

ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "staff_api"),
    Route("PUT", "/warehouses/{warehouse_id}", "staff_api", "token"),
    Route("GET", "/warehouses", "staff_api", "token"),
    Route("PUT", "/skus/{sku}", "staff_api", "token"),
    Route("GET", "/skus/{sku}/stock", "staff_api", "token"),
    Route("POST", "/stock/receipts", "staff_api", "token"),
    Route("POST", "/stock/adjustments", "staff_api", "token"),
    Route("GET", "/ledger", "staff_api", "token"),
    Route("GET", "/events", "staff_api", "token"),
    Route("PUT", "/shops/{platform}/{shop}", "staff_api", "token"),
    Route("PUT", "/listings/{platform}/{shop}/{listing_id}", "staff_api", "token"),
    Route("POST", "/reservations", "storefront_api", "token"),
    Route("GET", "/reservations/{reservation_id}", "storefront_api", "token"),
    Route("POST", "/reservations/{reservation_id}/commit", "storefront_api", "token"),
    Route("POST", "/reservations/{reservation_id}/release", "storefront_api", "token"),
    Route("POST", "/reservations/{reservation_id}/ship", "storefront_api", "token"),
    Route("POST", "/webhooks/{platform}/{shop}", "webhook_ingest"),
)

EVENT_RULES: tuple[EventRule, ...] = ()

SCHEDULES: tuple[Schedule, ...] = (
    Schedule("reconcile-every-30s", 30, "reconcile"),
)


def function(name: str) -> Function:
    for fn in FUNCTIONS:
        if fn.name == name:
            return fn
    raise KeyError(name)


def table(name: str) -> TableSpec:
    for spec in TABLES:
        if spec.name == name:
            return spec
    raise KeyError(name)

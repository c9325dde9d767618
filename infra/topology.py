"""The one declaration of StockLink's functions, routes, event rules and schedules.

Both the CDK app (infra/app.py) and the local runtime (infra/local/) are built from this module, so the
deployed system and the laptop system cannot drift apart. Pure data: importing it needs neither CDK nor
boto3. Event names come from stocklink.events, as the publishers and consumers use them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from stocklink import events
from stocklink.events import SOURCE as EVENT_SOURCE


@dataclass(frozen=True)
class Function:
    name: str                         # folder under functions/, and the logical id stem in CDK
    handler: str                      # module.attribute, importable with functions/ and the layer on path
    description: str
    memory_mb: int = 512
    timeout_s: int = 15
    # logical table name -> "read" | "write" (write implies read) | "append" (PutItem only: the audit
    # trail, which no API function may change or delete) | "read+append"; least-privilege grants in CDK
    tables: dict[str, str] = field(default_factory=dict)
    publishes_events: bool = False    # may PutEvents on the StockLink bus
    # may write reconciliation's dirty markers (and only those) in the catalog table: a function that
    # commits stock changes without catalog write access marks the SKUs of a lost stock.changed with them
    marks_dirty: bool = False
    # secret group -> "read" (get values) | "write" (create / replace values, never read them back).
    # Groups (infra/constructs/functions.py): "api_tokens" (the Bearer tokens), "shops" (each shop's
    # platform credentials), "chat" (each chat subscription's webhook). No function both reads shop
    # credentials and reads the API tokens: a leak from one side never opens the other.
    secrets: dict[str, str] = field(default_factory=dict)
    # may record when an API token was last used (UpdateItem of last_used_at on the token's name item, and
    # nothing else of the tokens table): functions that authenticate with read-only tokens access
    records_token_use: bool = False
    # may note what each listing's platform may still sell after an order (UpdateItem of the attributes
    # keys.SHOWN_NOTE_ATTRIBUTES on the catalog's SYNC# items, nothing else of the catalog): the order's own
    # transaction carries the note (logic.orders), so without it every order is refused
    notes_listings_shown: bool = False
    # Lambda reserved concurrency: containers kept for this function, and its ceiling (None: the
    # account's shared pool, no ceiling)
    reserved_concurrency: int | None = None
    local_workers: int = 2            # warm containers the local runtime keeps for this function


@dataclass(frozen=True)
class Route:
    method: str
    path: str                         # API Gateway resource path, e.g. /reservations/{reservation_id}
    function: str
    auth: str = "none"                # "none" | "token" (Bearer token checked by the function)
    # (requests per second, burst) of this method's own API Gateway throttle; None: the stage's default
    throttle: tuple[float, int] | None = None


@dataclass(frozen=True)
class QueueDelivery:
    """Deliver a rule's events through an SQS queue that the function drains in batches (Lambda's SQS
    event source, partial batch failures) instead of one asynchronous invocation per event: a burst of
    events waits in the queue and each invocation handles everything that arrived meanwhile, so a
    consumer that can merge events (channel_push: one push per listing for a whole batch) keeps up.

    No batching window (batch_size <= 10): an event is handed over as soon as it lands, for the consumers
    whose latency matters. A window (AWS requires one of at least 1 s above 10 records) gathers up to
    batch_size records first, for consumers that only need to keep up: fewer, larger batches cost fewer
    invocations and fewer passes over the same SKU. max_concurrency caps the pollers (AWS minimum 2).
    After max_receive_count receives a record moves to the queue's dead-letter queue."""
    batch_size: int = 10
    max_batching_window_s: int = 0
    max_concurrency: int = 5
    max_receive_count: int = 5
    visibility_timeout_s: int = 360    # AWS: at least 6 x the function timeout for an event source
    retry_after_s: int = 5             # a failed record becomes visible again after this long (local)
    requeue: bool = False              # the function may put events back on its queue with a delay
                                       # (REQUEUE_QUEUE in its environment; stocklink.bus.publish_later)


@dataclass(frozen=True)
class EventRule:
    name: str
    detail_types: tuple[str, ...]
    function: str
    source: str = EVENT_SOURCE
    queue: QueueDelivery | None = None   # None: one asynchronous invocation per event


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


@dataclass(frozen=True)
class Topic:
    """An SNS topic. Functions learn its ARN from `env`; `publishers` may Publish, `managers` may
    Subscribe / Unsubscribe / set subscription attributes (FilterPolicy) on it."""
    name: str
    env: str
    description: str = ""
    publishers: tuple[str, ...] = ()
    managers: tuple[str, ...] = ()


@dataclass(frozen=True)
class TopicQueue:
    """An SQS queue subscribed to a topic (raw delivery off: the body is the SNS envelope, so message
    attributes travel with it), consumed by `function` with partial batch failures; after
    `max_receive_count` receives a message moves to the queue's DLQ."""
    name: str
    topic: str
    function: str
    max_receive_count: int = 5
    batch_size: int = 5
    visibility_timeout_s: int = 120     # >= the function's timeout (AWS requires it for event sources)


@dataclass(frozen=True)
class PlatformQueue:
    """An SQS queue a platform delivers to directly (Amazon SP-API notifications), consumed by `function`
    with partial batch failures; after `max_receive_count` receives a message moves to its DLQ. Its queue
    policy lets only `publisher_account` (the platform's publishing AWS account) send to it and read its
    attributes: the platform signs nothing, so the policy is the guard."""
    name: str
    function: str
    publisher_account: str
    max_receive_count: int = 5
    batch_size: int = 10
    visibility_timeout_s: int = 180     # 6 x the consumer's timeout (AWS requires >= the timeout)


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
    TableSpec("catalog", "pk", "sk", ttl_attribute="purge_at"),   # TTL: platform call windows
    # Alert state (pk = AlertKey.id), alert rules, subscriptions and notify dedupe markers; `by_list` is
    # sparse: open alerts, subscriptions and rule records carry list_key, so listing them never scans.
    TableSpec("alerts", "pk", indexes={"by_list": ("list_key", "updated_at")}, number_keys=("updated_at",),
              ttl_attribute="expires_at"),
    # Forecasting: daily sales counters (pk SALES#sku / SALESW#sku#wh / SALESC#sku#channel, sk day), their
    # idempotency markers and ledger cursors, suppliers, their quotes and receipt history, each SKU's supplier
    # choice, forecast runs, results and suggestions.
    TableSpec("forecast", "pk", "sk", ttl_attribute="expires_at"),
    # API tokens by name (TOKEN / name) and by the SHA-256 of the token (HASH#<hex> / -); never a token.
    TableSpec("tokens", "pk", "sk"),
    # Audit trail of staff and admin writes: a partition per UTC day, newest first by time-ordered sort key.
    TableSpec("audit", "pk", "sk"),
    # Daily snapshots for the reports: a partition per day (SNAP#<day>, SNAPW#<day>#<warehouse>; sk the SKU),
    # finished days (DAY / <day>) and snapshot runs; rows expire after the retention (default 400 days).
    TableSpec("reports", "pk", "sk", ttl_attribute="expires_at"),
    # Purchasing: purchase orders (PO#<id> / PO), their receipt markers (PO#<id> / RECEIPT#<ref>) and the
    # units on their way per SKU (INBOUND#<sku> / <warehouse>#<source>) with their ETA; `by_list` is sparse
    # (POs and open inbound units carry list_key), so listing them never scans.
    TableSpec("purchasing", "pk", "sk", indexes={"by_list": ("list_key", "list_sort")}),
)

FUNCTIONS: tuple[Function, ...] = (
    Function(
        "staff_api", "functions.staff_api.handler.handler",
        "Staff API: warehouses, SKUs, stock views and board, receipts, adjustments, ledger, shops, listings, events",
        # tokens write: POST/DELETE /tokens; audit: GET /audit reads it, every staff/admin write appends;
        # forecast read: the stock board's per-SKU plan facts (daily demand, safety stock, ABC class);
        # purchasing read: units on their way and their ETA, in the board's days of cover
        tables={"stock": "write", "ledger": "write", "catalog": "write", "events": "read",
                "reservations": "read", "tokens": "write", "audit": "read+append", "forecast": "read",
                "purchasing": "read"},
        # shops write: PUT /shops stores credentials it never reads back
        publishes_events=True, secrets={"api_tokens": "read", "shops": "write"},
    ),
    Function(
        "storefront_api", "functions.storefront_api.handler.handler",
        "Reservations: storefront hold, commit, release, ship; staff reads and actions with a reason",
        tables={"stock": "write", "ledger": "write", "reservations": "write", "catalog": "read",
                "tokens": "read"},
        publishes_events=True, marks_dirty=True, secrets={"api_tokens": "read"}, records_token_use=True,
        local_workers=3,
    ),
    Function(
        "webhook_ingest", "functions.webhook_ingest.handler.handler",
        "Platform order webhooks: verify signature on raw bytes, apply order events exactly once",
        tables={"stock": "write", "ledger": "write", "reservations": "write", "events": "write",
                "catalog": "read"},
        publishes_events=True, marks_dirty=True, notes_listings_shown=True, secrets={"shops": "read"},
        local_workers=3,
        # kept for platforms' webhooks whatever else runs, and bounded: WEBHOOK_THROTTLE (500/s) at
        # ~0.1 s each needs ~50 containers, so API Gateway answers 429 (platforms retry) before Lambda
        # would throttle
        reserved_concurrency=100,
    ),
    Function(
        "reconcile", "functions.reconcile.handler.handler",
        "Every 30 s: release expired holds, read back every platform, fix drift, anomalies, ledger check",
        # catalog write: lease, cursors, dirty markers, reports, sync state; events read: unmapped orders
        tables={"stock": "write", "ledger": "write", "reservations": "write", "catalog": "write",
                "events": "read"},
        publishes_events=True, secrets={"shops": "read"}, timeout_s=25, local_workers=1,
    ),
    Function(
        "order_poll", "functions.order_poll.handler.handler",
        "Every 30 s: pull order changes from platforms that send no webhook (Pinduoduo), apply them exactly once",
        # as webhook_ingest (orders applied through the same logic and markers) plus catalog write: the poll
        # cursors (store/order_poll) and the shop's shared call windows (every call takes a slot)
        tables={"stock": "write", "ledger": "write", "reservations": "write", "events": "write",
                "catalog": "write"},
        publishes_events=True, secrets={"shops": "read"}, timeout_s=25, local_workers=1,
    ),
    Function(
        "amazon_notifications", "functions.amazon_notifications.handler.handler",
        "Amazon SP-API ORDER_CHANGE notifications from the stack's SQS queue: apply each order exactly once",
        # as webhook_ingest: orders applied through the same logic and markers; shops read: whose seller it is
        tables={"stock": "write", "ledger": "write", "reservations": "write", "events": "write",
                "catalog": "read"},
        publishes_events=True, marks_dirty=True, notes_listings_shown=True, secrets={"shops": "read"},
        timeout_s=30, local_workers=1,
    ),
    Function(
        "alerts", "functions.alerts.handler.handler",
        "Stock alerts: levels and hysteresis state per SKU/scope, one SNS message per level crossed",
        # catalog: listings and channel sync state (per-channel alerts, push failures); forecast: demand
        # and order quantities for the "what to do" text
        tables={"alerts": "write", "stock": "read", "reservations": "read", "catalog": "read", "forecast": "read"},
        timeout_s=30, local_workers=1,
    ),
    # Named chat_notify (code in functions/notify/): tests/infra's grown topology declares its own "notify".
    Function(
        "chat_notify", "functions.notify.handler.handler",
        "Alert fan-out to chat groups (WeCom, DingTalk, Feishu/Lark, Slack) with retries; SQS with DLQ",
        tables={"alerts": "write"}, secrets={"chat": "read"}, timeout_s=100, memory_mb=256, local_workers=1,
    ),
    Function(
        "alerts_api", "functions.alerts_api.handler.handler",
        "Alerts API: open alerts, acknowledge, alert rules (thresholds), subscriptions",
        tables={"alerts": "write", "tokens": "read", "audit": "append"},
        secrets={"api_tokens": "read", "chat": "write"}, records_token_use=True, local_workers=1,
    ),
    Function(
        "sales_aggregate", "functions.sales_aggregate.handler.handler",
        "Daily net sales counters per SKU / warehouse / channel from ship and return ledger entries",
        tables={"ledger": "read", "forecast": "write"}, timeout_s=30, memory_mb=256, local_workers=1,
    ),
    # Named forecast_run (code in functions/forecast/): tests/infra's grown topology declares its own "forecast".
    Function(
        "forecast_run", "functions.forecast.handler.handler",
        "Daily (and on request) demand forecast, safety stock, reorder point, stock-out date, order qty",
        tables={"forecast": "write", "stock": "read", "catalog": "read", "purchasing": "read"}, publishes_events=True,
        memory_mb=1024, timeout_s=300, local_workers=1,
        # one run at a time: a run reads the whole catalogue; another request waits in Lambda's async
        # retries instead of doubling the load or taking concurrency from the webhooks
        reserved_concurrency=1,
    ),
    Function(
        "forecast_api", "functions.forecast_api.handler.handler",
        "Forecast API: suppliers, quotes, scorecards, SKU supplier terms, forecasts, replenishment, run on demand",
        tables={"forecast": "write", "catalog": "read", "tokens": "read", "audit": "append"},
        publishes_events=True, secrets={"api_tokens": "read"}, records_token_use=True, local_workers=1,
    ),
    Function(
        "snapshots", "functions.snapshots.handler.handler",
        "Daily snapshots for the reports: stock, value, sales, stock-outs per SKU and warehouse; oversell, accuracy",
        # reads what a day was (stock, catalogue, sales counters, oversold orders, reconciliation reports) and
        # writes only the reports table; publishes snapshot.requested to continue a run cut short
        tables={"reports": "write", "stock": "read", "catalog": "read", "forecast": "read", "events": "read"},
        publishes_events=True, memory_mb=1024, timeout_s=300, local_workers=1,
    ),
    Function(
        "reports_api", "functions.reports_api.handler.handler",
        "Reports API: the reports (turnover, supply, movers, stock-outs, oversell, accuracy, value, ABC)",
        # reports read only: a snapshot on request is asked for on the bus, the snapshot function writes it
        tables={"reports": "read", "tokens": "read", "audit": "append"},
        publishes_events=True, secrets={"api_tokens": "read"}, records_token_use=True, local_workers=1,
    ),
    Function(
        "purchasing_api", "functions.purchasing_api.handler.handler",
        "Purchasing API: purchase orders and their receipts, transfers between warehouses, lanes, suggestions",
        # stock/ledger write: shipping, receiving and transfers move counters with their ledger entries;
        # forecast read: per-warehouse sales and lead times for transfer suggestions; catalog read: SKUs
        tables={"purchasing": "write", "stock": "write", "ledger": "write", "catalog": "read", "forecast": "read",
                "tokens": "read", "audit": "append"},
        publishes_events=True, marks_dirty=True, secrets={"api_tokens": "read"}, records_token_use=True,
        local_workers=1,
    ),
    Function(
        "imports_api", "functions.imports_api.handler.handler",
        "Imports and exports: catalogue sheets (dry run, apply, progress), sales history, template, CSV exports",
        # catalog write: import jobs and the SKUs an apply writes; stock read: the dry run's on-hand units and
        # the exports; forecast write: uploaded sales history; stock/ledger are written only by imports_run
        tables={"catalog": "write", "stock": "read", "forecast": "write", "tokens": "read", "audit": "append"},
        publishes_events=True, secrets={"api_tokens": "read"}, records_token_use=True, timeout_s=29,
        memory_mb=1024, local_workers=1,
    ),
    Function(
        "imports_run", "functions.imports_run.handler.handler",
        "Apply a catalogue import chunk by chunk; discover a shop's listings, map them, carry out the first-sync "
        "choice (continuing on the bus)",
        # events write: each chunk's (and opening count's) idempotency marker, booked in its stock transaction;
        # shops read: discovery calls the platform's product-list and read-back APIs (no API tokens here)
        tables={"catalog": "write", "stock": "write", "ledger": "write", "events": "write"},
        secrets={"shops": "read"}, publishes_events=True, marks_dirty=True, timeout_s=120, local_workers=1,
    ),
    Function(
        "channel_push", "functions.channel_push.handler.handler",
        "On stock.changed / order.oversold: compute each listing's quantity, push changed values to platforms",
        # catalog write: sync state (last pushed qty, failures, latency samples) lives under SYNC* keys
        tables={"stock": "read", "catalog": "write"},
        secrets={"shops": "read"}, timeout_s=60, local_workers=5,   # = the queue's max concurrency
    ),
)

TOPICS: tuple[Topic, ...] = (
    Topic("alerts", "ALERTS_TOPIC_ARN", "StockLink alerts (message attributes: severity, kind, event, sku, "
          "warehouse, channel, abc_class)", publishers=("alerts",), managers=("alerts_api",)),
)

TOPIC_QUEUES: tuple[TopicQueue, ...] = (
    TopicQueue("alerts-chat", "alerts", "chat_notify", max_receive_count=5, visibility_timeout_s=120),
)

# The account Amazon publishes SP-API notifications from (stocklink.channels.amazon
# NOTIFICATION_PUBLISHER_ACCOUNT; the Notifications API's SQS workflow names it in the queue policy).
PLATFORM_QUEUES: tuple[PlatformQueue, ...] = (
    PlatformQueue("amazon-notifications", "amazon_notifications", publisher_account="437568002678"),
)

# A flash sale's order webhooks: far above the stage's 100/s default for staff and storefront routes.
WEBHOOK_THROTTLE = (500.0, 1000)

ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "staff_api"),
    # The OpenAPI contract: public like /health (it holds no secret; clients and doc viewers fetch it bare)
    Route("GET", "/openapi.json", "staff_api"),
    Route("PUT", "/warehouses/{warehouse_id}", "staff_api", "token"),
    Route("GET", "/warehouses", "staff_api", "token"),
    Route("GET", "/warehouses/summary", "staff_api", "token"),
    Route("GET", "/skus", "staff_api", "token"),
    Route("GET", "/stock/board", "staff_api", "token"),
    Route("PUT", "/stock/board/settings", "staff_api", "token"),
    Route("GET", "/shops", "staff_api", "token"),
    Route("GET", "/listings", "staff_api", "token"),
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
    Route("POST", "/reservations/{reservation_id}/staff-action", "storefront_api", "token"),
    # Unauthenticated (the HMAC is checked by the function): its own throttle, so a flood of other
    # routes cannot take a flash sale's webhooks' share, nor the reverse.
    Route("POST", "/webhooks/{platform}/{shop}", "webhook_ingest", throttle=WEBHOOK_THROTTLE),
    Route("PUT", "/shops/{platform}/{shop}/allocation", "staff_api", "token"),
    Route("GET", "/shops/{platform}/{shop}/allocation", "staff_api", "token"),
    Route("GET", "/skus/{sku}/channels", "staff_api", "token"),
    Route("PUT", "/skus/{sku}/sale", "staff_api", "token"),
    Route("DELETE", "/skus/{sku}/sale", "staff_api", "token"),
    Route("GET", "/sync/failures", "staff_api", "token"),
    Route("PUT", "/allocation/last-units", "staff_api", "token"),
    Route("GET", "/allocation/last-units", "staff_api", "token"),
    Route("GET", "/reconciliation/last", "staff_api", "token"),
    Route("GET", "/reconciliation/history", "staff_api", "token"),
    Route("GET", "/alerts", "alerts_api", "token"),
    Route("POST", "/alerts/{alert_id}/ack", "alerts_api", "token"),
    Route("GET", "/alert-rules", "alerts_api", "token"),
    Route("PUT", "/alert-rules/global", "alerts_api", "token"),
    Route("PUT", "/alert-rules/abc/{abc_class}", "alerts_api", "token"),
    Route("PUT", "/alert-rules/sku/{sku}", "alerts_api", "token"),
    Route("GET", "/subscriptions", "alerts_api", "token"),
    Route("PUT", "/subscriptions/{subscription_id}", "alerts_api", "token"),
    Route("DELETE", "/subscriptions/{subscription_id}", "alerts_api", "token"),
    Route("PUT", "/suppliers/{supplier_id}", "forecast_api", "token"),
    Route("GET", "/suppliers/{supplier_id}", "forecast_api", "token"),
    Route("GET", "/suppliers", "forecast_api", "token"),
    Route("PUT", "/suppliers/{supplier_id}/quotes/{sku}", "forecast_api", "token"),
    Route("GET", "/suppliers/{supplier_id}/scorecard", "forecast_api", "token"),
    Route("GET", "/skus/{sku}/suppliers", "forecast_api", "token"),
    Route("PUT", "/skus/{sku}/supplier", "forecast_api", "token"),
    Route("GET", "/skus/{sku}/supplier", "forecast_api", "token"),
    Route("POST", "/forecasts/run", "forecast_api", "token"),
    Route("GET", "/forecasts/{sku}", "forecast_api", "token"),
    Route("GET", "/replenishment", "forecast_api", "token"),
    Route("GET", "/me", "staff_api", "token"),
    Route("POST", "/tokens", "staff_api", "token"),
    Route("GET", "/tokens", "staff_api", "token"),
    Route("DELETE", "/tokens/{name}", "staff_api", "token"),
    Route("GET", "/audit", "staff_api", "token"),
    Route("GET", "/reports", "reports_api", "token"),
    Route("GET", "/reports/{name}", "reports_api", "token"),
    Route("POST", "/reports/snapshots/run", "reports_api", "token"),
    Route("POST", "/purchase-orders", "purchasing_api", "token"),
    Route("POST", "/purchase-orders/from-suggestions", "purchasing_api", "token"),
    Route("GET", "/purchase-orders", "purchasing_api", "token"),
    Route("GET", "/purchase-orders/{po_id}", "purchasing_api", "token"),
    Route("POST", "/purchase-orders/{po_id}/status", "purchasing_api", "token"),
    Route("POST", "/purchase-orders/{po_id}/ship", "purchasing_api", "token"),
    Route("POST", "/purchase-orders/{po_id}/receipts", "purchasing_api", "token"),
    Route("PUT", "/transfer-lanes/{from_warehouse}/{to_warehouse}", "purchasing_api", "token"),
    Route("GET", "/transfer-lanes", "purchasing_api", "token"),
    Route("GET", "/transfers/suggestions", "purchasing_api", "token"),
    Route("POST", "/transfers", "purchasing_api", "token"),
    Route("GET", "/transfers", "purchasing_api", "token"),
    Route("GET", "/transfers/{transfer_id}", "purchasing_api", "token"),
    Route("POST", "/transfers/{transfer_id}/pick", "purchasing_api", "token"),
    Route("POST", "/transfers/{transfer_id}/receive", "purchasing_api", "token"),
    Route("POST", "/transfers/{transfer_id}/cancel", "purchasing_api", "token"),
    Route("POST", "/imports/catalog", "imports_api", "token"),
    Route("GET", "/imports/template", "imports_api", "token"),
    Route("POST", "/imports/sales", "imports_api", "token"),
    Route("GET", "/imports/{import_id}", "imports_api", "token"),
    Route("POST", "/imports/{import_id}/apply", "imports_api", "token"),
    Route("GET", "/exports/catalog", "imports_api", "token"),
    Route("GET", "/exports/stock", "imports_api", "token"),
    Route("POST", "/shops/{platform}/{shop}/listings/discover", "imports_api", "token"),
    Route("GET", "/shops/{platform}/{shop}/listings/discover/{discovery_id}", "imports_api", "token"),
    Route("POST", "/shops/{platform}/{shop}/listings/discover/{discovery_id}/apply", "imports_api", "token"),
    Route("POST", "/shops/{platform}/{shop}/listings/discover/{discovery_id}/first-sync", "imports_api", "token"),
)

EVENT_RULES: tuple[EventRule, ...] = (
    # Queued: a flash sale's stock.changed events of one SKU are graded in one pass per (SKU, warehouse)
    # per batch; a 1 s window lets a burst make one pass where it made one per 10 events (a person reads
    # the alert: a second does not matter). Visibility 180 s = 6 x the 30 s timeout; 2 pollers, the minimum.
    EventRule("alerts-on-events", (events.STOCK_CHANGED, events.ORDER_OVERSOLD, events.ORDER_UNMAPPED,
                                   events.ORDER_NEEDS_ATTENTION, events.SYNC_ANOMALY, events.LEDGER_MISMATCH,
                                   *events.FORECAST_SIGNALS, events.PURCHASE_ORDER_LATE, events.ORDER_POLL_LAGGING,
                                   events.ORDER_POLL_REFUNDS_UNREAD),
              "alerts",
              queue=QueueDelivery(batch_size=100, max_batching_window_s=1, max_concurrency=2,
                                  max_receive_count=5, visibility_timeout_s=180)),
    # Queued: each (SKU, warehouse) ledger stream named by a batch is counted once; daily demand can wait
    # 5 s for a batch to fill (6 x 30 s timeout).
    EventRule("sales-on-stock-changed", (events.STOCK_CHANGED, events.RESERVATION_COMMITTED), "sales_aggregate",
              queue=QueueDelivery(batch_size=200, max_batching_window_s=5, max_concurrency=2,
                                  max_receive_count=5, visibility_timeout_s=180)),
    EventRule("forecast-on-request", (events.FORECAST_REQUESTED,), "forecast_run"),
    EventRule("snapshots-on-request", (events.SNAPSHOT_REQUESTED,), "snapshots"),
    EventRule("imports-on-request", (events.IMPORT_REQUESTED, events.DISCOVERY_REQUESTED), "imports_run"),
    # Queued: a flash sale's events are merged per batch (one stock read and one push per listing).
    EventRule("channel-push-on-stock", (events.STOCK_CHANGED, events.ORDER_OVERSOLD), "channel_push",
              queue=QueueDelivery(batch_size=10, max_concurrency=5, max_receive_count=5,
                                  visibility_timeout_s=360, requeue=True)),
)

SCHEDULES: tuple[Schedule, ...] = (
    Schedule("reconcile-every-30s", 30, "reconcile"),
    Schedule("order-poll-every-30s", 30, "order_poll"),   # pulled platforms' orders (logic/order_poll)
    Schedule("alerts-tick-5m", 300, "alerts"),   # repeats due and auto-clear of quiet incidents
    Schedule("forecast-daily", 86400, "forecast_run"),
    # Hourly ticks, one daily snapshot: a tick in the first hours after midnight (UTC) snapshots the day that
    # just ended, once (logic/snapshots.py); the others find it done or not due with one read.
    Schedule("snapshots-hourly", 3600, "snapshots"),
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

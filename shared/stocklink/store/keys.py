"""Every key StockLink's tables use: partition prefixes and how keys are composed.

Only store/ imports this module (and infra/, for IAM conditions on a key prefix); code above it names
things (a shop, a listing, a SKU) and never a key.
Tables (infra/topology.py):
  stock         (sku, warehouse_id)         natural keys: one item per SKU per warehouse
  ledger        (stream, entry_id)          stream = sku#warehouse; entry ids sort by time
  reservations  (reservation_id)            + the sparse index by_expiry (hold shard, expires_at);
                                            OPEN_HOLDS#<owner>: a storefront owner's open-hold count
  events        (event_key)                 the business event's own id (its idempotency key), or
                                            PREEMPTED#<hold> for a hold a paid order took; + the sparse
                                            index by_status (status, received_at) of events needing a person
  catalog       (pk, sk)                    single table: the catalogue itself, and under their own
                                            prefixes channel-sync state and reconciliation state
  forecast      (pk, sk)                    single table: daily sales counters, their counted-once
                                            markers and cursors, suppliers, their quotes and receipt
                                            history, each SKU's supplier choice, forecast runs/results
  alerts        (pk)                        single table: alert states, rules, subscriptions, delivery
                                            markers, the outbox; the sparse index by_list lists them
  tokens        (pk, sk)                    API tokens: TOKEN / <name> (what GET /tokens lists) and
                                            HASH#<sha256 hex> / - (what authentication reads): no token
  audit         (pk, sk)                    AUDIT#<UTC day> / <ms>#<id>: staff and admin writes, and
                                            AUDIT_DAYS / <UTC day>: the days that have entries

Audit key design: an append-only trail written on every staff write would make one partition hot forever
if it had one partition; keyed by the UTC day, writes spread over a new partition each day (one day's
staff writes are far below a partition's 1,000 writes/s), and the sort key (zero-padded epoch ms, then a
random id) orders a day's entries by time. Newest first is a descending Query of today's partition, then
of each earlier day with entries: AUDIT_DAYS lists those days (each container marks a day once), so a
reader never walks empty days. A cursor is the last entry's key; the day is in it.
Supplier key design (forecast table): suppliers live where the per-SKU supplier settings already were
(SUPPLIER / <sku>), which the forecast run batch-reads a page at a time; the SKU item now names the chosen
supplier, so a page's terms are three BatchGets (choices, then the chosen QUOTE#<sku> / <supplier> items and
SUPPLIERS / <supplier> records) whatever the page size. Quotes are partitioned by SKU because the question
asked of them is "who sells this SKU" (GET /skus/{sku}/suppliers: one Query). All supplier records share one
partition (SUPPLIERS): a seller has hundreds of suppliers, not millions, edited by people, far below a
partition's limits, and GET /suppliers pages it in id order. Receipt history is per supplier: RCPT#<supplier>
/ <reference> records each receipt once (its condition is the idempotency marker) and RCPTM#<supplier> /
<YYYY-MM> holds the month's sums, ADDed in the same transaction, so a scorecard is one Query of at most 12
items however many receipts there were.
Sort keys that carry a time are zero-padded epoch milliseconds (13 digits), so they sort by time.
"""
from __future__ import annotations

import datetime
import uuid
import zlib

# --- catalog table ----------------------------------------------------------------------------------
WAREHOUSE = "WAREHOUSE"               # sk: warehouse id
SKU = "SKU"                           # sk: master SKU
SHOP = "SHOP"                         # sk: platform#shop
ALLOCATION = "ALLOCATION"             # sk: platform#shop (the shop's allocation settings)
SKU_LISTINGS = "SKU_LISTINGS#"        # + sku; sk: platform#shop#listing (reverse index for channel sync)
BOARD_SETTINGS = "BOARD_SETTINGS"     # sk "global": the stock board's thresholds (low floor, over days)
CATALOG_VERSION = "CATALOG_VERSION"   # sk "listings": a counter every write of a listing, the reverse index
                                      # or a shop's allocation settings bumps (channel sync caches them)
LISTINGS_VERSION_SK = "listings"


def channel(platform: str, shop: str) -> str:
    return f"{platform}#{shop}"


def listing_pk(platform: str, shop: str) -> str:
    """Partition of a shop's listings (sk: listing id)."""
    return f"LISTING#{platform}#{shop}"


def sku_listings_pk(sku: str) -> str:
    return SKU_LISTINGS + sku


def listing_ref(platform: str, shop: str, listing_id: str) -> str:
    return f"{platform}#{shop}#{listing_id}"


# --- ledger ----------------------------------------------------------------------------------------------
def ledger_stream(sku: str, warehouse_id: str) -> str:
    return f"{sku}#{warehouse_id}"


def ledger_entry_id(now_ms: int) -> str:
    """Sorts by time; the random suffix keeps entries of the same millisecond apart."""
    return f"{ledger_entry_prefix(now_ms)}{uuid.uuid4().hex[:12]}"


def ledger_entry_prefix(at_ms: int) -> str:
    """What every entry id of that millisecond starts with."""
    return f"{at_ms:013d}-"


# --- reservations table (key: reservation id) ---------------------------------------------------------------
# The sparse index by_expiry (hold_shard, expires_at) lists held reservations only, spread over a few
# shards so the expiry sweep never queries one hot partition.
HOLD_SHARDS = 4


def hold_shard(reservation_id: str) -> str:
    return f"H{zlib.crc32(reservation_id.encode()) % HOLD_SHARDS}"


def hold_shards() -> list[str]:
    return [f"H{n}" for n in range(HOLD_SHARDS)]


# A storefront owner's open-hold count lives in the same table under a key no reservation id can take
# (reservation ids never contain '#': the API refuses it, platform ids are <platform>:<shop>:<order>).
OPEN_HOLDS = "OPEN_HOLDS#"


def open_holds(owner: str) -> str:
    return OPEN_HOLDS + owner


def is_reservation_id(key: str) -> bool:
    return not key.startswith(OPEN_HOLDS)


# --- events table (key: the business event's id) ---------------------------------------------------------
# Order events are keyed by their adapter (OrderEvent.event_key: platform#shop#order#kind#...); a hold taken
# by a paid order is recorded under the hold's id (a hold is taken at most once).
def preemption_event(reservation_id: str) -> str:
    return f"PREEMPTED#{reservation_id}"


def receipt_event(warehouse_id: str, reference: str, part: int = 0) -> str:
    """A goods receipt's idempotency key, one per part (a receipt of more SKUs than one transaction takes
    is booked in parts). Part 0 keeps the key whole receipts had, so one booked before still replays."""
    key = f"receipt#{warehouse_id}#{reference}"
    return key if part == 0 else f"{key}#part{part + 1}"


# --- catalog table: channel sync state (store.sync_models) --------------------------------------------------
#   SYNC#<platform>#<shop>   / <listing_id>                          what the listing last showed
#   SYNC_FAILURE             / <ms>#<platform>#<shop>#<listing_id>   a failed push (newest first)
#   SYNC_SHOP                / <platform>#<shop>                     the shop's recent push latencies
#   SYNC_VELOCITY            / <sku>                                 sales rate per channel
#   RATE#<platform>#<shop>   / <len>ms#<index>                       platform calls taken in that window
#   SYNC_MAILBOX             / <platform>#<shop>                     a container waiting for a call slot
#   READ#<platform>#<shop>   / <listing_id>                          what reconciliation last read back
FAILURE_PK = "SYNC_FAILURE"
SHOP_PK = "SYNC_SHOP"
VELOCITY_PK = "SYNC_VELOCITY"
MAILBOX_PK = "SYNC_MAILBOX"
LAST_UNITS_PK = "LAST_UNITS"          # sk <sku>: the SKU's at-risk flag and the lock its guarded moves run under
LAST_UNITS_POLICY = "LAST_UNITS_POLICY"   # sk "global": the last-units policy (domain.last_units.RiskPolicy)


SYNC_PREFIX = "SYNC#"
# The attributes an order's note of what a listing may still sell writes on its SYNC# item (sync_models.ShownNote),
# and all that webhook_ingest may write there (infra/constructs/functions.py): keys, shown, updated_at, recent_sales.
SHOWN_NOTE_ATTRIBUTES = ("pk", "sk", "shown", "updated_at", "recent_sales")


def sync_pk(platform: str, shop: str) -> str:
    return f"{SYNC_PREFIX}{platform}#{shop}"


def read_back_pk(platform: str, shop: str) -> str:
    """Reconciliation's last read of each listing of a shop (sk: listing id)."""
    return f"READ#{platform}#{shop}"


def rate_pk(platform: str, shop: str) -> str:
    return f"RATE#{platform}#{shop}"


def call_window(window_ms: int, index: int) -> str:
    """A shop's call window (sk under rate_pk): its length and its index since the epoch."""
    return f"{window_ms}ms#{index:014d}"


def failure_sk(at_ms: int, platform: str, shop: str, listing_id: str) -> str:
    return f"{failure_time(at_ms)}#{platform}#{shop}#{listing_id}"


def failure_time(at_ms: int) -> str:
    """The time part of failure sort keys: failures from `at_ms` on sort after it."""
    return f"{at_ms:013d}"


# --- catalog table: pulled order ingestion (store.order_poll) -----------------------------------------------
#   ORDER_POLL       / <platform>#<shop>   the shop's poll cursor (order update times read up to), health
ORDER_POLL_PK = "ORDER_POLL"


# --- catalog table: reconciliation state (store.reconcile_models) -------------------------------------------
#   RECON            / LEASE          the pass lease
#   RECON            / STATE          cursors, cycle figures, last pass
#   RECON_DIRTY#<n>  / <sku>          a SKU changed since it was last verified (n = crc32 % DIRTY_SHARDS)
#   RECON_REPORT     / <started ms>   one report per pass, newest first
#   SKU              / <sku>          (the catalogue's SKUs: the rotating verification slice pages them)
RECON_PK = "RECON"
LEASE_SK = "LEASE"
STATE_SK = "STATE"
DIRTY_PREFIX = "RECON_DIRTY#"
DIRTY_SHARDS = 4
REPORT_PK = "RECON_REPORT"


def dirty_shard(sku: str) -> str:
    return f"{DIRTY_PREFIX}{zlib.crc32(sku.encode()) % DIRTY_SHARDS}"


def dirty_shards() -> list[str]:
    return [f"{DIRTY_PREFIX}{n}" for n in range(DIRTY_SHARDS)]


def report_sk(started_ms: int) -> str:
    return f"{started_ms:013d}"


# --- forecast table (store.sales_models) --------------------------------------------------------------------
#   SALES#<sku>               / <YYYY-MM-DD>   net units sold that day (all warehouses, channels)
#   SALESW#<sku>#<warehouse>  / <YYYY-MM-DD>   per warehouse
#   SALESC#<sku>#<channel>    / <YYYY-MM-DD>   per channel
#   MARK#<ledger stream>      / <entry_id>     counted-once marker for one ledger entry (TTL)
#   SOLD#<ledger stream>      / <ledger source> what a paid order counted, so a cancellation takes it back
#   CURSOR#<ledger stream>    / -              last ledger entry id counted
#   SUPPLIER                  / <sku>          the SKU's buying settings: its chosen supplier_id (+ review
#                                              period, service level), or its own terms without a supplier
#                                              (and, until migrated, the old named per-SKU settings)
#   SUPPLIERS                 / <supplier_id>  a supplier (GET /suppliers pages this one partition)
#   QUOTE#<sku>               / <supplier_id>  a supplier's quote for the SKU: price breaks, per-SKU terms
#                                              (GET /skus/{sku}/suppliers reads one partition)
#   RCPT#<supplier_id>        / <reference>    one receipt's history record (its idempotency marker too)
#   RCPTM#<supplier_id>       / <YYYY-MM>      that month's receipt sums (ADDed with each receipt): a
#                                              scorecard reads at most 12 items, however many receipts
#   FC#<sku>                  / latest         last forecast result
#   PLAN                      / <sku>          the last result's daily demand, safety stock and ABC class:
#                                              what the stock board reads of every SKU in one Query
#   RUN                       / <run_id>       a forecast run;  RUN / ~latest: id of the last finished run
#   ABC#<run_id>              / <page no>      revenue per SKU of one catalog page (TTL)
#   REPL#<run_id>             / <urgency key>  one replenishment suggestion, sorted by urgency
NO_SK = "-"
SUPPLIER_PK = "SUPPLIER"              # sk <sku>: the SKU's supplier choice / own terms
SUPPLIERS_PK = "SUPPLIERS"            # sk <supplier_id>: the supplier records
RUN_PK = "RUN"
LATEST = "~latest"                    # RUN's sk naming the last finished run
RESULT_SK = "latest"                  # FC#<sku>'s sk
PLAN_PK = "PLAN"                      # sk <sku>: the stock board's compact forecast facts
NO_STOCKOUT = "9999-12-31"            # a suggestion without a stockout date sorts after every dated one


def sales_pk(sku: str, warehouse_id: str | None = None, channel: str | None = None) -> str:
    if warehouse_id is not None:
        return f"SALESW#{sku}#{warehouse_id}"
    if channel is not None:
        return f"SALESC#{sku}#{channel}"
    return f"SALES#{sku}"


def mark_pk(stream: str) -> str:
    return f"MARK#{stream}"


def sold_pk(stream: str) -> str:
    return f"SOLD#{stream}"


def cursor_pk(stream: str) -> str:
    return f"CURSOR#{stream}"


def quote_pk(sku: str) -> str:
    """Partition of a SKU's quotes (sk: supplier id): who sells it, at what price."""
    return f"QUOTE#{sku}"


def receipt_pk(supplier_id: str) -> str:
    return f"RCPT#{supplier_id}"


def receipt_month_pk(supplier_id: str) -> str:
    return f"RCPTM#{supplier_id}"


def result_pk(sku: str) -> str:
    return f"FC#{sku}"


def abc_pk(run_id: str) -> str:
    return f"ABC#{run_id}"


def abc_page_sk(page_no: int) -> str:
    return f"{page_no:06d}"


def group_stats_pk(run_id: str) -> str:
    return f"GROUPS#{run_id}"


def suggestions_pk(run_id: str) -> str:
    return f"REPL#{run_id}"


def suggestion_sk(urgent: bool, stockout_date: str | None, sku: str) -> str:
    """Most urgent first: stockouts within the lead time, then by stockout date, then SKU."""
    return f"{0 if urgent else 1}#{stockout_date or NO_STOCKOUT}#{sku}"


# --- tokens table (store.tokens) -------------------------------------------------------------------------
#   TOKEN        / <name>   the token's public record: roles, limits, created, last used; or a retired
#                           secret-sourced (bootstrap) token's retirement
#   HASH#<hex>   / -        the same token by the SHA-256 of its value: what a request's token is looked up by
TOKENS_PK = "TOKEN"


def token_hash_pk(digest: str) -> str:
    return f"HASH#{digest}"


# --- audit table (store.audit) ------------------------------------------------------------------------------
AUDIT_PREFIX = "AUDIT#"
AUDIT_DAYS_PK = "AUDIT_DAYS"


def audit_day(at_ms: int) -> str:
    """The UTC day of `at_ms`, YYYY-MM-DD (sorts by time)."""
    return datetime.datetime.fromtimestamp(at_ms / 1000, tz=datetime.timezone.utc).strftime("%Y-%m-%d")


def audit_pk(day: str) -> str:
    return f"{AUDIT_PREFIX}{day}"


def audit_sk(at_ms: int) -> str:
    """Sorts by time; the random suffix keeps entries of the same millisecond apart."""
    return f"{at_ms:013d}#{uuid.uuid4().hex[:12]}"


# --- alerts table (store.alert_models) ----------------------------------------------------------------------
#   <rule>#<sku>#<scope>                         alert state (stocklink.alerts.state.AlertKey.id)
#   cfg#global | cfg#abc#<A> | cfg#sku#<sku>     threshold overrides
#   sub#<id>                                     a subscription
#   sent#<alert id>#<sub id>                     notify dedupe marker (TTL)
#   outbox#<alert id>                            an alert decided and not yet confirmed published
# The sparse index by_list (list_key, updated_at) lists open alert states, rules, subscriptions and the
# outbox, each under its list key:
OPEN, SUBSCRIPTIONS, RULES, OUTBOX = "open", "sub", "cfg", "outbox"


def outbox_pk(alert_id: str) -> str:
    return f"{OUTBOX}#{alert_id}"


# --- reports table (store.report_models) --------------------------------------------------------------------
#   SNAP#<YYYY-MM-DD>               / <sku>      one SKU's snapshot row of that day (over every warehouse)
#   SNAPW#<YYYY-MM-DD>#<warehouse>  / <sku>      the same for one warehouse
#   DAY                             / <YYYY-MM-DD>  a finished day: its catalogue-wide figures
#   SNAPRUN                         / <run id>   a snapshot run: day, cursor, running totals
# A day's rows share a partition, so a report reads two partitions (the period's first and last snapshot
# day) whatever its length; the snapshot run writes each day's partition once, in batches.
SNAP_DAY_PK = "DAY"
SNAP_RUN_PK = "SNAPRUN"


def snapshot_pk(day: str, warehouse_id: str | None = None) -> str:
    return f"SNAP#{day}" if warehouse_id is None else f"SNAPW#{day}#{warehouse_id}"

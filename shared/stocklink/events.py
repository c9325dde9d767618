"""Every event StockLink puts on its EventBridge bus: the detail-type names and the shape of each detail.

Publishers (stocklink.bus.publish), consumers (channel sync, alerting, sales counting, forecasting) and the
topology's event rules (infra/topology.py) all name events through these constants, so a detail-type is
spelled once. The payload shapes are TypedDicts: documentation a type checker reads, free at import time.
"""
from __future__ import annotations

from typing import TypedDict

SOURCE = "stocklink"

STOCK_CHANGED = "stock.changed"
ORDER_OVERSOLD = "order.oversold"
ORDER_UNMAPPED = "order.unmapped"
ORDER_NEEDS_ATTENTION = "order.needs_attention"
RESERVATION_COMMITTED = "reservation.committed"
RESERVATION_PREEMPTED = "reservation.preempted"
SYNC_ANOMALY = "sync.anomaly"
LEDGER_MISMATCH = "ledger.mismatch"
FORECAST_REQUESTED = "forecast.requested"
SNAPSHOT_REQUESTED = "snapshot.requested"     # detail {"run_id"}: take (or continue) a daily snapshot run
IMPORT_REQUESTED = "import.requested"         # detail {"import_id"}: apply (or continue applying) a catalogue import
DISCOVERY_REQUESTED = "discovery.requested"   # detail {"discovery_id"}: continue a listing discovery job
FORECAST_STOCKOUT_RISK = "forecast.stockout_risk"
FORECAST_BURST = "forecast.burst"
FORECAST_SLOW_MOVER = "forecast.slow_mover"

FORECAST_SIGNALS = (FORECAST_STOCKOUT_RISK, FORECAST_BURST, FORECAST_SLOW_MOVER)
ORDER_POLL_LAGGING = "order_poll.lagging"     # detail OrderPollLag: a pulled shop's orders are late (or caught up)
ORDER_POLL_REFUNDS_UNREAD = "order_poll.refunds_unread"   # detail PulledRefundsUnread: a pulled shop's refunds
                                                          # are refused (or read again)
PURCHASE_ORDER_LATE = "purchase_order.late"   # one per late PO line, published by the daily forecast run


class StockChanged(TypedDict, total=False):
    """One (SKU, warehouse) after a committed change, with the SKU's totals over every warehouse."""
    sku: str
    warehouse_id: str
    on_hand: int
    reserved: int
    available: int
    in_transit: int
    total_available: int
    total_on_hand: int
    cause: str          # receive, adjust, reserve, commit, release, ship, return, ...
    source: str         # who caused it: "platform:shop" for a channel's order, or the actor


class Shortfall(TypedDict):
    sku: str
    requested: int
    available: int
    shortfall: int


class OrderOversold(TypedDict, total=False):
    """A platform order the pool could not cover: recorded, ledger untouched, every listing pushed 0."""
    platform: str
    shop: str
    order_id: str
    reservation_id: str
    shortfall: list[Shortfall]


class OrderUnmapped(TypedDict):
    platform: str
    shop: str
    order_id: str
    unmapped: list[dict]


class ReservationLine(TypedDict):
    sku: str
    qty: int


class OrderNeedsAttention(TypedDict):
    """A platform order StockLink could not apply (more stock items than one transaction takes): nothing
    reserved, its lines kept on its record (GET /events?status=needs_attention), the platform answered 200.
    A person fulfils it by hand (adjustments) or has it split or cancelled."""
    platform: str
    shop: str
    order_id: str
    reservation_id: str
    kind: str                    # the order event: created, paid, returned
    reason: str
    lines: list[ReservationLine]  # master SKU lines


class ReservationAllocation(TypedDict):
    sku: str
    warehouse_id: str
    qty: int


class ReservationCommitted(TypedDict):
    """Demand happens at payment: sales counting reads the commit ledger entries of these streams."""
    reservation_id: str
    source: str
    channel: str
    committed_at: int
    lines: list[ReservationLine]
    allocations: list[ReservationAllocation]


class ReservationPreempted(TypedDict):
    """First paid wins: a paid order the pool could not cover took this unpaid hold of another channel. The
    hold is released whole (status_reason says by whom) in the paid order's own transaction; the stock.changed
    of that transaction pushes every listing of the SKUs, the hold's platform included."""
    reservation_id: str          # the preempted hold
    channel: str                 # the hold's channel
    by_reservation_id: str       # the paid order that took it
    by_channel: str
    lines: list[ReservationLine]  # the hold's lines, all released
    preempted_at: int            # epoch ms


class SyncAnomaly(TypedDict, total=False):
    """A read-back reconciliation could not explain (over_pool, lower_than_others, repeated failures)."""
    kind: str
    sku: str
    skus: list[str]
    platform: str
    shop: str
    listing_id: str
    severity: str
    description: str


class LedgerMismatch(TypedDict, total=False):
    """A stock item whose counters differ from its ledger replayed (first differing field named)."""
    sku: str
    warehouse_id: str
    field: str
    stored: int
    replayed: int
    stored_counters: dict
    replayed_counters: dict
    severity: str


class ForecastRequested(TypedDict):
    run_id: str


class ForecastSignal(TypedDict, total=False):
    """forecast.stockout_risk / forecast.burst / forecast.slow_mover for one SKU (fields by kind)."""
    sku: str
    run_id: str
    as_of: str
    abc_class: str
    stockout_date: str | None
    lead_time_days: int
    available: int
    suggested_order_qty: int
    burst_tail_prob: float
    demand_probability: float
    days_since_last_sale: int | None
    inventory_position: int


class OrderPollLag(TypedDict, total=False):
    """How far a pulled shop's order changes are behind (logic/order_poll): published each run while past the
    threshold, and once below it when the shop has caught up (which clears the alert)."""
    platform: str
    shop: str
    lag_s: int          # now - the update time every change up to which was read
    threshold_s: int
    error: str          # the last poll's failure, if it failed


class PulledRefundsUnread(TypedDict, total=False):
    """A pulled shop whose refunds pages the platform refuses for good (logic/order_poll: an app without the
    after-sales permission; its orders are still applied): published when they stop being read (unread True,
    with the platform's error) and once when a window's are read again (unread False, which clears the alert)."""
    platform: str
    shop: str
    unread: bool
    error: str          # the platform's refusal

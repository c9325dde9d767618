"""Alert kinds: the `kind` message attribute and the `rule` part of an alert key."""
from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    LOW_STOCK = "low_stock"
    OVERSTOCK = "overstock"
    OVERSELL = "oversell"
    UNMAPPED_SKU = "unmapped_sku"
    ORDER_NEEDS_ATTENTION = "order_needs_attention"
    SYNC_ANOMALY = "sync_anomaly"
    LEDGER_MISMATCH = "ledger_mismatch"
    PUSH_FAILURES = "push_failures"
    STOCKOUT_FORECAST = "stockout_forecast"
    DEMAND_BURST = "demand_burst"
    SLOW_MOVER = "slow_mover"
    EXPIRY = "expiry"
    LATE_PO = "late_po"
    ORDER_POLL_LAG = "order_poll_lag"
    PULLED_REFUNDS_UNREAD = "pulled_refunds_unread"

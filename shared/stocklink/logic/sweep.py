"""The periodic pass: release holds whose time is up (the reconciliation work extends this)."""
from __future__ import annotations

from stocklink.logic import reservations
from stocklink.observability import logger, metrics


def run_pass(now_ms: int) -> dict:
    released = reservations.release_expired(now_ms)
    metrics.add_metric(name="HoldsReleased", unit="Count", value=len(released))
    if released:
        logger.info("released expired holds", extra={"count": len(released)})
    return {"holds_released": len(released), "released": released}

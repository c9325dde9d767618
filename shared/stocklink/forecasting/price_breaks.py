"""Price breaks, without numpy: the replenishment list prices suggestions with them (forecast_api), which
must not load the numpy engine to do so (tests/bench/cold_import.py)."""
from __future__ import annotations


def price_at(q: int, price_breaks) -> float | None:
    """Unit price for an order of q: the break with the largest min_qty ≤ q (None without breaks)."""
    best = None
    for min_qty, price in sorted(price_breaks):
        if q >= min_qty:
            best = price
    if best is None and price_breaks:
        best = sorted(price_breaks)[0][1]
    return best

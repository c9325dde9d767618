"""Projected stock-out date: first day the cumulative forecast exceeds the stock we will have.

Day 1 is the day after `as_of` (history runs through as_of). Supply on day k = available now + every
in-transit quantity arriving on or before day k (a delivery dated D is sellable on D). The stock-out
day is the first k with sum(forecast[1..k]) > supply(k); None when that never happens in the horizon.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

from ._util import cumsum0


def arrivals_matrix(H: int, n: int, arrivals) -> np.ndarray:
    """(H, n) quantities arriving per day; arrivals: iterable of (sku_index, day_offset>=1, qty).

    Quantities already due (day_offset <= 1, e.g. overdue) count from day 1; beyond the horizon ignored.
    """
    A = np.zeros((H, n))
    for i, day, qty in arrivals:
        d = max(int(day), 1)
        if d <= H:
            A[d - 1, i] += qty
    return A


def stockout_day(F: np.ndarray, available, arrivals: np.ndarray | None = None) -> np.ndarray:
    """(n,) first day k (1-based) with cumulative forecast > supply, or 0 if none within F's horizon."""
    F = np.asarray(F, float)
    H, n = F.shape
    supply = np.broadcast_to(np.asarray(available, float), (n,))[None, :]
    if arrivals is not None:
        supply = supply + cumsum0(arrivals)[1:]
    short = cumsum0(F)[1:] > supply + 1e-9
    any_short = short.any(0)
    return np.where(any_short, short.argmax(0) + 1, 0)


def stockout_date(as_of: dt.date, day: int) -> dt.date | None:
    return as_of + dt.timedelta(days=int(day)) if day > 0 else None

"""Promotion calendar: configured events with a demand multiplier and a preparation lead time.

An event multiplies demand on its days (forecast × multiplier; past event days are divided by it
before fitting, so a past 11.11 does not inflate the baseline). `lead_days` is how far ahead the
event starts to matter for replenishment: while an event starts within `lead_days` of today, the
order-up-to level covers demand through the event's last day (policy.py).

Recurring events: "6.18" (18 June), "11.11" (11 November), "black_friday" (day after the 4th
Thursday of November), "double_12" (12 December); or any fixed date each year via month/day, or a
one-off date range.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np


def black_friday(year: int) -> dt.date:
    nov1 = dt.date(year, 11, 1)
    first_thu = nov1 + dt.timedelta(days=(3 - nov1.weekday()) % 7)
    return first_thu + dt.timedelta(days=22)  # 4th Thursday + 1 day


@dataclass(frozen=True)
class PromoEvent:
    name: str
    multiplier: float = 2.0
    lead_days: int = 30
    duration_days: int = 1
    month: int | None = None        # recurring every year on month/day ...
    day: int | None = None
    rule: str | None = None         # ... or by a named rule ("black_friday")
    start: dt.date | None = None    # ... or once, from this date
    skus: frozenset[str] | None = None  # None: every SKU takes part

    def starts_between(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """Start dates of occurrences that overlap [first, last]."""
        if self.start is not None:
            s = self.start
            return [s] if s <= last and s + dt.timedelta(days=self.duration_days - 1) >= first else []
        out = []
        for year in range(first.year - 1, last.year + 1):
            if self.rule == "black_friday":
                s = black_friday(year)
            elif self.month is not None and self.day is not None:
                s = dt.date(year, self.month, self.day)
            else:
                raise ValueError(f"event {self.name!r} needs month/day, rule or start")
            if s <= last and s + dt.timedelta(days=self.duration_days - 1) >= first:
                out.append(s)
        return out

    def applies_to(self, sku: str) -> bool:
        return self.skus is None or sku in self.skus


def standard_event(name: str, multiplier: float = 2.0, lead_days: int = 30, duration_days: int = 1,
                   skus=None) -> PromoEvent:
    fixed = {"6.18": (6, 18), "618": (6, 18), "11.11": (11, 11), "1111": (11, 11), "double_11": (11, 11),
             "12.12": (12, 12), "double_12": (12, 12)}
    key = name.lower().replace(" ", "_")
    skus = None if skus is None else frozenset(skus)
    if key in fixed:
        m, d = fixed[key]
        return PromoEvent(name, multiplier, lead_days, duration_days, month=m, day=d, skus=skus)
    if key == "black_friday":
        return PromoEvent(name, multiplier, lead_days, duration_days, rule="black_friday", skus=skus)
    raise ValueError(f"unknown standard event {name!r}")


def multipliers(first: dt.date, days: int, events, skus) -> np.ndarray:
    """Demand multiplier per day from `first` and SKU (1 outside events; overlapping events multiply).

    Shape (days, n), or (days, 1) to broadcast when no event in the window is limited to some SKUs.
    """
    n = len(skus)
    last = first + dt.timedelta(days=days - 1)
    per_sku = any(ev.skus is not None and ev.starts_between(first, last) for ev in events or ())
    out = np.ones((days, n if per_sku else 1))
    if not events or days <= 0:
        return out
    for ev in events:
        cols = slice(None) if ev.skus is None else [i for i, s in enumerate(skus) if s in ev.skus]
        for s in ev.starts_between(first, last):
            a = max((s - first).days, 0)
            b = min((s - first).days + ev.duration_days, days)
            if b > a:
                out[a:b, cols] *= ev.multiplier
    return out


def cover_until(as_of: dt.date, events, skus, horizon: int) -> np.ndarray:
    """(n,) days from as_of through the end of any event starting within its lead time (0 if none)."""
    n = len(skus)
    out = np.zeros(n, int)
    for ev in events or ():
        first = as_of + dt.timedelta(days=1)
        for s in ev.starts_between(first, as_of + dt.timedelta(days=ev.lead_days)):
            end = min((s - as_of).days + ev.duration_days - 1, horizon)
            cols = [i for i, k in enumerate(skus) if ev.applies_to(k)]
            out[cols] = np.maximum(out[cols], end)
    return out


def in_slow_season(date: dt.date, months) -> bool:
    return date.month in set(months or ())

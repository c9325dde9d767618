"""Yearly seasonality for SKUs with less than a year of history, borrowed from related SKUs that have one.

A SKU launched a few weeks ago has a level that describes those weeks; over the weeks ahead its demand
moves with the season as its group's established SKUs' demand moved a year earlier. Per group (the
backtest's POOL_KEY groups when given, else the whole batch), the references are the SKUs whose history
covers the last year and the weeks before it. A short SKU's forecast for day T + h is multiplied by

    m(h) = (R₂₁(T + h − 364) + 3k) / 21  ÷  (R_w(window − 364) + k·w/7) / w

R₂₁: the references' sales over the 21 days centred on that day 52 weeks earlier; R_w: their sales over
the w days the SKU's level describes (its last w = 7..28 days), 52 weeks earlier; k = PRIOR_UNITS
pseudo-units a week pulling a thin reference towards 1; then shrunk towards 1 by its noise
(YearlyRatios.multipliers). 52 weeks, not a calendar year, so both ends cover the same
weekdays (the weekday profile stays the weekday profile's job). A ratio of two points of last year's
curve carries the season and not last year's level: a group that grew since does not lift a new SKU.

Only the forecast path uses it (FitResult.path); backtests, and so RMSE and bias, are the models' own.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._util import cumsum0

YEAR = 364          # 52 weeks
MAX_WINDOW = 28     # the level window of a SKU: its last min(history, 28) days, in whole weeks
HALF = 10           # the reference day ± 10: three weeks centred on it
PRIOR_UNITS = 20.0  # pseudo-units per week of reference sales at the flat ratio 1
WEIGHT_CAP = 20.0   # a reference counts its expected units a week, up to this (see ratios)
MIN_SHORT = 7       # a SKU needs a week of its own for a level to scale


@dataclass
class YearlyRatios:
    """num: (YEAR, G) the groups' reference sales per day around T + h − 364 (with the prior), h = 0..363;
    group: (n,) a SKU's column in num, −1 for SKUs not adjusted; den: (n,) its level window's reference
    sales per day a year earlier (with the prior); noise: (n,) the variance of the log ratio's noise."""
    num: np.ndarray
    group: np.ndarray
    den: np.ndarray
    noise: np.ndarray

    def multipliers(self, H: int) -> tuple[np.ndarray, np.ndarray]:
        """(cols, (H, len(cols))): the SKUs adjusted and their multipliers for the H days after the history
        (beyond 52 weeks the last one). Each log ratio r is shrunk towards 0 by r² / (r² + noise): a
        season that stands out of the reference's noise is kept, one within it mostly dropped."""
        cols = np.flatnonzero(self.group >= 0)
        h = np.minimum(np.arange(H), YEAR - 1)
        r = np.log(self.num[h][:, self.group[cols]] / self.den[cols])
        r2 = r * r
        with np.errstate(invalid="ignore", divide="ignore"):
            keep = np.where(r2 > 0, r2 / (r2 + self.noise[cols]), 0.0)
        return cols, np.exp(keep * r)


NEED = YEAR + MAX_WINDOW + HALF   # the last days a reference's sales are read over (and it must cover)


def reference_sums(Y, lo, labels) -> dict:
    """{group label: (NEED,) its references' weighted sales on each of the last NEED days}: the additive
    part of the ratios, so a paged run sums it over the catalogue (pooled.GroupStats). References: SKUs
    with history from at least NEED rows before the end and sales in them."""
    Y = np.asarray(Y, float)
    T, n = Y.shape
    if T <= NEED:
        return {}
    mu = Y[T - NEED:].mean(0)
    ref = (np.asarray(lo, int) <= T - NEED) & (mu > 0)
    if not ref.any():
        return {}
    weight = np.minimum(7 * mu, WEIGHT_CAP) / np.where(mu > 0, mu, 1)
    lab = np.asarray(labels).astype(str)
    return {str(g): Y[T - NEED:, ref & (lab == g)] @ weight[ref & (lab == g)] for g in np.unique(lab[ref])}


def ratios(Y, lo, lengths, codes, sums: dict | None = None) -> YearlyRatios | None:
    """Yearly ratios for the SKUs with less than a year of history (lengths < 364, from `lo` on) whose
    group (codes: (n,) labels) has references (reference_sums: given for the catalogue, else the
    batch's). Y: (T, n) daily demand (stock-out days imputed). None when no SKU qualifies.

    Each reference counts as its sales over its own mean (a share of its year, not its units), weighted
    by its expected units a week up to WEIGHT_CAP: a slow mover's few sales say little about the season,
    and a big SKU's own wandering level must not become its group's season. The noise of a log ratio is
    estimated from the reference curve itself: the squared second differences of its weekly sums over
    the last year (a smooth season cancels) give the relative variance of a week, divided by the weeks
    in the numerator's and the denominator's windows."""
    lengths = np.asarray(lengths, int)
    n = lengths.shape[0]
    sums = reference_sums(Y, lo, codes) if sums is None else sums
    labels = np.asarray(codes).astype(str)
    short = (lengths < YEAR) & (lengths >= MIN_SHORT)
    groups = np.intersect1d(np.unique(labels[short]), np.array(sorted(sums), dtype=str))
    if groups.size == 0:
        return None
    T = NEED                                                 # rows of the reference sums: the last NEED days
    R = np.stack([sums[g] for g in groups.tolist()], axis=1)
    C = cumsum0(R)
    h = np.arange(YEAR)
    a = T + h - YEAR - HALF
    b = np.minimum(T + h - YEAR + HALF + 1, T)               # the window is cut at the last day of history
    num = (C[b] - C[a] + PRIOR_UNITS * (b - a)[:, None] / 7.0) / (b - a)[:, None]
    weeks = C[T - YEAR::7][1:] - C[T - YEAR::7][:-1]         # (52, G) weekly reference sums, last year
    d2 = weeks[2:] - 2 * weeks[1:-1] + weeks[:-2]
    rel_week = (d2 * d2).mean(0) / 6.0 / np.maximum(weeks.mean(0), 1e-9) ** 2
    col = np.full(n, -1)
    pos = np.searchsorted(groups, labels)
    has = short & (pos < groups.size) & (groups[np.minimum(pos, groups.size - 1)] == labels)
    col[has] = pos[has]
    w = np.clip(7 * np.round(lengths / 7.0).astype(int), 7, MAX_WINDOW)
    end = T - YEAR
    cidx = np.maximum(col, 0)
    den = (C[end, cidx] - C[end - w, cidx] + PRIOR_UNITS * w / 7.0) / w
    noise = rel_week[cidx] * (7.0 / (2 * HALF + 1) + 7.0 / w)
    return YearlyRatios(num, col, np.where(has, den, 1.0), np.where(has, noise, 0.0))

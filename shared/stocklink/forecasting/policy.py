"""Replenishment policy: safety stock, reorder point, order-up-to, order rounding, seed rules.

Our policy is (s, S) reviewed daily: order when inventory position (available + in transit) ≤ s,
enough to bring it to S.
  s = reorder point = forecast demand over the lead time L + SS
  S = order-up-to  = forecast demand over max(L + R, promo cover) + SS   (R: review period / order cycle)
  SS = z·sqrt(L·σ_d² + d²·σ_L²)
with z the normal quantile of the cycle service level, σ_d the backtest RMSE (units/day), d the mean
daily forecast over the lead time and σ_L the lead-time spread (days). Slow movers (intermittent /
lumpy, or under `DISCRETE_MAX_MEAN` units over the lead time) take s from the service-level quantile
of a Poisson (variance ≤ mean) or negative-binomial lead-time demand with that same mean and
variance, and SS = s − mean: the normal is poor for a handful of units.

The seed rules from the sellers' old spreadsheets are named policies (`seed_levels`) so the replay
benchmark can compare them: each gives a target stock level that is both s and S.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from ._util import cumsum0
from .distributions import count_quantile, norm_ppf
from .price_breaks import price_at

DISCRETE_MAX_MEAN = 30.0
DISCRETE_HARD_MAX = 200.0  # above this the normal approximation is good, and the sum loop would be long

FORECAST = "forecast"
SEED_7D = "seed_7d_sales_x1.5"
SEED_AVG_LT = "seed_daily_avg_x_lt_plus_7_x1.5"
NAMED_POLICIES = {
    FORECAST: "forecast: demand over lead time + SS (backtest error), order-up-to with review period",
    SEED_7D: "7-day sales × 1.5",
    SEED_AVG_LT: "daily average × (lead time + 7) × 1.5",
}


def demand_over(F: np.ndarray, days) -> np.ndarray:
    """Sum of daily forecasts F (H, n) over the first `days` (n,) days, fractional days pro rata."""
    H, n = F.shape
    days = np.clip(np.broadcast_to(np.asarray(days, float), (n,)), 0, H)
    CF = cumsum0(F)
    whole = np.floor(days).astype(int)
    frac = days - whole
    cols = np.arange(n)
    nxt = F[np.minimum(whole, H - 1), cols]
    return CF[whole, cols] + np.where(whole < H, frac * nxt, 0.0)


def safety_stock_normal(service_level, lead_time, lead_time_std, daily_demand, sigma_d):
    """SS = z·sqrt(L·σ_d² + d²·σ_L²), vectorised; z from the service level."""
    sl = np.asarray(service_level, float)
    z = np.vectorize(norm_ppf, otypes=[float])(sl) if sl.ndim else norm_ppf(float(sl))
    L = np.asarray(lead_time, float)
    return z * np.sqrt(L * np.asarray(sigma_d, float) ** 2 +
                       np.asarray(daily_demand, float) ** 2 * np.asarray(lead_time_std, float) ** 2)


def lead_time_quantile(service_level: float, mean, var) -> np.ndarray:
    """Service-level quantile of lead-time demand: Poisson if var ≤ mean, else negative binomial."""
    return count_quantile(service_level, mean, np.maximum(np.asarray(var, float), np.asarray(mean, float)))


@dataclass
class Levels:
    safety_stock: np.ndarray
    reorder_point: np.ndarray
    order_up_to: np.ndarray
    lead_time_demand: np.ndarray
    discrete: np.ndarray  # bool: SS from a Poisson / NB quantile


def forecast_levels(F, lead_time, lead_time_std, sigma_d, service_level, review_period, slow_class,
                    cover_days=None) -> Levels:
    """Vectorised levels for n SKUs; F (H, n) is the daily forecast from tomorrow."""
    H, n = F.shape
    L = np.broadcast_to(np.asarray(lead_time, float), (n,))
    sL = np.broadcast_to(np.asarray(lead_time_std, float), (n,))
    sd = np.broadcast_to(np.asarray(sigma_d, float), (n,))
    sl = np.broadcast_to(np.asarray(service_level, float), (n,))
    R = np.broadcast_to(np.asarray(review_period, float), (n,))
    mu = demand_over(F, L)
    d = np.where(L > 0, mu / np.where(L > 0, L, 1), F[0] if H else 0.0)
    var = L * sd * sd + d * d * sL * sL
    ss = np.zeros(n)
    for level in np.unique(sl):
        idx = sl == level
        ss[idx] = norm_ppf(float(level)) * np.sqrt(var[idx])
    discrete = (np.asarray(slow_class, bool) | (mu < DISCRETE_MAX_MEAN)) & (mu < DISCRETE_HARD_MAX) & (mu > 0)
    for level in np.unique(sl[discrete]):
        idx = discrete & (sl == level)
        q = lead_time_quantile(float(level), mu[idx], var[idx])
        ss[idx] = np.maximum(q - mu[idx], 0.0)
    ss = np.maximum(ss, 0.0)
    cover = L + R if cover_days is None else np.maximum(L + R, np.asarray(cover_days, float))
    return Levels(safety_stock=ss, reorder_point=mu + ss, order_up_to=demand_over(F, cover) + ss,
                  lead_time_demand=mu, discrete=discrete)


def seed_levels(name: str, Y: np.ndarray, lead_time, as_of: dt.date | None = None, promo_soon=None,
                slow_season: bool = False, promo_multiplier: float = 2.0,
                slow_season_multiplier: float = 1.2, avg_days: int = 30) -> np.ndarray:
    """Target stock of a seed rule from recent daily sales Y (T, n) (last row = yesterday).

    "7-day sales × 1.5": 1.5 × the last 7 days' sales.
    "daily average × (lead time + 7) × 1.5": mean of the last `avg_days` days × (L + 7) × 1.5.
    Both × 2 while a promotion starts within 30 days (`promo_soon`, bool per SKU) and × 1.2 in the
    slow season — as the seed spreadsheets did. The target serves as reorder point and order-up-to.
    """
    Y = np.asarray(Y, float)
    n = Y.shape[1]
    if name == SEED_7D:
        target = 1.5 * Y[-7:].sum(0)
    elif name == SEED_AVG_LT:
        target = Y[-avg_days:].mean(0) * (np.broadcast_to(np.asarray(lead_time, float), (n,)) + 7) * 1.5
    else:
        raise KeyError(f"unknown seed policy {name!r}; known: {SEED_7D}, {SEED_AVG_LT}")
    if promo_soon is not None:
        target = np.where(np.asarray(promo_soon, bool), target * promo_multiplier, target)
    if slow_season:
        target = target * slow_season_multiplier
    return target


def order_quantity(inventory_position, reorder_point, order_up_to) -> np.ndarray:
    """Raw quantity of the (s, S) rule: S − IP when IP ≤ s, else 0 (before rounding)."""
    ip = np.asarray(inventory_position, float)
    return np.where(ip <= np.asarray(reorder_point, float), np.maximum(np.asarray(order_up_to, float) - ip, 0.0), 0.0)


@dataclass(frozen=True)
class Rounded:
    qty: int
    unit_price: float | None
    reason: str


def round_order(qty: float, moq: int = 1, case_pack: int = 1, price_breaks=(), daily_demand: float = 0.0,
                holding_rate: float = 0.25, max_cover_days: float = 180.0) -> Rounded:
    """Round a raw need up to MOQ and whole case packs, then consider price breaks.

    Break rule: going up to a break's quantity Q from the needed quantity q pays when the money saved
    on all Q units at the lower price, Q·(p(q) − p(Q)), exceeds the holding cost of the Q − q extra
    units, (Q − q)·p(Q)·holding_rate/365·t, where t = q/d + (Q − q)/(2d) is how long they wait on
    average (sold after the needed units, at d per day). A break is never taken if Q would cover more
    than `max_cover_days` of demand (obsolescence), nor without demand. Best net saving wins.
    """
    if qty <= 0:
        return Rounded(0, None, "no order needed")
    pack = max(int(case_pack), 1)
    q = max(float(qty), float(moq))
    need = int(math.ceil(q / pack - 1e-9)) * pack
    reason = "rounded up to MOQ" if moq > qty else "rounded up to case pack" if need > qty else "exact"
    if moq > qty and need > moq:
        reason = "rounded up to MOQ and case pack"
    if not price_breaks:
        return Rounded(need, None, reason)
    p_need = price_at(need, price_breaks)
    best, best_gain, best_price = need, 0.0, p_need
    if daily_demand > 0:
        for min_qty, price in sorted(price_breaks):
            if min_qty <= need:
                continue
            Q = int(math.ceil(min_qty / pack - 1e-9)) * pack
            if Q / daily_demand > max_cover_days:
                continue
            pQ = price_at(Q, price_breaks)
            extra = Q - need
            wait = need / daily_demand + extra / (2 * daily_demand)
            gain = Q * (p_need - pQ) - extra * pQ * holding_rate / 365.0 * wait
            if gain > best_gain + 1e-12:
                best, best_gain, best_price = Q, gain, pQ
    if best != need:
        return Rounded(best, best_price, f"price break at {best}: saves {best_gain:.2f} net of holding")
    return Rounded(need, p_need, reason)

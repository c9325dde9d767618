"""Structure shared by related series: what a SKU with a few weeks of history borrows from its group.

Groups are labels per SKU (e.g. {"store": ..., "category": ...}; none given: the whole batch is one group).

- Seasonal profile (weekday of daily data): the batch's profile (shrunk towards flat by GROUP_PRIOR_UNITS
  pseudo-units, which only a small batch notices), each group's shrunk towards it by
  GROUP_PRIOR_UNITS pseudo-units, combined multiplicatively over the keys (store effect × category effect),
  is the target each SKU's own profile is shrunk towards (profile_from_sums with `target`): with three
  weeks of history a SKU's week is mostly its group's, with a year mostly its own.
- Level: a SKU with fewer than 28 days of its own has its level shrunk towards its group's median level
  by LEVEL_PRIOR_DAYS pseudo-days (shrink_level).
- Choices on short hold-outs: a grid parameter (pooled_pick) or a forecasting option (pooled_choice) is
  chosen by the sum over a group's SKUs of their scale-free squared errors (SSE / the SKU's scale), so no
  SKU's choice can latch onto one day of its own (an α of 1 chasing a Saturday peak).
"""
from __future__ import annotations

import numpy as np

GROUP_PRIOR_UNITS = 50.0  # pseudo-units of expected sales per season pulling a group's profile to the batch's
LEVEL_PRIOR_DAYS = 2.0    # pseudo-days of the group's level in a new SKU's level


def group_codes(groups, n: int) -> list:
    """[(n,) int codes per key], in sorted key order; [] without groups."""
    out = []
    for key in sorted(groups or {}):
        labels = np.asarray(groups[key])
        if labels.shape != (n,):
            raise ValueError(f"groups[{key!r}] must have one label per SKU")
        out.append(np.unique(labels.astype(str), return_inverse=True)[1].reshape(n))
    return out


def combined_codes(codes: list, n: int, extra=None) -> np.ndarray:
    """(n,) one code per distinct combination of the given code arrays (and `extra` labels)."""
    cols = list(codes) + ([np.unique(np.asarray(extra).astype(str), return_inverse=True)[1].reshape(n)]
                          if extra is not None else [])
    if not cols:
        return np.zeros(n, int)
    return np.unique(np.stack(cols, axis=1), axis=0, return_inverse=True)[1].reshape(n)


def group_profile(S, N, codes: list, dispersion=None) -> np.ndarray:
    """(m, n) target profile per SKU from season sums S, N (m, n): the batch's profile times each key's
    group effect (its group's profile, shrunk towards the batch's, over the batch's). Leave-one-out: a
    SKU's own sales are not in its target (they count once, in profile_from_sums), so a SKU alone in its
    batch is shrunk towards flat as before pooling. dispersion (n,): each SKU's sales count in Poisson
    units (divided by its seasonal.dispersion_index), so one SKU's few big orders do not make its
    group's week."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = S.sum(0) / np.maximum(N.sum(0), 1)
    if dispersion is not None:
        S = S / dispersion
        mu = mu / dispersion
    E = N * mu  # expected sales per season at a flat profile
    base = (S.sum(1, keepdims=True) - S + GROUP_PRIOR_UNITS) / (E.sum(1, keepdims=True) - E + GROUP_PRIOR_UNITS)
    base = _normalise(base)
    out = base.copy()
    for c in codes:
        k = int(c.max()) + 1 if c.size else 0
        gs, ge = np.zeros((S.shape[0], k)), np.zeros((S.shape[0], k))
        for d in range(S.shape[0]):
            gs[d] = np.bincount(c, weights=S[d], minlength=k)
            ge[d] = np.bincount(c, weights=E[d], minlength=k)
        g = (gs[:, c] - S + GROUP_PRIOR_UNITS * base) / (ge[:, c] - E + GROUP_PRIOR_UNITS)
        out *= _normalise(g) / base
    return _normalise(out)


def _normalise(P) -> np.ndarray:
    P = np.maximum(P, 1e-6)
    return P / P.mean(0)


def shrink_level(level, days, codes_all: np.ndarray, eligible) -> np.ndarray:
    """Levels of SKUs with few days (days < 28) shrunk towards their group's median level (of SKUs with
    at least 28 days): (days·level + LEVEL_PRIOR_DAYS·group) / (days + LEVEL_PRIOR_DAYS)."""
    level = np.asarray(level, float).copy()
    days = np.asarray(days, float)
    settled = days >= 28
    short = eligible & (days < 28)
    if not short.any() or not settled.any():
        return level
    for g in np.unique(codes_all[short]):
        ref = settled & (codes_all == g)
        if not ref.any():
            ref = settled
        target = float(np.median(level[ref]))
        j = short & (codes_all == g)
        level[j] = (days[j] * level[j] + LEVEL_PRIOR_DAYS * target) / (days[j] + LEVEL_PRIOR_DAYS)
    return level


def pooled_pick(grid, sse, scale, codes: np.ndarray, use) -> tuple[np.ndarray, np.ndarray]:
    """Per-SKU grid value and index from (k, n) SSE: each SKU's own best, except SKUs in `use`, which take
    their group's best by the sum of SSE / scale over the group's SKUs in `use`."""
    sse = np.asarray(sse, float)
    idx = np.argmin(sse, axis=0)
    use = np.asarray(use, bool)
    if use.any():
        w = np.where(use, 1.0 / np.maximum(scale, 1e-9), 0.0)
        k = int(codes.max()) + 1
        pooled = np.stack([np.bincount(codes, weights=np.where(np.isfinite(r), r, 0.0) * w, minlength=k)
                           for r in sse])
        idx = np.where(use, np.argmin(pooled, axis=0)[codes], idx)
    return np.asarray(grid, float)[idx], idx


def pooled_choice(mse, scale, codes: np.ndarray, use, route, switch_margin: float, options=None) -> np.ndarray:
    """(n,) chosen option for SKUs in `use` from the options' MSE (O, n): the option with the lowest sum of
    MSE / scale over the group's SKUs in `use` (options some of them cannot score are out), kept at the
    route unless that beats the route's pooled sum by more than switch_margin. Others: −1."""
    O, n = mse.shape
    use = np.asarray(use, bool)
    out = np.full(n, -1)
    if not use.any():
        return out
    k = int(codes.max()) + 1
    w = np.where(use, 1.0 / np.maximum(scale, 1e-9), 0.0)
    finite = np.isfinite(mse)
    pooled = np.stack([np.bincount(codes, weights=np.where(finite[o], mse[o], 0.0) * w, minlength=k)
                       for o in range(O)])
    broken = np.stack([np.bincount(codes, weights=(~finite[o] & use).astype(float), minlength=k) > 0
                       for o in range(O)])
    pooled = np.where(broken, np.inf, pooled)
    if options is not None:
        pooled[options:] = np.inf
    best = np.argmin(pooled, axis=0)
    route_g = np.zeros(k, int)
    route_g[codes[use]] = np.asarray(route)[use]   # a group's SKUs share a route (same class and length band)
    cols = np.arange(k)
    keep = pooled[route_g, cols] <= pooled[best, cols] * (1 + switch_margin)
    g_choice = np.where(keep, route_g, best)
    out[use] = g_choice[codes[use]]
    return out

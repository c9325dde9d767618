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

import io
from dataclasses import dataclass, field

import numpy as np

GROUP_PRIOR_UNITS = 50.0  # pseudo-units of expected sales per season pulling a group's profile to the batch's
LEVEL_PRIOR_DAYS = 2.0    # pseudo-days of the group's level in a new SKU's level
LEVEL_REF_DAYS = 28       # a SKU with this much history is a level reference for its group's new SKUs


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


def profile_sums(S, N, codes: list, dispersion=None) -> tuple[np.ndarray, list]:
    """Additive season sums of a batch for group_profile: (total (2, m), [{label: (2, m)} per code array]):
    Σ sales (in Poisson units: divided by each SKU's dispersion) and Σ sales expected at a flat profile
    (periods × the SKU's mean), over all SKUs and per group. Sums of pages add up to the catalogue's."""
    S, E = _units(S, N, dispersion)
    total = np.stack([S.sum(1), E.sum(1)])
    per_key = []
    for c in codes:
        labels, inv = np.unique(np.asarray(c).astype(str), return_inverse=True)
        inv = inv.reshape(-1)
        k = labels.size
        gs = np.stack([np.bincount(inv, weights=S[d], minlength=k) for d in range(S.shape[0])])
        ge = np.stack([np.bincount(inv, weights=E[d], minlength=k) for d in range(S.shape[0])])
        per_key.append({str(lab): np.stack([gs[:, j], ge[:, j]]) for j, lab in enumerate(labels)})
    return total, per_key


def _units(S, N, dispersion):
    """(S, E) per SKU: sales in Poisson units and sales expected per season at a flat profile."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = S.sum(0) / np.maximum(N.sum(0), 1)
    if dispersion is not None:
        S = S / dispersion
        mu = mu / dispersion
    return S, N * mu


def group_profile(S, N, codes: list, dispersion=None, sums=None) -> np.ndarray:
    """(m, n) target profile per SKU from season sums S, N (m, n): the batch's profile times each key's
    group effect (its group's profile, shrunk towards the batch's, over the batch's). Leave-one-out: a
    SKU's own sales are not in its target (they count once, in profile_from_sums), so a SKU alone in its
    batch is shrunk towards flat as before pooling. dispersion (n,): each SKU's sales count in Poisson
    units (divided by its seasonal.dispersion_index), so one SKU's few big orders do not make its
    group's week. sums: (total, per-key tables) of profile_sums over the whole catalogue (a paged run's
    first pass, GroupStats), so the groups are the catalogue's and not the page's; default: the batch's.
    Own sales are taken out of them (floored at 0: a SKU listed after the first pass is in none)."""
    total, tables = sums if sums is not None else profile_sums(S, N, codes, dispersion)
    S, E = _units(S, N, dispersion)
    tot_s, tot_e = total[0][:, None], total[1][:, None]
    base = (np.maximum(tot_s - S, 0) + GROUP_PRIOR_UNITS) / (np.maximum(tot_e - E, 0) + GROUP_PRIOR_UNITS)
    base = _normalise(base)
    out = base.copy()
    for c, table in zip(codes, tables):
        labels, inv = np.unique(np.asarray(c).astype(str), return_inverse=True)
        zero = np.zeros((2, S.shape[0]))
        G = np.stack([table.get(str(lab), zero) for lab in labels], axis=2)   # (2, m, k)
        gs, ge = G[0][:, inv.reshape(-1)], G[1][:, inv.reshape(-1)]
        g = (np.maximum(gs - S, 0) + GROUP_PRIOR_UNITS * base) / (np.maximum(ge - E, 0) + GROUP_PRIOR_UNITS)
        out *= _normalise(g) / base
    return _normalise(out)


def _normalise(P) -> np.ndarray:
    P = np.maximum(P, 1e-6)
    return P / P.mean(0)


def level_refs(Y, lengths, labels) -> dict:
    """{label: (k,) mean daily demand over the last LEVEL_REF_DAYS days of each SKU with at least that
    much history}: the levels a new SKU of the group is shrunk towards (whole weeks, so the weekday
    profile cancels; the plain mean, so a page's profiles do not enter a catalogue statistic)."""
    Y = np.asarray(Y, float)
    settled = np.asarray(lengths) >= LEVEL_REF_DAYS
    if not settled.any():
        return {}
    level = Y[-LEVEL_REF_DAYS:, settled].mean(0)
    lab = np.asarray(labels).astype(str)[settled]
    return {str(g): level[lab == g] for g in np.unique(lab)}


def shrink_level(level, days, codes_all, eligible, refs: dict | None = None) -> np.ndarray:
    """Levels of SKUs with few days (days < 28) shrunk towards their group's median level (refs: the
    groups' level_refs, by default those of the batch; a group without any: all groups'):
    (days·level + LEVEL_PRIOR_DAYS·group) / (days + LEVEL_PRIOR_DAYS). codes_all: (n,) group labels."""
    level = np.asarray(level, float).copy()
    days = np.asarray(days, float)
    labels = np.asarray(codes_all).astype(str)
    refs = level_refs_of(level, days, labels) if refs is None else refs
    short = eligible & (days < LEVEL_REF_DAYS)
    if not short.any() or not refs:
        return level
    everyone = None
    for g in np.unique(labels[short]):
        ref = refs.get(str(g))
        if ref is None or not len(ref):
            everyone = np.concatenate(list(refs.values())) if everyone is None else everyone
            ref = everyone
        target = float(np.median(ref))
        j = short & (labels == g)
        level[j] = (days[j] * level[j] + LEVEL_PRIOR_DAYS * target) / (days[j] + LEVEL_PRIOR_DAYS)
    return level


def level_refs_of(level, days, labels) -> dict:
    """level_refs from given levels (SKUs with days ≥ LEVEL_REF_DAYS), by label."""
    settled = np.asarray(days) >= LEVEL_REF_DAYS
    lab = np.asarray(labels).astype(str)
    return {str(g): np.asarray(level, float)[settled & (lab == g)] for g in np.unique(lab[settled])}


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


@dataclass
class GroupStats:
    """What a SKU borrows from its groups, summed over the whole catalogue: a paged run computes one per
    page in a first pass (backtest.group_stats), merges them and gives the result to every page, so a new
    SKU borrows its catalogue group's week, level and year, whichever 200 SKUs share its page.

    total, profile: profile_sums (seasonal profile targets; `profile` in the order of the codes: sorted
    group keys, then the demand band); levels: level_refs by choice group (category × demand class);
    yearly: yearly.reference_sums by category. All sums but the level lists (a median is not one)."""
    total: np.ndarray | None = None
    profile: list = field(default_factory=list)
    levels: dict = field(default_factory=dict)
    yearly: dict = field(default_factory=dict)

    def merge(self, other: "GroupStats") -> "GroupStats":
        if self.total is None:
            return other
        if other.total is None:
            return self
        profile = [_add(a, b) for a, b in zip(self.profile, other.profile)]
        levels = {k: np.concatenate([self.levels.get(k, np.zeros(0)), other.levels.get(k, np.zeros(0))])
                  for k in {**self.levels, **other.levels}}
        return GroupStats(self.total + other.total, profile, levels, _add(self.yearly, other.yearly))

    def to_bytes(self) -> bytes:
        """Compressed .npz (numpy arrays only: loaded with allow_pickle=False)."""
        arrays, names = {}, []

        def put(kind, label, value):
            names.append(f"{kind}\x1f{label}")
            arrays[f"a{len(names) - 1}"] = np.asarray(value, float)
        if self.total is not None:
            put("t", "", self.total)
        for k, table in enumerate(self.profile):
            names.append(f"k\x1f{k}")
            arrays[f"a{len(names) - 1}"] = np.zeros(0)
            for label, v in table.items():
                put(f"p{k}", label, v)
        for kind, table in (("l", self.levels), ("y", self.yearly)):
            for label, v in table.items():
                put(kind, label, v)
        buf = io.BytesIO()
        np.savez_compressed(buf, names=np.array(names, dtype=str), **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "GroupStats":
        z = np.load(io.BytesIO(data), allow_pickle=False)
        out = cls()
        for i, name in enumerate(z["names"].tolist()):
            kind, label = name.split("\x1f", 1)
            v = z[f"a{i}"]
            if kind == "t":
                out.total = v
            elif kind == "k":
                out.profile.append({})
            elif kind.startswith("p"):
                out.profile[int(kind[1:])][label] = v
            else:
                (out.levels if kind == "l" else out.yearly)[label] = v
        return out


def _add(a: dict, b: dict) -> dict:
    return {k: a[k] + b[k] if k in a and k in b else (a[k] if k in a else b[k]) for k in {**a, **b}}

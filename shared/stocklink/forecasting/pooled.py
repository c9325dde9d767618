"""Structure shared by related series: what a SKU with a few weeks of history borrows from its group.

Groups are labels per SKU (e.g. {"store": ..., "category": ...}; none given: the whole batch is one group).

- Seasonal profile (weekday of daily data): the batch's profile (shrunk towards flat by GROUP_PRIOR_UNITS
  pseudo-units, which only a small batch notices), each group's shrunk towards it by
  GROUP_PRIOR_UNITS pseudo-units, combined multiplicatively over the keys (store effect × category effect),
  is the target each SKU's own profile is shrunk towards (profile_from_sums with `target`): with three
  weeks of history a SKU's week is mostly its group's, with a year mostly its own.
- Level: a SKU with fewer than 28 days of its own has its level shrunk towards its group's median level
  (the mean of the last 28 days of each SKU with that much history) by LEVEL_PRIOR_DAYS pseudo-days
  (shrink_level).
- Choices on short hold-outs: a grid parameter (pooled_pick) or a forecasting option (pooled_choice) is
  chosen by the sum over a group's SKUs of their scale-free squared errors (SSE / the SKU's scale), so no
  SKU's choice can latch onto one day of its own (an α of 1 chasing a Saturday peak).

A paged run gives every page the catalogue's statistics (GroupStats: each page's sums, merged), so the
groups are the catalogue's, not the page's; it forecasts the SKUs that choose together in pages by group
(group_pages).
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

GROUP_PRIOR_UNITS = 50.0  # pseudo-units of expected sales per season pulling a group's profile to the batch's
LEVEL_PRIOR_DAYS = 2.0    # pseudo-days of the group's level in a new SKU's level
LEVEL_REF_DAYS = 28       # a SKU with this much history is a level reference for its group's new SKUs
ALL_LEVELS = "\x1eall"   # GroupStats.finalised: the median level of all groups (for a group without any)


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
    everyone = refs.get(ALL_LEVELS)
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
    yearly: yearly.reference_sums by category. All sums but the level lists (a median is not one).
    choosers: {sku: choice group} of the SKUs whose short history chooses its parameters and method with
    its group (backtest.POOL_BELOW_DAYS): a paged run forecasts each such group in one page."""
    total: np.ndarray | None = None
    profile: list = field(default_factory=list)
    levels: dict = field(default_factory=dict)
    yearly: dict = field(default_factory=dict)
    choosers: dict = field(default_factory=dict)

    def merge(self, other: "GroupStats") -> "GroupStats":
        return GroupStats.merge_all([self, other])

    @classmethod
    def merge_all(cls, parts) -> "GroupStats":
        """The sums of all parts (each page's), their level lists joined."""
        parts = [p for p in parts if p.total is not None]
        if not parts:
            return cls()
        profile = [{} for _ in parts[0].profile]
        yearly: dict = {}
        levels: dict = {}
        choosers: dict = {}
        for p in parts:
            choosers.update(p.choosers)
            for acc, table in zip(profile, p.profile):
                _add_into(acc, table)
            _add_into(yearly, p.yearly)
            for k, v in p.levels.items():
                levels.setdefault(k, []).append(v)
        levels = {k: np.concatenate(v) for k, v in levels.items()}
        return cls(sum(p.total for p in parts), profile, levels, yearly, choosers)

    def finalised(self) -> "GroupStats":
        """The same statistics with each group's level list replaced by its median (and ALL_LEVELS: the
        median of all), all shrink_level reads of them: a few bytes a group instead of 8 a SKU; without
        the choosers (the run has planned their pages)."""
        if not self.levels:
            return GroupStats(self.total, self.profile, {}, self.yearly)
        levels = {k: np.array([np.median(v)]) for k, v in self.levels.items() if len(v) and k != ALL_LEVELS}
        levels[ALL_LEVELS] = self.levels.get(ALL_LEVELS, np.array([np.median(np.concatenate(
            [v for k, v in self.levels.items()]))]))
        return GroupStats(self.total, self.profile, levels, self.yearly)

    def to_bytes(self) -> bytes:
        """Compressed .npz of a few arrays per table (labels, stacked values), numpy types only: loaded with
        allow_pickle=False."""
        arrays = {"total": np.zeros((2, 0)) if self.total is None else np.asarray(self.total, float),
                  "n_profile": np.array(len(self.profile))}
        tables = [(f"p{k}", t) for k, t in enumerate(self.profile)] + [("y", self.yearly)]
        for name, table in tables:
            labels = sorted(table)
            arrays[f"{name}_labels"] = np.array(labels, dtype=str)
            arrays[f"{name}_values"] = np.stack([table[k] for k in labels]) if labels else np.zeros(0)
        labels = sorted(self.levels)
        arrays["l_labels"] = np.array(labels, dtype=str)
        arrays["l_counts"] = np.array([len(self.levels[k]) for k in labels], dtype=np.int64)
        arrays["l_values"] = np.concatenate([self.levels[k] for k in labels]) if labels else np.zeros(0)
        skus = sorted(self.choosers)
        arrays["c_skus"] = np.array(skus, dtype=str)
        arrays["c_groups"] = np.array([self.choosers[k] for k in skus], dtype=str)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "GroupStats":
        z = dict(np.load(io.BytesIO(data), allow_pickle=False))
        total = z["total"] if z["total"].size else None

        def table(name):
            return dict(zip(z[f"{name}_labels"].tolist(), z[f"{name}_values"]))
        profile = [table(f"p{k}") for k in range(int(z["n_profile"]))]
        ends = np.cumsum(z["l_counts"])
        levels = {k: z["l_values"][e - c:e] for k, c, e in zip(z["l_labels"].tolist(), z["l_counts"], ends)}
        choosers = dict(zip(z["c_skus"].tolist(), z["c_groups"].tolist()))
        return cls(total, profile, levels, table("y"), choosers)


def group_pages(choosers: dict, page_size: int) -> list[list[str]]:
    """Pages of at most page_size SKUs holding each choice group ({sku: group}) whole where it fits in one
    (groups in label order, packed first-fit into the current page); a bigger group fills pages of its
    own (its choice then pools over page_size of its SKUs: plenty to choose on)."""
    by_group: dict = {}
    for sku, g in choosers.items():
        by_group.setdefault(g, []).append(sku)
    pages: list = []
    current: list = []
    for g in sorted(by_group):
        skus = sorted(by_group[g])
        if len(skus) > page_size:
            pages += [skus[i:i + page_size] for i in range(0, len(skus), page_size)]
            continue
        if len(current) + len(skus) > page_size:
            pages.append(current)
            current = []
        current += skus
    return pages + ([current] if current else [])


def _add_into(acc: dict, table: dict) -> None:
    for k, v in table.items():
        acc[k] = acc[k] + v if k in acc else np.array(v, float)

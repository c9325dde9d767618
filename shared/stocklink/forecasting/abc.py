"""ABC classes by cumulative revenue share (A up to 80 %, B up to 95 %, C the rest).

SKUs are ranked by revenue (ties by input order). A SKU is A when the revenue of the SKUs ranked
above it is below 80 % of the total, i.e. it is one of those needed to reach 80 %; so a single SKU
with 90 % of revenue is A, and with shares 50/30/15/5 the classes are A, A, B, C. SKUs with no
revenue are always C.
"""
from __future__ import annotations

import numpy as np

A_SHARE = 0.80
B_SHARE = 0.95


def abc_classes(revenue, a_share: float = A_SHARE, b_share: float = B_SHARE) -> np.ndarray:
    rev = np.maximum(np.asarray(revenue, dtype=float), 0.0)
    out = np.full(rev.shape, "C", dtype=object)
    total = rev.sum()
    if total <= 0:
        return out
    order = np.argsort(-rev, kind="stable")
    before = np.concatenate(([0.0], np.cumsum(rev[order])[:-1]))
    tol = 1e-9 * total
    cls = np.where(before < a_share * total - tol, "A", np.where(before < b_share * total - tol, "B", "C"))
    cls = np.where(rev[order] > 0, cls, "C")
    out[order] = cls
    return out


# --- catalogue-wide classes computed in pages ------------------------------------------------------
# A run pages over the catalogue, so the classes come from one pass over every SKU's revenue first:
# `cut_points` turns all revenues into the rank keys of the last A and the last B SKU, and each page
# then classifies its own SKUs with `classes_from_cuts`, which gives exactly `abc_classes` over the
# whole catalogue listed in name order (ties by name). Revenues must be computed the same way in both
# passes (bit for bit: use math.fsum) or a SKU sitting on a cut could change class.

def _key(rev: float, name: str) -> tuple:
    return (-float(rev), name)


def cut_points(revenue: dict, a_share: float = A_SHARE, b_share: float = B_SHARE) -> dict:
    """{"A": [revenue, name] of the last A SKU or None, "B": same for B} from {name: revenue}."""
    names = sorted(revenue)
    cls = abc_classes([revenue[s] for s in names], a_share, b_share)
    cuts = {"A": None, "B": None}
    for label in ("A", "B"):
        members = [s for s, c in zip(names, cls) if c == label]
        if members:
            last = max(members, key=lambda s: _key(revenue[s], s))
            cuts[label] = [float(revenue[last]), last]
    return cuts


def classes_from_cuts(revenue: dict, cuts: dict) -> dict:
    """{name: "A" | "B" | "C"} for any subset of the SKUs `cut_points` saw."""
    ka = _key(*cuts["A"]) if cuts.get("A") else None
    kb = _key(*cuts["B"]) if cuts.get("B") else None
    out = {}
    for name, rev in revenue.items():
        k = _key(rev, name)
        if rev <= 0:
            out[name] = "C"
        elif ka is not None and k <= ka:
            out[name] = "A"
        elif kb is not None and k <= kb:
            out[name] = "B"
        else:
            out[name] = "C"
    return out

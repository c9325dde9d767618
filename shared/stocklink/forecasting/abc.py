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

"""Demand classification by ADI / CV² (Syntetos–Boylan–Croston cut-offs 1.32 and 0.49).

ADI = days observed / days with a sale; CV² = variance / mean² of the non-zero sizes (population
variance, so sizes {3, 17} give exactly 0.49). A value exactly at a cut-off goes to the upper class
(ADI = 1.32 is intermittent, CV² = 0.49 is erratic); a 1e-9 tolerance keeps float noise from
flipping a value that is mathematically on the line.
"""
from __future__ import annotations

import numpy as np

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
_EPS = 1e-9

SMOOTH, ERRATIC, INTERMITTENT, LUMPY, NO_DEMAND = "smooth", "erratic", "intermittent", "lumpy", "no_demand"
CLASSES = (SMOOTH, ERRATIC, INTERMITTENT, LUMPY, NO_DEMAND)


def adi_cv2(Y: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """ADI and CV² per column of Y (T, n); `mask` (T, n) selects each SKU's observed days."""
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
        mask = None if mask is None else np.asarray(mask)[:, None]
    m = np.ones(Y.shape, bool) if mask is None else np.asarray(mask, bool)
    nz = (Y > 0) & m
    return adi_cv2_from_sums(m.sum(0), nz.sum(0), np.where(nz, Y, 0.0).sum(0), np.where(nz, Y * Y, 0.0).sum(0))


def adi_cv2_from_sums(days, k, s1, s2) -> tuple[np.ndarray, np.ndarray]:
    """ADI and CV² from observed days, sale days, and sum / sum of squares of the sale-day sizes."""
    days = np.asarray(days, float)
    k = np.asarray(k, float)
    s1 = np.asarray(s1, float)
    s2 = np.asarray(s2, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        adi = np.where(k > 0, days / k, np.inf)
        mean = s1 / k
        var = np.maximum(s2 / k - mean * mean, 0.0)
        cv2 = np.where(k > 0, var / (mean * mean), np.nan)
    return adi, cv2


def classify(adi, cv2) -> np.ndarray:
    """Class name per SKU (array of str)."""
    adi = np.atleast_1d(np.asarray(adi, dtype=float))
    cv2 = np.atleast_1d(np.asarray(cv2, dtype=float))
    hi_adi = adi >= ADI_CUTOFF - _EPS
    hi_cv = cv2 >= CV2_CUTOFF - _EPS
    out = np.where(hi_adi, np.where(hi_cv, LUMPY, INTERMITTENT), np.where(hi_cv, ERRATIC, SMOOTH))
    return np.where(np.isfinite(adi), out, NO_DEMAND).astype(object)


def classify_series(y) -> str:
    adi, cv2 = adi_cv2(np.asarray(y, dtype=float))
    return str(classify(adi, cv2)[0])

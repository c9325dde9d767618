"""Normal, Poisson and negative-binomial quantiles / tails without scipy (not in the Lambda layer)."""
from __future__ import annotations

import math

import numpy as np

# Acklam's rational approximation of the inverse normal CDF (relative error < 1.2e-9).
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
_P_LOW = 0.02425


def norm_ppf(p: float) -> float:
    """z such that Φ(z) = p, for 0 < p < 1."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"probability must be in (0, 1), got {p!r}")
    if p < _P_LOW:
        q = math.sqrt(-2 * math.log(p))
        x = (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / \
            ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1)
    elif p <= 1 - _P_LOW:
        q = p - 0.5
        r = q * q
        x = (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q / \
            (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1)
    else:
        q = math.sqrt(-2 * math.log1p(-p))
        x = -(((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / \
            ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1)
    # One Halley step on erfc brings it to full double precision.
    e = 0.5 * math.erfc(-x / math.sqrt(2)) - p
    u = e * math.sqrt(2 * math.pi) * math.exp(x * x / 2)
    return x - u / (1 + x * u / 2)


def norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def _nb_params(mean: np.ndarray, var: np.ndarray):
    """(r, p) of the negative binomial with this mean and variance (var > mean)."""
    p = mean / var
    r = mean * mean / (var - mean)
    return r, p


def count_quantile(q: float, mean, var=None, max_iter: int = 20000) -> np.ndarray:
    """Smallest k with P(X <= k) >= q, vectorised.

    X is Poisson(mean) where var is None or var <= mean (within 1e-9), else negative binomial with
    that mean and variance (the over-dispersed lead-time demand of lumpy items).
    """
    mean = np.atleast_1d(np.asarray(mean, dtype=float))
    var = mean.copy() if var is None else np.broadcast_to(np.asarray(var, dtype=float), mean.shape).copy()
    nb = var > mean * (1 + 1e-9)
    safe_var = np.where(nb, var, mean * 2 + 1)  # only used where nb, avoids 0/0 elsewhere
    r, p = _nb_params(mean, safe_var)
    # pmf(0): e^-mean for Poisson, p^r for NB (computed in logs to keep small values exact).
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p0 = np.where(nb, r * np.log(np.where(nb, p, 1.0)), -mean)
    pmf = np.exp(log_p0)
    cdf = pmf.copy()
    k = np.zeros(mean.shape)
    done = cdf >= q
    out = np.where(done, 0.0, np.nan)
    i = 0
    while not done.all() and i < max_iter:
        i += 1
        # pmf(k+1)/pmf(k): mean/(k+1) for Poisson, (k+r)(1-p)/(k+1) for NB.
        ratio = np.where(nb, (k + r) * (1 - p) / (k + 1), mean / (k + 1))
        pmf = pmf * ratio
        k = k + 1
        cdf = cdf + pmf
        newly = (~done) & (cdf >= q)
        out[newly] = k[newly]
        done |= newly
    if not done.all():
        # Only reachable for means far beyond what this is used for: fall back to the normal.
        z = norm_ppf(q)
        fb = np.ceil(mean + z * np.sqrt(var))
        out = np.where(np.isnan(out), fb, out)
    return out


def count_tail(x, mean, var=None) -> np.ndarray:
    """P(X >= x) for integer x >= 0 (Poisson or negative binomial as in `count_quantile`), vectorised."""
    x = np.atleast_1d(np.asarray(x, dtype=float))
    mean = np.broadcast_to(np.atleast_1d(np.asarray(mean, dtype=float)), x.shape)
    var = mean if var is None else np.broadcast_to(np.asarray(var, dtype=float), x.shape)
    out = np.empty(x.shape)
    for i in range(x.size):  # bursts are checked on a few SKUs at a time; scalar loop is clear & exact
        out[i] = _tail_scalar(int(x[i]), float(mean[i]), float(var[i]))
    return out


def _log_pmf(k: int, mean: float, var: float) -> float:
    if var > mean * (1 + 1e-9):
        r = mean * mean / (var - mean)
        p = mean / var
        return math.lgamma(k + r) - math.lgamma(r) - math.lgamma(k + 1) + r * math.log(p) + k * math.log1p(-p)
    return -mean + k * math.log(mean) - math.lgamma(k + 1)


def _tail_scalar(x: int, mean: float, var: float) -> float:
    if x <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    if x <= mean:
        # Left side is the small one: 1 - P(X <= x-1), summed downward from x-1.
        s = 0.0
        for k in range(x - 1, -1, -1):
            t = math.exp(_log_pmf(k, mean, var))
            s += t
            if t < 1e-17 * s:
                break
        return max(0.0, 1.0 - s)
    # Right tail summed upward; terms fall at least geometrically past the mode.
    s = 0.0
    lp = _log_pmf(x, mean, var)
    nb = var > mean * (1 + 1e-9)
    r = mean * mean / (var - mean) if nb else 0.0
    q = 1 - mean / var if nb else 0.0
    k = x
    t = math.exp(lp)
    while t > 0 and k < x + 100000:
        s += t
        t *= ((k + r) * q / (k + 1)) if nb else (mean / (k + 1))
        k += 1
        if t < 1e-17 * s:
            break
    return min(1.0, s)

"""Each SKU's windows of the history for the backtest (backtest.fit), and the statistics over them.

A SKU's history starts at `lo`, or at its relaunch: the first sale after a long dormant stretch that
separates a trickle of early sales from demand of a different order (relaunch_start). Its last W days
(W = 7·⌊len/14⌋ clipped to 7..84) are the backtest, once it has MIN_BACKTEST_DAYS (eval_start); the
days before are the training days. Over these windows, all from running sums (one pass over the
matrix): the demand class, the training statistics every state starts from, the RMSSE scale, the
in-sample spread and the hold-out's sales, and class and spread again on the history before the last
day (for its burst test).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import classify as C
from ._util import between, cumsum0, cumsum0_squares

MIN_BACKTEST_DAYS = 14  # from two weeks: a week's hold-out after a week's training (choices pooled: backtest.py)
# Relaunch: after a dormant stretch of at least RELAUNCH_MIN_CYCLES seasonal cycles with no sale, a SKU
# whose demand rate since is at least RELAUNCH_RATIO × its rate before the stretch starts its history
# again at the first sale after it (see relaunch_start).
RELAUNCH_MIN_CYCLES = 1
RELAUNCH_RATIO = 10.0
RELAUNCH_P = 0.01  # and the stretch must be that improbable at the sale frequency since


@dataclass
class Windows:
    """Each SKU's rows: its current life [lo, T) and, inside it, its backtest [ev, T) (ev = T: none)."""
    T: int
    lo: np.ndarray
    lengths: np.ndarray
    ev: np.ndarray
    has_bt: np.ndarray


@dataclass
class HistoryStats:
    """Per-SKU statistics of the history (all differences of running sums)."""
    adi: np.ndarray
    cv2: np.ndarray
    dclass: np.ndarray         # demand class on the last year of history
    mean_tr: np.ndarray        # training days [lo, ev): mean demand,
    size0: np.ndarray          # mean non-zero demand,
    prob0: np.ndarray          # share of days with demand,
    interval0: np.ndarray      # and mean interval between demands
    scale: np.ndarray          # RMSSE scale: mean squared day-to-day change over the training days
    sigma_in: np.ndarray       # sample std of daily demand over [lo, T)
    actual: np.ndarray         # sales over the backtest days [ev, T)
    dclass_b: np.ndarray       # class and in-sample std on the history before the last day
    sigma_in_b: np.ndarray     # (for its burst test)


def prepare(Y, lo, n_season: int = 7) -> tuple[Windows, HistoryStats]:
    """Each SKU's windows and the statistics over them; Y: (T, n) float demand, lo: (n,) first observed
    row. Every windowed statistic is a difference of running sums (one pass over the matrix)."""
    C1 = cumsum0(Y)
    C0 = cumsum0(Y > 0)
    win = history_windows(Y, lo, n_season, C1, C0)
    return win, history_stats(Y, win, C1, C0)


def history_windows(Y, lo, n_season, C1, C0) -> Windows:
    """Each SKU's current life (from `lo`, or from its relaunch) and its backtest window (eval_start)."""
    T = Y.shape[0]
    lo = relaunch_start(Y, np.asarray(lo, int), n_season, C1=C1, C0=C0)
    lengths = T - lo
    ev = eval_start(lengths, T)
    return Windows(T, lo, lengths, ev, ev < T)


def history_stats(Y, win, C1, C0) -> HistoryStats:
    """Demand class, the training statistics every state starts from, the RMSSE scale, the in-sample
    spread and the hold-out's sales; class and spread again on the history before the last day."""
    T, lo, ev, lengths = win.T, win.lo, win.ev, win.lengths
    C2 = cumsum0_squares(Y)

    # Class on the last year of history; sums over non-zero days equal sums over all days.
    ca = np.maximum(lo, T - 365)
    adi, cv2 = C.adi_cv2_from_sums(T - ca, between(C0, ca, T), between(C1, ca, T), between(C2, ca, T))
    dclass = C.classify(adi, cv2)

    # Training statistics initialise every state (no hold-out data leaks into them).
    ntr = (ev - lo).astype(float)
    k = between(C0, lo, ev)
    s = between(C1, lo, ev)
    mean_tr = s / np.maximum(ntr, 1)
    size0 = np.where(k > 0, s / np.maximum(k, 1), 0.0)
    prob0 = k / np.maximum(ntr, 1)
    interval0 = np.where(k > 0, ntr / np.maximum(k, 1), np.maximum(ntr, 1))
    s_all, s2_all = between(C1, lo, T), between(C2, lo, T)
    mean_all = s_all / np.maximum(lengths, 1)
    sigma_in = np.sqrt(np.maximum(s2_all - lengths * mean_all ** 2, 0.0) / np.maximum(lengths - 1, 1))
    actual = between(C1, ev, T)
    # The same class and spread on history before the last day (burst detection tests that day).
    cb = np.clip(np.maximum(lo, T - 366), 0, T - 1)
    dclass_b = C.classify(*C.adi_cv2_from_sums(T - 1 - cb, between(C0, cb, T - 1), between(C1, cb, T - 1),
                                                between(C2, cb, T - 1)))
    lb = np.minimum(lo, T - 1)
    nb_days = T - 1 - lb
    mean_b = between(C1, lb, T - 1) / np.maximum(nb_days, 1)
    sigma_in_b = np.sqrt(np.maximum(between(C2, lb, T - 1) - nb_days * mean_b ** 2, 0.0) /
                         np.maximum(nb_days - 1, 1))
    # RMSSE scale: mean squared day-to-day change over training days (pairs inside [lo, ev)); its running
    # sums reuse C2's buffer, whose sums are all taken above.
    CD = cumsum0_squares(Y, lag=1, out=C2)
    del C2
    npairs = np.maximum(ev - lo - 1, 0)
    scale = np.where(npairs > 0, between(CD, np.minimum(lo, ev - 1), np.maximum(ev - 1, lo)) /
                     np.maximum(npairs, 1), 0.0)
    del CD
    return HistoryStats(adi, cv2, dclass, mean_tr, size0, prob0, interval0, scale, sigma_in, actual,
                        dclass_b, sigma_in_b)


def eval_start(lengths: np.ndarray, T: int) -> np.ndarray:
    """(n,) first backtest row of each SKU: its last W = 7·⌊length/14⌋ rows, clipped to 7..84, once its
    history has MIN_BACKTEST_DAYS rows; else T (no backtest)."""
    W = np.clip(7 * (lengths // 14), 7, 84)
    return np.where(lengths >= MIN_BACKTEST_DAYS, T - W, T)


def relaunch_start(Y, lo, n_season: int = 7, min_cycles: int = RELAUNCH_MIN_CYCLES,
                   ratio: float = RELAUNCH_RATIO, p_max: float = RELAUNCH_P, C1=None, C0=None) -> np.ndarray:
    """(n,) first row of each SKU's current life: `lo`, or the first sale after its latest relaunch.

    A relaunch is a dormant stretch of L periods without a sale, after some sales since `lo`, such that
      - L ≥ `min_cycles` seasonal cycles (n_season periods each),
      - the SKU has sold since, over at least L periods to the end of the history (no less evidence
        than the stretch it overrides), at a mean rate at least `ratio` times its mean rate from `lo`
        to the start of the stretch (a different order of demand, not a drift the models follow
        anyway), and
      - the stretch is improbable at the sale frequency since: (1 − p)^L ≤ `p_max`, with p the share
        of periods with a sale after it (so an ordinary gap between a slow mover's sales is not one).
    The history before it (a trickle of sample sales, then nothing) belongs to another life of the
    product: taken as observed demand it makes the SKU look intermittent, fixes smoothing parameters
    on zeros and sets every initial state an order of magnitude too low. The history then starts at
    the first sale after the stretch, as it starts at the first sale anyway.
    C1, C0: running sums of Y and of Y > 0 (`cumsum0`), when the caller has them.
    """
    Y = np.asarray(Y, float)
    T, n = Y.shape
    lo = np.asarray(lo, int).copy()
    min_gap = max(1, int(min_cycles) * int(n_season))
    if T <= min_gap + 1 or n == 0:
        return lo
    C1 = cumsum0(Y) if C1 is None else C1
    C0 = cumsum0(Y > 0) if C0 is None else C0
    last = lo - 1  # row of the latest sale before t (lo − 1 while there is none since lo)
    sold = Y[0] > 0
    start = lo.copy()
    for t in range(1, T - min_gap + 1):
        last[sold & (t - 1 >= lo)] = t - 1
        sold = Y[t] > 0
        c = np.flatnonzero(sold & (last <= t - 1 - min_gap))
        if c.size == 0:
            continue
        L = t - 1 - last[c]                          # periods without a sale before t
        p = (C0[T, c] - C0[t, c]) / (T - t)          # share of periods with a sale since
        with np.errstate(divide="ignore"):
            keep = (T - t >= L) & (L * np.log1p(-np.minimum(p, 1.0)) <= np.log(p_max))
        c, L = c[keep], L[keep]
        if c.size == 0:
            continue
        g0 = t - L                                   # first row of the dormant stretch
        pre_sum = C1[g0, c] - C1[lo[c], c]
        pre = pre_sum / np.maximum(g0 - lo[c], 1)
        post = (C1[T, c] - C1[t, c]) / (T - t)
        hit = c[(pre_sum > 0) & (post >= ratio * pre)]
        start[hit] = t
    return start

"""Eruptions, found straight from their definition on the smoothed series (see :mod:`.options`).

A point *has erupted* when its smoothed value stands ``min_ratio`` times and ``min_rise`` above the lowest
smoothed value of the ``max_rise_steps`` steps before it (and ``noise_z`` noise units, so a noisy plateau
never erupts). Consecutive erupted points, and later ones measured from the same low, are one eruption.
Its onset is the last point before the first erupted one that is still within the onset band of the low; its
peak is the first point within ``peak_band`` of the highest value the eruption reaches.

The onset depends only on points up to the first erupted one, so the live detector
(:class:`~entropy_dynamics.analysis.online.OnlineDetector`) finds the same onset the moment it confirms.
Cost: O(n log n) for any length (a sparse table answers the windowed minimum), no binning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.ndimage import median_filter

from entropy_dynamics.analysis.options import PhaseOptions


@dataclass(frozen=True)
class EruptionSpan:
    """One eruption as indices into the analysed series."""

    low: int
    """The lowest point of the ``max_rise_steps`` steps before the first erupted point."""
    onset: int
    peak: int
    top: int
    """The highest point the eruption reaches (``peak`` is the first point near it)."""
    last_erupted: int
    """The last point still measured from the same low (where the next eruption may begin after)."""


def running_median(y: np.ndarray, points: int) -> np.ndarray:
    """Centred running median of ``points`` (odd) points; at the ends the window keeps its past side and is
    cut at the run's edge (so the last value is final once ``points // 2`` more points arrive). y: (n,)."""
    n = y.size
    half = points // 2
    if n == 0 or half == 0:
        return y.astype(float, copy=True)
    out = median_filter(y, size=points, mode="nearest").astype(float) if n >= points else np.empty(n)
    for j in range(min(half, n)):
        out[j] = np.median(y[: min(n, j + half + 1)])
    for j in range(max(0, n - half), n):
        out[j] = np.median(y[max(0, j - half):])
    return out


#: The first step differences of a run that fix its logging interval (the first ones, so that the live detector
#: knows the smoothing window as soon as the offline analyzer would).
INTERVAL_DIFFS = 10


def median_window(t: np.ndarray, smooth_points: int) -> int:
    """Points in the running median: ``smooth_points`` when every step is logged; with sparser logging (the
    median of the first :data:`INTERVAL_DIFFS` step differences) as many as cover ``smooth_points`` steps, odd
    and at least 3, so a short eruption logged every 5 steps is not smoothed away. t: (n,) ascending steps."""
    if smooth_points < 3 or t.size < 2:
        return smooth_points
    return _window_for(float(np.median(np.diff(t[: INTERVAL_DIFFS + 1]))), smooth_points)


def _window_for(interval: float, smooth_points: int) -> int:
    """:func:`median_window` for a logging ``interval`` (non-increasing in it)."""
    points = int(smooth_points / max(interval, 1.0))
    return max(3, points if points % 2 else points - 1)


def settled_window(t: np.ndarray, smooth_points: int) -> int | None:
    """The window :func:`median_window` gives for a run that starts with steps ``t``, whatever steps follow, or
    None while later steps can still change it. The window is monotone in each of the first
    :data:`INTERVAL_DIFFS` differences, so it is settled when the missing ones set to 0 and set to infinity
    give the same: at regular logging after 7 points instead of 11 (the live detector starts judging then).
    t: (n,) ascending steps."""
    if smooth_points < 3:
        return smooth_points
    seen = np.diff(t[: INTERVAL_DIFFS + 1]).astype(float)
    missing = INTERVAL_DIFFS - seen.size
    if not missing:
        return median_window(t, smooth_points)
    small = _window_for(float(np.median(np.r_[seen, np.zeros(missing)])), smooth_points)
    large = _window_for(float(np.median(np.r_[seen, np.full(missing, np.inf)])), smooth_points)
    return small if small == large else None


def robust_noise(y: np.ndarray) -> float:
    """Noise standard deviation per point from the MAD of first differences. y: (n,)."""
    if y.size < 3:
        return 0.0
    d = np.diff(y)
    sigma = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2.0)
    if sigma <= 0.0:
        sigma = float(np.std(d)) / math.sqrt(2.0)
    return sigma


def trailing_low(t: np.ndarray, s: np.ndarray, span: float) -> np.ndarray:
    """Index of the lowest ``s`` among the points with ``t`` in ``[t_j - span, t_j]``, for every j.

    t ascending, s: (n,) -> (n,) int. Ties go to the later point. Sparse table: O(n log n).
    """
    n = s.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    lo = np.searchsorted(t, t - span, side="left")
    hi = np.arange(n)
    table = [hi.copy()]
    width = 1
    while 2 * width <= n:
        prev = table[-1]
        a, b = prev[: n - 2 * width + 1], prev[width: n - width + 1]
        table.append(np.where(s[b] <= s[a], b, a))
        width *= 2
    length = hi - lo + 1
    level = np.floor(np.log2(length)).astype(np.int64)
    left = np.empty(n, dtype=np.int64)
    right = np.empty(n, dtype=np.int64)
    for k in np.unique(level):
        sel = level == k
        left[sel] = table[k][lo[sel]]
        right[sel] = table[k][hi[sel] - (1 << int(k)) + 1]
    return np.where(s[right] <= s[left], right, left)


#: Differences in the trailing window of the local noise estimate.
NOISE_POINTS = 50


def trailing_noise(y: np.ndarray, points: int = NOISE_POINTS) -> np.ndarray:
    """Local noise per point: 1.4826 * the median of |dy - m| over the last ``points`` first differences, / sqrt 2,
    where m is the trailing median of dy at each difference (a running MAD). y: (n,) -> (n,); the first point
    gets the second's. Computed from the past only, so the live detector gets the same numbers."""
    n = y.size
    if n < 2:
        return np.zeros(n)
    d = pd.Series(np.diff(y))
    centred = (d - d.rolling(points, min_periods=1).median()).abs()
    mad = centred.rolling(points, min_periods=1).median().to_numpy()
    sigma = 1.4826 * mad / math.sqrt(2.0)
    return np.concatenate([sigma[:1], sigma])


def min_rise_over_low(opts: PhaseOptions, sigma: float, log_scale: bool) -> float:
    """The smallest rise over the trailing low, in the analysed units at local noise ``sigma``: ``min_ratio``
    (or ``min_rise`` on the linear scale) and ``noise_z`` noise units."""
    return max(opts.log_min_ratio if log_scale else opts.min_rise, opts.noise_z * sigma)


def is_erupted(s_j: float, s_low: float, sigma_j: float, opts: PhaseOptions, log_scale: bool) -> bool:
    """Whether smoothed value ``s_j`` stands an eruption's height above ``s_low`` (analysed units) at local noise
    ``sigma_j``: the one-point form of :func:`erupted_points`."""
    level_j, level_low = (math.exp(s_j), math.exp(s_low)) if log_scale else (s_j, s_low)
    return s_j - s_low >= min_rise_over_low(opts, sigma_j, log_scale) and level_j - level_low >= opts.min_rise


def erupted_points(t: np.ndarray, s: np.ndarray, level: np.ndarray, sigma: np.ndarray, opts: PhaseOptions,
                   log_scale: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(erupted, low)``: which points stand an eruption's height above their trailing low, and that low.

    t, s, level, sigma: (n,); s = smoothed values in the analysed units (log when ``log_scale``), level = the
    same in the metric's units, sigma = :func:`trailing_noise`.
    """
    low = trailing_low(t, s, opts.max_rise_steps)
    rise = np.maximum(opts.log_min_ratio if log_scale else opts.min_rise, opts.noise_z * sigma)
    erupted = (s - s[low] >= rise) & (level - level[low] >= opts.min_rise)
    return erupted, low


def onset_of(y: np.ndarray, s: np.ndarray, low: int, first: int, ahead: int = 0) -> int:
    """Where the climb to the first erupted point ``first`` begins: the last logged point before it whose raw
    value is still in the lower half (log scale) of the smoothed rise from ``s[low]`` to ``s[first]``, looking
    up to ``ahead`` points past ``first`` (the points its smoothed value already saw: half the median window).
    A drift or a noisy plateau before the climb stays before the onset; on a steady climb the onset is where
    it had gone half of the way (in log) to x ``min_ratio``. y, s: (n,) raw and smoothed values."""
    raw = np.asarray(y[low: min(len(y), first + ahead + 1)], dtype=float)
    below = np.flatnonzero(raw <= s[low] + 0.5 * (s[first] - s[low]))
    return min(low + int(below[-1]), max(low, first - 1)) if below.size else low


def peak_of(s: np.ndarray, low: int, onset: int, top: int, band: float) -> int:
    """The first point in ``(onset, top]`` within ``band`` (a share) of the rise from ``s[low]`` to ``s[top]``."""
    goal = s[top] - band * (s[top] - s[low])
    near = np.flatnonzero(np.asarray(s[onset + 1: top + 1]) >= goal)
    return onset + 1 + int(near[0]) if near.size else top


class EruptionTracker:
    """The grouping rule, fed one erupted point at a time (the offline analyzer and the live detector share it).

    An erupted point belongs to the current eruption unless the series fell by ``min_change`` after that
    eruption's top and the point stands an eruption's height above the lowest point since (within
    ``max_rise_steps``): then a new eruption starts from that low. The top is the highest point within
    ``max_rise_steps`` of the onset, so a slow climb after the sharp
    part is a ``rise``, not a longer eruption. A new eruption's onset is fixed from the points up to it.
    """

    def __init__(self, opts: PhaseOptions, log_scale: bool, window: int) -> None:
        """``window``: points in the running median (:func:`median_window`); an onset looks half of it ahead."""
        self.opts = opts
        self.log_scale = log_scale
        self.ahead = window // 2
        self.spans: list[EruptionSpan] = []
        self._current: dict[str, int] | None = None

    def feed(self, t: np.ndarray, y: np.ndarray, s: np.ndarray, j: int, low: int, sigma: float) -> int | None:
        """Take erupted point ``j`` (t, y, s: steps, raw and smoothed values so far) with its trailing ``low``
        and local noise ``sigma``; returns the onset when a new eruption starts."""
        current = self._current
        if current is not None:
            new_low = self._low_after_top(t, s, j, current["top"], sigma)
            if new_low is None:
                current["last"] = j
                if s[j] > s[current["top"]] and t[j] - t[current["onset"]] <= self.opts.max_rise_steps:
                    current["top"] = j
                return None
            low = new_low
        self.close(s)
        onset = onset_of(y, s, low, j, self.ahead)
        self._current = {"low": low, "onset": onset, "top": j, "last": j}
        return onset

    def _low_after_top(self, t: np.ndarray, s: np.ndarray, j: int, top: int, sigma: float) -> int | None:
        """The lowest point after ``top`` (and within ``max_rise_steps`` before ``j``) when ``j`` stands an
        eruption's height above it, else None."""
        first = max(top + 1, int(np.searchsorted(t, t[j] - self.opts.max_rise_steps, side="left")))
        if first >= j:
            return None
        window = np.asarray(s[first:j])
        low = first + int(window.size - 1 - np.argmin(window[::-1]))  # ties: the later point
        if self.log_scale and s[top] - s[low] < self.opts.log_min_change:
            return None  # no decline of min_change after the top: the same eruption climbs on
        if is_erupted(float(s[j]), float(s[low]), sigma, self.opts, self.log_scale):
            return low
        return None

    def close(self, s: np.ndarray) -> EruptionSpan | None:
        """End the current eruption (its peak is then known); returns it."""
        c = self._current
        if c is None:
            return None
        peak = peak_of(s, c["low"], c["onset"], c["top"], self.opts.peak_band)
        span = EruptionSpan(low=c["low"], onset=c["onset"], peak=peak, top=c["top"], last_erupted=c["last"])
        self.spans.append(span)
        self._current = None
        return span


def find_eruptions(t: np.ndarray, y: np.ndarray, s: np.ndarray, level: np.ndarray, sigma: np.ndarray,
                   opts: PhaseOptions, log_scale: bool, window: int) -> list[EruptionSpan]:
    """Every eruption of a series, in order. t, y: (n,) steps and analysed values; s, level, sigma: (n,) as in
    :func:`erupted_points`; ``window``: the points of the running median that gave ``s``."""
    erupted, low = erupted_points(t, s, level, sigma, opts, log_scale)
    tracker = EruptionTracker(opts, log_scale, window)
    for j in np.flatnonzero(erupted).tolist():
        tracker.feed(t, y, s, j, int(low[j]), float(sigma[j]))
    tracker.close(s)
    return tracker.spans

"""Offline segmentation of one metric series into descent / eruption / subsidence / plateau.

Method (all in log space, because entropy phases are multiplicative):

1. isolated spikes are replaced by a running median where they stand out by more than ``spike_z``
   robust noise units (so an outlier is never an eruption), NaN points are dropped;
2. long series are averaged into at most ``max_points`` equal-count bins;
3. ruptures ``Pelt`` with a piecewise linear-trend cost (:class:`CostLinearTrend`) and the penalty
   ``penalty_factor * sigma_bin^2 * log(n_bins) * 3`` (sigma = MAD of first differences / sqrt 2);
4. each change point is refined at full resolution (exact two-line fit around the coarse position);
5. each segment is labelled from its fitted log change ``delta`` (see :mod:`.labels`), and adjacent
   segments with the same phase are merged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import ruptures as rpt
from scipy.ndimage import median_filter

from entropy_dynamics.analysis.labels import LabelRules, label_segments
from entropy_dynamics.analysis.trend_cost import CostLinearTrend, TrendSums
from entropy_dynamics.analysis.types import Phase, Segment
from entropy_dynamics.errors import ConfigError

#: Below this many finite points a series is "too short" to segment.
MIN_POINTS = 20


@dataclass
class SegmenterOptions:
    """Settings of :func:`segment_series` (all have measured defaults; see the README, "Finding the phases")."""

    penalty_factor: float = 2.0
    """c in pen = c * sigma^2 * log(n) * 3 (c = 1 is BIC for one line per segment); higher gives fewer change
    points. 2 (7 until 2026-11-27) keeps the synthetic and real-log targets and finds the cycles of short,
    noisy runs; see the README, "How the offline segmentation works"."""
    max_points: int = 500
    """Series longer than this are averaged into this many bins before Pelt (then refined)."""
    min_segment: int = 4
    """Smallest segment, in (binned) points."""
    spike_z: float = 4.0
    """A point further than this many noise units from the running median is a spike."""
    log_scale: bool = True
    """Segment log(values) (falls back to the linear scale when a value is <= 0)."""
    rules: LabelRules = field(default_factory=LabelRules)


@dataclass
class Segmentation:
    """Everything :func:`segment` found: the contract's segments plus the working arrays."""

    change_points: list[int]
    segments: list[Segment]
    steps: np.ndarray
    """Finite steps, shape (n,)."""
    smooth: np.ndarray
    """Running median of the (log) values, shape (n,), in the metric's own units."""
    noise: float
    """Robust noise of the (log) series per point."""
    log_scale: bool
    warnings: list[str] = field(default_factory=list)


def robust_noise(y: np.ndarray) -> float:
    """Noise standard deviation per point from the MAD of first differences. y: (n,)."""
    if y.size < 3:
        return 0.0
    d = np.diff(y)
    sigma = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2.0)
    if sigma <= 0.0:
        sigma = float(np.std(d)) / math.sqrt(2.0)
    return sigma


def despike(y: np.ndarray, sigma: float, z: float, window: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """``(cleaned, running_median)``: points further than ``z * sigma`` from the running median
    (window ``window``) are replaced by it. y: (n,)."""
    med = median_filter(y, size=min(window, y.size), mode="nearest")
    if sigma <= 0.0:
        return y.copy(), med
    cleaned = np.where(np.abs(y - med) > z * sigma, med, y)
    return cleaned, med


def bin_means(t: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Average consecutive points into at most ``max_points`` bins of ``width`` points.

    t, y: (n,) -> (tb, yb): (ceil(n / width),), and ``width``.
    """
    n = y.size
    width = max(1, math.ceil(n / max_points))
    if width == 1:
        return t.astype(float), y.astype(float), 1
    nb = math.ceil(n / width)
    idx = np.minimum(np.arange(n) // width, nb - 1)
    counts = np.bincount(idx, minlength=nb)
    return np.bincount(idx, t, nb) / counts, np.bincount(idx, y, nb) / counts, width


def refine(sums: TrendSums, cps: list[int], margin: int, min_gap: int) -> list[int]:
    """Move each change point (an index into the full series) to the best split between its
    neighbours within ``margin`` points, left to right (vectorised over candidates)."""
    n = int(sums.c1[-1])
    out = list(cps)
    for k, cp in enumerate(out):
        left = out[k - 1] if k > 0 else 0
        right = out[k + 1] if k + 1 < len(out) else n
        lo = max(left + min_gap, cp - margin)
        hi = min(right - min_gap, cp + margin)
        if hi <= lo:
            continue
        cand = np.arange(lo, hi + 1)
        cost = sums.rss(np.full_like(cand, left), cand) + sums.rss(cand, np.full_like(cand, right))
        out[k] = int(cand[int(np.argmin(cost))])
    return out


def find_change_indices(t: np.ndarray, y: np.ndarray, sigma: float, opts: SegmenterOptions) -> list[int]:
    """Change-point indices into ``y`` (segment starts, excluding 0). t, y: (n,)."""
    tb, yb, width = bin_means(t, y, opts.max_points)
    nb = yb.size
    min_size = max(3, opts.min_segment)
    if nb < 2 * min_size:
        return []
    sigma_b = max(sigma / math.sqrt(width), 1e-9)
    pen = opts.penalty_factor * sigma_b**2 * math.log(nb) * 3.0
    jump = 1 if nb <= 400 else max(1, round(nb / 200))
    algo = rpt.Pelt(custom_cost=CostLinearTrend(), min_size=min_size, jump=jump).fit(np.c_[yb, tb])
    bkps = [int(b) * width for b in algo.predict(pen=pen)[:-1]]
    sums = TrendSums(t, y)
    return refine(sums, bkps, margin=(jump + 2) * width, min_gap=max(3, min_size * width // 2))


def segment(
    steps: np.ndarray | list[int],
    values: np.ndarray | list[float],
    options: SegmenterOptions | None = None,
    *,
    time_scale: float | None = None,
    previous_phase: Phase | None = None,
) -> Segmentation:
    """Segment one series. steps, values: (n,), steps unique (NaN/inf values are ignored).

    ``time_scale``: steps against which a rise counts as sharp (default: the series' span).
    ``previous_phase``: the phase before the first point (for windows of a longer run).
    """
    opts = options or SegmenterOptions()
    steps = np.asarray(steps)
    values = np.asarray(values, dtype=float)
    if steps.shape != values.shape or steps.ndim != 1:
        raise ValueError(f"steps and values must be 1-D of equal length, got {steps.shape} and {values.shape}")
    keep = np.isfinite(values)
    steps, values = steps[keep].astype(np.int64), values[keep]
    order = np.argsort(steps, kind="stable")
    steps, values = steps[order], values[order]
    warnings: list[str] = []
    log_scale = opts.log_scale and bool(np.all(values > 0))
    if opts.log_scale and not log_scale and values.size:
        warnings.append("values <= 0 found: segmented on the linear scale instead of log")
    y = np.log(values) if log_scale else values.copy()
    empty = Segmentation([], [], steps, values.copy(), 0.0, log_scale, warnings)
    if steps.size < MIN_POINTS:
        warnings.append(f"too short to segment: {steps.size} points (need at least {MIN_POINTS})")
        return empty
    sigma = robust_noise(y)
    cleaned, med = despike(y, sigma, opts.spike_z)
    smooth = np.exp(med) if log_scale else med
    t = steps.astype(float)
    if float(np.ptp(cleaned)) <= 1e-12 * max(1.0, float(np.abs(cleaned).max())):
        seg = Segment(int(steps[0]), int(steps[-1]), "plateau", 0.0, float(values[0]), float(values[-1]))
        return Segmentation([], [seg], steps, smooth, sigma, log_scale, warnings)
    cps = find_change_indices(t, cleaned, sigma, opts)
    scale = float(time_scale) if time_scale else float(max(t[-1] - t[0], 1.0))
    bounds = [0, *cps, steps.size]
    segments = label_segments(t, cleaned, bounds, sigma, scale, opts.rules, log_scale, previous_phase)
    change_points = [s.start_step for s in segments[1:]]
    return Segmentation(change_points, segments, steps, smooth, sigma, log_scale, warnings)


def segment_series(
    steps: np.ndarray, values: np.ndarray, **options: object
) -> tuple[list[int], list[Segment]]:
    """Pure function on arrays: ``(change_points, segments)`` of one series.

    steps, values: (n,). ``options`` are fields of :class:`SegmenterOptions` and of
    :class:`LabelRules`, plus ``time_scale``. Fewer than 20 finite points give ``([], [])``.
    """
    time_scale = options.pop("time_scale", None)
    result = segment(steps, values, make_options(**options), time_scale=time_scale)  # type: ignore[arg-type]
    return result.change_points, result.segments


def make_options(**options: object) -> SegmenterOptions:
    """Build :class:`SegmenterOptions` from flat keyword options (label rules included)."""
    rule_names = set(LabelRules.__dataclass_fields__)
    seg_names = set(SegmenterOptions.__dataclass_fields__) - {"rules"}
    unknown = set(options) - rule_names - seg_names
    if unknown:
        raise ConfigError(f"unknown analysis option(s): {', '.join(sorted(unknown))}; "
                          f"known: {', '.join(sorted(rule_names | seg_names))}")
    rules = LabelRules(**{k: v for k, v in options.items() if k in rule_names})  # type: ignore[arg-type]
    return SegmenterOptions(rules=rules, **{k: v for k, v in options.items() if k in seg_names})  # type: ignore[arg-type]

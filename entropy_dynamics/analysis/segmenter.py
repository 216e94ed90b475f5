"""Offline segmentation of one metric series into descent / eruption / subsidence / rise / plateau.

Method (the definitions are in :mod:`.options`; all in log space when every value is positive):

1. smooth: running median of ``smooth_points`` points, covering as many steps when logging is sparser
   (:func:`~.eruptions.median_window`, :func:`~.eruptions.running_median`);
2. eruptions, straight from their definition, at full resolution (:func:`~.eruptions.find_eruptions`);
3. between eruptions, ``Pelt`` (ruptures' recursion, vectorised: :mod:`.pelt`) with a piecewise linear-trend cost
   cuts the stretch where its trend changes (long stretches are binned for Pelt, then every change point is refined at
   full resolution), with the penalty ``penalty_factor * sigma_bin^2 * log(n_bins) * 3``;
4. each piece is labelled from its smoothed start and end values (:mod:`.labels`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from entropy_dynamics.analysis.eruptions import (
    INTERVAL_DIFFS,
    EruptionSpan,
    find_eruptions,
    median_window,
    robust_noise,
    running_median,
    trailing_noise,
)
from entropy_dynamics.analysis.labels import (
    change_threshold,
    hidden_trends,
    label_pieces,
    make_segment,
    piece_end,
    returns_to_base,
)
from entropy_dynamics.analysis.options import PhaseOptions
from entropy_dynamics.analysis.pelt import pelt_breakpoints
from entropy_dynamics.analysis.trend_cost import TrendSums
from entropy_dynamics.analysis.types import Segment

#: Below this many finite points a series is "too short" to segment.
MIN_POINTS = 5

#: Kept for callers of the old name: the options of :func:`segment`.
SegmenterOptions = PhaseOptions


@dataclass
class Segmentation:
    """Everything :func:`segment` found: the contract's segments plus the working arrays."""

    change_points: list[int]
    segments: list[Segment]
    steps: np.ndarray
    """Finite steps, shape (n,)."""
    smooth: np.ndarray
    """The smoothed series in the metric's own units, shape (n,): every value the segments show."""
    noise: float
    """Robust noise of the (log) series per point."""
    log_scale: bool
    eruptions: list[EruptionSpan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def smoothed(t: np.ndarray, values: np.ndarray, opts: PhaseOptions) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """``(y, s, log_scale, window)``: the analysed values (log when allowed), their running median and its
    window in points (:func:`~.eruptions.median_window`). t, values: (n,)."""
    log_scale = opts.log_scale and bool(np.all(values > 0))
    y = np.log(values) if log_scale else values.astype(float)
    window = median_window(t, opts.smooth_points)
    return y, running_median(y, window), log_scale, window


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


def trend_changes(t: np.ndarray, y: np.ndarray, sigma: float, opts: PhaseOptions) -> list[int]:
    """Indices into ``y`` where its linear trend changes (segment starts, excluding 0). t, y: (n,)."""
    tb, yb, width = bin_means(t, y, opts.max_points)
    nb = yb.size
    min_size = opts.min_segment
    if nb < 2 * min_size:
        return []
    sigma_b = max(sigma / math.sqrt(width), 1e-9)
    pen = opts.penalty_factor * sigma_b**2 * math.log(nb) * 3.0
    jump = 1 if nb <= 400 else max(1, round(nb / 200))
    bkps = [b * width for b in pelt_breakpoints(TrendSums(tb, yb), nb, min_size, jump, pen)[:-1]]
    return refine(TrendSums(t, y), bkps, margin=(jump + 2) * width, min_gap=max(3, min_size * width // 2))


def coarse_steps_warning(steps: np.ndarray, opts: PhaseOptions) -> list[str]:
    """A warning when the logged steps are so far apart that the ``max_rise_steps`` window spans fewer than two
    logging intervals: then only a jump between two neighbouring points can be an eruption, which usually means
    the steps count samples or environment timesteps, not updates. steps: (n,) ascending."""
    if steps.size < 2:
        return []
    interval = float(np.median(np.diff(steps[: INTERVAL_DIFFS + 1])))
    if 2 * interval <= opts.max_rise_steps:
        return []
    return [f"steps are {interval:g} apart, so the {opts.max_rise_steps:g}-step eruption window spans under two "
            "logged points and a climb over several points is a rise, not an eruption; if the steps count samples "
            "or timesteps, give --max-rise-steps in those units"]


def segment(steps: np.ndarray | list[int], values: np.ndarray | list[float],
            options: PhaseOptions | None = None) -> Segmentation:
    """Segment one series. steps, values: (n,), steps unique (NaN/inf values are ignored)."""
    opts = options or PhaseOptions()
    steps = np.asarray(steps)
    values = np.asarray(values, dtype=float)
    if steps.shape != values.shape or steps.ndim != 1:
        raise ValueError(f"steps and values must be 1-D of equal length, got {steps.shape} and {values.shape}")
    keep = np.isfinite(values)
    steps, values = steps[keep].astype(np.int64), values[keep]
    order = np.argsort(steps, kind="stable")
    steps, values = steps[order], values[order]
    warnings: list[str] = []
    y, s, log_scale, window = smoothed(steps, values, opts)
    if opts.log_scale and not log_scale and values.size:
        warnings.append("values <= 0 found: segmented on the linear scale instead of log (eruptions by min_rise only)")
    level = np.exp(s) if log_scale else s
    warnings += coarse_steps_warning(steps, opts)
    if steps.size < MIN_POINTS:
        warnings.append(f"too short to segment: {steps.size} points (need at least {MIN_POINTS})")
        return Segmentation([], [], steps, level, 0.0, log_scale, [], warnings)
    t = steps.astype(float)
    sigma = robust_noise(y)
    spans = find_eruptions(t, y, s, level, trailing_noise(y), opts, log_scale, window)
    despiked = np.where(np.abs(y - s) > 4.0 * sigma, s, y) if sigma > 0 else y
    bounds = [0]
    for span in [*spans, None]:
        stop = span.onset if span is not None else steps.size
        a = bounds[-1]
        if stop > a:
            bounds += [a + c for c in trend_changes(t[a:stop], despiked[a:stop], sigma, opts)] + [stop]
        if span is not None:
            bounds.append(span.peak + 1)
    lows = {span.onset: span.low for span in spans}
    threshold = change_threshold(opts, sigma, level, log_scale)
    stops = [span.onset for span in spans[1:]] + [steps.size]
    returns = returns_to_base(s, [(span.low, span.peak, stop) for span, stop in zip(spans, stops, strict=False)])
    bounds = sorted(set(bounds) | set(returns))
    bounds, phases = label_pieces(s, bounds, lows, threshold, frozenset(returns))
    hidden = hidden_trends(s, y, bounds, phases, lows, threshold, sigma, window)
    if hidden:
        bounds, phases = label_pieces(s, sorted(set(bounds) | set(hidden)), lows, threshold, frozenset(returns))
    by_onset = {span.onset: span for span in spans}
    segments = []
    for phase, (a, b) in zip(phases, itertools.pairwise(bounds), strict=True):
        seg = make_segment(t, level, a, b, phase, log_scale, end=piece_end(a, b, lows))
        if phase == "eruption":
            seg = eruption_segment(seg, by_onset[a], t, level, log_scale)
        else:
            seg.detail = trend_detail(seg, threshold, log_scale)
        segments.append(seg)
    change_points = [seg.start_step for seg in segments[1:]]
    return Segmentation(change_points, segments, steps, level, sigma, log_scale, spans, warnings)


def eruption_segment(seg: Segment, span: EruptionSpan, t: np.ndarray, level: np.ndarray, log_scale: bool) -> Segment:
    """An eruption's numbers are the ones it was decided on: from the low it rose from to the highest value it
    reached (its steps run from the onset to the peak)."""
    low, top = float(level[span.low]), float(level[span.top])
    seg.start_value, seg.end_value, seg.change = low, top, top - low
    seg.ratio = top / low if log_scale and low > 0 else None
    ratio = f"x{seg.ratio:.3g}, " if seg.ratio is not None else ""
    seg.detail = (f"{ratio}+{top - low:.3g} from the low {low:.3g} at step {int(t[span.low])} "
                  f"to {top:.3g} at step {int(t[span.top])}")
    return seg


def trend_detail(seg: Segment, threshold: float, log_scale: bool) -> str:
    """Why a descent / rise / plateau / subsidence got its label (the smallest trend it had to reach)."""
    if log_scale and seg.ratio is not None:
        bound = min(threshold, 700.0)  # a degenerate series (a value near 1e-308) must not overflow the text
        need = f"x{math.exp(bound):.3g} or x{math.exp(-bound):.3g}"
        return f"x{seg.ratio:.3g} over {seg.steps} steps (a trend needs {need})"
    return f"{seg.change:+.3g} over {seg.steps} steps (a trend needs +-{threshold:.3g})"


def segment_series(steps: np.ndarray, values: np.ndarray, **options: object) -> tuple[list[int], list[Segment]]:
    """Pure function on arrays: ``(change_points, segments)`` of one series.

    steps, values: (n,). ``options`` are fields of :class:`PhaseOptions`. Fewer than
    :data:`MIN_POINTS` finite points give ``([], [])``.
    """
    result = segment(steps, values, PhaseOptions().updated(**options))
    return result.change_points, result.segments

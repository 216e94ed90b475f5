"""Labelling of fitted segments as descent / eruption / subsidence / plateau, and merging.

A segment's fitted change ``delta`` (in log units when segmenting log values) counts as a rise or a
decline when it exceeds both ``min_change`` and ``z`` standard errors of a fitted line's change
(``noise * sqrt(12 / n)``). A rise is *sharp* when its slope times the time scale (by default the
run's span) is at least ``sharpness`` e-folds; neighbouring sharp rises are joined, and a sharp rise
of at least ``min_rise`` is an *eruption*. Any other rise is a *plateau* (slow drift, small bump).
A decline directly after an eruption (or after a plateau that follows an eruption) or after a
subsidence is a *subsidence*; any other decline is a *descent*. Adjacent segments with the same
phase are merged and the result is labelled again until nothing changes.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import median_filter

from entropy_dynamics.analysis.onset import hinge_onset
from entropy_dynamics.analysis.trend_cost import TrendSums
from entropy_dynamics.analysis.types import Phase, Segment


@dataclass
class LabelRules:
    """Thresholds of the phase labels (defaults measured on synthetic and real runs)."""

    min_change: float = math.log(1.2)
    """Smallest fitted change of a rise or decline, in log units (0.18 = a 20 % change)."""
    z: float = 4.0
    """Smallest fitted change in standard errors of the segment's line."""
    min_rise: float = math.log(1.8)
    """Smallest rise of an eruption, in log units (0.59 = entropy x1.8), along its own fitted line
    or from the level just before it, and also from the median before its onset to the peak of the
    running median (the amplitude its cycle reports). The real TreeRL run's slow bumps are x1.4-1.6."""
    sharpness: float = 6.0
    """A rise is an eruption when slope * time_scale >= this (log units per time scale)."""


#: Window of the running median whose peak, over the median of this many points before the segment, is an
#: eruption's amplitude (the same as :data:`~entropy_dynamics.analysis.cycles.BASE_POINTS` and its window).
AMPLITUDE_WINDOW = 5

#: Points of the previous segment averaged for the level before a segment (at most; a third of a
#: short segment).
LEVEL_POINTS = 10


@dataclass
class SegmentFit:
    """What the labels look at for one segment."""

    slope: float
    """Fitted slope per step (log units when segmenting log values)."""
    n: int
    delta: float
    """Fitted change from the first to the last step."""
    level_rise: float
    """Fitted end value minus the mean of the previous segment's last points (its own fitted start
    for the first segment)."""
    jump: float = 0.0
    """Fitted start value minus the mean of the previous segment's last points (0 for the first
    segment): a step up between two logged points is a rise as sharp as a rise can be."""
    amplitude: float | None = None
    """Highest running median (window 5) in the segment and the 2 points after it, minus the median of
    the 5 points before it: the cycle's amplitude (peak / base) as :func:`find_cycles` reports it.
    None = not checked (the online detector)."""


def fit_segments(t: np.ndarray, y: np.ndarray, sums: TrendSums, bounds: list[int],
                 smooth: np.ndarray) -> list[SegmentFit]:
    """One :class:`SegmentFit` per ``[bounds[i], bounds[i+1])``. t, y, smooth: (n,); smooth = the running
    median of y (window :data:`AMPLITUDE_WINDOW`)."""
    fits = []
    for k, (a, b) in enumerate(itertools.pairwise(bounds)):
        slope, intercept = sums.line(a, b)
        fitted_end = intercept + slope * (t[b - 1] - sums.t0)
        fitted_start = intercept + slope * (t[a] - sums.t0)
        if k:
            pa = bounds[k - 1]
            reference = float(y[max(pa, a - max(1, min(LEVEL_POINTS, (a - pa) // 3))):a].mean())
        else:
            reference = fitted_start
        base = float(np.median(y[max(0, a - AMPLITUDE_WINDOW):a])) if a else float(fitted_start)
        amplitude = float(smooth[a:b + 2].max()) - base
        fits.append(SegmentFit(slope, b - a, slope * (t[b - 1] - t[a]), float(fitted_end - reference),
                               float(fitted_start - reference), amplitude))
    return fits


def _threshold(fit: SegmentFit, sigma: float, rules: LabelRules) -> float:
    """Smallest change that counts for this segment: ``min_change`` and ``z`` standard errors of its line."""
    return max(rules.min_change, rules.z * sigma * math.sqrt(12.0 / max(fit.n, 3)))


def _kind(fit: SegmentFit, sigma: float, scale: float, rules: LabelRules) -> str:
    """``sharp_rise``, ``rise``, ``decline`` or ``flat``."""
    threshold = _threshold(fit, sigma, rules)
    if fit.jump >= max(threshold, rules.min_rise) and fit.delta > -threshold:
        return "sharp_rise"  # a step up of eruption size between two logged points, then no decline
    if fit.delta > threshold:
        return "sharp_rise" if fit.slope * scale >= rules.sharpness else "rise"
    return "decline" if fit.delta < -threshold else "flat"


def phase_of(fit: SegmentFit, sigma: float, scale: float, rules: LabelRules, prev: Phase | None,
             before: Phase | None) -> Phase:
    """The phase of one segment given the two phases before it."""
    kind = _kind(fit, sigma, scale, rules)
    big_enough = fit.amplitude is None or fit.amplitude >= rules.min_rise
    if kind == "sharp_rise" and max(fit.delta, fit.level_rise) >= rules.min_rise and big_enough:
        return "eruption"
    if kind == "decline":
        after_eruption = prev in ("eruption", "subsidence") or (prev == "plateau" and before == "eruption")
        return "subsidence" if after_eruption else "descent"
    return "plateau"


def _phases(fits: list[SegmentFit], rules: LabelRules, sigma: float, scale: float,
            previous: Phase | None) -> list[Phase]:
    out: list[Phase] = []
    for fit in fits:
        prev = out[-1] if out else previous
        before = out[-2] if len(out) > 1 else (previous if out else None)
        out.append(phase_of(fit, sigma, scale, rules, prev, before))
    return out


def _merge(bounds: list[int], keys: list[str], mergeable: set[str] | None = None) -> list[int]:
    """Drop the boundary between neighbours with equal keys (only keys in ``mergeable`` if given)."""
    keep = [0] + [i for i in range(1, len(keys))
                  if keys[i] != keys[i - 1] or (mergeable is not None and keys[i] not in mergeable)]
    return [bounds[i] for i in keep] + [bounds[-1]]


def label_segments(t: np.ndarray, y: np.ndarray, bounds: list[int], sigma: float, scale: float,
                   rules: LabelRules, log_scale: bool, previous: Phase | None = None) -> list[Segment]:
    """Label the segments ``[bounds[i], bounds[i+1])`` of (t, y), merge same-phase neighbours.

    Neighbouring sharp rises (and declines) are joined before the eruption size is judged, so an
    eruption split in two by the segmenter still counts once. t, y: (n,) with y in log units when
    ``log_scale``; bounds: ascending indices, 0 first, n last.
    """
    sums = TrendSums(t, y)
    bounds = list(bounds)
    smooth = median_filter(y, size=min(AMPLITUDE_WINDOW, y.size), mode="nearest")
    for _ in range(2 * len(bounds) + 2):
        fits = fit_segments(t, y, sums, bounds, smooth)
        kinds = [_kind(f, sigma, scale, rules) for f in fits]
        # a level break at a boundary (the next segment starts a change threshold away from where the last
        # one ended) separates two rises or declines: an eruption, its drop, and the next eruption stay apart
        keys = [kind if k == 0 or abs(fit.jump) <= _threshold(fit, sigma, rules) else f"{kind}#{k}"
                for k, (kind, fit) in enumerate(zip(kinds, fits, strict=True))]
        joined = _merge(bounds, keys, {"sharp_rise", "decline"})
        if len(joined) < len(bounds):
            bounds = joined
            continue
        phases = _phases(fits, rules, sigma, scale, previous)
        merged = _merge(bounds, list(phases))
        if len(merged) == len(bounds):
            break
        bounds = merged
    bounds, phases = split_jump_eruptions(y, bounds, list(phases), fits, sigma, rules)
    bounds = move_eruption_onsets(t, y, bounds, phases)
    return [make_segment(t, sums, a, b, phase, log_scale)
            for phase, (a, b) in zip(phases, itertools.pairwise(bounds), strict=True)]


def split_jump_eruptions(y: np.ndarray, bounds: list[int], phases: list[Phase], fits: list[SegmentFit],
                         sigma: float, rules: LabelRules) -> tuple[list[int], list[Phase]]:
    """An eruption faster than the segmenter resolves: a descent or subsidence (not right after an eruption)
    that starts with a step up of eruption size (``jump`` and ``amplitude`` >= ``min_rise``) is an eruption
    followed by its subsidence.

    The eruption is the trailing points of the previous segment that already stand above that segment's
    median by the change threshold, plus the declining segment's first point; the rest is subsidence, and
    declines that follow it are subsidence too. y: (n,); bounds, phases, fits: one per segment.
    """
    out_bounds, out_phases = [bounds[0]], []
    for k, phase in enumerate(phases):
        a, b = bounds[k], bounds[k + 1]
        fit = fits[k]
        threshold = _threshold(fit, sigma, rules)
        erupts = (k > 0 and phase in ("descent", "subsidence") and out_phases[-1] != "eruption" and b - a >= 3
                  and fit.jump >= max(threshold, rules.min_rise)
                  and fit.amplitude is not None and fit.amplitude >= rules.min_rise)
        if not erupts:
            if phase == "descent" and out_phases and out_phases[-1] == "subsidence":
                phase = "subsidence"
            if out_phases and out_phases[-1] == phase:
                out_bounds[-1] = b
            else:
                out_phases.append(phase)
                out_bounds.append(b)
            continue
        start = out_bounds[-2]
        level = float(np.median(y[start:a]))
        onset = a
        while onset - 1 > start + 1 and y[onset - 1] > level + threshold:
            onset -= 1
        out_bounds[-1] = onset
        out_phases += ["eruption", "subsidence"]
        out_bounds += [a + 1, b]
    return out_bounds, out_phases


def move_eruption_onsets(t: np.ndarray, y: np.ndarray, bounds: list[int], phases: list[Phase]) -> list[int]:
    """Move each eruption's start (not the first segment's) to its hinge onset (:func:`hinge_onset`);
    the segment before it grows by the same points. t, y: (n,); bounds as in :func:`label_segments`."""
    bounds = list(bounds)
    for k, phase in enumerate(phases):
        if phase == "eruption" and k > 0:
            a, b = bounds[k], bounds[k + 1]
            bounds[k] = a + hinge_onset(t[a:b], y[a:b])
    return bounds


def make_segment(t: np.ndarray, sums: TrendSums, a: int, b: int, phase: Phase, log_scale: bool) -> Segment:
    """The :class:`Segment` of points ``[a, b)`` with its fitted line (back in the metric's units)."""
    slope, intercept = sums.line(a, b)
    fit_start = intercept + slope * (t[a] - sums.t0)
    fit_end = intercept + slope * (t[b - 1] - sums.t0)
    v0, v1 = (math.exp(fit_start), math.exp(fit_end)) if log_scale else (fit_start, fit_end)
    span = t[b - 1] - t[a]
    return Segment(start_step=int(t[a]), end_step=int(t[b - 1]), phase=phase,
                   slope=float((v1 - v0) / span) if span > 0 else 0.0, start_value=float(v0), end_value=float(v1))

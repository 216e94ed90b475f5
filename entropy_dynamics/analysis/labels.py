"""Labelling of fitted segments as descent / eruption / subsidence / plateau, and merging.

A segment's fitted change ``delta`` (in log units when segmenting log values) counts as a rise or a
decline when it exceeds both ``min_change`` and ``z`` standard errors of a fitted line's change
(``noise * sqrt(12 / n)``). A rise is an *eruption* when it is sharp: its slope times the time scale
(by default the run's span) is at least ``sharpness`` e-folds; a slower rise is a *plateau* (slow
drift). A decline directly after an eruption (or after a plateau that follows an eruption) or after
a subsidence is a *subsidence*; any other decline is a *descent*. Adjacent segments with the same
phase are merged and the result is labelled again until nothing changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from entropy_dynamics.analysis.trend_cost import TrendSums
from entropy_dynamics.analysis.types import Phase, Segment


@dataclass
class LabelRules:
    """Thresholds of the phase labels (defaults measured on synthetic and real runs)."""

    min_change: float = math.log(1.2)
    """Smallest fitted change of a rise or decline, in log units (0.18 = a 20 % change)."""
    z: float = 4.0
    """Smallest fitted change in standard errors of the segment's line."""
    sharpness: float = 4.0
    """A rise is an eruption when slope * time_scale >= this (log units per time scale)."""


def _direction(delta: float, n: int, sigma: float, rules: LabelRules) -> int:
    se = sigma * math.sqrt(12.0 / max(n, 3))
    threshold = max(rules.min_change, rules.z * se)
    return 1 if delta > threshold else -1 if delta < -threshold else 0


def _phases(fits: list[tuple[float, int, float]], sigma: float, scale: float, rules: LabelRules,
            previous: Phase | None) -> list[Phase]:
    """fits: per segment (slope per step, n points, fitted change)."""
    out: list[Phase] = []
    for slope, n, delta in fits:
        direction = _direction(delta, n, sigma, rules)
        prev = out[-1] if out else previous
        before = out[-2] if len(out) > 1 else (previous if out else None)
        if direction > 0:
            out.append("eruption" if slope * scale >= rules.sharpness else "plateau")
        elif direction < 0:
            after_eruption = prev in ("eruption", "subsidence") or (prev == "plateau" and before == "eruption")
            out.append("subsidence" if after_eruption else "descent")
        else:
            out.append("plateau")
    return out


def label_segments(t: np.ndarray, y: np.ndarray, bounds: list[int], sigma: float, scale: float,
                   rules: LabelRules, log_scale: bool, previous: Phase | None = None) -> list[Segment]:
    """Label the segments ``[bounds[i], bounds[i+1])`` of (t, y), merge same-phase neighbours.

    t, y: (n,) with y in log units when ``log_scale``; bounds: ascending indices, 0 first, n last.
    """
    sums = TrendSums(t, y)
    bounds = list(bounds)
    for _ in range(len(bounds) + 1):
        lines = [sums.line(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        fits = [(slope, b - a, slope * (t[b - 1] - t[a])) for (slope, _), a, b in zip(lines, bounds[:-1], bounds[1:])]
        phases = _phases(fits, sigma, scale, rules, previous)
        keep = [0] + [i for i in range(1, len(phases)) if phases[i] != phases[i - 1]]
        if len(keep) == len(phases):
            break
        bounds = [bounds[i] for i in keep] + [bounds[-1]]
    segments = []
    for (slope, intercept), phase, a, b in zip(lines, phases, bounds[:-1], bounds[1:]):
        fit_start = intercept + slope * (t[a] - sums.t0)
        fit_end = intercept + slope * (t[b - 1] - sums.t0)
        v0, v1 = (math.exp(fit_start), math.exp(fit_end)) if log_scale else (fit_start, fit_end)
        span = t[b - 1] - t[a]
        segments.append(Segment(
            start_step=int(t[a]), end_step=int(t[b - 1]), phase=phase,
            slope=float((v1 - v0) / span) if span > 0 else 0.0,
            start_value=float(v0), end_value=float(v1),
        ))
    return segments

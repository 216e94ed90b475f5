"""Cycles: each eruption together with the subsidence that follows it."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from entropy_dynamics.analysis.types import Cycle, Segment

#: Points before an onset whose median is the cycle's base value.
BASE_POINTS = 5


def find_cycles(segments: list[Segment], steps: np.ndarray, values: np.ndarray) -> list[Cycle]:
    """One :class:`Cycle` per eruption segment. steps, values: (n,) the analysed series (NaN ignored).

    Onset = the eruption's first step; peak = the largest running-median value (window 5) from the
    onset to the end of the following subsidence (or of the eruption when none follows); end = the
    last step of the subsidence, null when the run ends while still erupting or subsiding (or
    when no subsidence follows).
    Base = median of the last 5 points before the onset (the onset value when there are none).
    """
    steps = np.asarray(steps)
    values = np.asarray(values, dtype=float)
    keep = np.isfinite(values)
    steps, values = steps[keep], values[keep]
    if steps.size == 0:
        return []
    smooth = median_filter(values, size=min(5, values.size), mode="nearest")
    cycles: list[Cycle] = []
    for i, seg in enumerate(segments):
        if seg.phase != "eruption":
            continue
        j = i + 1
        if j < len(segments) and segments[j].phase == "plateau" and j + 1 < len(segments) \
                and segments[j + 1].phase == "subsidence":
            j += 1
        subsiding = j < len(segments) and segments[j].phase == "subsidence"
        last = segments[j] if subsiding else seg
        window = (steps >= seg.start_step) & (steps <= last.end_step)
        peak_index = int(np.flatnonzero(window)[np.argmax(smooth[window])])
        onset_index = int(np.searchsorted(steps, seg.start_step))
        before = values[max(0, onset_index - BASE_POINTS):onset_index]
        base = float(np.median(before)) if before.size else float(values[onset_index])
        peak_step, peak_value = int(steps[peak_index]), float(smooth[peak_index])
        end_step = int(last.end_step) if subsiding and last is not segments[-1] else None
        previous = cycles[-1].eruption_start_step if cycles else None
        cycles.append(Cycle(
            eruption_start_step=int(seg.start_step),
            peak_step=peak_step,
            subsidence_end_step=end_step,
            base_value=base,
            peak_value=peak_value,
            amplitude_ratio=float(peak_value / base) if base > 0 else float("nan"),
            rise_steps=peak_step - int(seg.start_step),
            decay_steps=None if end_step is None else end_step - peak_step,
            period_steps=None if previous is None else int(seg.start_step) - previous,
        ))
    return cycles

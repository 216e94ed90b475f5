"""Cycles: each eruption together with the subsidence that follows it."""

from __future__ import annotations

import numpy as np

from entropy_dynamics.analysis.types import Cycle, Segment


def find_cycles(segments: list[Segment], steps: np.ndarray, smooth: np.ndarray) -> list[Cycle]:
    """One :class:`Cycle` per eruption segment.

    steps, smooth: (n,) the analysed steps and the *smoothed* series the segments were read from
    (:attr:`~.segmenter.Segmentation.smooth`), so base and peak are numbers the segments show too.
    Base = the eruption's start value (the low it rose from); peak = the highest smoothed value from the
    onset to the end of the subsidence that follows (a plateau or rise between them belongs to the cycle),
    or of the eruption
    when none follows; end = the subsidence's last step, null when the run ends before it has ended.
    """
    steps = np.asarray(steps)
    smooth = np.asarray(smooth, dtype=float)
    cycles: list[Cycle] = []
    for i, seg in enumerate(segments):
        if seg.phase != "eruption":
            continue
        j = i + 1
        while j < len(segments) and segments[j].phase in ("plateau", "rise"):
            j += 1
        subsiding = j < len(segments) and segments[j].phase == "subsidence"
        last = segments[j] if subsiding else seg
        window = np.flatnonzero((steps >= seg.start_step) & (steps <= last.end_step))
        peak_index = int(window[np.argmax(smooth[window])])
        base = seg.start_value
        peak_step, peak_value = int(steps[peak_index]), max(float(smooth[peak_index]), seg.end_value)
        end_step = int(last.end_step) if subsiding and last is not segments[-1] else None
        previous = cycles[-1].eruption_start_step if cycles else None
        cycles.append(Cycle(
            eruption_start_step=int(seg.start_step),
            peak_step=peak_step,
            subsidence_end_step=end_step,
            base_value=base,
            peak_value=peak_value,
            amplitude_ratio=float(peak_value / base) if base > 0 else float("nan"),
            amplitude=peak_value - base,
            rise_steps=peak_step - int(seg.start_step),
            decay_steps=None if end_step is None else end_step - peak_step,
            period_steps=None if previous is None else int(seg.start_step) - previous,
        ))
    return cycles


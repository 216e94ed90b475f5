"""Live phase detection: one point at a time, events once a transition is confirmed.

After each new point the detector looks at the last ``lookback + max_tail`` points (log values,
isolated spikes replaced by the running median of 3, which delays every decision by 1 point) and
finds the best single split into a reference part and a *tail* of at least ``min_tail`` points
(exact two-line least squares over every split, vectorised through prefix sums). The tail is
labelled with the offline rules (:mod:`.labels`) in the context of the current phase: a sharp,
significant rise of at least ``min_rise`` (and of ``block_z`` times the run's own spread of
``min_tail``-point means, which keeps slowly wandering real curves from raising alarms) is an
eruption, a decline after an eruption a subsidence, and so on. A rise that pauses and resumes
stays one eruption. When the best split is no real change point (its gain is below the offline
penalty) and the tail looks flat, a decline goes on, and a plateau is judged as a whole since it
began, so a slow descent is still seen as one. A tail phase that differs from the current one
becomes an event once ``confirm`` consecutive points agree. Sharpness is judged against
``total_steps`` when the trainer knows it, else against the steps seen so far. Cost per point:
O(lookback + max_tail), independent of the run length (about 0.3-0.4 ms).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace

import numpy as np

from entropy_dynamics.analysis.labels import LabelRules, SegmentFit, phase_of
from entropy_dynamics.analysis.segmenter import robust_noise
from entropy_dynamics.analysis.trend_cost import TrendSums
from entropy_dynamics.analysis.types import Phase, PhaseEvent

#: Points on each side of the running median that removes spikes (decisions lag by this much).
SPIKE_HALF = 1


class OnlineDetector:
    """Streaming phase detector. ``update(step, value)`` returns the events confirmed at that step."""

    def __init__(self, run: str = "", *, total_steps: int | None = None, lookback: int = 60,
                 max_tail: int = 60, min_tail: int = 6, confirm: int = 2, spike_z: float = 4.0,
                 min_rise: float = 0.25, reference: int = 30, block_z: float = 7.0, penalty_factor: float = 7.0,
                 **rules: float) -> None:
        if min_tail < 3 or max_tail < min_tail or lookback < 5 or confirm < 1:
            raise ValueError("need min_tail >= 3, max_tail >= min_tail, lookback >= 5, confirm >= 1")
        self.run = run
        self.total_steps = total_steps
        self.lookback = lookback
        self.max_tail = max_tail
        self.min_tail = min_tail
        self.confirm = confirm
        self.reference = reference
        self.penalty_factor = penalty_factor
        self.block_z = block_z
        self._block: list[float] = []
        self._sigma = 0.0
        self._split_gain = 0.0
        self._block_sigma = 0.0
        self._block_means: deque[float] = deque(maxlen=201)
        self.spike_z = spike_z
        self.rules = LabelRules(**{**rules, "min_rise": min_rise})
        self.events: list[PhaseEvent] = []
        size = lookback + max_tail
        self._raw_steps: deque[int] = deque(maxlen=2 * SPIKE_HALF + 1)
        self._raw: deque[float] = deque(maxlen=2 * SPIKE_HALF + 1)
        self._steps: deque[float] = deque(maxlen=size)
        self._logs: deque[float] = deque(maxlen=size)
        self._first_step: int | None = None
        self._pending: tuple[Phase, int] | None = None
        self._agree = 0

    @property
    def current_phase(self) -> Phase | None:
        """The last confirmed phase (None before the first confirmation)."""
        return self.events[-1].phase if self.events else None

    def update(self, step: int, value: float) -> list[PhaseEvent]:
        """Feed one logged point (non-finite or non-positive values are ignored). Returns new events."""
        if value is None or not math.isfinite(value) or value <= 0:
            return []
        if self._raw_steps and step <= self._raw_steps[-1]:
            return []
        if self._first_step is None:
            self._first_step = int(step)
        self._raw_steps.append(int(step))
        self._raw.append(math.log(value))
        if len(self._raw) < self._raw.maxlen:
            return []
        self._accept_centre()
        if len(self._logs) < self.min_tail + 5:
            return []
        return self._check(int(step))

    def _accept_centre(self) -> None:
        """Move the centre point of the raw buffer into the analysed window, despiked (the first
        points, which have no left neighbours, go in as they are)."""
        if not self._logs:
            for k in range(SPIKE_HALF):
                self._steps.append(float(self._raw_steps[k]))
                self._logs.append(self._raw[k])
        centre = self._raw[SPIKE_HALF]
        median = sorted(self._raw)[SPIKE_HALF]
        if self._sigma > 0 and abs(centre - median) > self.spike_z * self._sigma:
            centre = median
        self._steps.append(float(self._raw_steps[SPIKE_HALF]))
        self._logs.append(centre)
        self._block.append(centre)
        if len(self._block) == self.min_tail:
            self._block_means.append(sum(self._block) / len(self._block))
            self._block = []
            if len(self._block_means) >= 5:
                # spread of the level over min_tail points from the recent history (block means of
                # consecutive points; larger than white noise predicts when the series wanders)
                self._block_sigma = robust_noise(np.asarray(self._block_means))

    def _tail(self) -> tuple[int, SegmentFit, float] | None:
        """Best tail ``(start index, its fit, noise)`` of the window."""
        t = np.asarray(self._steps)
        y = np.asarray(self._logs)
        n = y.size
        sums = TrendSums(t, y)
        lo = max(3, n - self.max_tail)
        hi = n - self.min_tail
        if hi < lo:
            return None
        k = np.arange(lo, hi + 1)
        left = np.maximum(k - self.reference, 0)
        cost = (sums.rss(left, k) + sums.rss(k, np.full_like(k, n))) / (n - left)
        start = int(k[int(np.argmin(cost))])
        self._sigma = robust_noise(y)
        left = max(start - self.reference, 0)
        self._split_gain = sums.rss_scalar(left, n) - sums.rss_scalar(left, start) - sums.rss_scalar(start, n)
        return start, self._fit(t, y, sums, start), self._sigma

    def _fit(self, t: np.ndarray, y: np.ndarray, sums: TrendSums, start: int) -> SegmentFit:
        """The fit of ``[start:]`` of the window."""
        n = y.size
        slope, intercept = sums.line(start, n)
        ref = y[max(0, start - 10):start]
        fitted_end = intercept + slope * (t[-1] - sums.t0)
        level = float(fitted_end - ref.mean()) if ref.size else slope * (t[-1] - t[start])
        return SegmentFit(slope, n - start, slope * (t[-1] - t[start]), level)

    def _since_current(self, sigma: float, scale: float) -> tuple[Phase, int]:
        """The phase of the whole window since the current phase began (for a window without a
        change point: a slow trend the tail is too short to see), and its start index."""
        t = np.asarray(self._steps)
        y = np.asarray(self._logs)
        since = int(np.searchsorted(t, self.events[-1].start_step)) if self.events else 0
        since = min(since, y.size - self.min_tail)
        phase = phase_of(self._fit(t, y, TrendSums(t, y), since), sigma, scale, self.rules,
                         self.current_phase, self._before_current())
        return phase, since

    def _check(self, step: int) -> list[PhaseEvent]:
        found = self._tail()
        if found is None:
            return []
        start, fit, sigma = found
        scale = self.total_steps or max(step - (self._first_step or 0), 1)
        if fit.delta > 0 and max(fit.delta, fit.level_rise) < self.block_z * self._block_sigma:
            fit = replace(fit, delta=0.0, level_rise=0.0)
        phase = phase_of(fit, sigma, float(scale), self.rules, self.current_phase, self._before_current())
        no_change = self._split_gain < self.penalty_factor * sigma**2 * math.log(len(self._logs)) * 3.0
        if phase == "plateau" and no_change:
            # no change point in the window and a flat-looking tail: a decline goes on, and a
            # plateau may turn out to be a slow decline the tail is too short to see
            if self.current_phase in ("descent", "subsidence"):
                self._pending, self._agree = None, 0
                return []
            phase, start = self._since_current(sigma, float(scale))
        start_step = int(self._steps[start])
        if phase == self.current_phase or (self.events and start_step < self.events[-1].start_step) \
                or (phase == "eruption" and self._erupting(start_step)):
            self._pending, self._agree = None, 0
            return []
        self._agree = self._agree + 1 if self._pending and self._pending[0] == phase else 1
        self._pending = (phase, start_step)
        if self._agree < self.confirm:
            return []
        if not self.events:
            start_step = self._first_step or start_step
        event = PhaseEvent(run=self.run, phase=phase, start_step=start_step, confirmed_at_step=step)
        self.events.append(event)
        self._pending, self._agree = None, 0
        return [event]

    def _erupting(self, candidate_step: int) -> bool:
        """True when the last trend event is an eruption that began less than a window span before
        ``candidate_step``: a rise that pauses (eruption, plateau, eruption) is one eruption."""
        last = next((e for e in reversed(self.events) if e.phase != "plateau"), None)
        if last is None or last.phase != "eruption":
            return False
        return candidate_step - last.start_step < self._steps[-1] - self._steps[0]

    def _before_current(self) -> Phase | None:
        return self.events[-2].phase if len(self.events) > 1 else None

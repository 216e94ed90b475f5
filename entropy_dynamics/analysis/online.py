"""Live phase detection with the offline definitions (:mod:`.options`), one point at a time.

* **Eruptions** are found exactly as offline: each point's smoothed value is final once half the median
  window (:func:`~.eruptions.median_window`, fixed by the first 11 steps, known as soon as they cannot change
  it: :func:`~.eruptions.settled_window`, after 7 points at regular logging) of later points have arrived; it is
  tested against its trailing low and local noise, and grouped by the same :class:`~.eruptions.EruptionTracker`.
  The event's ``start_step`` is the offline onset, known the moment the eruption is confirmed (half a
  window after the first erupted point).
* **Descent, rise, plateau, subsidence**: every ``refit_every`` points the offline segmenter runs on the last
  ``lookback`` points; the phase of the segment holding the newest final point becomes an event once
  ``confirm`` refits in a row agree. A decline after an eruption is a subsidence.

No two events share a start step; events come in order of their start. Cost per point: O(points in
``max_rise_steps`` + 50) plus one segmentation of ``lookback`` points every ``refit_every`` points.
Non-positive values are ignored (entropy is positive); :meth:`finish` judges the last points of a finished run.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from entropy_dynamics.analysis.eruptions import (
    NOISE_POINTS,
    EruptionTracker,
    is_erupted,
    median_window,
    settled_window,
)
from entropy_dynamics.analysis.options import DetectorOptions, PhaseOptions
from entropy_dynamics.analysis.segmenter import segment
from entropy_dynamics.analysis.types import Phase, PhaseEvent
from entropy_dynamics.errors import ConfigError

SQRT2 = math.sqrt(2.0)

#: A descent / rise / plateau / subsidence is reported once its segment holds this many points.
MIN_TREND_POINTS = 8


class _Buffer:
    """A growing float array (amortised O(1) append, numpy views for slicing)."""

    def __init__(self) -> None:
        self._data = np.empty(256)
        self.size = 0

    def append(self, value: float) -> None:
        if self.size == self._data.size:
            self._data = np.concatenate([self._data, np.empty(self._data.size)])
        self._data[self.size] = value
        self.size += 1

    @property
    def view(self) -> np.ndarray:
        return self._data[: self.size]


class OnlineDetector:
    """Streaming phase detector. ``update(step, value)`` returns the events confirmed at that step."""

    def __init__(self, run: str = "", *, options: PhaseOptions | None = None,
                 detector: DetectorOptions | None = None, refit_every: int | None = None,
                 lookback: int | None = None, confirm: int | None = None, total_steps: int | None = None,
                 **overrides: Any) -> None:
        """``options`` / ``overrides``: the phase definitions (:class:`PhaseOptions`); ``detector`` /
        ``refit_every``, ``lookback``, ``confirm``: how trends are confirmed (:class:`DetectorOptions`).
        ``total_steps`` is accepted for older callers and unused: the definitions do not depend on the run's
        length."""
        del total_steps
        self.run = run
        self.opts = (options or PhaseOptions()).updated(**overrides)
        try:
            self.detector_options = (detector or DetectorOptions()).updated(refit_every=refit_every,
                                                                            lookback=lookback, confirm=confirm)
        except ConfigError as exc:  # the detector has always refused bad settings with a ValueError
            raise ValueError(str(exc)) from None
        self.refit_every = self.detector_options.refit_every
        self.lookback = self.detector_options.lookback
        self.confirm = self.detector_options.confirm
        self.events: list[PhaseEvent] = []
        self._steps = _Buffer()
        self._y = _Buffer()
        self._s = _Buffer()
        self._sigma = _Buffer()
        self._diffs: deque[float] = deque(maxlen=NOISE_POINTS)
        self._devs: deque[float] = deque(maxlen=NOISE_POINTS)
        self._tracker: EruptionTracker | None = None
        """Made once the smoothing window is known (:meth:`_window_known`)."""
        self._pending: tuple[Phase, int, int] | None = None

    @property
    def current_phase(self) -> Phase | None:
        """The last confirmed phase (None before the first confirmation)."""
        return self.events[-1].phase if self.events else None

    def update(self, step: int, value: float | None) -> list[PhaseEvent]:
        """Feed one logged point (non-finite or non-positive values, and steps not after the last, are ignored)."""
        if value is None or not math.isfinite(value) or value <= 0:
            return []
        if self._steps.size and step <= self._steps.view[-1]:
            return []
        self._append_raw(int(step), math.log(value))
        if self._tracker is None:
            window = settled_window(self._steps.view, self.opts.smooth_points)
            if window is None:
                return []  # the logging interval, and with it the smoothing window, is not known yet
            self._tracker = EruptionTracker(self.opts, log_scale=True, window=window)
        tracker = self._tracker
        final = self._y.size - 1 - tracker.ahead  # the newest point whose smoothed value is final
        events: list[PhaseEvent] = []
        for j in range(self._s.size, final + 1):
            events += self._finalise(j, int(step))
            if (j + 1) % self.refit_every == 0:
                events += self._refit(j, int(step))
        return events

    def finish(self) -> list[PhaseEvent]:
        """The run has ended: judge its last points with the cut windows the offline analyzer uses."""
        if not self._y.size:
            return []
        step = int(self._steps.view[-1])
        self._window_known()
        events: list[PhaseEvent] = []
        for j in range(self._s.size, self._y.size):
            events += self._finalise(j, step)
        return events + self._refit(self._y.size - 1, step)

    # -- internals -----------------------------------------------------------------------------------------

    def _append_raw(self, step: int, y: float) -> None:
        if self._y.size:
            d = y - self._y.view[-1]
            self._diffs.append(d)
            self._devs.append(abs(d - float(np.median(self._diffs))))
            sigma = 1.4826 * float(np.median(self._devs)) / SQRT2
            if self._sigma.size == 0:
                self._sigma.append(sigma)  # the first point gets the second's noise, as offline
            self._sigma.append(sigma)
        self._steps.append(float(step))
        self._y.append(y)

    def _window_known(self) -> EruptionTracker:
        """The eruption tracker, made on first use with the smoothing window the offline analyzer would pick from
        the steps seen so far (:func:`~.eruptions.median_window`: all of them in a run that ended early)."""
        if self._tracker is None:
            window = median_window(self._steps.view, self.opts.smooth_points)
            self._tracker = EruptionTracker(self.opts, log_scale=True, window=window)
        return self._tracker

    def _finalise(self, j: int, step: int) -> list[PhaseEvent]:
        """Smooth point ``j`` (its window is complete, or cut at the run's end) and test it for an eruption."""
        tracker = self._window_known()
        half = tracker.ahead
        y = self._y.view
        self._s.append(float(np.median(y[max(0, j - half): j + half + 1])))
        s, t = self._s.view, self._steps.view
        sigma = self._sigma.view[j] if self._sigma.size > j else 0.0
        low = j
        k = j
        while k >= 0 and t[k] >= t[j] - self.opts.max_rise_steps:
            if s[k] < s[low]:
                low = k
            k -= 1
        if not is_erupted(float(s[j]), float(s[low]), sigma, self.opts, log_scale=True):
            return []
        onset = tracker.feed(t, y, s, j, low, sigma)
        if onset is None:
            return []
        return self._emit("eruption", int(t[onset]), step)

    def _refit(self, final: int, step: int) -> list[PhaseEvent]:
        """The phase of the newest final point in a segmentation of the last ``lookback`` points."""
        start = max(0, final + 1 - self.lookback)
        t = self._steps.view[start: final + 1]
        result = segment(t, np.exp(self._y.view[start: final + 1]), self.opts)
        if not result.segments:
            return []
        last = result.segments[-1]
        phase: Phase = last.phase
        if phase == "eruption":
            return []  # eruptions come from the exact test above
        if phase == "descent" and self.current_phase == "eruption":
            phase = "subsidence"
        held = int(np.searchsorted(t, last.start_step, side="left"))
        if phase == self.current_phase or t.size - held < MIN_TREND_POINTS:
            self._pending = None
            return []
        agree = self._pending[2] + 1 if self._pending and self._pending[0] == phase else 1
        self._pending = (phase, last.start_step, agree)
        if agree < self.confirm:
            return []
        start = last.start_step
        if self.events and start <= self.events[-1].start_step:
            # the current phase turned out to be another one (a slow decline first looks flat): the new label
            # starts at the next logged step after the current event's start
            later = t[t > self.events[-1].start_step]
            if not later.size:
                return []
            start = int(later[0])
        return self._emit(phase, start, step)

    def _emit(self, phase: Phase, start_step: int, step: int) -> list[PhaseEvent]:
        self._pending = None
        if self.events and start_step <= self.events[-1].start_step:
            if phase != "eruption":
                return []
            # an eruption keeps its onset even when a trend event began at or after it (the eruption explains
            # that trend); only an exactly shared start moves to the next step
            if any(e.start_step == start_step for e in self.events):
                start_step += 1
        event = PhaseEvent(run=self.run, phase=phase, start_step=start_step, confirmed_at_step=step)
        self.events.append(event)
        return [event]

"""Live phase detection: one step at a time, events once a transition is confirmed.

The detector keeps the last ``window`` points and, every ``refit_every`` points, runs the offline
segmenter (:func:`segment`) on them. The phase of the newest segment is a *candidate*; it becomes an
event when ``confirm`` consecutive re-fits agree on it (the breakpoints of a prefix flicker, so one
re-fit is not enough). A rise is judged sharp against ``total_steps`` when the trainer knows it,
else against the steps seen so far. Cost: one Pelt fit on at most ``max_points`` binned points per
``refit_every`` steps, independent of the run length.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace

from entropy_dynamics.analysis.segment import MIN_POINTS, make_options, segment
from entropy_dynamics.analysis.types import Phase, PhaseEvent


class OnlineDetector:
    """Streaming phase detector. ``update(step, value)`` returns the events confirmed at that step."""

    def __init__(self, run: str = "", *, window: int = 240, refit_every: int = 4, confirm: int = 2,
                 total_steps: int | None = None, max_points: int = 120, **options: object) -> None:
        if window < MIN_POINTS or refit_every < 1 or confirm < 1:
            raise ValueError(f"need window >= {MIN_POINTS}, refit_every >= 1, confirm >= 1")
        self.run = run
        self.window = window
        self.refit_every = refit_every
        self.confirm = confirm
        self.total_steps = total_steps
        self.options = replace(make_options(**options), max_points=max_points)
        self.events: list[PhaseEvent] = []
        self._steps: deque[int] = deque(maxlen=window)
        self._values: deque[float] = deque(maxlen=window)
        self._first_step: int | None = None
        self._since_fit = 0
        self._candidate: tuple[Phase, int] | None = None
        self._agree = 0

    @property
    def current_phase(self) -> Phase | None:
        """The last confirmed phase (None before the first confirmation)."""
        return self.events[-1].phase if self.events else None

    def update(self, step: int, value: float) -> list[PhaseEvent]:
        """Feed one logged point (non-finite values are ignored). Returns new events (usually [])."""
        if value is None or not math.isfinite(value):
            return []
        if self._steps and step <= self._steps[-1]:
            return []
        if self._first_step is None:
            self._first_step = int(step)
        self._steps.append(int(step))
        self._values.append(float(value))
        self._since_fit += 1
        if len(self._steps) < MIN_POINTS or self._since_fit < self.refit_every:
            return []
        self._since_fit = 0
        return self._refit(int(step))

    def _phase_before(self, step: int) -> Phase | None:
        for event in reversed(self.events):
            if event.start_step < step:
                return event.phase
        return None

    def _refit(self, step: int) -> list[PhaseEvent]:
        scale = self.total_steps or max(step - (self._first_step or 0), 1)
        result = segment(list(self._steps), list(self._values), self.options, time_scale=float(scale),
                         previous_phase=self._phase_before(self._steps[0]))
        if not result.segments:
            return []
        last = result.segments[-1]
        candidate = (last.phase, last.start_step)
        if last.phase == self.current_phase:
            self._candidate, self._agree = None, 0
            return []
        if self._candidate is not None and self._candidate[0] == last.phase:
            self._agree += 1
        else:
            self._agree = 1
        self._candidate = candidate
        if self._agree < self.confirm:
            return []
        event = PhaseEvent(run=self.run, phase=last.phase, start_step=last.start_step, confirmed_at_step=step)
        self.events.append(event)
        self._candidate, self._agree = None, 0
        return [event]

"""Scores of a phase analysis against known truth (synthetic runs): onset F1, per-step phase
accuracy, cycle count, and the live detector's delay and false alarms."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from entropy_dynamics.analysis.cycles import find_cycles
from entropy_dynamics.analysis.online import OnlineDetector
from entropy_dynamics.analysis.options import PhaseOptions
from entropy_dynamics.analysis.segmenter import segment
from entropy_dynamics.analysis.synthetic import synthetic_series
from entropy_dynamics.analysis.types import PhaseEvent, Segment


def onset_tolerance(steps: np.ndarray) -> float:
    """Matching tolerance for onsets, in steps: 2 % of the span, at least 5 logging intervals."""
    steps = np.asarray(steps)
    interval = float(np.median(np.diff(steps))) if steps.size > 1 else 1.0
    return max(0.02 * float(steps[-1] - steps[0]), 5 * interval)


def match_onsets(true: list[int], found: list[int], tolerance: float) -> int:
    """Number of one-to-one matches within ``tolerance`` (greedy by distance)."""
    pairs = sorted((abs(f - t), i, j) for i, t in enumerate(true) for j, f in enumerate(found)
                   if abs(f - t) <= tolerance)
    used_t, used_f = set(), set()
    for _, i, j in pairs:
        if i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
    return len(used_t)


@dataclass
class OnsetScore:
    true_positives: int
    n_true: int
    n_found: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.n_found if self.n_found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.n_true if self.n_true else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: OnsetScore) -> OnsetScore:
        return OnsetScore(self.true_positives + other.true_positives, self.n_true + other.n_true,
                          self.n_found + other.n_found)


def onset_score(true: list[int], found: list[int], tolerance: float) -> OnsetScore:
    """Onset detection counts (pool them with ``+`` for a micro-averaged F1)."""
    return OnsetScore(match_onsets(true, found, tolerance), len(true), len(found))


def phase_accuracy(steps: np.ndarray, true_phases: np.ndarray, segments: list[Segment]) -> float:
    """Share of ``steps`` whose segment phase equals the true phase. steps, true_phases: (n,)."""
    steps = np.asarray(steps)
    found = np.full(steps.shape, None, dtype=object)
    for seg in segments:
        found[(steps >= seg.start_step) & (steps <= seg.end_step)] = seg.phase
    return float(np.mean(found == np.asarray(true_phases, dtype=object))) if steps.size else 0.0


@dataclass
class LiveScore:
    delays: list[int]
    """Logged points from each detected true onset to the confirming step."""
    missed: int
    false_alarms: int
    """Eruption events with no true onset within the tolerance."""


def live_score(steps: np.ndarray, true_onsets: list[int], events: list[PhaseEvent], tolerance: float) -> LiveScore:
    """Delay (in logged points) and false alarms of the eruption events of an online detector."""
    steps = np.asarray(steps)
    eruptions = [e for e in events if e.phase == "eruption"]
    delays, used = [], set()
    for onset in true_onsets:
        near = [k for k, e in enumerate(eruptions) if k not in used and abs(e.start_step - onset) <= tolerance]
        if not near:
            continue
        k = near[0]
        used.add(k)
        delays.append(int(np.searchsorted(steps, eruptions[k].confirmed_at_step)
                          - np.searchsorted(steps, onset)))
    return LiveScore(delays, len(true_onsets) - len(delays), len(eruptions) - len(used))


@dataclass
class SuiteScore:
    """Offline and live scores pooled over a set of synthetic runs."""

    onsets: OnsetScore
    phase_accuracy: list[float]
    exact_cycle_count: int
    runs: int
    eruptions_on_monotone: int
    live: LiveScore | None = None
    live_points: int = 0
    climb_starts: OnsetScore | None = None
    """The found onsets against the first step of every drawn climb (:attr:`SyntheticSeries.climb_starts`)
    instead of the onsets the definition gives."""

    @property
    def mean_accuracy(self) -> float:
        return float(np.mean(self.phase_accuracy)) if self.phase_accuracy else 0.0

    @property
    def exact_share(self) -> float:
        return self.exact_cycle_count / self.runs if self.runs else 0.0

    @property
    def false_alarms_per_2000(self) -> float:
        return self.live.false_alarms / self.live_points * 2000 if self.live and self.live_points else 0.0


def score_suite(settings: list[dict], live: bool = False, **options: object) -> SuiteScore:
    """Run the offline analysis (and the online detector with ``live``) on each synthetic setting. The truth is
    that of the default definitions (:func:`~.synthetic.defined_onsets`); ``options`` change only the analysis,
    so with other settings :attr:`SuiteScore.climb_starts` is the score to compare."""
    total = climbs = OnsetScore(0, 0, 0)
    accuracies, exact, monotone_hits = [], 0, 0
    live_total, points = LiveScore([], 0, 0), 0
    for kwargs in settings:
        s = synthetic_series(**kwargs)
        finite = np.isfinite(s.values)
        result = segment(s.steps, s.values, PhaseOptions().updated(**options))
        found = [c.eruption_start_step for c in find_cycles(result.segments, result.steps, result.smooth)]
        tolerance = onset_tolerance(s.steps)
        total = total + onset_score(s.onsets, found, tolerance)
        climbs = climbs + onset_score(s.climb_starts, found, tolerance)
        accuracies.append(phase_accuracy(s.steps[finite], s.phases[finite], result.segments))
        exact += len(found) == len(s.onsets)
        monotone_hits += bool(kwargs.get("monotone") and found)
        if live:
            detector = OnlineDetector(options=PhaseOptions().updated(**options))
            for step, value in zip(s.steps.tolist(), s.values.tolist(), strict=True):
                detector.update(step, value)
            detector.finish()
            one = live_score(s.steps[finite], s.onsets, detector.events, tolerance)
            live_total = LiveScore(live_total.delays + one.delays, live_total.missed + one.missed,
                                   live_total.false_alarms + one.false_alarms)
            points += int(finite.sum())
    return SuiteScore(total, accuracies, exact, len(settings), monotone_hits,
                      live_total if live else None, points, climbs)

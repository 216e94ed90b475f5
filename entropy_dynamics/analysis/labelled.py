"""Scores of the analyzer against curves a person labelled by eye (``benchmarks/real_runs/labels.json``).

A detected eruption onset inside a labelled onset range is a hit; a required eruption without one is a miss;
a detection inside no range (required or optional) is a false alarm. Phase agreement is the share of steps in
the labelled ranges whose phase is one the labeller accepted there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from entropy_dynamics.analysis.evaluate import OnsetScore
from entropy_dynamics.analysis.options import PhaseOptions
from entropy_dynamics.analysis.run_analysis import analyze_run
from entropy_dynamics.logs.readers import read_runs


@dataclass
class CurveScore:
    """The score of one labelled curve."""

    name: str
    hits: int
    misses: list[tuple[int, int]]
    false_alarms: list[int]
    optional_found: int
    phase_steps: int
    phase_agree: int
    onsets: list[int] = field(default_factory=list)


@dataclass
class LabelledScore:
    curves: list[CurveScore]

    @property
    def hits(self) -> int:
        return sum(c.hits for c in self.curves)

    @property
    def required(self) -> int:
        return sum(c.hits + len(c.misses) for c in self.curves)

    @property
    def false_alarms(self) -> int:
        return sum(len(c.false_alarms) for c in self.curves)

    @property
    def onsets(self) -> OnsetScore:
        """Hits against required eruptions; detections = hits + false alarms (optional ones count as neither)."""
        return OnsetScore(self.hits, self.required, self.hits + self.false_alarms)

    @property
    def precision(self) -> float:
        return self.onsets.precision

    @property
    def recall(self) -> float:
        return self.onsets.recall

    @property
    def f1(self) -> float:
        return self.onsets.f1

    @property
    def phase_agreement(self) -> float:
        steps = sum(c.phase_steps for c in self.curves)
        return sum(c.phase_agree for c in self.curves) / steps if steps else 1.0


def load_labels(path: str | Path) -> list[dict[str, Any]]:
    """The labelled curves of a labels file, their paths made relative to the repository root above it."""
    path = Path(path)
    root = path.resolve().parents[2]
    curves = json.loads(path.read_text())["curves"]
    for curve in curves:
        curve["path"] = str(root / curve["path"])
    return curves


def widen(lo: int, hi: int, steps: np.ndarray, points: int) -> tuple[int, int]:
    """The range ``[lo, hi]`` widened by ``points`` logged steps on each side. steps: (n,) ascending."""
    if points <= 0 or steps.size == 0:
        return lo, hi
    i = max(0, int(np.searchsorted(steps, lo, side="left")) - points)
    j = min(steps.size - 1, int(np.searchsorted(steps, hi, side="right")) - 1 + points)
    return min(lo, int(steps[i])), max(hi, int(steps[j]))


def score_curve(curve: dict[str, Any], options: PhaseOptions, slack_points: int = 0) -> CurveScore:
    """Analyse one labelled curve and score it; an onset within ``slack_points`` logged points of a labelled
    range counts as inside it."""
    run = read_runs(curve["path"])[int(curve.get("run", 0))]
    analysis = analyze_run(run, curve.get("metric"), options=options)
    onsets = [seg.start_step for seg in analysis.segments if seg.phase == "eruption"]
    steps = np.asarray(run.metrics.index, dtype=np.int64)
    ranges = [(*widen(e["onset"][0], e["onset"][1], steps, slack_points), bool(e.get("optional")))
              for e in curve["eruptions"]]
    hit_ranges: set[int] = set()
    false_alarms = []
    for onset in onsets:
        inside = [k for k, (lo, hi, _) in enumerate(ranges) if lo <= onset <= hi]
        if inside:
            hit_ranges.update(inside)
        else:
            false_alarms.append(onset)
    hits = sum(1 for k in hit_ranges if not ranges[k][2])
    misses = [(lo, hi) for k, (lo, hi, optional) in enumerate(ranges) if not optional and k not in hit_ranges]
    optional_found = sum(1 for k in hit_ranges if ranges[k][2])
    steps_total = agree = 0
    for lo, hi, accepted in curve.get("phases", []):
        for seg in analysis.segments:
            a, b = max(lo, seg.start_step), min(hi, seg.end_step)
            if a <= b:
                n = int(((run.metrics.index >= a) & (run.metrics.index <= b)).sum())
                steps_total += n
                agree += n if seg.phase in accepted else 0
    return CurveScore(curve["name"], hits, misses, false_alarms, optional_found, steps_total, agree, onsets)


def score_labelled(curves: list[dict[str, Any]], options: PhaseOptions | None = None,
                   slack_points: int = 0) -> LabelledScore:
    """Score the analyzer with ``options`` on every labelled curve. ``slack_points``: see :func:`score_curve`
    (1 forgives the foot-or-first-climbing-point ambiguity of an onset placed by eye)."""
    opts = options or PhaseOptions()
    return LabelledScore([score_curve(curve, opts, slack_points) for curve in curves])

"""Sampled trajectories to show: the samples logged closest before and after each eruption onset."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.logs import Run
from entropy_dynamics.report.formatting import sig

MAX_TEXT_CHARS = 1500
MAX_TRAJECTORIES = 4
MAX_TURNS = 12
TURN_FIELDS = ("observation", "response", "action")


@dataclass
class SampleView:
    """One logged ``samples`` record, trimmed for display."""

    step: int
    label: str
    trajectories: list[list[dict[str, Any]]]
    hidden: int = 0
    """Trajectories of the record not shown."""


@dataclass
class SampleGroup:
    title: str
    views: list[SampleView] = field(default_factory=list)


def _clip(value: Any) -> str:
    text = "" if value is None else str(value)
    if len(text) <= MAX_TEXT_CHARS:
        return text
    return text[:MAX_TEXT_CHARS] + f" … [{len(text) - MAX_TEXT_CHARS} more chars]"


def _as_list(value: Any) -> list[Any]:
    """A list as is; None as empty; anything else (a log written by another tool) as one item."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _turn(turn: Any) -> dict[str, Any]:
    if not isinstance(turn, dict):
        return {"response": _clip(turn)}
    view = {k: _clip(turn.get(k)) for k in TURN_FIELDS if turn.get(k) is not None}
    view.update({k: sig(turn[k]) for k in ("reward", "advantage") if k in turn})
    if "valid" in turn:
        view["valid"] = turn["valid"]
    return view


def view_of(record: dict[str, Any], label: str) -> SampleView:
    """Display form of a ``samples`` record: a few trajectories, each a list of clipped turns."""
    trajectories = _as_list(record.get("trajectories"))
    shown = []
    for traj in trajectories[:MAX_TRAJECTORIES]:
        turns = _as_list(traj.get("turns")) if isinstance(traj, dict) else [traj]
        shown.append([_turn(t) for t in turns[:MAX_TURNS]])
    return SampleView(int(record["step"]), label, shown, hidden=max(0, len(trajectories) - MAX_TRAJECTORIES))


def sample_groups(run: Run, analysis: PhaseAnalysis) -> list[SampleGroup]:
    """For each eruption onset: the sample record just before it and the first one at or after it.

    A run with samples but no eruption gets its first and last sample records.
    """
    records = sorted((r for r in run.samples if isinstance(r.get("step"), int)), key=lambda r: r["step"])
    if not records:
        return []
    steps = np.array([r["step"] for r in records])
    if not analysis.cycles:
        picks = [(records[0], "first sample")] + ([(records[-1], "last sample")] if len(records) > 1 else [])
        return [SampleGroup("No eruption: first and last sampled trajectories",
                            [view_of(r, label) for r, label in picks])]
    groups = []
    for i, cyc in enumerate(analysis.cycles, start=1):
        onset = cyc.eruption_start_step
        before = int(np.searchsorted(steps, onset, side="left")) - 1
        after = before + 1
        views = []
        if before >= 0:
            views.append(view_of(records[before], f"{onset - steps[before]} steps before onset"))
        if after < len(records):
            views.append(view_of(records[after], f"{steps[after] - onset} steps after onset"))
        groups.append(SampleGroup(f"C{i}: eruption onset at step {onset}", views))
    return groups

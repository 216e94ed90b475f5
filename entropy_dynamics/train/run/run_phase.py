"""What the sinks report about phases: the live phase as a number, and a finished run's cycle statistics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from entropy_dynamics.analysis import PHASES

#: The ``phase`` metric: 0 before the detector's first confirmed phase, then 1 + the phase's place in PHASES
#: (1 descent, 2 eruption, 3 subsidence, 4 plateau, 5 rise).
PHASE_CODES: dict[str | None, int] = {None: 0, **{name: i + 1 for i, name in enumerate(PHASES)}}


def phase_metric(extra: dict[str, Any]) -> dict[str, int]:
    """``{"phase": code}`` from a train state's ``extra`` (empty when live phase detection is off)."""
    return {"phase": PHASE_CODES[extra["phase"]]} if "phase" in extra else {}


def cycle_summary(log_path: Path) -> dict[str, float]:
    """The run's :func:`~entropy_dynamics.analysis.project.phase_statistics` from its JSONL log, as numbers under
    ``cycles/`` (booleans as 0/1, missing values left out); empty when there is no log yet."""
    from entropy_dynamics.analysis.project import phase_statistics
    from entropy_dynamics.logs import read_runs

    if not log_path.is_file() or log_path.stat().st_size == 0:
        return {}
    stats = phase_statistics(read_runs(log_path, format="jsonl")[0])
    return {f"cycles/{k}": float(v) for k, v in stats.items() if v is not None}

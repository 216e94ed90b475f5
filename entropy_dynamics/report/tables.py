"""Table rows of the reports: cycles, phases, config, and the per-run comparison summary."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.errors import MetricNotFoundError
from entropy_dynamics.logs import Run
from entropy_dynamics.report.panels import DEGEN_METRICS, SUCCESS_METRICS, first_logged

#: Logged points averaged for the "final" values of a run.
TAIL_POINTS = 10
MAX_CONFIG_ROWS = 400
MAX_VALUE_CHARS = 300


def unique_labels(runs: Sequence[Run]) -> list[str]:
    """Run names, with ``#k`` appended where several runs share a name."""
    counts, seen = Counter(r.name for r in runs), Counter()
    labels = []
    for run in runs:
        seen[run.name] += 1
        labels.append(run.name if counts[run.name] == 1 else f"{run.name} #{seen[run.name]}")
    return labels


def fmt(value: Any, digits: int = 4) -> str:
    """A compact human string for numbers and None."""
    if value is None:
        return "—"
    if isinstance(value, (float, np.floating)):
        return "—" if not np.isfinite(value) else f"{value:.{digits}g}"
    return str(value)


def cycle_rows(analysis: PhaseAnalysis) -> list[dict[str, str]]:
    """One row per cycle."""
    return [{
        "cycle": f"C{i}",
        "onset": fmt(c.eruption_start_step),
        "peak": fmt(c.peak_step),
        "subsided": "still subsiding" if c.subsidence_end_step is None else fmt(c.subsidence_end_step),
        "base": fmt(c.base_value),
        "peak_value": fmt(c.peak_value),
        "ratio": f"×{c.amplitude_ratio:.2f}",
        "rise": fmt(c.rise_steps),
        "decay": fmt(c.decay_steps),
        "period": fmt(c.period_steps),
    } for i, c in enumerate(analysis.cycles, start=1)]


def segment_rows(analysis: PhaseAnalysis) -> list[dict[str, str]]:
    """One row per phase segment."""
    return [{
        "phase": s.phase, "start": fmt(s.start_step), "end": fmt(s.end_step),
        "steps": fmt(s.end_step - s.start_step + 1), "slope": f"{s.slope:+.3g}",
        "from": fmt(s.start_value), "to": fmt(s.end_value), "why": s.detail,
    } for s in analysis.segments]


def flatten_config(config: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Dotted keys and JSON-ish values of a nested config (values cut to a readable length)."""
    rows: list[tuple[str, str]] = []
    for key, value in config.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            rows.extend(flatten_config(value, name))
            continue
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        rows.append((name, text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + " …"))
    return rows[:MAX_CONFIG_ROWS]


def eruption_share(run: Run, analysis: PhaseAnalysis) -> float | None:
    """Share of the analysed metric's logged steps that lie in eruption segments."""
    try:
        steps = run.series(analysis.metric).index.to_numpy()
    except MetricNotFoundError:
        return None
    if not len(steps):
        return None
    inside = np.zeros(len(steps), dtype=bool)
    for seg in analysis.segments:
        if seg.phase == "eruption":
            inside |= (steps >= seg.start_step) & (steps <= seg.end_step)
    return float(inside.mean())


def column_mean(run: Run, column: str | None, last: int | None = None) -> float | None:
    """Mean of a column's logged points, or of its last ``last`` ones (None when absent or empty)."""
    if column is None or column not in run.metrics.columns:
        return None
    series = run.metrics[column].dropna()
    return float(series.iloc[-last if last else 0:].mean()) if len(series) else None


@dataclass
class RunSummary:
    """One row of the comparison table."""

    label: str
    source: str
    steps: str
    cycles: int
    largest_ratio: float | None
    eruption_share: float | None
    success_metric: str | None
    final_success: float | None
    degen_metric: str | None
    final_degen: float | None
    mean_value: float | None = None
    """Mean of the analysed metric over the whole run."""
    mean_success: float | None = None
    """Mean of the success metric over the whole run."""

    def cells(self, metric_names: bool = True) -> dict[str, str]:
        """Formatted cells; ``metric_names`` adds the success / degeneration metric after their values."""
        success, degen = (f" ({self.success_metric})", f" ({self.degen_metric})") if metric_names else ("", "")
        return {
            "mean": "—" if self.mean_value is None else f"{self.mean_value:.3g}",
            "mean_success": "—" if self.mean_success is None else f"{self.mean_success:.3g}",
            "run": self.label, "source": self.source, "steps": self.steps, "cycles": str(self.cycles),
            "largest": "—" if self.largest_ratio is None else f"×{self.largest_ratio:.2f}",
            "share": "—" if self.eruption_share is None else f"{100 * self.eruption_share:.1f}%",
            "success": "—" if self.final_success is None else f"{self.final_success:.3g}{success}",
            "degen": "—" if self.final_degen is None else f"{self.final_degen:.3g}{degen}",
        }


def summarize(label: str, run: Run, analysis: PhaseAnalysis) -> RunSummary:
    """The comparison row of one run."""
    success, degen = first_logged([run], SUCCESS_METRICS), first_logged([run], DEGEN_METRICS, varying=True)
    return RunSummary(
        label=label, source=run.source, steps=f"{fmt(run.first_step)}–{fmt(run.last_step)}",
        cycles=len(analysis.cycles),
        largest_ratio=max((c.amplitude_ratio for c in analysis.cycles), default=None),
        eruption_share=eruption_share(run, analysis),
        success_metric=success, final_success=column_mean(run, success, TAIL_POINTS),
        degen_metric=degen, final_degen=column_mean(run, degen, TAIL_POINTS),
        mean_value=column_mean(run, analysis.metric), mean_success=column_mean(run, success),
    )

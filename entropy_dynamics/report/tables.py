"""Table rows of the reports: cycles, phases, config, and the per-run comparison summary."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.errors import MetricNotFoundError
from entropy_dynamics.logs import Run
from entropy_dynamics.report.formatting import MISSING, percent, ratio, sig, signed
from entropy_dynamics.report.panels import DEGEN_METRICS, SUCCESS_METRICS, first_logged

#: Columns of the comparison's summary table: (cell key, heading); the page adds "source".
SUMMARY_COLUMNS = [("run", "run"), ("steps", "steps"), ("cycles", "eruption cycles"), ("largest", "largest eruption"),
                   ("share", "steps in eruption"), ("mean", "mean entropy"), ("mean_success", "mean success"),
                   ("success", "final success"), ("degen", "degeneration at the end")]
#: Logged points averaged for the "final" values of a run.
TAIL_POINTS = 10
MAX_CONFIG_ROWS = 400
MAX_VALUE_CHARS = 300


def cycle_rows(analysis: PhaseAnalysis) -> list[dict[str, str]]:
    """One row per cycle."""
    return [{
        "cycle": f"C{i}",
        "onset": sig(c.eruption_start_step),
        "peak": sig(c.peak_step),
        "subsided": "still subsiding" if c.subsidence_end_step is None else sig(c.subsidence_end_step),
        "base": sig(c.base_value),
        "peak_value": sig(c.peak_value),
        "ratio": ratio(c.amplitude_ratio),
        "rise": sig(c.rise_steps),
        "decay": sig(c.decay_steps),
        "period": sig(c.period_steps),
    } for i, c in enumerate(analysis.cycles, start=1)]


def segment_rows(analysis: PhaseAnalysis) -> list[dict[str, str]]:
    """One row per phase segment."""
    return [{
        "phase": s.phase, "start": sig(s.start_step), "end": sig(s.end_step),
        "steps": sig(s.end_step - s.start_step + 1), "slope": signed(s.slope),
        "from": sig(s.start_value), "to": sig(s.end_value), "why": s.detail,
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

    def cells(self) -> dict[str, str]:
        """Formatted cells (values only: the metric names go in the table's headings, see
        :func:`summary_headings`)."""
        return {
            "mean": sig(self.mean_value), "mean_success": sig(self.mean_success),
            "run": self.label, "source": self.source, "steps": self.steps, "cycles": str(self.cycles),
            "largest": ratio(self.largest_ratio), "share": percent(self.eruption_share),
            "success": sig(self.final_success), "degen": sig(self.final_degen),
        }


def filled_columns(rows: Sequence[Mapping[str, str]], columns: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """``columns`` less those whose cell is ``—`` in every row (no run logs a success metric: no success columns)."""
    return [(key, heading) for key, heading in columns if any(row.get(key, MISSING) != MISSING for row in rows)]


def summary_headings(summaries: Sequence[RunSummary]) -> dict[str, str]:
    """The metric each summary column reads, for its heading: ``{"success": "env/success_rate", ...}``; a column
    whose runs read different metrics gets ``"per run: a, b"``."""
    headings = {}
    for key, names in (("success", [s.success_metric for s in summaries]),
                       ("mean_success", [s.success_metric for s in summaries]),
                       ("degen", [s.degen_metric for s in summaries])):
        distinct = sorted({n for n in names if n})
        if distinct:
            headings[key] = distinct[0] if len(distinct) == 1 else "per run: " + ", ".join(distinct)
    return headings


def summarize(label: str, run: Run, analysis: PhaseAnalysis) -> RunSummary:
    """The comparison row of one run."""
    success, degen = first_logged([run], SUCCESS_METRICS), first_logged([run], DEGEN_METRICS, varying=True)
    return RunSummary(
        label=label, source=run.source, steps=f"{sig(run.first_step)}–{sig(run.last_step)}",
        cycles=len(analysis.cycles),
        largest_ratio=max((c.amplitude_ratio for c in analysis.cycles), default=None),
        eruption_share=eruption_share(run, analysis),
        success_metric=success, final_success=column_mean(run, success, TAIL_POINTS),
        degen_metric=degen, final_degen=column_mean(run, degen, TAIL_POINTS),
        mean_value=column_mean(run, analysis.metric), mean_success=column_mean(run, success),
    )

"""``render_comparison``: runs side by side (e.g. GRPO vs GRPO+SEAL, several seeds) in one HTML page."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.logs import Run
from entropy_dynamics.report.analyses import analyses_for
from entropy_dynamics.report.compare_figure import comparison_figure
from entropy_dynamics.report.html import figure_div, render_page, write_page
from entropy_dynamics.report.tables import TAIL_POINTS, cycle_rows, summarize, unique_labels


def render_comparison(
    runs: Sequence[Run],
    out: str | os.PathLike[str],
    *,
    metric: str | None = None,
    analyses: Sequence[PhaseAnalysis] | None = None,
    title: str | None = None,
    max_points: int = 2000,
    **analyze_options: Any,
) -> Path:
    """Write one self-contained HTML page comparing ``runs``: overlaid curves, each run's phase bands,
    and a table per run (cycles, largest eruption, share of steps in eruption, final success,
    degeneration at the end). Arguments as for :func:`entropy_dynamics.report.render_report`.
    """
    found = analyses_for(runs, analyses, metric, analyze_options)
    labels = unique_labels(runs)
    summaries = [summarize(label, run, analysis).cells()
                 for label, run, analysis in zip(labels, runs, found, strict=True)]
    details = [{"label": label, "warnings": [*a.warnings, *run.stats.warnings], "cycles": cycle_rows(a)}
               for label, run, a in zip(labels, runs, found, strict=True)]
    figure = figure_div(comparison_figure(runs, found, labels, max_points), "compare-overlay")
    heading = title or f"Comparison of {len(runs)} run{'s' if len(runs) != 1 else ''}"
    subtitle = " · ".join(labels)
    page = render_page("compare.html.j2", title=heading, subtitle=subtitle, figure=figure, summaries=summaries,
                       details=details, tail_points=TAIL_POINTS)
    return write_page(page, out)

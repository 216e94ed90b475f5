"""``render_comparison``: runs side by side (e.g. GRPO vs GRPO+SEAL, several seeds) in one HTML page."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.logs import Run
from entropy_dynamics.report.analyses import analyses_for
from entropy_dynamics.report.compare_figure import comparison_figure, phase_key
from entropy_dynamics.report.html import figure_div, render_page, write_page
from entropy_dynamics.report.labels import run_labels
from entropy_dynamics.report.smoothing import COMPARE_SMOOTHING, check_smoothing
from entropy_dynamics.report.tables import (
    SUMMARY_COLUMNS,
    TAIL_POINTS,
    cycle_rows,
    filled_columns,
    summarize,
    summary_headings,
)
from entropy_dynamics.shorten import middle_ellipsis

#: Longest source path and run name shown in the summary table (the whole one is the cell's tooltip).
SOURCE_CHARS = 36
NAME_CHARS = 40


def render_comparison(
    runs: Sequence[Run],
    out: str | os.PathLike[str],
    *,
    metric: str | None = None,
    analyses: Sequence[PhaseAnalysis] | None = None,
    title: str | None = None,
    max_points: int = 2000,
    smoothing: float = COMPARE_SMOOTHING,
    layout: str = "multiples",
    labels: Sequence[str | None] | None = None,
    **analyze_options: Any,
) -> Path:
    """Write one self-contained HTML page comparing ``runs``: a summary table (cycles, largest eruption, share
    of steps in eruption, final success, degeneration at the end), the runs as small multiples (``layout=
    "multiples"``: one row per run, shared axes, phase bands) or smoothed overlays (``"overlay"``), and each
    run's cycles. Other arguments as for :func:`entropy_dynamics.report.render_report`.
    """
    smoothing = check_smoothing(smoothing)
    found = analyses_for(runs, analyses, metric, analyze_options)
    names = run_labels(runs, labels)
    summaries = [summarize(label, run, analysis) for label, run, analysis in zip(names, runs, found, strict=True)]
    rows = [{**s.cells(), "source": middle_ellipsis(s.source, SOURCE_CHARS), "source__title": s.source,
             "run": middle_ellipsis(s.label, NAME_CHARS), "run__title": s.label if len(s.label) > NAME_CHARS else ""}
            for s in summaries]
    columns = [*filled_columns(rows, SUMMARY_COLUMNS), ("source", "source")]
    details = [{"label": label, "warnings": [*a.warnings, *run.stats.warnings], "cycles": cycle_rows(a)}
               for label, run, a in zip(names, runs, found, strict=True)]
    figure = figure_div(comparison_figure(runs, found, names, max_points, smoothing, layout), "compare-figure")
    heading = title or f"Comparison of {len(runs)} run{'s' if len(runs) != 1 else ''}"
    page = render_page("compare.html.j2", title=heading, subtitle=" · ".join(names), figure=figure, summaries=rows,
                       columns=columns, metric_of=summary_headings(summaries), details=details, tail_points=TAIL_POINTS,
                       smoothing=smoothing, layout=layout, phases=phase_key(found) if layout == "multiples" else [])
    return write_page(page, out)

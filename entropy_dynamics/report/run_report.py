"""``render_report``: one self-contained HTML page for one or more runs."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from entropy_dynamics.analysis import fit_entropy_reward
from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.logs import Run
from entropy_dynamics.report.analyses import analyses_for, cross_stats
from entropy_dynamics.report.formatting import percent, ratio, sig, signed
from entropy_dynamics.report.html import figure_div, render_page, write_page
from entropy_dynamics.report.labels import run_labels
from entropy_dynamics.report.panels import reward_column, select_panels
from entropy_dynamics.report.persistence import persistence_figure, persistence_rows
from entropy_dynamics.report.samples import SampleGroup, sample_groups
from entropy_dynamics.report.scatter import entropy_reward_figure, paired_points
from entropy_dynamics.report.smoothing import DEFAULT_SMOOTHING, check_smoothing
from entropy_dynamics.report.tables import cycle_rows, eruption_share, flatten_config, segment_rows
from entropy_dynamics.report.timeline import timeline_figure

MIN_FIT_POINTS = 5


@dataclass
class RunView:
    """Everything the report template shows for one run (strings are escaped by the template)."""

    anchor: str
    name: str
    source: str
    reader: str
    steps: str
    n_metrics: int
    metric: str
    source_metric: str
    n_points: int
    n_change_points: int
    largest: str
    share: str
    warnings: list[str]
    missing: list[str]
    """What the log lacks (metric families, samples, config)."""
    skipped: list[str]
    """What the log has but this run cannot show (e.g. persistence needs an eruption cycle)."""
    timeline: Markup
    cycles: list[dict[str, str]]
    segments: list[dict[str, str]]
    persistence: Markup | None = None
    persistence_rows: list[dict[str, str]] = field(default_factory=list)
    persistence_notes: list[str] = field(default_factory=list)
    lead_lag: list[dict[str, str]] = field(default_factory=list)
    scatter: Markup | None = None
    scatter_notes: list[str] = field(default_factory=list)
    samples: list[SampleGroup] = field(default_factory=list)
    versions: list[tuple[str, str]] = field(default_factory=list)
    config: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Gaps:
    """Sections a run cannot fill: ``missing`` from the log, or ``skipped`` although the log has the metrics."""

    missing: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _scatter(run: Run, analysis: PhaseAnalysis, prefix: str, gaps: Gaps) -> tuple[Markup | None, list[str]]:
    reward = reward_column(run)
    if reward is None:
        gaps.missing.append("Entropy vs reward: no reward or success metric (reward/mean, env/success_rate).")
        return None, []
    pairs = paired_points(run.series(analysis.metric), run.series(reward))
    if len(pairs) < MIN_FIT_POINTS:
        gaps.skipped.append(f"Entropy vs reward: only {len(pairs)} steps log both entropy and {reward}.")
        return None, []
    fit = fit_entropy_reward(pairs["entropy"].to_numpy(), pairs["reward"].to_numpy())
    notes = [f"No fitted curve: {fit['reason']}."] if fit.get("reason") else []
    return figure_div(entropy_reward_figure(pairs, analysis, fit, reward), f"{prefix}-scatter"), notes


def _persistence(analysis: PhaseAnalysis, prefix: str, gaps: Gaps
                 ) -> tuple[Markup | None, list[dict[str, str]], list[str]]:
    persistence = cross_stats(analysis, "persistence")
    if not persistence:
        gaps.missing.append("Degeneration persistence: no degeneration or hallucination metrics (degen/*, halluc/*).")
        return None, [], []
    if not analysis.cycles:
        gaps.skipped.append("Degeneration persistence: needs an eruption cycle to compare with the first descent.")
        return None, [], []
    fig = persistence_figure(persistence)
    notes = [] if fig is not None else ["No chart — no level at the first descent end or at a subsidence end."]
    return (figure_div(fig, f"{prefix}-persistence") if fig is not None else None,
            persistence_rows(persistence), notes)


def lag_reading(median_lag: float | None) -> str:
    if median_lag is None:
        return "no departure found"
    if median_lag < 0:
        return "leads the eruption"
    return "moves at the onset" if median_lag == 0 else "lags the eruption"


def lead_lag_rows(analysis: PhaseAnalysis) -> list[dict[str, str]]:
    """Per interference / representation metric: steps from each eruption onset to its departure."""
    rows: list[dict[str, str]] = []
    if not analysis.cycles:
        return rows
    for name, stats in cross_stats(analysis, "lead_lag").items():
        lags = stats.get("lags") or []
        median = stats.get("median_lag")
        rows.append({"metric": name, "lags": ", ".join(sig(g) for g in lags) or "—",
                     "median": "—" if median is None else signed(round(median)),
                     "reading": lag_reading(median)})
    return rows


def run_view(run: Run, analysis: PhaseAnalysis, index: int, label: str, max_points: int,
             smoothing: float = 0.0) -> RunView:
    """The template's view of one run; ``label`` is its display name, ``smoothing`` the curves' EMA weight."""
    prefix = f"run{index}-" + re.sub(r"[^A-Za-z0-9]+", "-", run.name)[:40].strip("-")
    panels, absent = select_panels(run)
    gaps = Gaps(missing=absent)
    share = eruption_share(run, analysis)
    largest = max((c.amplitude_ratio for c in analysis.cycles), default=None)
    persistence, persistence_table, persistence_lines = _persistence(analysis, prefix, gaps)
    scatter, scatter_lines = _scatter(run, analysis, prefix, gaps)
    samples = sample_groups(run, analysis)
    if not samples:
        gaps.missing.append("Sampled trajectories: the log has none.")
    if not run.config:
        gaps.missing.append("Config: the log holds none.")
    versions = run.metadata.get("versions") or {}
    return RunView(
        anchor=prefix, name=label, source=run.source, reader=run.reader,
        steps=f"{sig(run.first_step)}–{sig(run.last_step)}", n_metrics=len(run.metrics.columns),
        metric=analysis.metric, source_metric=analysis.source_metric, n_points=analysis.n_points,
        n_change_points=len(analysis.change_points),
        largest=ratio(largest), share=percent(share),
        warnings=[*analysis.warnings, *run.stats.warnings], missing=gaps.missing, skipped=gaps.skipped,
        timeline=figure_div(timeline_figure(run, analysis, panels, max_points, smoothing), f"{prefix}-timeline"),
        cycles=cycle_rows(analysis), segments=segment_rows(analysis),
        persistence=persistence, persistence_rows=persistence_table, persistence_notes=persistence_lines,
        lead_lag=lead_lag_rows(analysis),
        scatter=scatter, scatter_notes=scatter_lines, samples=samples,
        versions=flatten_config(versions) if isinstance(versions, dict) else [("versions", str(versions))],
        config=flatten_config(run.config),
    )


def render_report(
    runs: Sequence[Run],
    out: str | os.PathLike[str],
    *,
    metric: str | None = None,
    analyses: Sequence[PhaseAnalysis] | None = None,
    title: str | None = None,
    max_points: int = 2000,
    smoothing: float = DEFAULT_SMOOTHING,
    labels: Sequence[str] | None = None,
    **analyze_options: Any,
) -> Path:
    """Write one self-contained HTML report (plotly.js inlined once, works offline) for ``runs``.

    Args:
        runs: the runs, e.g. from :func:`entropy_dynamics.logs.read_many`.
        out: the HTML file to write.
        metric: the metric to segment (default: the analyzer's choice, ``policy/entropy``).
        analyses: precomputed analyses, one per run; otherwise ``analyze_run`` is called with
            ``analyze_options``.
        title: page title (default: the run name, or "N runs").
        max_points: per-trace point budget of the plots (longer series are min/max downsampled).
        smoothing: the curves' EMA weight when the page opens, 0 (raw) to 0.99; the page has a slider.
        labels: display names, one per run (default: :func:`entropy_dynamics.report.labels.default_labels`).

    Returns:
        The path written.
    """
    found = analyses_for(runs, analyses, metric, analyze_options)
    smoothing = check_smoothing(smoothing)
    names = run_labels(runs, labels)
    views = [run_view(run, analysis, i, label, max_points, smoothing)
             for i, (run, analysis, label) in enumerate(zip(runs, found, names, strict=True))]
    heading = title or (names[0] if len(runs) == 1 else f"{len(runs)} runs")
    subtitle = "Entropy dynamics report: phases, eruption cycles and what moved with them"
    return write_page(render_page("report.html.j2", title=heading, subtitle=subtitle, runs=views,
                                  smoothing=smoothing), out)

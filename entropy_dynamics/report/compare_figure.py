"""The comparison figures: small multiples (one row per run, one column per metric, shared axes, each run's
entropy with its phase bands) or smoothed overlays (one panel per metric, every run in it)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.errors import EntropyDynamicsError
from entropy_dynamics.logs import Run
from entropy_dynamics.report.lines import smoothed_lines
from entropy_dynamics.report.panels import DEGEN_METRICS, SUCCESS_METRICS, first_logged
from entropy_dynamics.report.smoothing import logging_gap
from entropy_dynamics.report.theme import PALETTE, PHASE_COLORS, PHASE_SOLID, base_layout, esc, short_label
from entropy_dynamics.report.timeline import (
    axis_refs,
    finish_step_axes,
    light_series,
    marked_steps,
    phase_band_shapes,
    step_range,
)

#: The layouts ``compare --layout`` offers.
LAYOUTS = ("multiples", "overlay")
MULTIPLE_ROW_PX = 170
OVERLAY_ROW_PX = 280
GAP_PX = 44
TOP_PX = 56


def compared_metrics(runs: Sequence[Run], analyses: Sequence[PhaseAnalysis]) -> list[tuple[str, str | None]]:
    """(heading, metric) of each compared metric: the analysed entropy (metric None), then success or reward and
    a degeneration metric where some run logs them."""
    success, degen = first_logged(runs, SUCCESS_METRICS), first_logged(runs, DEGEN_METRICS, varying=True)
    analysed = {a.source_metric or a.metric for a in analyses}
    head = f"entropy ({analysed.pop()})" if len(analysed) == 1 else "entropy (analysed metric)"
    return [(head, None)] + [(m, m) for m in (success, degen) if m is not None]


def _series(run: Run, analysis: PhaseAnalysis, metric: str | None, max_points: int):
    """(steps, values, gap) of one compared metric of one run, or None when the run does not log it."""
    column = run.resolve(analysis.metric) if metric is None else metric
    if metric is not None and run.points().get(metric, 0) == 0:
        return None
    steps, values = light_series(run, column, max_points, marked_steps(analysis))
    return steps, values, logging_gap(run.series(column).index.to_numpy())


def _moved(shapes: list[dict], axis: int) -> list[dict]:
    """Shapes built for the first axis pair moved onto axis number ``axis``."""
    xref, yref = axis_refs(axis)
    return [{**s, "xref": xref, "yref": yref} for s in shapes]


def phase_key(analyses: Sequence[PhaseAnalysis]) -> list[tuple[str, str, str]]:
    """(phase, band fill, solid colour) of each phase some run's bands show, in first-seen order: the key above
    the small multiples."""
    return [(phase, PHASE_COLORS.get(phase, PHASE_COLORS["plateau"]), PHASE_SOLID.get(phase, "#999"))
            for phase in dict.fromkeys(s.phase for a in analyses for s in a.segments)]


def small_multiples_figure(runs: Sequence[Run], analyses: Sequence[PhaseAnalysis], labels: Sequence[str],
                           max_points: int = 2000, smoothing: float = 0.0) -> go.Figure:
    """One row per run, one column per compared metric; the y axes are shared down each column and the step
    axis everywhere, so the panels compare at a glance. The entropy column carries each run's phase bands."""
    metrics = compared_metrics(runs, analyses)
    n_rows, n_cols = len(runs), len(metrics)
    total_px = MULTIPLE_ROW_PX * n_rows + GAP_PX * (n_rows - 1)
    fig = make_subplots(rows=n_rows, cols=n_cols, shared_xaxes="all", shared_yaxes="columns",
                        vertical_spacing=GAP_PX / total_px, horizontal_spacing=0.045)
    traces, rows, cols, shapes = [], [], [], []
    for i, (run, analysis, label) in enumerate(zip(runs, analyses, labels, strict=True)):
        color = PALETTE[i % len(PALETTE)]
        for c, (heading, metric) in enumerate(metrics, start=1):
            found = _series(run, analysis, metric, max_points)
            if found is None:
                continue
            steps, values, gap = found
            pair = smoothed_lines(steps, values, gap, smoothing, name=esc(label), color=color, showlegend=False,
                                  hover=f"{esc(label)}<br>{esc(heading)} %{{y:.4g}}<extra></extra>")
            traces += pair
            rows += [i + 1] * len(pair)
            cols += [c] * len(pair)
        if analysis.cycles:
            traces.append(go.Scatter(
                x=[c.peak_step for c in analysis.cycles], y=[c.peak_value for c in analysis.cycles],
                mode="markers", showlegend=False, hoverinfo="text",
                marker={"symbol": "triangle-down", "size": 8, "color": PHASE_SOLID["eruption"]},
                hovertext=[f"{esc(label)} C{k}: ×{c.amplitude_ratio:.3g} at step {c.peak_step}"
                           for k, c in enumerate(analysis.cycles, start=1)]))
            rows.append(i + 1)
            cols.append(1)
        shapes += _moved(phase_band_shapes(analysis, 1), i * n_cols + 1)
    fig.add_traces(traces, rows=rows, cols=cols)
    layout = base_layout(total_px + TOP_PX + 50)
    # the phase colours are keyed in the page above the figure (phase_key), not in a plotly legend
    layout.update(margin={"l": 56, "r": 20, "t": TOP_PX, "b": 44}, shapes=shapes, hovermode="closest",
                  showlegend=False)
    fig.update_layout(**layout)
    finish_step_axes(fig, n_rows, step_range(runs))
    fig.update_xaxes(title_text="step", row=n_rows)
    for i, label in enumerate(labels):  # the run's name over its row, in its colour
        top = fig.layout[f"yaxis{'' if i == 0 else i * n_cols + 1}"].domain[1]
        fig.add_annotation(x=0, y=top, xref="paper", yref="paper", showarrow=False, xanchor="left",
                           yanchor="bottom", yshift=6, text=f"<b>{short_label(label, 80)}</b>",
                           font={"size": 13, "color": PALETTE[i % len(PALETTE)]})
    for c, (heading, _) in enumerate(metrics):
        domain = fig.layout[f"xaxis{'' if c == 0 else c + 1}"].domain
        fig.add_annotation(x=domain[0], y=1, xref="paper", yref="paper", yshift=30, showarrow=False,
                           xanchor="left", yanchor="bottom", text=f"<b>{esc(heading)}</b>",
                           font={"size": 13, "color": "#374151"})
    return fig


def overlay_figure(runs: Sequence[Run], analyses: Sequence[PhaseAnalysis], labels: Sequence[str],
                   max_points: int = 2000, smoothing: float = 0.0) -> go.Figure:
    """One panel per compared metric with every run in it, raw faint and smoothed; no phase bands (each run has
    its own), so no phase legend either."""
    metrics = compared_metrics(runs, analyses)
    n_rows = len(metrics)
    total_px = OVERLAY_ROW_PX * n_rows + GAP_PX * (n_rows - 1)
    fig = make_subplots(rows=n_rows, cols=1, shared_xaxes=True, vertical_spacing=GAP_PX / total_px,
                        subplot_titles=[esc(h) for h, _ in metrics])
    traces, rows = [], []
    for i, (run, analysis, label) in enumerate(zip(runs, analyses, labels, strict=True)):
        for r, (_, metric) in enumerate(metrics, start=1):
            found = _series(run, analysis, metric, max_points)
            if found is None:
                continue
            steps, values, gap = found
            pair = smoothed_lines(steps, values, gap, smoothing, name=short_label(label, 40),
                                  color=PALETTE[i % len(PALETTE)], legendgroup=f"run{i}", showlegend=r == 1,
                                  hover=f"{esc(label)}: %{{y:.4g}}<extra></extra>")
            traces += pair
            rows += [r] * len(pair)
    fig.add_traces(traces, rows=rows, cols=[1] * len(traces))
    layout = base_layout(total_px + 110)
    layout.update(margin={"l": 56, "r": 20, "t": 64, "b": 44}, hovermode="x",
                  legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1, "yanchor": "top",
                          "yref": "container", "font": {"size": 12}})
    fig.update_layout(**layout)
    finish_step_axes(fig, n_rows, step_range(runs))
    return fig


def comparison_figure(runs: Sequence[Run], analyses: Sequence[PhaseAnalysis], labels: Sequence[str],
                      max_points: int = 2000, smoothing: float = 0.0, layout: str = "multiples") -> go.Figure:
    """The comparison figure in ``layout`` (``multiples`` or ``overlay``)."""
    if layout not in LAYOUTS:
        raise EntropyDynamicsError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    build = small_multiples_figure if layout == "multiples" else overlay_figure
    return build(runs, analyses, labels, max_points, smoothing)

"""The comparison figure: runs overlaid on shared metrics, then one row per run with its own phase bands."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.logs import Run
from entropy_dynamics.report.panels import DEGEN_METRICS, SUCCESS_METRICS, first_logged
from entropy_dynamics.report.theme import PALETTE, base_layout, esc, short_label
from entropy_dynamics.report.timeline import (
    SIDE_LEGEND,
    axis_refs,
    change_point_shapes,
    finish_step_axes,
    light_series,
    marked_steps,
    phase_band_shapes,
    phase_legend_traces,
)

OVERLAY_ROW_PX = 260
RUN_ROW_PX = 150
GAP_PX = 56

def _shift_shapes(shapes: list[dict], row: int) -> list[dict]:
    """Move single-row shapes (built for row 1) onto ``row``."""
    xref, yref = axis_refs(row)
    return [{**s, "xref": xref, "yref": yref} for s in shapes]


def comparison_figure(
    runs: Sequence[Run], analyses: Sequence[PhaseAnalysis], labels: Sequence[str], max_points: int = 2000
) -> go.Figure:
    """Overlays (entropy; success or reward; degeneration, where logged) over one phase-band row per run."""
    overlays: list[tuple[str, str | None]] = [("Entropy, all runs", None)]
    success, degen = first_logged(runs, SUCCESS_METRICS), first_logged(runs, DEGEN_METRICS, varying=True)
    overlays += [(f"{esc(m)}, all runs", m) for m in (success, degen) if m is not None]
    rows = len(overlays) + len(runs)
    heights = [OVERLAY_ROW_PX] * len(overlays) + [RUN_ROW_PX] * len(runs)
    total_px = sum(heights) + GAP_PX * (rows - 1)
    titles = [t for t, _ in overlays] + [f"{esc(label)}: phases of {esc(a.metric)}"
                                         for label, a in zip(labels, analyses, strict=True)]
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=GAP_PX / total_px,
                        row_heights=heights, subplot_titles=titles)
    traces, trace_rows, shapes = [], [], []
    for i, (run, analysis, label) in enumerate(zip(runs, analyses, labels, strict=True)):
        color = PALETTE[i % len(PALETTE)]
        keep = marked_steps(analysis)
        column = run.resolve(analysis.metric)
        steps, values = light_series(run, column, max_points, keep)
        logged = run.points()
        for r, (_, metric) in enumerate(overlays, start=1):
            if metric is None:
                s, v = steps, values
            elif logged.get(metric, 0) > 0:
                s, v = light_series(run, metric, max_points, keep)
            else:
                continue
            traces.append(go.Scatter(x=s, y=v, mode="lines", name=short_label(label), legendgroup=f"run{i}",
                                     showlegend=r == 1, line={"color": color, "width": 1.5},
                                     hovertemplate=f"{esc(label)}: %{{y:.4g}}<extra></extra>"))
            trace_rows.append(r)
        own_row = len(overlays) + i + 1
        traces.append(go.Scatter(x=steps, y=values, mode="lines", name=short_label(label), legendgroup=f"run{i}",
                                 showlegend=False, line={"color": color, "width": 1.4},
                                 hovertemplate=f"{esc(label)}: %{{y:.4g}}<extra></extra>"))
        trace_rows.append(own_row)
        if analysis.cycles:
            peaks = [c.peak_step for c in analysis.cycles]
            traces.append(go.Scatter(
                x=peaks, y=[c.peak_value for c in analysis.cycles], mode="markers", showlegend=False,
                marker={"symbol": "triangle-down", "size": 9, "color": "#dc2626"},
                hovertext=[f"{esc(label)} C{k}: ×{c.amplitude_ratio:.2f} at step {c.peak_step}"
                           for k, c in enumerate(analysis.cycles, start=1)], hoverinfo="text"))
            trace_rows.append(own_row)
        shapes += _shift_shapes(phase_band_shapes(analysis, 1) + change_point_shapes(analysis, 1), own_row)
    legend_traces = phase_legend_traces(s.phase for a in analyses for s in a.segments)
    traces += legend_traces
    trace_rows += [len(overlays) + 1] * len(legend_traces)
    fig.add_traces(traces, rows=trace_rows, cols=[1] * len(traces))
    layout = base_layout(total_px + 90)
    layout.update(margin={"l": 64, "r": 210, "t": 40, "b": 44}, shapes=shapes, hovermode="x", legend=SIDE_LEGEND)
    fig.update_layout(**layout)
    finish_step_axes(fig, rows)
    return fig

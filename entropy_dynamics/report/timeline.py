"""The report's main figure: the entropy timeline with phases, change points and cycles, and the metric
panels below it on a shared step axis."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.logs import Run
from entropy_dynamics.report.downsample import minmax_envelope
from entropy_dynamics.report.panels import Panel
from entropy_dynamics.report.theme import PALETTE, PHASE_COLORS, PHASE_SOLID, base_layout, esc, short_label

ENTROPY_ROW_PX = 300
PANEL_ROW_PX = 175
GAP_PX = 56
#: The legend of a multi-row figure: beside the plots, top right.
SIDE_LEGEND = {"x": 1.01, "xanchor": "left", "y": 1.0, "yanchor": "top", "font": {"size": 11}}


def marked_steps(analysis: PhaseAnalysis) -> np.ndarray:
    """Steps that downsampling must keep exact: change points, segment bounds, cycle onsets/peaks/ends."""
    steps = list(analysis.change_points)
    for seg in analysis.segments:
        steps += [seg.start_step, seg.end_step]
    for cyc in analysis.cycles:
        steps += [cyc.eruption_start_step, cyc.peak_step]
        if cyc.subsidence_end_step is not None:
            steps.append(cyc.subsidence_end_step)
    return np.unique(np.asarray(steps, dtype=np.int64))


def light_series(run: Run, column: str, max_points: int, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(steps int32[M], values float32[M]) of one metric, downsampled to an envelope for plotting."""
    series = run.series(column)
    steps, values = minmax_envelope(series.index.to_numpy(), series.to_numpy(dtype=np.float64),
                                    max_points, keep)
    return steps.astype(np.int32), values.astype(np.float32)


def axis_refs(row: int) -> tuple[str, str]:
    suffix = "" if row == 1 else str(row)
    return f"x{suffix}", f"y{suffix} domain"


def finish_step_axes(fig: go.Figure, rows: int) -> None:
    """Shared-step figure touches: a spike line across the rows, "step" under the last row, titles left."""
    fig.update_xaxes(showspikes=True, spikemode="across", spikethickness=1, spikecolor="#9ca3af")
    fig.update_xaxes(title_text="step", row=rows, col=1)
    fig.update_annotations(font_size=13, xanchor="left", x=0)


def phase_band_shapes(analysis: PhaseAnalysis, rows: int) -> list[dict]:
    """Background rectangles shading each segment by phase on every row; a band reaches the next
    segment's start so the shading has no gaps. Plain dicts: plotly's ``add_vrect`` is quadratic."""
    segments = analysis.segments
    shapes = []
    for i, seg in enumerate(segments):
        x1 = segments[i + 1].start_step if i + 1 < len(segments) else seg.end_step
        color = PHASE_COLORS.get(seg.phase, PHASE_COLORS["plateau"])
        for row in range(1, rows + 1):
            xref, yref = axis_refs(row)
            shapes.append({"type": "rect", "xref": xref, "yref": yref, "x0": seg.start_step,
                           "x1": max(x1, seg.start_step), "y0": 0, "y1": 1, "fillcolor": color,
                           "line": {"width": 0}, "layer": "below"})
    return shapes


def change_point_shapes(analysis: PhaseAnalysis, rows: int) -> list[dict]:
    """Dotted vertical lines at the change points on every row."""
    shapes = []
    for cp in analysis.change_points:
        for row in range(1, rows + 1):
            xref, yref = axis_refs(row)
            shapes.append({"type": "line", "xref": xref, "yref": yref, "x0": cp, "x1": cp, "y0": 0, "y1": 1,
                           "line": {"color": "#6b7280", "width": 1, "dash": "dot"}})
    return shapes


def phase_legend_traces(phases: Iterable[str]) -> list[go.Scatter]:
    """Legend entries (square swatches), one per distinct phase in ``phases``."""
    return [go.Scatter(x=[None], y=[None], mode="markers", name=esc(phase), hoverinfo="skip",
                       marker={"symbol": "square", "size": 12, "color": PHASE_SOLID.get(phase, "#999")})
            for phase in dict.fromkeys(phases)]


def phase_hover_trace(analysis: PhaseAnalysis) -> list[go.Scatter]:
    """Invisible points along each segment (start, middle, end, on its from/to line) whose hover says the phase
    and the numbers that decided it."""
    xs, ys, texts = [], [], []
    for seg in analysis.segments:
        text = f"{esc(seg.phase)} {seg.start_step}..{seg.end_step}<br>{esc(seg.detail)}"
        mid = (seg.start_step + seg.end_step) / 2
        for x, y in ((seg.start_step, seg.start_value), (mid, (seg.start_value + seg.end_value) / 2),
                     (seg.end_step, seg.end_value)):
            xs.append(x)
            ys.append(y)
            texts.append(text)
    if not xs:
        return []
    return [go.Scatter(x=xs, y=ys, mode="markers", name="phase (why)", showlegend=False,
                       marker={"size": 14, "opacity": 0}, hovertext=texts, hoverinfo="text")]


def cycle_traces(analysis: PhaseAnalysis, run: Run, column: str) -> list[go.Scatter]:
    """Onset and peak markers of every cycle on the entropy curve, labelled C1, C2, ... with the amplitude."""
    if not analysis.cycles:
        return []
    series = run.series(column)
    onsets = [c.eruption_start_step for c in analysis.cycles]
    onset_values = series.reindex(onsets).to_numpy(dtype=np.float64)
    texts = [
        f"cycle {i}: onset {c.eruption_start_step}, peak {c.peak_step} ({c.peak_value:.3g}), "
        f"×{c.amplitude_ratio:.2f} over base {c.base_value:.3g}"
        for i, c in enumerate(analysis.cycles, start=1)
    ]
    onset_trace = go.Scatter(x=onsets, y=onset_values, mode="markers", name="eruption onset",
                             marker={"symbol": "circle-open", "size": 11, "color": PHASE_SOLID["eruption"],
                                     "line": {"width": 2}},
                             hovertext=texts, hoverinfo="text")
    peaks = [c.peak_step for c in analysis.cycles]
    peak_trace = go.Scatter(x=peaks, y=[c.peak_value for c in analysis.cycles], mode="markers+text",
                             name="cycle peak", text=[f"C{i} ×{c.amplitude_ratio:.1f}"
                                                      for i, c in enumerate(analysis.cycles, start=1)],
                            textposition="top center", cliponaxis=False,
                            textfont={"color": PHASE_SOLID["eruption"], "size": 11},
                             marker={"symbol": "triangle-down", "size": 11, "color": PHASE_SOLID["eruption"]},
                             hovertext=texts, hoverinfo="text")
    return [onset_trace, peak_trace]


def live_event_traces(run: Run, column: str) -> list[go.Scatter]:
    """The live detector's phase events logged during training, at the step each was confirmed."""
    events = [e for e in run.events if e.get("event") == "phase" and isinstance(e.get("confirmed_at_step"), int)]
    if not events:
        return []
    series = run.series(column)
    confirmed = np.array([e["confirmed_at_step"] for e in events])
    nearest = series.index.to_numpy()[np.clip(np.searchsorted(series.index.to_numpy(), confirmed),
                                              0, len(series) - 1)]
    texts = [f"live detector: {esc(e.get('phase'))} from step {esc(e.get('start_step'))}, "
             f"confirmed at step {e['confirmed_at_step']}" for e in events]
    return [go.Scatter(x=confirmed, y=series.loc[nearest].to_numpy(), mode="markers", name="live detection",
                       marker={"symbol": "x-thin-open", "size": 10, "color": "#7c3aed", "line": {"width": 2}},
                       hovertext=texts, hoverinfo="text")]


def legend_names(columns: tuple[str, ...]) -> list[str]:
    """Escaped legend names: without the group prefix when several columns share it
    (``degen/loop_rate`` -> ``loop_rate``), else the full names (``reward/mean``, ``env/success_rate``)."""
    groups = {c.split("/", 1)[0] for c in columns}
    if len(columns) > 1 and len(groups) == 1 and all("/" in c for c in columns):
        return [esc(c.split("/", 1)[1]) for c in columns]
    return [esc(c) for c in columns]


def timeline_figure(
    run: Run, analysis: PhaseAnalysis, panels: list[Panel], max_points: int = 2000
) -> go.Figure:
    """Entropy with phase bands, change points and cycles (row 1) over the given metric panels (rows 2..)."""
    column = run.resolve(analysis.metric)
    keep = marked_steps(analysis)
    rows = 1 + len(panels)
    total_px = ENTROPY_ROW_PX + PANEL_ROW_PX * len(panels) + GAP_PX * (rows - 1)
    shown = analysis.source_metric or column
    is_entropy = "entropy" in column.lower() or "entropy" in shown.lower()
    head = f"Entropy ({esc(shown)})" if is_entropy else f"{esc(shown)} (segmented metric)"
    titles = [head] + [esc(p.spec.title) for p in panels]
    curve = "entropy" if is_entropy else short_label(shown)
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=GAP_PX / total_px,
                        row_heights=[ENTROPY_ROW_PX] + [PANEL_ROW_PX] * len(panels), subplot_titles=titles)
    steps, values = light_series(run, column, max_points, keep)
    traces = [go.Scatter(x=steps, y=values, mode="lines", name=curve,
                         line={"color": "#111827", "width": 1.6},
                         hovertemplate=f"step %{{x}}<br>{curve} %{{y:.4g}}<extra></extra>"),
              *phase_hover_trace(analysis), *cycle_traces(analysis, run, column), *live_event_traces(run, column),
              *phase_legend_traces(s.phase for s in analysis.segments)]
    trace_rows = [1] * len(traces)
    for r, panel in enumerate(panels, start=2):
        for i, (col, name) in enumerate(zip(panel.columns, legend_names(panel.columns), strict=True)):
            s, v = light_series(run, col, max_points, keep)
            traces.append(go.Scatter(x=s, y=v, mode="lines", name=name, legend=f"legend{r}",
                                     line={"color": PALETTE[i % len(PALETTE)], "width": 1.4},
                                     hovertemplate=f"{esc(col)}: %{{y:.4g}}<extra></extra>"))
            trace_rows.append(r)
    fig.add_traces(traces, rows=trace_rows, cols=[1] * len(traces))
    layout = base_layout(total_px + 90)
    layout["margin"] = {"l": 64, "r": 190, "t": 40, "b": 44}
    layout["legend"] = SIDE_LEGEND
    for r in range(2, rows + 1):
        domain = fig.layout[f"yaxis{r}"].domain
        layout[f"legend{r}"] = {"x": 1.01, "xanchor": "left", "y": domain[1], "yanchor": "top",
                                "font": {"size": 11}, "bgcolor": "rgba(255,255,255,0)"}
    layout["shapes"] = phase_band_shapes(analysis, rows) + change_point_shapes(analysis, rows)
    fig.update_layout(**layout)
    finish_step_axes(fig, rows)
    return fig

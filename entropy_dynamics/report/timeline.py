"""The report's main figure: the entropy timeline with phases, change points and cycles, and the metric
panels below it on a shared step axis."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.logs import Run
from entropy_dynamics.report.annotations import stagger_levels
from entropy_dynamics.report.downsample import compact_steps, compact_values, minmax_envelope
from entropy_dynamics.report.formatting import ratio, sig
from entropy_dynamics.report.lines import smoothed_lines
from entropy_dynamics.report.panels import Panel
from entropy_dynamics.report.smoothing import logging_gap
from entropy_dynamics.report.theme import PALETTE, PHASE_COLORS, PHASE_SOLID, base_layout, esc, short_label

ENTROPY_ROW_PX = 300
PANEL_ROW_PX = 175
#: Height of one legend entry: a panel grows so that its legend never runs into the next panel's.
LEGEND_ENTRY_PX = 20
GAP_PX = 56
#: Width of a cycle label as a share of the step axis (about 60 px of an 850 px plot).
LABEL_WIDTH_FRACTION = 0.075
#: Height of one level of cycle labels as a share of the curve's value span.
LABEL_LEVEL_FRACTION = 0.13
#: The legend of a multi-row figure: beside the plots, top right.
SIDE_LEGEND = {"x": 1.01, "xanchor": "left", "y": 1.0, "yanchor": "top", "font": {"size": 11}, "tracegroupgap": 0}


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
    """(steps int32[M], values float32[M]) of one metric, downsampled to an envelope for plotting (int64 / float64
    where the numbers do not fit the narrow types)."""
    series = run.series(column)
    steps, values = minmax_envelope(series.index.to_numpy(), series.to_numpy(dtype=np.float64),
                                    max_points, keep)
    return compact_steps(steps), compact_values(values)


def axis_refs(row: int) -> tuple[str, str]:
    suffix = "" if row == 1 else str(row)
    return f"x{suffix}", f"y{suffix} domain"


def step_range(runs: Iterable[Run]) -> list[float] | None:
    """The step axis' range: first to last logged step over ``runs`` (markers would otherwise pad it)."""
    firsts = [r.first_step for r in runs if r.first_step is not None]
    lasts = [r.last_step for r in runs if r.last_step is not None]
    if not firsts or not lasts or max(lasts) <= min(firsts):
        return None
    return [min(firsts), max(lasts)]


def finish_step_axes(fig: go.Figure, rows: int, steps: list[float] | None = None) -> None:
    """Shared-step figure touches: a spike line across the rows, "step" under the last row, titles left, the
    step range ``steps`` when given."""
    fig.update_xaxes(showspikes=True, spikemode="across", spikethickness=1, spikecolor="#9ca3af")
    if steps is not None:  # a fixed step range turns plotly.js' y autorange off unless it is asked for
        fig.update_xaxes(range=steps, autorange=False)
        fig.update_yaxes(autorange=True)
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
    """Onset and peak markers of every cycle on the entropy curve (hover: the cycle's numbers)."""
    if not analysis.cycles:
        return []
    series = run.series(column)
    onsets = [c.eruption_start_step for c in analysis.cycles]
    onset_values = series.reindex(onsets).to_numpy(dtype=np.float64)
    texts = [
        f"cycle {i}: onset {c.eruption_start_step}, peak {c.peak_step} ({sig(c.peak_value)}), "
        f"{ratio(c.amplitude_ratio)} over base {sig(c.base_value)}"
        for i, c in enumerate(analysis.cycles, start=1)
    ]
    onset_trace = go.Scatter(x=onsets, y=onset_values, mode="markers", name="eruption onset",
                             marker={"symbol": "circle-open", "size": 10, "color": PHASE_SOLID["eruption"],
                                     "line": {"width": 2}},
                             hovertext=texts, hoverinfo="text")
    peak_trace = go.Scatter(x=[c.peak_step for c in analysis.cycles], y=[c.peak_value for c in analysis.cycles],
                            mode="markers", name="cycle peak",
                            marker={"symbol": "triangle-down", "size": 10, "color": PHASE_SOLID["eruption"]},
                            hovertext=texts, hoverinfo="text")
    return [onset_trace, peak_trace]


def cycle_labels(analysis: PhaseAnalysis, x_span: float, y_low: float, y_high: float) -> tuple[list[dict], list[dict],
                                                                                              list[float]]:
    """Labels "C1 ×15.3" in a band above the curve (staggered so none overlap) with a dotted leader down to
    each peak: (annotations, shapes, y range) for row 1; the range is the data's plus the band."""
    span = max(y_high - y_low, 1e-12)
    if not analysis.cycles:
        return [], [], [y_low - 0.04 * span, y_high + 0.06 * span]
    peaks = [c.peak_step for c in analysis.cycles]
    levels = stagger_levels(peaks, LABEL_WIDTH_FRACTION * max(x_span, 1.0))
    band = LABEL_LEVEL_FRACTION * span * (max(levels) + 1)
    top = y_high + 0.04 * span + band
    annotations, shapes = [], []
    for i, (cyc, level) in enumerate(zip(analysis.cycles, levels, strict=True), start=1):
        y = top - LABEL_LEVEL_FRACTION * span * (level + 0.5)
        annotations.append({"x": cyc.peak_step, "y": y, "xref": "x", "yref": "y", "showarrow": False,
                            "text": f"C{i} {ratio(cyc.amplitude_ratio)}", "bgcolor": "rgba(255,255,255,0.85)",
                            "font": {"size": 11, "color": PHASE_SOLID["eruption"]}, "borderpad": 1})
        shapes.append({"type": "line", "xref": "x", "yref": "y", "x0": cyc.peak_step, "x1": cyc.peak_step,
                       "y0": cyc.peak_value, "y1": y, "layer": "below",
                       "line": {"color": "rgba(220, 38, 38, 0.35)", "width": 1}})
    return annotations, shapes, [y_low - 0.04 * span, top]


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
    run: Run, analysis: PhaseAnalysis, panels: list[Panel], max_points: int = 2000, smoothing: float = 0.0
) -> go.Figure:
    """Entropy with phase bands, change points and cycles (row 1) over the given metric panels (rows 2..);
    every curve raw (faint) and smoothed with ``smoothing`` (the page's slider changes it)."""
    column = run.resolve(analysis.metric)
    keep = marked_steps(analysis)
    rows = 1 + len(panels)
    heights = [ENTROPY_ROW_PX] + [max(PANEL_ROW_PX, LEGEND_ENTRY_PX * len(p.columns)) for p in panels]
    total_px = sum(heights) + GAP_PX * (rows - 1)
    shown = analysis.source_metric or column
    is_entropy = "entropy" in column.lower() or "entropy" in shown.lower()
    head = f"Entropy ({esc(shown)})" if is_entropy else f"{esc(shown)} (segmented metric)"
    titles = [head] + [esc(p.spec.title) for p in panels]
    curve = "entropy" if is_entropy else short_label(shown)
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=GAP_PX / total_px,
                        row_heights=heights, subplot_titles=titles)
    steps, values = light_series(run, column, max_points, keep)
    gap = logging_gap(run.series(column).index.to_numpy())
    traces = [*smoothed_lines(steps, values, gap, smoothing, name=curve, color="#111827", width=1.8,
                              hover=f"step %{{x}}<br>{curve} %{{y:.4g}} (smoothed)<extra></extra>"),
              *phase_hover_trace(analysis), *cycle_traces(analysis, run, column), *live_event_traces(run, column)]
    has_bands = bool(analysis.segments)
    if has_bands:
        traces += phase_legend_traces(s.phase for s in analysis.segments)
    trace_rows = [1] * len(traces)
    for r, panel in enumerate(panels, start=2):
        for i, (col, name) in enumerate(zip(panel.columns, legend_names(panel.columns), strict=True)):
            s, v = light_series(run, col, max_points, keep)
            pair = smoothed_lines(s, v, logging_gap(run.series(col).index.to_numpy()), smoothing, name=name,
                                  color=PALETTE[i % len(PALETTE)], width=1.5, legend=f"legend{r}",
                                  hover=f"{esc(col)}: %{{y:.4g}}<extra></extra>")
            traces += pair
            trace_rows += [r] * len(pair)
    fig.add_traces(traces, rows=trace_rows, cols=[1] * len(traces))
    layout = base_layout(total_px + 90)
    layout["margin"] = {"l": 64, "r": 190, "t": 40, "b": 44}
    layout["legend"] = SIDE_LEGEND
    for r in range(2, rows + 1):
        domain = fig.layout[f"yaxis{r}"].domain
        layout[f"legend{r}"] = {"x": 1.01, "xanchor": "left", "y": domain[1], "yanchor": "top",
                                "font": {"size": 11}, "bgcolor": "rgba(255,255,255,0)", "tracegroupgap": 0}
    finite = values[np.isfinite(values)]
    x_span = float(steps[-1] - steps[0]) if len(steps) > 1 else 1.0
    labels, leaders, y_range = cycle_labels(analysis, x_span, float(finite.min()) if len(finite) else 0.0,
                                            float(finite.max()) if len(finite) else 1.0)
    layout["shapes"] = phase_band_shapes(analysis, rows) + change_point_shapes(analysis, rows) + leaders
    fig.update_layout(**layout)
    finish_step_axes(fig, rows, step_range([run]))
    for note in labels:
        fig.add_annotation(note)
    if len(finite):
        fig.update_yaxes(range=y_range, autorange=False, row=1, col=1)
    return fig

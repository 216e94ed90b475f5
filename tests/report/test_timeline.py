import numpy as np

from entropy_dynamics.report.panels import select_panels
from entropy_dynamics.report.timeline import legend_names, marked_steps, timeline_figure

from .conftest import plan_analysis


def test_timeline_rows_shapes_and_marks(full_run):
    analysis = plan_analysis(full_run)
    panels, _ = select_panels(full_run)
    fig = timeline_figure(full_run, analysis, panels, max_points=100)
    rows = 1 + len(panels)
    bands = [s for s in fig.layout.shapes if s.type == "rect"]
    lines = [s for s in fig.layout.shapes if s.type == "line" and s.line.dash == "dot"]
    leaders = [s for s in fig.layout.shapes if s.type == "line" and s.line.dash != "dot"]
    assert len(bands) == len(analysis.segments) * rows
    assert len(lines) == len(analysis.change_points) * rows
    assert [(s.x0, s.x1) for s in leaders] == [(120, 120), (215, 215)]  # peak up to its label
    eruption_bands = {(s.x0, s.x1) for s in bands if "220, 38, 38" in s.fillcolor}
    assert eruption_bands == {(101, 121), (201, 216)}  # each band reaches the next segment's start
    raw, smoothed = fig.data[0], fig.data[1]
    assert raw.name == smoothed.name == "entropy" and len(raw.x) <= 100 + len(marked_steps(analysis)) + 2
    assert not raw.showlegend and smoothed.meta["smooth_of"] == raw.uid
    assert set(analysis.change_points) <= set(np.asarray(raw.x).tolist())
    peaks = next(t for t in fig.data if t.name == "cycle peak")
    assert list(peaks.x) == [120, 215]
    panel_traces = [t for t in fig.data if t.legend not in (None, "legend")]
    assert len(panel_traces) == 2 * sum(len(p.columns) for p in panels)  # raw + smoothed


def test_cycle_labels_sit_above_the_curve_without_overlapping(full_run):
    analysis = plan_analysis(full_run)
    fig = timeline_figure(full_run, analysis, [])
    labels = [a for a in fig.layout.annotations if a.text.startswith("C")]
    assert [a.text for a in labels] == [f"C{i} ×{c.amplitude_ratio:.3g}" for i, c in
                                        enumerate(analysis.cycles, start=1)]
    curve_top = float(np.nanmax(fig.data[0].y))
    assert all(a.y > curve_top for a in labels)
    assert fig.layout.yaxis.range[1] > max(a.y for a in labels)  # inside the panel
    # two close peaks go on different levels
    analysis.cycles[1].peak_step = analysis.cycles[0].peak_step + 3
    close = [a for a in timeline_figure(full_run, analysis, []).layout.annotations if a.text.startswith("C")]
    assert close[0].y != close[1].y


def test_phase_legend_only_where_bands_are_drawn(full_run):
    analysis = plan_analysis(full_run)
    names = {t.name for t in timeline_figure(full_run, analysis, []).data}
    assert {"descent", "eruption", "subsidence", "plateau"} <= names
    analysis.segments = []
    names = {t.name for t in timeline_figure(full_run, analysis, []).data}
    assert not names & {"descent", "eruption", "subsidence", "plateau"}


def test_log_strings_are_escaped_in_plotly_labels(full_run):
    full_run.metrics["degen/<b>x</b>"] = full_run.metrics["degen/rep5_ratio"]
    analysis = plan_analysis(full_run)
    analysis.source_metric = "<img src=x onerror=alert(1)>"
    panels, _ = select_panels(full_run)
    fig = timeline_figure(full_run, analysis, panels)
    texts = [a.text for a in fig.layout.annotations] + [t.name for t in fig.data if t.name]
    assert any("&lt;img src=x onerror=alert(1)&gt;" in t for t in texts)
    assert any(t == "&lt;b&gt;x&lt;/b&gt;" for t in texts)
    assert not any("<img" in t or "<b>" in t for t in texts)


def test_live_detector_events_are_marked_where_they_were_confirmed(full_run):
    fig = timeline_figure(full_run, plan_analysis(full_run), [])
    live = next(t for t in fig.data if t.name == "live detection")
    assert list(live.x) == [108]
    assert live.y[0] == full_run.series("policy/entropy")[108]
    assert "eruption from step 101, confirmed at step 108" in live.hovertext[0]


def test_a_non_entropy_metric_is_named_as_itself(full_run):
    analysis = plan_analysis(full_run)
    analysis.metric = analysis.source_metric = "env/success_rate"
    fig = timeline_figure(full_run, analysis, [])
    assert fig.layout.annotations[0].text == "env/success_rate (segmented metric)"
    assert fig.data[1].name == "env/success_rate"


def test_legend_names_drop_a_shared_group_only():
    assert legend_names(("degen/a", "degen/<b>")) == ["a", "&lt;b&gt;"]
    assert legend_names(("reward/mean", "env/success_rate")) == ["reward/mean", "env/success_rate"]
    assert legend_names(("reward/mean",)) == ["reward/mean"]

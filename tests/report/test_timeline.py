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
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(bands) == len(analysis.segments) * rows
    assert len(lines) == len(analysis.change_points) * rows
    eruption_bands = {(s.x0, s.x1) for s in bands if "220, 38, 38" in s.fillcolor}
    assert eruption_bands == {(101, 121), (201, 216)}  # each band reaches the next segment's start
    entropy = fig.data[0]
    assert entropy.name == "entropy" and len(entropy.x) <= 100 + len(marked_steps(analysis)) + 2
    assert set(analysis.change_points) <= set(np.asarray(entropy.x).tolist())
    peaks = next(t for t in fig.data if t.name == "cycle peak")
    assert list(peaks.x) == [120, 215] and peaks.text[0].startswith("C1 ×")
    panel_traces = [t for t in fig.data if t.legend not in (None, "legend")]
    assert len(panel_traces) == sum(len(p.columns) for p in panels)


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
    assert fig.data[0].name == "env/success_rate"


def test_legend_names_drop_a_shared_group_only():
    assert legend_names(("degen/a", "degen/<b>")) == ["a", "&lt;b&gt;"]
    assert legend_names(("reward/mean", "env/success_rate")) == ["reward/mean", "env/success_rate"]
    assert legend_names(("reward/mean",)) == ["reward/mean"]

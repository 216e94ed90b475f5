import re

import numpy as np
import pytest

from entropy_dynamics.analysis import analyze_run
from entropy_dynamics.errors import EntropyDynamicsError
from entropy_dynamics.logs import read_runs
from entropy_dynamics.report import render_comparison
from entropy_dynamics.report.compare_figure import comparison_figure, phase_key
from entropy_dynamics.report.labels import run_labels
from entropy_dynamics.report.tables import summarize, summary_headings

from .conftest import plan_analysis, write_full_log


def _runs(tmp_path, names):
    return [read_runs(write_full_log(tmp_path / f"r{i}" / "metrics.jsonl", name=n, seed=i))[0]
            for i, n in enumerate(names)]


def _texts(fig):
    return [a.text for a in fig.layout.annotations]


def test_small_multiples_one_row_per_run_with_its_own_bands(tmp_path, real_logs):
    runs = _runs(tmp_path, ["grpo", "grpo+seal"])
    analyses = [plan_analysis(r) for r in runs]
    treerl = read_runs(real_logs / "deep_grpo" / "tree_methods_training_instability_entropy.csv")[0]
    runs.append(treerl)
    analyses.append(analyze_run(treerl))
    fig = comparison_figure(runs, analyses, run_labels(runs), smoothing=0.5)
    texts = _texts(fig)
    assert "<b>entropy (policy/entropy)</b>" in texts or "<b>entropy (analysed metric)</b>" in texts
    assert "<b>env/success_rate</b>" in texts and "<b>degen/sentence_dup_rate</b>" in texts
    assert {"<b>grpo</b>", "<b>grpo+seal</b>", f"<b>{treerl.name}</b>"} <= set(texts)
    bands = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(bands) == sum(len(a.segments) for a in analyses)
    # 3 metric columns: run k's entropy cell is axis 3k + 1 -> x1, x4, x7
    assert {s.xref for s in bands} == {"x", "x4", "x7"}
    # y shared down each column, steps shared everywhere
    assert fig.layout.yaxis.matches == fig.layout.yaxis4.matches == "y7"
    assert fig.layout.xaxis.matches == "x7"
    assert not fig.layout.showlegend  # the phase key is on the page, next to the bands
    assert [p for p, _, _ in phase_key(analyses)][:3] == ["descent", "plateau", "eruption"]


def test_overlay_has_a_legend_of_runs_and_no_phase_entries(tmp_path):
    runs = _runs(tmp_path, ["grpo", "grpo+seal"])
    fig = comparison_figure(runs, [plan_analysis(r) for r in runs], ["GRPO", "SEAL"], layout="overlay")
    assert [t.name for t in fig.data if t.showlegend is not False] == ["GRPO", "SEAL"]
    assert not fig.layout.shapes
    assert [a.text for a in fig.layout.annotations][:1] == ["entropy (policy/entropy)"]


def test_unknown_layout_is_refused(tmp_path):
    runs = _runs(tmp_path, ["grpo"])
    with pytest.raises(EntropyDynamicsError, match="multiples, overlay"):
        comparison_figure(runs, [plan_analysis(runs[0])], ["a"], layout="grid")


def test_render_comparison_summary_table(tmp_path):
    runs = _runs(tmp_path, ["grpo", "grpo"])
    analyses = [plan_analysis(r) for r in runs]
    html = render_comparison(runs, tmp_path / "c.html", analyses=analyses).read_text(encoding="utf-8")
    assert html.count("* plotly.js v") == 1 and html.count('class="plotly-graph-div"') == 1
    assert "grpo #1" in html and "grpo #2" in html
    for run, analysis in zip(runs, analyses, strict=True):
        cells = summarize("x", run, analysis).cells()
        assert cells["success"] in html and cells["share"] in html
    rows = re.findall(r"<tr><td>grpo #\d</td>", html)
    assert len(rows) == 2
    assert np.isfinite(summarize("x", runs[0], analyses[0]).final_degen)
    # the metric name is in the heading once, not in every cell
    assert html.count("env/success_rate</small>") == 2  # mean success, final success
    assert "(env/success_rate)" not in html


def test_summary_headings_name_each_columns_metric(tmp_path):
    runs = _runs(tmp_path, ["a", "b"])
    summaries = [summarize(r.name, r, plan_analysis(r)) for r in runs]
    assert summary_headings(summaries) == {"success": "env/success_rate", "mean_success": "env/success_rate",
                                           "degen": "degen/sentence_dup_rate"}
    summaries[1].success_metric = "reward/mean"
    assert summary_headings(summaries)["success"] == "per run: env/success_rate, reward/mean"


def test_labels_name_the_runs_and_long_sources_are_cut_in_the_middle(tmp_path):
    runs = _runs(tmp_path, ["grpo", "seal"])
    runs[1].source = "/very/long/folder/of/experiments/2026-12-06/grpo_seal_seed1/metrics.jsonl"
    html = render_comparison(runs, tmp_path / "c.html", analyses=[plan_analysis(r) for r in runs],
                             labels=["GRPO", None]).read_text(encoding="utf-8")
    assert "<tr><td>GRPO</td>" in html and "<tr><td>seal</td>" in html
    assert f'title="{runs[1].source}">/very/long/fold' in html
    assert "…" in html.split(f'title="{runs[1].source}">')[1].split("</td>")[0]


def test_bad_smoothing_is_refused(tmp_path):
    runs = _runs(tmp_path, ["grpo"])
    with pytest.raises(EntropyDynamicsError, match=r"between 0 and 0\.99"):
        render_comparison(runs, tmp_path / "c.html", analyses=[plan_analysis(runs[0])], smoothing=1.5)


def test_columns_no_run_fills_are_left_out_and_long_names_are_cut(tmp_path, real_logs):
    runs = read_runs(real_logs / "deep_grpo" / "training_dynamics_entropy.csv")  # entropy only: no success
    html = render_comparison(runs, tmp_path / "c.html").read_text(encoding="utf-8")
    head = html.split("<thead>")[1].split("</thead>")[0]
    assert "eruption cycles" in head and "source" in head
    assert "final success" not in head and "degeneration" not in head
    long = max((r.name for r in runs), key=len)
    assert len(long) > 40 and f'<td title="{long}">' in html  # cut in the middle, the whole name on hover

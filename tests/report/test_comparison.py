import re

import numpy as np

from entropy_dynamics.analysis import analyze_run
from entropy_dynamics.logs import read_runs
from entropy_dynamics.report import render_comparison
from entropy_dynamics.report.compare_figure import comparison_figure
from entropy_dynamics.report.tables import summarize, unique_labels

from .conftest import plan_analysis, write_full_log


def _runs(tmp_path, names):
    return [read_runs(write_full_log(tmp_path / f"r{i}" / "metrics.jsonl", name=n, seed=i))[0]
            for i, n in enumerate(names)]


def test_labels_are_unique():
    runs = [type("R", (), {"name": n})() for n in ("a", "b", "a", "a")]
    assert unique_labels(runs) == ["a #1", "b", "a #2", "a #3"]


def test_comparison_figure_overlays_and_bands(tmp_path, real_logs):
    runs = _runs(tmp_path, ["grpo", "grpo+seal"])
    analyses = [plan_analysis(r) for r in runs]
    treerl = read_runs(real_logs / "deep_grpo" / "tree_methods_training_instability_entropy.csv")[0]
    runs.append(treerl)
    analyses.append(analyze_run(treerl))
    fig = comparison_figure(runs, analyses, unique_labels(runs))
    titles = [a.text for a in fig.layout.annotations]
    assert titles[:3] == ["Entropy, all runs", "env/success_rate, all runs", "degen/sentence_dup_rate, all runs"]
    assert len(titles) == 3 + len(runs)
    bands = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(bands) == sum(len(a.segments) for a in analyses)
    # each run's bands sit on its own row: row 4, 5, 6 -> axes x4, x5, x6
    assert {s.xref for s in bands} == {"x4", "x5", "x6"}
    entropy_overlay = [t for t in fig.data if t.showlegend and t.name in {"grpo", "grpo+seal", treerl.name}]
    assert len(entropy_overlay) == 3


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

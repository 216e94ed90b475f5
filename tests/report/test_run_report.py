import re
from pathlib import Path

import pytest

from entropy_dynamics.analysis import analyze_run
from entropy_dynamics.analysis.synthetic import make_run
from entropy_dynamics.errors import EntropyDynamicsError
from entropy_dynamics.logs import MetricLogWriter, read_runs
from entropy_dynamics.report import render_report
from entropy_dynamics.report.html import plotly_js

from .conftest import plan_analysis, write_full_log

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_CONFIG = "<img src=x onerror=alert(2)>"
HOSTILE_TEXT = "</pre><script>alert(3)</script>"
HOSTILE_METRIC = "degen/<svg onload=alert(4)>"


def write_hostile_log(path: Path) -> Path:
    """A log whose run name, config, metric name and sample texts try to inject HTML."""
    write_full_log(path, name=HOSTILE_NAME)
    text = path.read_text(encoding="utf-8")
    text = text.replace('"model": "tiny"', f'"model": "{HOSTILE_CONFIG}"')
    text = text.replace("I open the fridge. ", HOSTILE_TEXT).replace('"degen/rep5_ratio"', f'"{HOSTILE_METRIC}"')
    path.write_text(text, encoding="utf-8")
    return path


def test_report_of_a_full_log_is_self_contained_and_complete(tmp_path, full_run):
    out = render_report([full_run], tmp_path / "r.html")
    html = out.read_text(encoding="utf-8")
    assert html.count("* plotly.js v") == 1
    page = html.replace(plotly_js(), "")  # plotly.js itself names its default topojson CDN (unused)
    assert not re.search(r"<script[^>]*\ssrc=", page) and "http" not in page.replace("http-equiv", "")
    assert html.count('class="plotly-graph-div"') == 3  # timeline, persistence, entropy-reward
    cycles = analyze_run(full_run).cycles
    assert len(cycles) >= 1
    assert len(re.findall(r"<td>C\d+</td>", html)) == len(cycles)
    for heading in ("Eruption cycles", "Degeneration persistence across cycles", "Entropy vs reward",
                    "What moves first", "Sampled trajectories around eruption onsets", "Versions"):
        assert heading in html
    assert "&lt;think&gt;take milk&lt;/think&gt;" in html
    assert "Not in this log" not in html  # every panel and section has data
    assert out.stat().st_size < 6_000_000


def test_strings_from_the_log_are_escaped(tmp_path):
    run = read_runs(write_hostile_log(tmp_path / "h" / "metrics.jsonl"))[0]
    assert run.name == HOSTILE_NAME and HOSTILE_METRIC in run.metrics.columns
    html = render_report([run], tmp_path / "h.html", analyses=[plan_analysis(run)]).read_text(encoding="utf-8")
    for raw in (HOSTILE_NAME, HOSTILE_CONFIG, HOSTILE_TEXT, "<svg onload"):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&lt;/pre&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in html


def test_several_runs_share_one_page_with_distinct_plots(tmp_path):
    runs = [read_runs(write_full_log(tmp_path / f"s{i}" / "metrics.jsonl", name="same", seed=i))[0]
            for i in range(2)]
    html = render_report(runs, tmp_path / "two.html", analyses=[plan_analysis(r) for r in runs]).read_text()
    ids = re.findall(r'<div id="([^"]+)" class="plotly-graph-div"', html)
    assert len(ids) == 6 and len(set(ids)) == 6
    assert html.count('<nav class="toc">') == 1 and html.count("* plotly.js v") == 1


def test_bad_arguments_give_one_line_errors(tmp_path, full_run):
    with pytest.raises(EntropyDynamicsError, match="no runs"):
        render_report([], tmp_path / "x.html")
    with pytest.raises(EntropyDynamicsError, match="2 analyses for 1 runs"):
        render_report([full_run], tmp_path / "x.html", analyses=[plan_analysis(full_run)] * 2)
    with pytest.raises(EntropyDynamicsError, match="is a folder"):
        render_report([full_run], tmp_path, analyses=[plan_analysis(full_run)])
    with pytest.raises(EntropyDynamicsError, match="no metric 'nope'"):
        render_report([full_run], tmp_path / "x.html", metric="nope")


def test_reports_of_every_real_log(tmp_path, real_logs):
    files = sorted((real_logs / "deep_grpo").glob("*.csv"))
    assert len(files) == 6
    for path in files:
        runs = read_runs(path)
        # Files without entropy (response length, validation reward) are reported on their own metric,
        # as a user would with --metric; without it the analyzer names the metrics the file has.
        has_entropy = "entropy" in path.stem
        if not has_entropy:
            with pytest.raises(EntropyDynamicsError, match="no metric 'policy/entropy'; available"):
                render_report(runs, tmp_path / "x.html")
        metric = None if has_entropy else runs[0].metrics.columns[0]
        html = render_report(runs, tmp_path / f"{path.stem}.html", metric=metric).read_text(encoding="utf-8")
        assert html.count("* plotly.js v") == 1
        for run in runs:
            assert run.name in html
        assert html.count('class="plotly-graph-div"') >= len(runs)
        assert "<li>Degeneration: no degeneration metrics (degen/*).</li>" in html  # W&B exports hold none


def test_report_of_a_synthetic_run_written_as_our_jsonl(tmp_path):
    """The analyzer's synthetic run (4 cycles, degeneration that steps up and stays up) through our
    writer and reader: the report shows the accumulation test and every cycle the analyzer finds."""
    truth = make_run("synthetic-4-cycles", n_points=1500, n_cycles=4, seed=1, with_metrics=True)
    path = tmp_path / "syn" / "metrics.jsonl"
    with MetricLogWriter(path) as log:
        log.header(truth.name, config={"algorithm": "grpo"}, versions={"python": "3"})
        for step, row in truth.metrics.iterrows():
            log.metrics(int(step), row.dropna().to_dict(), wall_time=0.0)
    (run,) = read_runs(path)
    html = render_report([run], tmp_path / "syn.html").read_text(encoding="utf-8")
    analysis = analyze_run(run, cross_metrics=True)
    stats = analysis.extra["cross_metrics"]["persistence"]["degen/sentence_dup_rate"]
    assert len(analysis.cycles) == 4 and stats["accumulates"]
    assert len(re.findall(r"<td>C\d+</td>", html)) == 4
    assert f"ρ = {stats['spearman_rho']:+.2f}" in html and "<td>yes</td>" in html


def test_reader_warnings_appear_on_the_page_as_written(tmp_path):
    path = write_full_log(tmp_path / "w" / "metrics.jsonl", samples=False)
    with path.open("a", encoding="utf-8") as fh:  # a resumed run logs step 300 again
        fh.write('{"type": "metrics", "step": 300, "time": 0, "metrics": {"policy/entropy": 0.4}}\n')
    (run,) = read_runs(path)
    html = render_report([run], tmp_path / "w.html", analyses=[plan_analysis(run)]).read_text(encoding="utf-8")
    assert f"<li>{path}: 1 duplicate steps; later values win</li>" in html

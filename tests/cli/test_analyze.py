"""``entropy-dynamics analyze`` through the CLI."""

from __future__ import annotations

import json

from entropy_dynamics.analysis.synthetic import synthetic_series
from entropy_dynamics.cli.main import main
from entropy_dynamics.logs import MetricLogWriter

SEGMENT_KEYS = ["start_step", "end_step", "phase", "slope", "start_value", "end_value"]
CYCLE_KEYS = ["eruption_start_step", "peak_step", "subsidence_end_step", "base_value", "peak_value",
              "amplitude_ratio"]


def _log(path, n_cycles=2, seed=1):
    s = synthetic_series(1000, n_cycles, seed=seed)
    with MetricLogWriter(path) as log:
        log.header(path.stem, config={}, versions={})
        for step, value in zip(s.steps.tolist(), s.values.tolist(), strict=True):
            log.metrics(step, {"actor/entropy": value})
    return s


def test_json_output_follows_the_contract(tmp_path, capsys):
    truth = _log(tmp_path / "a.jsonl")
    _log(tmp_path / "b.jsonl", n_cycles=0, seed=2)
    assert main(["analyze", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"), "--format", "json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [r["run"] for r in runs] == ["a", "b"]
    a = runs[0]
    assert a["metric"] == "policy/entropy" and a["source_metric"] == "actor/entropy"
    assert (a["n_points"], a["first_step"], a["last_step"]) == (1000, 1, 1000)
    assert all(list(seg)[:6] == SEGMENT_KEYS for seg in a["segments"])
    assert a["change_points"] == [seg["start_step"] for seg in a["segments"][1:]]
    assert all(list(c)[:6] == CYCLE_KEYS for c in a["cycles"])
    assert len(a["cycles"]) == len(truth.onsets) == 2
    assert runs[1]["cycles"] == []


def test_out_file_and_cross_metrics(tmp_path, capsys):
    _log(tmp_path / "a.jsonl")
    out = tmp_path / "out" / "a.json"
    assert main(["analyze", str(tmp_path / "a.jsonl"), "--format", "json", "--out", str(out), "--cross-metrics"]) == 0
    assert capsys.readouterr().out == ""
    entry = json.loads(out.read_text())["runs"][0]
    assert "cross_metrics" in entry["extra"]


def test_table_output(tmp_path, capsys):
    _log(tmp_path / "a.jsonl")
    assert main(["analyze", str(tmp_path / "a.jsonl")]) == 0
    text = capsys.readouterr().out
    assert "eruption" in text and "2 cycle(s)" in text


def test_unknown_metric_is_one_line_exit_2(tmp_path, capsys):
    _log(tmp_path / "a.jsonl")
    assert main(["analyze", str(tmp_path / "a.jsonl"), "--metric", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no metric 'nope'" in err[0] and "available: policy/entropy" in err[0]


def test_a_wandb_export_with_two_runs_gives_two_entries(real_logs, capsys):
    path = real_logs / "deep_grpo" / "training_dynamics_entropy.csv"
    assert main(["analyze", str(path), "--format", "json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert len(runs) == 2 and all(r["cycles"] == [] for r in runs)
    assert {r["n_points"] for r in runs} == {2958, 4595}


def test_help_shows_the_phase_definitions_with_their_defaults(capsys):
    code = main(["analyze", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0
    for flag, default in (("--min-ratio", "1.8"), ("--min-rise", "0.3"), ("--max-rise-steps", "30.0"),
                          ("--penalty", "2.0")):
        assert flag in out and f"(default {default})" in out

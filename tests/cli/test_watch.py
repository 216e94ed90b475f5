"""``entropy-dynamics watch`` through the CLI."""

from __future__ import annotations

import json

from cli.main import main
from entropy_dynamics.logs import MetricLogWriter
from entropy_dynamics.synthetic import synthetic_series


def _log(path):
    s = synthetic_series(800, 1, seed=6, noise=0.04)
    with MetricLogWriter(path) as log:
        log.header("w", config={"steps": 800}, versions={})
        for step, value in zip(s.steps.tolist(), s.values.tolist(), strict=True):
            log.metrics(step, {"policy/entropy": value})
    return s


def test_replay_prints_one_json_object_per_event(tmp_path, capsys):
    s = _log(tmp_path / "m.jsonl")
    assert main(["watch", str(tmp_path / "m.jsonl"), "--replay", "--format", "json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines and all(list(e) == ["run", "phase", "start_step", "confirmed_at_step"] for e in lines)
    eruptions = [e for e in lines if e["phase"] == "eruption"]
    assert len(eruptions) == 1 and abs(eruptions[0]["start_step"] - s.onsets[0]) <= 20


def test_follow_with_timeout_stops_and_prints_text(tmp_path, capsys):
    _log(tmp_path / "m.jsonl")
    assert main(["watch", str(tmp_path / "m.jsonl"), "--follow", "--timeout", "0.2", "--poll", "0.05"]) == 0
    text = capsys.readouterr().out
    assert "w: eruption from step" in text


def test_bad_options_are_one_line_exit_2(tmp_path, capsys):
    _log(tmp_path / "m.jsonl")
    assert main(["watch", str(tmp_path / "m.jsonl"), "--follow", "--replay"]) == 2
    assert capsys.readouterr().err.strip() == "error: choose one of --follow and --replay"
    assert main(["watch", str(tmp_path / "missing.jsonl"), "--replay"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1

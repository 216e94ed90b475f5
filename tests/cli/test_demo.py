"""``entropy-dynamics demo`` through the CLI: a short run prints where its log and report are; bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

from entropy_dynamics.cli.main import main
from tests.workflows.test_demo import SHORT


def _sets() -> list[str]:
    return [arg for item in SHORT for arg in ("--set", item)]


def test_demo_json_names_the_log_and_the_report(tmp_path, capsys):
    code = main(["demo", "--out", str(tmp_path / "d"), "--steps", "1", "--quiet", "--format", "json", *_sets()])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert result["steps"] == 1
    assert Path(result["log"]).is_file() and Path(result["report"]).is_file()
    assert Path(result["report"]).parent == tmp_path / "d"


def test_bad_demo_input_is_one_line_exit_2(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--minutes", "-1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: demo: --minutes must be > 0, got -1.0"
    assert main(["demo", "--out", str(tmp_path), "--steps", "0"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert main(["demo", "--out", str(tmp_path), "--steps", "1", "--set", "lr=fast"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_demo_text_says_what_happened_and_where_the_report_is(tmp_path, capsys):
    code = main(["demo", "--out", str(tmp_path / "d"), "--steps", "2", "--quiet", *_sets()])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = captured.out.splitlines()
    assert lines[0] == "What happened:" and any(line.strip().startswith("success ") for line in lines)
    assert any(line.startswith("report: ") and line.endswith("report.html") for line in lines)

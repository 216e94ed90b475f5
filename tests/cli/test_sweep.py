"""`entropy-dynamics sweep`: a real tiny grid, killed mid-run (the whole process group, as a machine stop) and
started again; then its per-arm summary, JSON and compare page; bad input exits 2 with one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from entropy_dynamics.cli.main import main
from tests.train.conftest import FAST

STEPS = 5
ROOT = Path(__file__).resolve().parents[2]


def _spec(tmp_path: Path) -> Path:
    spec = {"output_dir": str(tmp_path / "sweep"), "parallel": 2, "seeds": [0],
            "set": [*(o for o in FAST if not o.startswith("samples_every")), "samples_every=0", f"steps={STEPS}",
                    "instruments.every=2", "instruments.max_samples=4"],
            "arms": {"grpo": None, "seal": {"set": ["seal.coef=0.02", "credit=turn"]}}}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _records(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _first_checkpoint(root: Path, proc: subprocess.Popen, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        if any((root / arm / "seed0" / "checkpoint").is_dir() for arm in ("grpo", "seal")):
            return
        time.sleep(0.05)
    raise AssertionError(f"no checkpoint before the sweep ended (exit {proc.poll()})")


def test_sweep_killed_mid_run_resumes_and_summarises(tmp_path, capsys):
    spec = _spec(tmp_path)
    root = tmp_path / "sweep"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "entropy_dynamics", "sweep", str(spec)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _first_checkpoint(root, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its runs stop at once, as when a machine goes away
        proc.wait()
    assert not all((root / arm / "seed0" / "sweep_done.json").is_file() for arm in ("grpo", "seal"))

    assert main(["sweep", str(spec), "--dry-run"]) == 0
    assert "resume" in capsys.readouterr().out
    # unfinished runs never enter a summary (their last step is not a final result)
    finished = [arm for arm in ("grpo", "seal") if (root / arm / "seed0" / "sweep_done.json").is_file()]
    if finished:
        assert main(["sweep", str(spec), "--summary", "--format", "json", "--no-html"]) == 0
        partial = json.loads(capsys.readouterr().out)
        assert [row["arm"] for row in partial["arms"]] == finished and partial["unfinished_runs_left_out"] == 1
    else:
        assert main(["sweep", str(spec), "--summary", "--no-html"]) == 2
        assert "no finished runs to summarise" in capsys.readouterr().err
    assert main(["sweep", str(spec), "--format", "json", "--no-html"]) == 0
    payload = json.loads(capsys.readouterr().out)
    resumed = 0
    for arm in ("grpo", "seal"):
        run = root / arm / "seed0"
        assert (run / "sweep_done.json").is_file()
        records = _records(run / "metrics.jsonl")
        steps = [r["step"] for r in records if r["type"] == "metrics"]
        assert steps == list(range(1, STEPS + 1))  # no step lost, none twice
        resumed += any(r["type"] == "header" and r["resumed_from_step"] for r in records)
    assert resumed >= 1
    seal_metrics = [r["metrics"] for r in _records(root / "seal" / "seed0" / "metrics.jsonl") if r["type"] == "metrics"]
    assert all("seal/grad_ratio" in m and "seal/label_all_fail_share" in m for m in seal_metrics)

    rows = {row["arm"]: row for row in payload["arms"]}
    assert set(rows) == {"grpo", "seal"} and rows["grpo"]["n"] == rows["seal"]["n"] == 1
    assert rows["seal"]["tests_vs"] == "grpo" and "collapse_fisher_p" in rows["seal"]["tests"]
    assert rows["grpo"]["final_success"]["n"] == 1 and "collapsed" in payload["definitions"]
    assert json.loads((root / "summary.json").read_text())["arms"] == payload["arms"]
    assert payload["unfinished_runs_left_out"] == 0

    # a finished sweep runs nothing again; --summary of arbitrary logs writes the compare page of the arms
    assert main(["sweep", str(spec), "--no-html"]) == 0
    assert "2 done, 0 to run" in capsys.readouterr().err
    out = tmp_path / "by_glob"
    assert main(["sweep", "--summary", "--arm", f"a={root}/grpo/*/metrics.jsonl",
                 "--arm", f"b={root}/seal/*/metrics.jsonl", "--out", str(out)]) == 0
    assert (out / "compare.html").stat().st_size > 0 and (out / "summary.json").is_file()


def test_bad_sweep_input_exits_2_with_one_line(tmp_path, capsys):
    grpo = ROOT / "sample_logs" / "grpo" / "metrics.jsonl"
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"output_dir": str(tmp_path / "s"), "arms": {"a": {"set": ["algorithm=sac"]}}}))
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"steps: 5\n\x87\xff\x00")
    cases = [
        ["sweep", str(spec)],
        ["sweep", str(binary), "--dry-run"],
        ["sweep", "--config", str(binary), "--out", str(tmp_path / "b")],
        ["sweep", str(tmp_path / "missing.yaml")],
        ["sweep", "--config", "x.yaml"],
        ["sweep", "--arm", "a=*.jsonl"],
        ["sweep", "--summary", "--arm", f"a={tmp_path}/none/*.jsonl"],
        ["sweep", "--out", str(tmp_path / "g"), "--grid", "lr"],
        ["sweep", "--out", str(tmp_path / "g"), "--seeds", "0-100000000", "--dry-run"],
        ["sweep", "--summary", "--arm", f"a={tmp_path}/*.yaml", "--collapse-below", "nan"],
        ["sweep", "--summary", "--arm", f"a={grpo}", "--pair", "a"],
        ["sweep", "--summary", "--arm", f"a={grpo}", "--pair", "a:a"],
        ["sweep", "--summary", "--no-html", "--arm", f"a={grpo}", "--pair", "a:b", "--out", str(tmp_path / "p")],
    ]
    for args in cases:
        assert main(args) == 2, args
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and len(err.splitlines()) == 1, (args, err)
    assert not (tmp_path / "s" / "a").exists()  # nothing started for a bad arm


def test_a_sweep_folder_refuses_another_plan(tmp_path, capsys):
    spec = _spec(tmp_path)
    assert main(["sweep", str(spec), "--dry-run"]) == 0
    from entropy_dynamics.sweep import load_plan
    from entropy_dynamics.sweep.runner import record_plan

    record_plan(load_plan(spec))
    assert main(["sweep", str(spec), "--set", "lr=1e-3", "--seeds", "0"]) == 2
    assert "another plan" in capsys.readouterr().err


def test_a_log_matched_by_two_globs_of_an_arm_counts_once(tmp_path, capsys):
    grpo = Path(__file__).resolve().parents[2] / "sample_logs" / "grpo" / "metrics.jsonl"
    args = ["sweep", "--summary", "--no-html", "--format", "json", "--out", str(tmp_path),
            "--arm", f"a={grpo}", "--arm", f"a={grpo.parent}/*.jsonl"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)["runs"]) == 1
    assert "warning: --arm a: 1 logs matched more than once; each counted once" in captured.err


def test_pairs_answer_questions_below_the_table(tmp_path, capsys):
    logs = ROOT / "sample_logs"
    args = ["sweep", "--summary", "--no-html", "--out", str(tmp_path), "--arm", f"grpo={logs}/grpo/metrics.jsonl",
            "--arm", f"grpo={logs}/grpo_seed1/metrics.jsonl", "--arm", f"seal={logs}/grpo_seal*/metrics.jsonl",
            "--pair", "seal:grpo"]
    assert main([*args, "--format", "json"]) == 0
    (question,) = json.loads(capsys.readouterr().out)["comparisons"]
    assert question["name"] == "seal vs grpo" and question["n"] == {"seal": 2, "grpo": 2}
    assert question["collapsed"]["seal"] == [2, 2] and 0 < question["collapse_fisher_p"] <= 1
    assert question["final_success"]["difference"]["diff"] < 0
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "Comparisons: arm - control" in text and "seal vs grpo" in text

"""`entropy-dynamics sft` and `entropy-dynamics train` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from entropy_dynamics.cli.main import app, main
from tests.train.conftest import FAST


def _sets(*overrides: str) -> list[str]:
    return [a for o in overrides for a in ("--set", o)]


def test_bad_config_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("algorithm: sac\n")
    assert main(["train", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "'algorithm' must be one of" in err and len(err.splitlines()) == 1
    assert main(["sft", "--set", "nope=1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown key 'nope'" in err and len(err.splitlines()) == 1
    assert main(["train", "--set", f"output_dir={tmp_path / 'x'}", "--resume"]) == 2
    assert "no checkpoint" in capsys.readouterr().err
    bad.write_bytes(b"steps: 5\n\x87\xff\x00")  # a binary file, or a config saved as UTF-16
    assert main(["train", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("bad.yaml: not UTF-8 text (invalid start byte at byte 9)") and len(err.splitlines()) == 1


def test_sft_then_train_from_its_model(tmp_path):
    runner = CliRunner()
    sft_dir = tmp_path / "sft"
    result = runner.invoke(app, ["sft", *_sets(*FAST, f"output_dir={sft_dir}", "sft.epochs=2", "sft.n_games=2",
                                               "sft.eval_games=1", "sft.eval_every=1", "sft.export_every_eval=true"),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["command"] == "sft" and summary["last_step"] == 2
    records = [json.loads(line) for line in (sft_dir / "metrics.jsonl").read_text().splitlines()]
    epoch = next(r for r in records if r["type"] == "metrics")["metrics"]
    assert epoch["loss/sft"] > 0 and 0.0 <= epoch["eval/success_rate"] <= 1.0
    assert (sft_dir / "model" / "tokenizer.json").is_file()
    # every evaluated epoch exported; the last export is the final model
    exported = [r["path"] for r in records if r.get("event") == "exported"]
    assert exported == [str(sft_dir / "model_ep01"), str(sft_dir / "model_ep02"), str(sft_dir / "model")]
    weights = [(sft_dir / name / "model.safetensors").read_bytes() for name in ("model_ep02", "model")]
    assert weights[0] == weights[1]

    rl_dir = tmp_path / "rl"
    result = runner.invoke(app, ["train", *_sets(*FAST, f"output_dir={rl_dir}", f"init_from={sft_dir / 'model'}",
                                                 "steps=1", "algorithm=gigpo"), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["last_step"] == 1
    header = json.loads((rl_dir / "metrics.jsonl").read_text().splitlines()[0])
    assert header["config"]["init_from"] == str(sft_dir / "model")


def test_train_logs_every_documented_key_when_due_and_shows_the_phase(tmp_path, capsys):
    from tests.train.run.test_instruments import (
        INTERFERENCE_KEYS,
        LOOP_KEYS,
        REPR_KEYS,
        SEAL_HEAD_KEYS,
        SEAL_INTERFERENCE_KEYS,
        SEAL_STEP_KEYS,
        TEXT_KEYS,
        metric_records,
    )

    out_dir = tmp_path / "rl"
    code = main(["train", *_sets(*FAST, f"output_dir={out_dir}", "steps=3", "seal.coef=0.02", "checkpoint_every=0",
                                 "instruments.every=2", "instruments.max_samples=4"), "--format", "json"])
    assert code == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["last_step"] == 3 and "phase" in summary
    assert "3/3" in captured.err and "entropy" in captured.err and "phase" in captured.err  # the progress bar
    lines = [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]
    assert lines[0]["config"]["instruments"]["enabled"] and lines[0]["config"]["phase"]["enabled"]
    every_step = set(LOOP_KEYS) | set(TEXT_KEYS) | set(SEAL_HEAD_KEYS) | set(SEAL_STEP_KEYS) | {"perf/diagnostics_s"}
    measured = (set(INTERFERENCE_KEYS) | set(SEAL_INTERFERENCE_KEYS) | set(REPR_KEYS)) - set(SEAL_STEP_KEYS)
    records = metric_records(out_dir / "metrics.jsonl")
    assert sorted(records) == [1, 2, 3]
    for step, metrics in records.items():
        assert every_step <= set(metrics), (step, every_step - set(metrics))
        assert (measured <= set(metrics)) if step in (1, 3) else not (measured & set(metrics)), step


def test_train_with_the_sections_off_logs_no_instrument_keys(tmp_path, capsys):
    out_dir = tmp_path / "rl"
    code = main(["train", *_sets(*FAST, f"output_dir={out_dir}", "steps=50", "checkpoint_every=0",
                                 "instruments=off", "phase=off"), "--steps", "1", "--format", "json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["phase"] is None and summary["last_step"] == 1  # --steps wins over the config's steps
    lines = [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]
    metrics = next(r["metrics"] for r in lines if r["type"] == "metrics")
    assert "policy/entropy" in metrics and "perf/diagnostics_s" not in metrics and "halluc/rate" not in metrics


def test_sigterm_stops_training_cleanly(tmp_path):
    """`kill` (SIGTERM) acts like Ctrl-C: exit 130 with one line, the log ends on a complete record."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    out = tmp_path / "run"
    sets = _sets(*FAST, f"output_dir={out}", "steps=1000", "samples_every=0", "instruments=off")
    cmd = [sys.executable, "-m", "entropy_dynamics", "train", *sets]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"}, cwd=Path(__file__).resolve().parents[2])
    log = out / "metrics.jsonl"
    deadline = time.time() + 240
    try:
        while time.time() < deadline and not (log.is_file() and '"type": "metrics"' in log.read_text()):
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err.splitlines()
    lines = log.read_text().splitlines()
    assert lines and all(json.loads(line) for line in lines)
    assert max(json.loads(line).get("step", 0) for line in lines) < 1000


def test_a_shipped_rl_config_without_its_sft_start_names_the_command(tmp_path, monkeypatch, capsys):
    configs = Path(__file__).resolve().parents[2] / "configs"
    monkeypatch.chdir(tmp_path)  # no runs/ here: the SFT start does not exist
    for config, sft in (("tiny_cooking_grpo.yaml", "tiny_cooking_sft.yaml"),
                        ("tiny_cooking_seal.yaml", "tiny_cooking_sft.yaml"),
                        ("phenomenon/cycles_e2.yaml", "phenomenon/sft.yaml")):
        assert main(["train", str(configs / config)]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and f"`entropy-dynamics sft {configs / sft}`" in lines[0], lines
    assert not (tmp_path / "runs").exists()

"""The demo: its settings, its time budget, and a very short version end to end (SFT, GRPO+SEAL, report)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from entropy_dynamics.cli.demo import DEMO_STEPS as CLI_DEMO_STEPS
from entropy_dynamics.errors import ConfigError
from entropy_dynamics.logs import read_runs
from entropy_dynamics.train.config_io import load_config, to_dict
from entropy_dynamics.train.run.callbacks import TrainState
from entropy_dynamics.workflows.demo import DEMO_SETTINGS, DEMO_STEPS, TimeBudget, demo_configs, plain_summary, run_demo

REPO = Path(__file__).resolve().parents[2]

#: A demo small enough for a test: two games, one SFT epoch, a 1-layer model, 2 GRPO steps.
SHORT = ["game_pool_size=2", "sft.n_games=2", "sft.epochs=1", "sft.eval_games=0", "group_size=2",
         "games_per_step=1", "max_turns=2", "max_new_tokens=6", "tiny.hidden_size=32", "tiny.num_layers=1",
         "tiny.num_heads=2", "tiny.intermediate_size=64", "tiny.vocab_size=300"]


def test_configs_demo_yaml_is_the_embedded_default(tmp_path):
    _, rl = demo_configs(tmp_path, steps=7)
    from_yaml = to_dict(load_config(REPO / "configs" / "demo.yaml", [
        f"output_dir={tmp_path / 'train'}", f"init_from={tmp_path / 'sft' / 'model'}", "steps=7"]))
    assert to_dict(rl) == from_yaml
    assert rl.seal_on and rl.model == "tiny" and DEMO_SETTINGS["seal"]["coef"] == rl.seal.coef
    assert rl.instruments.every == 5 and rl.phase.on_eruption == ["samples", "checkpoint"]
    assert rl.phase.total_steps == "auto" and rl.steps == 7
    assert DEMO_STEPS == CLI_DEMO_STEPS  # the CLI's default, kept there so --help imports no torch


def test_time_budget_stops_the_loop(tmp_path):
    state = TrainState(config=None, run_name="x", output_dir=tmp_path)
    budget = TimeBudget(minutes=1.0)
    budget.on_train_start(state, {})
    assert budget.on_step_end(state, {}) == set()
    budget.started -= 61.0
    assert budget.on_step_end(state, {}) == {"stop"}
    assert state.pending_events == [("time_budget", {"minutes": 1.0})]


def test_bad_demo_arguments_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="--minutes must be > 0"):
        run_demo(tmp_path, minutes=0)
    with pytest.raises(ConfigError, match="--steps must be >= 1"):
        run_demo(tmp_path, steps=0)
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "metrics.jsonl").write_text("{}\n")
    with pytest.raises(ConfigError, match="already holds a demo run"):
        run_demo(tmp_path, steps=1)


def test_a_short_demo_runs_end_to_end(tmp_path):
    lines: list[str] = []
    result = run_demo(tmp_path / "demo", steps=2, overrides=SHORT, progress=False, echo=lines.append)
    assert result.steps == 2
    assert [line.split()[1] for line in lines if line.startswith("[demo]")] == ["1/4", "2/4", "3/4", "4/4"]
    assert set(result.stage_seconds) == {"games", "sft", "grpo", "report"}
    assert result.summary and "success" in " ".join(result.summary)
    assert (Path(result.sft_model) / "config.json").is_file()
    run = read_runs(result.log, format="jsonl")[0]
    assert list(run.metrics.index) == [1, 2]
    lines = [json.loads(line) for line in Path(result.log).read_text().splitlines()]
    first = next(rec["metrics"] for rec in lines if rec["type"] == "metrics")  # step 1 measures everything
    for key in ("policy/entropy", "loss/seal", "degen/rep5_ratio", "halluc/rate", "perf/diagnostics_s",
                "interference/grad_norm_pg", "repr/sep_ratio", "seal/head_auroc"):
        assert key in first, key
    assert run.series("perf/diagnostics_s").notna().all()
    header = lines[0]
    assert header["config"]["init_from"] == result.sft_model and header["config"]["seal"]["coef"] == 0.02
    html = Path(result.report).read_text()
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
    assert "entropy-dynamics demo" in html
    assert (Path(result.log).parent / "model" / "config.json").is_file()


def test_the_plain_summary_tells_the_eruption_success_and_repetition():
    run = read_runs(REPO / "sample_logs" / "grpo" / "metrics.jsonl")[0]
    lines = plain_summary(run)
    assert lines[0].startswith("entropy erupted at step ") and " nats" in lines[0]
    assert "subsided by step" in lines[0] or "not subsided" in lines[0]
    assert lines[1].startswith("success ") and "->" in lines[1]
    assert [line.split()[0] for line in lines[1:]] == ["success", "reward", "entropy", "5-gram"]

"""The SEAL-question sweep's shipped logs (sample_logs/seal_question/<arm>/seed<k>/metrics.jsonl.gz): each is the
run its spec (configs/seal_question/sweep.yaml) describes, whole; the live detector agrees with the analyzer on
each; and `sweep --summary` on them prints the per-arm numbers of docs/seal-question-numbers.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from entropy_dynamics.analysis import analyze_run
from entropy_dynamics.cli.main import main
from entropy_dynamics.logs import read_runs
from entropy_dynamics.sweep import load_plan
from entropy_dynamics.sweep.summary import RUN_VALUES, format_cell

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "sample_logs" / "seal_question"
PLAN = load_plan(ROOT / "configs" / "seal_question" / "sweep.yaml")
LOGS = sorted(SHIPPED.glob("*/seed*/metrics.jsonl.gz"))
STEPS = 150


def _arm_seed(log: Path) -> tuple[str, int]:
    return log.parent.parent.name, int(log.parent.name.removeprefix("seed"))


def _lookup(config: dict, dotted: str):
    for key in dotted.split("."):
        config = config[key]
    return config


def test_logs_are_shipped_for_every_arm_of_the_spec():
    arms = {a.name for a in PLAN.arms}
    assert {_arm_seed(log)[0] for log in LOGS} == arms  # each arm has at least seed 0
    assert all(seed in PLAN.seeds for _, seed in map(_arm_seed, LOGS))


@pytest.mark.parametrize("log", LOGS, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_each_log_is_its_run_whole_and_live_agrees_with_offline(log, capsys):
    arm, seed = _arm_seed(log)
    (run,) = read_runs(log)
    assert run.name == f"{arm}_seed{seed}" and run.config["seed"] == seed
    assert list(run.metrics.index) == list(range(1, STEPS + 1))
    spec = next(a for a in PLAN.arms if a.name == arm)
    for item in (*PLAN.common, *spec.overrides):
        key, _, value = item.partition("=")
        if key not in ("init_from", "wandb", "checkpoint_every", "samples_every"):
            assert _lookup(run.config, key) == yaml.safe_load(value), (arm, key)
    assert main(["watch", str(log), "--replay", "--format", "json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    live = [e["start_step"] for e in events if e["phase"] == "eruption"]
    assert live == [c.eruption_start_step for c in analyze_run(run).cycles]
    starts = [e["start_step"] for e in events]
    assert len(starts) == len(set(starts))


def test_sweep_summary_prints_the_numbers_page(tmp_path, capsys):
    args = ["sweep", "--summary", "--no-html", "--format", "json", "--out", str(tmp_path), "--reference", "grpo"]
    for arm in dict.fromkeys(_arm_seed(log)[0] for log in LOGS):
        args += ["--arm", f"{arm}={SHIPPED}/{arm}/seed*/metrics.jsonl.gz"]
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out)["arms"]
    page = (ROOT / "docs" / "seal-question-numbers.md").read_text(encoding="utf-8")
    for row in rows:
        cells = " | ".join([row["arm"], str(row["n"]), *(format_cell(row[key]) for key, _ in RUN_VALUES)])
        assert f"| {cells} |" in page, cells

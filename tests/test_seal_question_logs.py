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
SPEC = ROOT / "configs" / "seal_question" / "sweep.yaml"
PLAN = load_plan(SPEC)
LOGS = sorted(SHIPPED.glob("*/seed*/metrics.jsonl.gz"))
STEPS = 150


def _arm_seed(log: Path) -> tuple[str, int]:
    return log.parent.parent.name, int(log.parent.name.removeprefix("seed"))


def _lookup(config: dict, dotted: str):
    for key in dotted.split("."):
        config = config[key]
    return config


def test_logs_are_shipped_for_every_run_of_the_spec():
    arms = {a.name for a in PLAN.arms}
    assert {_arm_seed(log)[0] for log in LOGS} == arms
    assert all(seed in PLAN.seeds for _, seed in map(_arm_seed, LOGS))
    assert len(LOGS) == len(PLAN.arms) * len(PLAN.seeds)  # the whole sweep: every arm x every seed


@pytest.mark.parametrize("log", LOGS, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_each_log_is_its_run_whole_and_live_agrees_with_offline(log, capsys):
    arm, seed = _arm_seed(log)
    (run,) = read_runs(log)
    assert run.name == f"{arm}_seed{seed}" and run.config["seed"] == seed
    assert list(run.metrics.index) == list(range(1, STEPS + 1))
    spec = next(a for a in PLAN.arms if a.name == arm)
    for item in (*PLAN.common, *spec.overrides):
        key, _, value = item.partition("=")
        if key not in ("wandb", "checkpoint_every", "samples_every"):  # init_from: the one SFT start of every run
            assert _lookup(run.config, key) == yaml.safe_load(value), (arm, key)
    assert main(["watch", str(log), "--replay", "--format", "json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    live = [e["start_step"] for e in events if e["phase"] == "eruption"]
    assert live == [c.eruption_start_step for c in analyze_run(run).cycles]
    starts = [e["start_step"] for e in events]
    assert len(starts) == len(set(starts))


def test_sweep_summary_on_the_shipped_logs_prints_the_readme_table_and_the_numbers_page(tmp_path, capsys):
    # the command the README and the numbers page give, on the shipped logs
    assert main(["sweep", str(SPEC), "--summary", "--logs", str(SHIPPED), "--reference", "grpo", "--no-html",
                 "--format", "json", "--out", str(tmp_path)]) == 0
    payload = json.loads(capsys.readouterr().out)
    rows = payload["arms"]
    assert sum(row["n"] for row in rows) == len(LOGS)
    page = (ROOT / "docs" / "seal-question-numbers.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for row in rows:
        cells = " | ".join([row["arm"], str(row["n"]), *(format_cell(row[key]) for key, _ in RUN_VALUES)])
        assert f"| {cells} |" in page, cells
        p = row["tests"].get("collapse_fisher_p")
        readme_cells = " | ".join([f"`{row['arm']}`", str(row["n"]), format_cell(row["final_success"]),
                                   f"{row['collapsed']}/{row['collapse_n']}", format_cell(row["eruptions"]),
                                   "—" if p is None else f"{p:.2g}"])
        assert f"| {readme_cells} |" in readme, readme_cells
    for question in payload["comparisons"]:  # every question of the spec, with both arms' collapse counts
        (hit_a, n_a), (hit_c, n_c) = question["collapsed"][question["arm"]], question["collapsed"][question["control"]]
        assert f"| {question['name']} | {question['arm']} vs {question['control']} | {hit_a}/{n_a} vs {hit_c}/{n_c} |" \
            in page, question["name"]


def test_summary_of_shipped_logs_needs_a_spec_and_an_existing_folder(tmp_path, capsys):
    assert main(["sweep", "--summary", "--logs", str(SHIPPED), "--out", str(tmp_path)]) == 2
    assert "--logs only works with --summary and a sweep spec" in capsys.readouterr().err
    assert main(["sweep", str(SPEC), "--summary", "--logs", str(tmp_path / "none")]) == 2
    assert "no such folder" in capsys.readouterr().err

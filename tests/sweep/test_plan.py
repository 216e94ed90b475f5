"""Sweep plans: arms x seeds, grids, run folders and overrides; bad specs are one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.sweep import grid_arms, load_plan, parse_seeds, plan_from_dict


def test_seeds_accept_lists_ranges_and_commas():
    assert parse_seeds([3, 1]) == [3, 1]
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("0,2,4") == [0, 2, 4]
    assert parse_seeds(7) == [7]
    for bad in ("3-1", "a-b", [1.5], True):
        with pytest.raises(ConfigError, match="seeds"):
            parse_seeds(bad)


def test_grid_is_configs_times_every_combination_of_values():
    arms = grid_arms(["configs/a.yaml", None], {"seal.coef": [0, 0.02], "credit": ["trajectory", "turn"]})
    assert len(arms) == 8
    assert arms[0].name == "a,seal.coef=0,credit=trajectory" and arms[0].config == "configs/a.yaml"
    assert arms[3].overrides == ("seal.coef=0.02", "credit=turn")
    assert arms[4].name.startswith("defaults,") and arms[4].config is None


def test_runs_are_seed_major_with_their_own_folder_seed_and_one_thread(tmp_path):
    plan = plan_from_dict({"output_dir": str(tmp_path), "seeds": "0-1", "set": ["steps=5"],
                           "arms": {"grpo": None, "seal": {"set": ["seal.coef=0.02"]}}})
    runs = plan.runs()
    assert [(r.arm, r.seed) for r in runs] == [("grpo", 0), ("seal", 0), ("grpo", 1), ("seal", 1)]
    seal1 = runs[3]
    assert seal1.output_dir == tmp_path / "seal" / "seed1"
    assert seal1.overrides[:2] == ("steps=5", "seal.coef=0.02")
    assert {"seed=1", f"output_dir={tmp_path / 'seal' / 'seed1'}", "torch_threads=1"} <= set(seal1.overrides)
    assert seal1.train_args(resume=True)[-1] == "--resume" and seal1.train_args(resume=False)[0] == "train"


@pytest.mark.parametrize(("spec", "message"), [
    ({"seeds": [0], "arms": {"a": None}}, "output_dir"),
    ({"output_dir": "x", "arms": {}}, "at least one arm"),
    ({"output_dir": "x", "arms": {"a": {"lr": 1}}}, "config` and `set"),
    ({"output_dir": "x", "arms": {"a b": None}}, "arm name"),
    ({"output_dir": "x", "arms": {"a": {"set": ["lr"]}}}, "key=value"),
    ({"output_dir": "x", "arms": {"a": None}, "parallel": 0}, "parallel"),
    ({"output_dir": "x", "arms": {"a": None}, "typo": 1}, "unknown key"),
    ({"output_dir": "x", "grid": {"set": {"lr": []}}}, "non-empty list"),
    ({"output_dir": "x", "arms": {"a": None}, "comparisons": {"q": ["a"]}}, r"\[arm, control\]"),
    ({"output_dir": "x", "arms": {"a": None}, "comparisons": ["a", "b"]}, r"\[arm, control\]"),
    ({"output_dir": "x", "arms": {"a": None}, "comparisons": {"q": ["a", "ppo"]}}, "no arm named 'ppo'"),
    ({"output_dir": "x", "arms": {"a": None}, "comparisons": {"q": ["a", "a"]}}, "compared with itself"),
])
def test_bad_specs_are_config_errors(spec, message):
    with pytest.raises(ConfigError, match=message):
        plan_from_dict(spec)


def test_load_plan_reads_yaml_and_reports_unreadable_files(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("output_dir: out\nseeds: 0-2\narms:\n  grpo: {config: c.yaml}\n")
    plan = load_plan(path)
    assert plan.seeds == [0, 1, 2] and plan.arms[0].config == "c.yaml" and plan.output_dir == Path("out")
    with pytest.raises(ConfigError, match="cannot read"):
        load_plan(tmp_path / "missing.yaml")
    path.write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_plan(path)


def test_comparisons_are_read_and_change_no_run(tmp_path):
    spec = {"output_dir": str(tmp_path), "arms": {"grpo": None, "seal": {"set": ["seal.coef=0.02"]}}}
    plain = plan_from_dict(spec)
    asked = plan_from_dict({**spec, "comparisons": {"SEAL vs GRPO": ["seal", "grpo"]}})
    assert asked.comparisons == (("SEAL vs GRPO", "seal", "grpo"),) and plain.comparisons == ()
    assert asked.to_dict() == plain.to_dict() and asked.runs() == plain.runs()  # a running sweep accepts it

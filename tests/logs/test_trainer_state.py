import json

import pytest

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs import detect_format, read_runs
from tests.logs.log_writers import write_trainer_state

HISTORY = [
    {
        "step": 1,
        "epoch": 0.1,
        "loss": 0.5,
        "reward": 0.2,
        "entropy": 0.9,
        "completions/mean_length": 40.0,
        "learning_rate": 1e-6,
    },
    {"step": 1, "epoch": 0.1, "eval_loss": 0.7},
    {"step": 2, "epoch": 0.2, "loss": 0.4, "reward": 0.3, "entropy": 0.8, "kl": None},
    {"step": 3, "epoch": 0.3, "loss": 0.3, "reward": 0.35, "entropy": 0.7},
    {"step": 3, "train_runtime": 12.5, "train_loss": 0.4, "total_flos": 0.0},
]


def test_trl_trainer_state_with_checkpoints_and_config(tmp_path):
    out = tmp_path / "grpo-out"
    write_trainer_state(out / "checkpoint-2", HISTORY[:3])
    write_trainer_state(out / "checkpoint-3", HISTORY)
    (out / "checkpoint-3" / "config.json").write_text(json.dumps({"model_type": "qwen2", "hidden_size": 64}))
    assert detect_format(out) == "trainer-state"
    run = read_runs(out)[0]
    assert run.name == "grpo-out" and run.reader == "trainer-state"
    assert run.source.endswith("checkpoint-3/trainer_state.json")
    assert run.series("policy/entropy").to_dict() == {1: 0.9, 2: 0.8, 3: 0.7}
    assert run.series("reward/mean").to_dict() == {1: 0.2, 2: 0.3, 3: 0.35}
    assert run.series("response/mean_length").to_dict() == {1: 40.0}
    assert run.series("eval_loss").to_dict() == {1: 0.7}  # eval entry merged into its step
    assert "epoch" not in run.metrics.columns and "train_runtime" not in run.metrics.columns
    assert run.metadata["summary"]["train_runtime"] == 12.5
    assert run.config["model_config"]["model_type"] == "qwen2" and run.config["max_steps"] == 3
    assert run.stats.duplicate_steps == 0 and run.stats.non_finite == 1  # kl: null


def test_a_step_going_back_is_warned_once_leniently(tmp_path):
    path = write_trainer_state(tmp_path / "a", [{"step": 5, "loss": 1.0}, {"step": 2, "loss": 2.0},
                                                {"step": 1, "loss": 3.0}])
    run = read_runs(path)[0]
    assert run.series("loss/total").to_dict() == {1: 3.0, 2: 2.0, 5: 1.0}
    assert run.stats.backwards_steps == 2
    assert [w for w in run.stats.warnings if "goes back" in w] == [
        f"{path}: log_history entry of step 2: step 2 goes back from 5; later values win"]


def test_strict_and_bad_files(tmp_path):
    path = write_trainer_state(tmp_path / "a", HISTORY)
    with pytest.raises(
        LogReadError, match=r"trainer_state\.json: log_history entry of step 2: non-finite value \(None\) for 'kl'"
    ):
        read_runs(path, strict=True)
    bad = tmp_path / "b" / "trainer_state.json"
    bad.parent.mkdir()
    bad.write_text('{"log_history": [\n{"step": 1,, }]}')
    with pytest.raises(LogReadError, match=r"trainer_state\.json:2: invalid JSON"):
        read_runs(bad)
    other = tmp_path / "c" / "trainer_state.json"
    other.parent.mkdir()
    other.write_text('{"global_step": 3}')
    with pytest.raises(LogReadError, match="no 'log_history' list"):
        read_runs(other)


def test_a_state_cut_short_while_being_written_keeps_its_complete_entries(tmp_path):
    history = [{"step": s, "loss": 1.0 / s, "entropy": 0.5} for s in range(1, 11)]
    text = json.dumps({"global_step": 10, "log_history": history}, indent=2, sort_keys=True)
    path = tmp_path / "out" / "trainer_state.json"
    path.parent.mkdir()
    path.write_text(text[: text.index('"step": 7')])  # the Trainer died while writing entry 7
    run = read_runs(path)[0]
    assert run.steps.tolist() == [1, 2, 3, 4, 5, 6]
    assert run.stats.warnings == [f"{path}: not complete JSON (cut short while being written?): the 6 complete "
                                  "log_history entries before the cut are read, the rest is lost"]
    with pytest.raises(LogReadError, match="invalid JSON"):
        read_runs(path, strict=True)

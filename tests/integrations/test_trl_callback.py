"""The TRL adapter: a real tiny GRPOTrainer run writes our log; scripted logs drive the live detector."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, TrainerControl, TrainerState, TrainingArguments

from entropy_dynamics.analysis import OnlineDetector
from entropy_dynamics.errors import ConfigError
from entropy_dynamics.integrations.trl_callback import EntropyDynamicsCallback, as_number, trl_to_canonical
from entropy_dynamics.logs import read_runs
from tests.tiny_llama import tiny_llama

WORDS = ["[PAD]", "[EOS]", "[UNK]", "you", "are", "in", "a", "kitchen", "hall", "garden", "exits", "north",
         "south", "east", "west", "take", "open", "go", "key", "door", "knife", "apple", "eat",
         "actions", ":", ">"]
ACTIONS = ("go north", "take key", "open door", "eat apple")


def _tiny_model_dir(folder: Path) -> Path:
    """A random 2-layer Llama and a word-level tokenizer, built in code and saved like a hub model."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.decoder = decoders.WordPiece()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="[PAD]", eos_token="[EOS]",
                                        unk_token="[UNK]")
    tiny_llama(vocab_size=len(WORDS), hidden_size=32, intermediate_size=64, pad_token_id=0, bos_token_id=1,
               eos_token_id=1).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _admissible_reward(completions: list[str], **_: object) -> list[float]:
    return [float(any(action in text for action in ACTIONS)) for text in completions]


def test_real_grpo_trainer_run_writes_our_log(tmp_path: Path) -> None:
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    model_dir = _tiny_model_dir(tmp_path / "model")
    prompts = [f"you are in a {room} exits north actions : go north take key >"
               for room in ("kitchen", "hall", "garden", "kitchen")]
    args = GRPOConfig(output_dir=str(tmp_path / "out"), per_device_train_batch_size=4, num_generations=4,
                      max_completion_length=6, max_steps=4, logging_steps=1, report_to=[], use_cpu=True,
                      save_strategy="no", disable_tqdm=True, learning_rate=1e-3, seed=0)
    printed: list[str] = []
    callback = EntropyDynamicsCallback(tmp_path / "log", run_name="trl-tiny", echo=printed.append)
    trainer = GRPOTrainer(model=str(model_dir), reward_funcs=_admissible_reward, args=args,
                          train_dataset=Dataset.from_dict({"prompt": prompts}),
                          processing_class=AutoTokenizer.from_pretrained(model_dir), callbacks=[callback])
    trainer.train()

    assert callback.errors == 0
    trl_logs = {row["step"]: row for row in trainer.state.log_history if "entropy" in row}
    assert sorted(trl_logs) == [1, 2, 3, 4]

    (run,) = read_runs(tmp_path / "log" / "metrics.jsonl")
    assert run.name == "trl-tiny" and run.reader == "jsonl"
    assert run.config["num_generations"] == 4 and run.config["model"] == str(model_dir)
    assert run.metadata["versions"]["trl"] and run.metadata["versions"]["transformers"]
    assert list(run.steps) == [1, 2, 3, 4]
    canonical = ["policy/entropy", "reward/mean", "reward/std", "reward/frac_zero_std_groups",
                 "policy/clip_frac", "optim/grad_norm", "optim/lr", "loss/total", "response/mean_length",
                 "perf/step_s", "perf/tokens_per_s"]
    for name in canonical:
        assert run.metrics[name].notna().all(), name
    for step, row in trl_logs.items():
        assert math.isclose(run.metrics.at[step, "policy/entropy"], row["entropy"], rel_tol=1e-9)
        assert math.isclose(run.metrics.at[step, "reward/mean"], row["reward"], rel_tol=1e-9)
    # TRL's own unmapped names stay under their names.
    assert run.metrics["rewards/_admissible_reward/mean"].notna().all()
    assert any(e["event"] == "train_summary" and "train_runtime" in e["metrics"] for e in run.events)


def _driver(tmp_path: Path) -> tuple[TrainingArguments, TrainerState, TrainerControl]:
    args = TrainingArguments(output_dir=str(tmp_path / "out"), report_to=[], use_cpu=True)
    return args, TrainerState(), TrainerControl()


def _erupting_entropy(n_descent: int = 80, n_rise: int = 10, n_after: int = 40) -> np.ndarray:
    """Entropy that descends slowly, erupts (x5 in 10 steps: 81..90), then subsides; a little noise."""
    rng = np.random.default_rng(1)
    descent = np.linspace(0.6, 0.2, n_descent)
    rise = np.linspace(0.3, 1.0, n_rise)
    after = np.linspace(1.0, 0.6, n_after)
    return np.concatenate([descent, rise, after]) + rng.normal(0.0, 0.005, n_descent + n_rise + n_after)


def _feed(callback: EntropyDynamicsCallback, args: TrainingArguments, state: TrainerState,
          control: TrainerControl, values: np.ndarray, first_step: int = 1) -> list[int]:
    """Send one TRL-style log per step; returns the steps at which the trainer was told to stop."""
    stops = []
    for offset, value in enumerate(values):
        state.global_step = first_step + offset
        logs = {"entropy": float(value), "reward": 0.5, "loss": 0.1, "epoch": 0.01 * state.global_step}
        callback.on_log(args, state, control, logs=logs)
        if control.should_training_stop:
            stops.append(state.global_step)
            control.should_training_stop = False
    return stops


def test_scripted_eruption_writes_a_phase_event_and_stops(tmp_path: Path) -> None:
    args, state, control = _driver(tmp_path)
    printed: list[str] = []
    callback = EntropyDynamicsCallback(tmp_path / "run.jsonl", run_name="scripted", on_eruption="stop",
                                       echo=printed.append)
    callback.on_train_begin(args, state, control)
    values = _erupting_entropy()
    stops = _feed(callback, args, state, control, values)
    callback.on_train_end(args, state, control)

    assert callback.errors == 0
    (run,) = read_runs(tmp_path / "run.jsonl")
    phases = [e for e in run.events if e["event"] == "phase"]
    eruptions = [e for e in phases if e["phase"] == "eruption"]
    assert eruptions, phases
    first = eruptions[0]
    # The eruption starts where the scripted rise does (steps 81..90) and is confirmed while it rises.
    assert 78 <= first["start_step"] <= 90
    assert first["start_step"] <= first["confirmed_at_step"] == first["step"] <= 95
    assert first["metric"] == "policy/entropy"
    assert stops and stops[0] == first["confirmed_at_step"]
    assert any(e["event"] == "stop" and e["reason"] == "eruption" for e in run.events)
    assert any("eruption" in line for line in printed)
    assert list(run.steps) == list(range(1, len(values) + 1))


@pytest.mark.parametrize("reaction", ["checkpoint", "save"])  # "save": the name before 2026-12-06
def test_checkpoint_reaction_requests_a_checkpoint_and_logs_it(tmp_path: Path, reaction: str) -> None:
    args, state, control = _driver(tmp_path)
    callback = EntropyDynamicsCallback(tmp_path / "run.jsonl", on_eruption=reaction, echo=None)
    callback.on_train_begin(args, state, control)
    saved_at = []
    for offset, value in enumerate(_erupting_entropy()):
        state.global_step = offset + 1
        callback.on_log(args, state, control, logs={"entropy": float(value)})
        if control.should_save:  # what the Trainer does right after on_log
            saved_at.append(state.global_step)
            callback.on_save(args, state, control)
            control.should_save = False
    callback.close()
    (run,) = read_runs(tmp_path / "run.jsonl")
    eruption_steps = [e["confirmed_at_step"] for e in run.events if e["event"] == "phase"
                      and e["phase"] == "eruption"]
    assert saved_at and saved_at == eruption_steps
    checkpoints = [e for e in run.events if e["event"] == "checkpoint"]
    assert [e["step"] for e in checkpoints] == saved_at
    assert checkpoints[0]["reason"] == "eruption"
    assert checkpoints[0]["path"].endswith(f"checkpoint-{saved_at[0]}")


def test_conversion_keeps_numbers_only_and_maps_trl_names() -> None:
    logs = {"entropy": 0.5, "reward": torch.tensor(0.25), "reward_std": np.float32(0.1), "kl": float("nan"),
            "clip_ratio/region_mean": 0.0, "clip_ratio/low_mean": 0.0, "step_time": 2.0, "grad_norm": 3,
            "learning_rate": 1e-4, "completions/mean_length": 7.0, "custom/thing": 1.5, "flag": True,
            "note": "text", "nothing": None, "vector": [1.0, 2.0]}
    out = trl_to_canonical(logs)
    assert out["policy/entropy"] == 0.5 and out["reward/mean"] == 0.25
    assert math.isclose(out["reward/std"], 0.1, rel_tol=1e-6)
    assert math.isnan(out["policy/kl_ref"])
    assert out["policy/clip_frac"] == 0.0 and out["clip_ratio/low_mean"] == 0.0
    assert out["perf/step_s"] == 2.0 and out["optim/grad_norm"] == 3.0 and out["optim/lr"] == 1e-4
    assert out["response/mean_length"] == 7.0 and out["custom/thing"] == 1.5
    assert not {"flag", "note", "nothing", "vector"} & set(out)
    assert as_number(torch.ones(2)) is None and as_number(np.array([4.0])) == 4.0


def test_same_step_and_eval_logs_become_events_and_steps_stay_increasing(tmp_path: Path) -> None:
    args, state, control = _driver(tmp_path)
    callback = EntropyDynamicsCallback(tmp_path / "run.jsonl", detect=False)
    callback.on_train_begin(args, state, control)
    for step, logs in [(1, {"entropy": 0.5}), (1, {"custom": 2.0}), (2, {"eval_loss": 0.3}),
                       (2, {"entropy": 0.4}), (2, {"train_runtime": 9.0, "train_loss": 0.2})]:
        state.global_step = step
        callback.on_log(args, state, control, logs=logs)
    callback.close()
    records = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["type"] == "metrics"] == [1, 2]
    events = {r["event"]: r for r in records if r["type"] == "event"}
    assert events["extra_metrics"]["metrics"] == {"custom": 2.0}
    assert events["eval"]["metrics"] == {"eval_loss": 0.3}
    assert events["train_summary"]["metrics"] == {"train_runtime": 9.0, "train_loss": 0.2}


def test_resume_truncates_the_log_and_continues_it(tmp_path: Path) -> None:
    args, state, control = _driver(tmp_path)
    values = _erupting_entropy()
    first = EntropyDynamicsCallback(tmp_path / "run.jsonl", echo=None)
    first.on_train_begin(args, state, control)
    _feed(first, args, state, control, values[:50])
    first.on_train_end(args, state, control)

    state = TrainerState(global_step=40)  # resumed from the checkpoint at step 40
    second = EntropyDynamicsCallback(tmp_path / "run.jsonl", echo=None, on_eruption="stop")
    second.on_train_begin(args, state, control)
    fresh = OnlineDetector()
    for step, value in enumerate(values[:40], start=1):
        fresh.update(step, float(value))
    # replayed from the log up to step 40, not started afresh: the same state as an uninterrupted detector
    assert second.current_phase == fresh.current_phase is not None
    stops = _feed(second, args, state, control, values[40:], first_step=41)
    second.on_train_end(args, state, control)

    assert first.errors == second.errors == 0
    (run,) = read_runs(tmp_path / "run.jsonl", strict=True)
    assert list(run.steps) == list(range(1, len(values) + 1))
    assert run.metadata["resumed_from_step"] == [40]
    phases = [(e["phase"], e["start_step"]) for e in run.events if e["event"] == "phase"]
    assert len(phases) == len(set(phases))  # events of the first session kept, not found again
    # The resumed detector kept what it had seen, so it still recognises the eruption.
    assert stops and 81 <= stops[0] <= 95


def test_errors_never_reach_training_and_warn_once(tmp_path: Path) -> None:
    args, state, control = _driver(tmp_path)
    (tmp_path / "taken.jsonl").mkdir()  # the log path is a folder: every write fails
    callback = EntropyDynamicsCallback(tmp_path / "taken.jsonl", detect=False)
    with pytest.warns(RuntimeWarning, match="entropy-dynamics callback failed in on_train_begin"):
        callback.on_train_begin(args, state, control)
    state.global_step = 1
    with warnings.catch_warnings(record=True) as later:
        warnings.simplefilter("always")
        assert callback.on_log(args, state, control, logs={"entropy": 0.3}) is control
    assert callback.errors == 2
    assert not [w for w in later if "entropy-dynamics" in str(w.message)]


def test_bad_settings_are_one_line_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown reaction 'explode'; choose from checkpoint, samples"):
        EntropyDynamicsCallback("x", on_eruption="explode")
    with pytest.raises(ConfigError, match="'raise_seal' is not available here; choose from checkpoint, stop"):
        EntropyDynamicsCallback("x", on_eruption=["stop", "raise_seal"])
    assert EntropyDynamicsCallback("x", on_eruption="none").on_eruption == ()
    assert EntropyDynamicsCallback("x", on_eruption=["save", "stop"]).on_eruption == ("checkpoint", "stop")
    with pytest.raises(ConfigError, match="metric"):
        EntropyDynamicsCallback("x", metric="")

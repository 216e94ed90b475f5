"""Instruments: every documented metric key is written every step it is due, from a real tiny run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from entropy_dynamics.envs.reply import parse_reply
from entropy_dynamics.logs import read_runs
from entropy_dynamics.train.algorithms.credit import Credit
from entropy_dynamics.train.config_io import load_config
from entropy_dynamics.train.rollout.play import EpisodeOutcome, RolloutBatch, TurnSample
from entropy_dynamics.train.run.instruments import (
    INTERFERENCE_KEYS,
    REPR_KEYS,
    SEAL_HEAD_KEYS,
    SEAL_INTERFERENCE_KEYS,
    SEAL_STEP_KEYS,
    TEXT_KEYS,
    Instruments,
    interference_and_separation,
    measured_subset,
    text_metrics,
)
from entropy_dynamics.train.run.loop import train

#: A tiny Llama on two cached cooking games: ~0.2 s per step on one thread.
TINY = ["games_per_step=1", "group_size=3", "max_turns=2", "max_new_tokens=6", "game_pool_size=2",
        "tiny.corpus_games=2", "tiny.hidden_size=32", "tiny.num_layers=1", "tiny.num_heads=2",
        "tiny.intermediate_size=64", "tiny.vocab_size=300", "checkpoint_every=0", "samples_every=0"]

#: Canonical keys (docs/log-format.md) the loop writes every step of a GRPO + SEAL run.
LOOP_KEYS = (
    "policy/entropy", "policy/entropy/pos", "policy/entropy/neg", "policy/entropy/turn_0", "policy/entropy/p50",
    "policy/entropy/p90", "policy/cov_logp_adv", "policy/cov_neg_frac", "policy/clip_frac", "policy/approx_kl",
    "reward/mean", "reward/std", "reward/frac_zero_std_groups", "env/success_rate", "env/episode_len",
    "env/valid_action_ratio", "loss/pg", "loss/seal", "loss/total", "optim/grad_norm", "optim/lr",
    "perf/rollout_s", "perf/update_s", "perf/step_s", "perf/tokens_per_s", "perf/peak_mem_mb",
)


def tiny_config(out: Path, *extra: str):
    return load_config(None, [*TINY, f"output_dir={out}", *extra])


def metric_records(log: Path) -> dict[int, dict]:
    lines = (json.loads(line) for line in log.read_text().splitlines())
    return {rec["step"]: rec["metrics"] for rec in lines if rec["type"] == "metrics"}


@pytest.fixture(scope="module")
def seal_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("instruments") / "run"
    cfg = tiny_config(out, "steps=3", "seal.coef=0.02")
    state = train(cfg, callbacks=[Instruments(every=2, max_samples=4)])
    return cfg, state, out / "metrics.jsonl"


def test_every_documented_key_is_written_every_step_it_is_due(seal_run):
    _, _, log = seal_run
    records = metric_records(log)
    assert sorted(records) == [1, 2, 3]
    every_step = set(LOOP_KEYS) | set(TEXT_KEYS) | set(SEAL_HEAD_KEYS) | set(SEAL_STEP_KEYS) | {"perf/diagnostics_s"}
    measured = (set(INTERFERENCE_KEYS) | set(SEAL_INTERFERENCE_KEYS) | set(REPR_KEYS)) - set(SEAL_STEP_KEYS)
    for step, metrics in records.items():
        assert every_step <= set(metrics), (step, every_step - set(metrics))
        if step in (1, 3):  # every=2: steps 1, 3, 5, ...
            assert measured <= set(metrics), (step, measured - set(metrics))
        else:
            assert not measured & set(metrics)
        assert metrics["perf/diagnostics_s"] > 0
        assert 0.0 <= metrics["halluc/rate"] <= 1.0
    run = read_runs(log, format="jsonl")[0]
    assert {"degen/rep5_ratio", "halluc/format_error_rate", "interference/grad_norm_pg"} <= set(run.metrics.columns)
    assert run.series("perf/diagnostics_s").notna().all()


def test_seal_every_spaces_the_seal_gradient_measurement_and_keeps_the_label_shares(tmp_path):
    inst = Instruments(every=4, max_samples=4, seal_every=0)
    assert [s for s in range(1, 10) if inst.seal_due(s)] == [1, 5, 9]  # only with the interference
    assert [s for s in range(1, 10) if Instruments(every=4, seal_every=3).seal_due(s)] == [1, 4, 5, 7, 9]
    with pytest.raises(ValueError, match="seal_every"):
        Instruments(seal_every=-1)
    cfg = tiny_config(tmp_path / "run", "steps=3", "seal.coef=0.02", "instruments.every=2",
                      "instruments.max_samples=4", "instruments.seal_every=0")
    train(cfg)
    records = metric_records(tmp_path / "run" / "metrics.jsonl")
    for step, metrics in records.items():
        assert "seal/label_all_fail_share" in metrics
        assert ("seal/grad_ratio" in metrics) == (step in (1, 3)), step


def test_interference_and_separation_with_both_advantage_signs(seal_run):
    cfg, state, _ = seal_run
    batch = state.last_rollout
    signs = torch.tensor([1.0 if i % 2 else -1.0 for i in range(len(batch.samples))])
    advantages = [torch.full((len(s.response_ids),), float(a)) for s, a in zip(batch.samples, signs, strict=True)]
    credit = Credit(advantages, advantages, None, signs)
    before = [p.detach().clone() for p in state.policy.parameters()]
    state.policy.train()
    metrics = interference_and_separation(state.policy, batch, credit, cfg, state.tokenizer.pad_token_id,
                                          max_samples=4)
    assert metrics["repr/n_pos"] == 2 and metrics["repr/n_neg"] == 2
    for key in (*INTERFERENCE_KEYS, *SEAL_INTERFERENCE_KEYS, "repr/inter_cos", "repr/sep_ratio"):
        assert math.isfinite(metrics[key]), key
    assert -1.0 <= metrics["interference/grad_cos_pos_neg"] <= 1.0
    assert metrics["interference/grad_norm_pos"] > 0 and metrics["interference/grad_norm_seal"] > 0
    # measuring never trains: weights and .grad untouched, the training mode restored
    assert all(torch.equal(a, b) for a, b in zip(before, state.policy.parameters(), strict=True))
    assert all(p.grad is None for p in state.policy.parameters())
    assert state.policy.training


def test_one_advantage_sign_gives_nan_not_an_error(seal_run):
    cfg, state, _ = seal_run
    batch = state.last_rollout
    ones = torch.ones(len(batch.samples))
    advantages = [torch.ones(len(s.response_ids)) for s in batch.samples]
    metrics = interference_and_separation(state.policy, batch, Credit(advantages, advantages, None, ones), cfg,
                                          state.tokenizer.pad_token_id, max_samples=4)
    assert math.isnan(metrics["interference/grad_cos_pos_neg"]) and math.isnan(metrics["repr/sep_ratio"])
    assert metrics["interference/grad_norm_pg"] > 0


def test_measured_subset_is_balanced_and_bounded():
    adv = torch.tensor([1.0, 1.0, 1.0, 1.0, 1.0, -1.0, 0.0, 0.0, -1.0, 1.0])
    lengths = [3] * 10
    subset = measured_subset(adv, lengths, 4)
    assert len(subset) == 4 and sum(adv[subset] < 0) == 2 and sum(adv[subset] > 0) == 2
    # one negative only: the positives take its room before zero-advantage samples do
    subset = measured_subset(torch.tensor([1.0, 1.0, 1.0, -1.0, 0.0]), [3] * 5, 4)
    assert subset == [0, 1, 2, 3]
    # empty replies are never measured
    assert measured_subset(torch.tensor([1.0, -1.0]), [0, 0], 4) == []


def _sample(episode: int, turn: int, observation: str, reply: str, action: str, valid: bool) -> TurnSample:
    empty = torch.zeros(0)
    return TurnSample(episode=episode, group=0, turn=turn, prompt_ids=[1], response_ids=torch.tensor([5]),
                      old_logp=empty, entropy=empty, reward=0.0, valid=valid, format_ok=parse_reply(reply).format_ok,
                      truncated=False, observation=observation, response_text=reply, action=action)


def test_text_metrics_of_a_looping_hallucinating_episode():
    reply = "<think>I should go north now.</think><action>go north</action>"
    unicorn = "<think>A unicorn would help.</think><action>take the golden unicorn</action>"
    samples = [
        _sample(0, 0, "-= Kitchen =- There is a door to the north.", reply, "go north", True),
        _sample(0, 1, "-= Kitchen =- There is a door to the north.", reply, "go north", True),
        _sample(0, 2, "You can't go that way.", reply + " -= Kitchen =-", "go north", False),
        _sample(1, 0, "-= Pantry =- You see a shelf.", unicorn, "take the golden unicorn", False),
    ]
    batch = RolloutBatch(samples, [EpisodeOutcome(0, 0, 0), EpisodeOutcome(1, 0, 0)])
    metrics = text_metrics(batch, markers=["-= Kitchen =-"])
    assert set(TEXT_KEYS) <= set(metrics)
    assert metrics["degen/repeat_action_rate"] == pytest.approx((3 / 3 + 0.0) / 2)  # episode 0 loops, 1 does not
    assert metrics["degen/cross_turn_dup_rate"] == pytest.approx((2 / 2 + 0.0) / 2)
    assert metrics["halluc/fake_observation_rate"] == pytest.approx(1 / 4)  # the marker written by the model
    assert metrics["halluc/invalid_action_rate"] == pytest.approx(2 / 4)
    assert metrics["halluc/format_error_rate"] == pytest.approx(1 / 4)  # text after </action>
    assert metrics["halluc/ungrounded_entity_rate"] == pytest.approx(1 / 4)  # nobody showed a unicorn
    assert metrics["halluc/rate"] == pytest.approx(2 / 4)


def _doc_example(name: str) -> type:
    """The class ``name`` from the copy-paste example in docs/instruments.md, executed as written."""
    text = (Path(__file__).resolve().parents[3] / "docs" / "instruments.md").read_text()
    block = next(b.split("\n", 1)[1] for b in text.split("```")[1::2] if f"class {name}(" in b)
    namespace: dict = {}
    exec(compile(block, "docs/instruments.md", "exec"), namespace)
    return namespace[name]


@pytest.mark.parametrize("limit", [100.0, 0.1])
def test_the_documented_callback_example_logs_its_metric_and_reacts(tmp_path, limit):
    longest_reply = _doc_example("LongestReply")
    out = tmp_path / "run"
    train(tiny_config(out, "steps=2", "max_turns=1", "group_size=2"), callbacks=[longest_reply(max_entropy=limit)])
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    metrics = [rec for rec in lines if rec["type"] == "metrics"]
    assert all(1 <= rec["metrics"]["custom/max_reply_tokens"] <= 6 for rec in metrics)
    stopped = [rec for rec in lines if rec["type"] == "event" and rec["event"] == "entropy_limit"]
    if limit > 50:  # never reached: both steps run
        assert len(metrics) == 2 and not stopped
    else:  # the untrained model's entropy is far above 0.1: transcripts, event and stop at step 1
        assert len(metrics) == 1 and stopped[0]["step"] == 1
        assert any(rec["type"] == "samples" and rec["step"] == 1 for rec in lines)

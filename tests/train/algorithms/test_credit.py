"""Credit assignment: `credit: trajectory` (episode advantage on every turn) vs `credit: turn` (verl-agent)."""

from __future__ import annotations

import math

import pytest
import torch

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.train.algorithms.credit import all_fail_samples, assign_credit, first_turns, turn_scores
from entropy_dynamics.train.algorithms.seal import label_shares, seal_labels
from entropy_dynamics.train.config_io import load_config
from entropy_dynamics.train.rollout.play import EpisodeOutcome, RolloutBatch, TurnSample

PENALTY = 0.1


def _batch(episodes: list[tuple[int, bool, list[bool]]]) -> RolloutBatch:
    """``episodes``: (group, won, validity of each turn); the win bonus sits on the last turn's reward."""
    eps, samples = [], []
    for index, (group, won, valid) in enumerate(episodes):
        ret = 0.0
        for turn, ok in enumerate(valid):
            reward = (1.0 if won and turn == len(valid) - 1 else 0.0) - (0.0 if ok else PENALTY)
            ret += reward
            samples.append(TurnSample(
                episode=index, group=group, turn=turn, prompt_ids=[1], response_ids=torch.tensor([5, 6]),
                old_logp=torch.zeros(2), entropy=torch.zeros(2), reward=reward, valid=ok, format_ok=True,
                truncated=False, observation=f"room {turn}", response_text="", action="look"))
        eps.append(EpisodeOutcome(index=index, group=group, seed=group, won=won, turns=len(valid),
                           invalid=sum(not ok for ok in valid), ret=ret, done=True))
    return RolloutBatch(samples, eps)


def _cfg(*extra: str):
    return load_config(None, [f"invalid_action_penalty={PENALTY}", *extra])


# group 0: nobody wins; episode 0 has one invalid turn of two, episode 1 two valid turns.
ALL_FAIL = [(0, False, [True, False]), (0, False, [True, True])]
# group 1: episode 2 wins in 2 turns, episode 3 fails in 3 turns with one invalid one.
MIXED = [(1, True, [True, True]), (1, False, [False, True, True])]


def test_trajectory_credit_gives_every_turn_of_a_bad_episode_the_same_negative_advantage():
    credit = assign_credit(_batch(ALL_FAIL), _cfg("credit=trajectory"))
    adv = credit.sample_adv.tolist()
    # returns -0.1 and 0: every turn of episode 0 gets the same negative advantage, valid ones included
    assert adv[0] == adv[1] < 0 < adv[2] == adv[3]
    labels, valid = seal_labels(torch.tensor(adv))
    assert labels.tolist() == [0.0, 0.0, 1.0, 1.0] and valid.tolist() == [1.0] * 4


def test_turn_credit_labels_valid_turns_1_and_invalid_turns_0_in_an_all_fail_group():
    batch = _batch(ALL_FAIL)
    assert turn_scores(batch, PENALTY).tolist() == pytest.approx([0.0, -0.1, 0.0, 0.0])
    credit = assign_credit(batch, _cfg("credit=turn", "adv_scale=none"))
    # mean over the 4 turn samples -0.025: valid turns +0.025, the invalid one -0.075
    assert credit.sample_adv.tolist() == pytest.approx([0.025, -0.075, 0.025, 0.025])
    labels, _ = seal_labels(credit.sample_adv)
    assert labels.tolist() == [1.0, 0.0, 1.0, 1.0]
    assert all_fail_samples(batch).tolist() == [True] * 4


def test_turn_credit_group_statistics_run_over_turn_samples_with_the_std():
    batch = _batch(MIXED)
    scores = torch.tensor([1.0, 1.0, -0.1, 0.0, 0.0])
    expected = (scores - scores.mean()) / (scores.std() + 1e-6)
    got = assign_credit(batch, _cfg("credit=turn")).sample_adv
    assert got.tolist() == pytest.approx(expected.tolist(), abs=1e-5)
    assert all_fail_samples(batch).tolist() == [False] * 5


def test_per_trajectory_statistics_read_each_trajectory_first_turn():
    batch = _batch(MIXED)
    assert first_turns(batch).tolist() == [True, False, True, False, False]
    scores = torch.tensor([1.0, 1.0, -0.1, 0.0, 0.0])
    firsts = torch.tensor([1.0, -0.1])  # verl-agent's compute_mean_std_cross_steps=False
    got = assign_credit(batch, _cfg("credit=turn", "credit_stats=trajectories")).sample_adv
    expected = (scores - firsts.mean()) / (firsts.std() + 1e-6)
    assert got.tolist() == pytest.approx(expected.tolist(), abs=1e-5)


def test_groups_are_kept_apart_and_an_all_equal_group_gets_zero():
    batch = _batch([(0, False, [True, True]), (0, False, [True]), *MIXED])
    credit = assign_credit(batch, _cfg("credit=turn"))
    assert credit.sample_adv[:3].tolist() == [0.0, 0.0, 0.0]
    alone = assign_credit(_batch(MIXED), _cfg("credit=turn")).sample_adv
    assert credit.sample_adv[3:].tolist() == pytest.approx(alone.tolist())


def test_gigpo_turn_credit_is_the_turn_episode_advantage_plus_the_anchor_step_advantage():
    batch = _batch(MIXED)
    turn = assign_credit(batch, _cfg("credit=turn", "adv_scale=none")).sample_adv
    gigpo = assign_credit(batch, _cfg("credit=turn", "adv_scale=none", "algorithm=gigpo", "gigpo_gamma=1.0"))
    # anchors: "room 0" (samples 0, 2), "room 1" (1, 3), "room 2" (4, singleton -> 0);
    # step returns (gamma 1): episode 2: 1, 1; episode 3: -0.1, 0, 0
    step_adv = torch.tensor([1.0 - 0.45, 1.0 - 0.5, -0.1 - 0.45, 0.0 - 0.5, 0.0])
    assert torch.allclose(gigpo.sample_adv - turn, step_adv, atol=1e-5)


def test_other_group_estimators_run_with_turn_credit_and_ppo_refuses_it():
    batch = _batch(MIXED)
    for algorithm in ("dr_grpo", "rloo", "reinforce_pp"):
        adv = assign_credit(batch, _cfg("credit=turn", f"algorithm={algorithm}")).sample_adv
        assert adv.shape == (5,) and torch.isfinite(adv).all()
    with pytest.raises(ConfigError, match="credit: turn"):
        _cfg("credit=turn", "algorithm=ppo", "group_size=1")
    with pytest.raises(ConfigError, match="credit_stats"):
        _cfg("credit=turn", "algorithm=rloo", "credit_stats=trajectories")


def test_seal_can_ignore_penalty_only_samples_and_reports_where_labels_come_from():
    batch = _batch([*ALL_FAIL, *MIXED])
    cfg = _cfg("credit=turn", "seal.coef=0.02", "seal.penalty_only=ignore")
    credit = assign_credit(batch, cfg)
    targets = torch.cat(credit.seal_target)
    assert torch.isnan(targets[:8]).all() and not torch.isnan(targets[8:]).any()
    _, valid = seal_labels(targets)
    assert valid.tolist() == [0.0] * 8 + [1.0] * 10
    kept = assign_credit(batch, _cfg("credit=turn", "seal.coef=0.02"))
    all_fail = kept.all_fail.repeat_interleave(2)
    shares = label_shares(torch.cat(kept.seal_target), all_fail)
    assert shares["seal/label_all_fail_share"] == pytest.approx(8 / 18)
    assert label_shares(targets, all_fail)["seal/label_all_fail_share"] == 0.0
    assert math.isnan(label_shares(torch.full((3,), math.nan), torch.ones(3, dtype=torch.bool))
                      ["seal/label_pos_share"])


def test_bad_credit_values_are_one_line_config_errors():
    with pytest.raises(ConfigError, match="'credit' must be"):
        _cfg("credit=step")
    with pytest.raises(ConfigError, match="penalty_only"):
        _cfg("seal.penalty_only=drop")


def test_a_training_step_with_turn_credit_logs_seal_label_shares_and_the_gradient_ratio(fast_overrides):
    import json
    from pathlib import Path

    from entropy_dynamics.train.run.loop import train

    def first_metrics(*extra: str) -> dict:
        cfg = load_config(None, [*fast_overrides, "steps=1", "samples_every=0", "credit=turn", "algorithm=gigpo",
                                 "seal.coef=0.02", "instruments.max_samples=4", *extra])
        train(cfg)
        records = (json.loads(line) for line in (Path(cfg.output_dir) / "metrics.jsonl").read_text().splitlines())
        return next(r for r in records if r["type"] == "metrics")["metrics"]

    metrics = first_metrics()
    assert metrics["loss/seal"] > 0 and 0.0 <= metrics["seal/label_all_fail_share"] <= 1.0
    assert metrics["seal/grad_ratio"] > 0 and metrics["interference/grad_norm_seal"] > 0
    detached = first_metrics("seal.detach_backbone=true", "output_dir="
                             + str(Path(fast_overrides[-1].split("=", 1)[1]).with_name("detached")))
    # the backbone gets no SEAL gradient: the ratio on the LM's parameters is exactly 0
    assert detached["loss/seal"] > 0
    assert detached["interference/grad_norm_seal"] == 0.0 and detached["seal/grad_ratio"] == 0.0

"""Multi-turn rollouts on real TextWorld cooking games with the tiny model."""

from __future__ import annotations

import torch

from entropy_dynamics.envs.actions import is_admissible
from entropy_dynamics.envs.registry import make_env
from entropy_dynamics.train.algorithms.credit import assign_credit
from entropy_dynamics.train.algorithms.estimators import anchor_ids
from entropy_dynamics.train.rollout.games import GameSampler, group_layout
from entropy_dynamics.train.rollout.play import all_admissible, play, rollout_metrics
from entropy_dynamics.train.run.loop import rollout_settings
from tests.train.conftest import tiny_model


def play_games(cfg, policy, tok, seeds, groups, **env_settings):
    envs = [make_env(cfg.env, **env_settings) for _ in seeds]
    try:
        return play(policy.lm, tok, envs, seeds, groups, rollout_settings(cfg), torch.Generator().manual_seed(0))
    finally:
        for env in envs:
            env.close()


def test_groups_share_the_game_and_samples_are_per_turn():
    cfg, policy, tok = tiny_model(["max_turns=3", "invalid_action_penalty=0.1", "max_prompt_tokens=4096"])
    seeds, groups = group_layout([0, 1], 2)
    batch = play_games(cfg, policy, tok, seeds, groups)
    assert [e.group for e in batch.episodes] == [0, 0, 1, 1]
    first = {e.index: s.observation for s in batch.samples for e in batch.episodes if s.episode == e.index
             and s.turn == 0}
    assert first[0] == first[1] and first[2] == first[3] and first[0] != first[2]
    for ep in batch.episodes:
        turns = [s.turn for s in batch.samples if s.episode == ep.index]
        assert turns == list(range(ep.turns)) and 1 <= ep.turns <= 3
        # a random model is invalid on (almost) every turn: the return counts the penalties
        rewards = sum(s.reward for s in batch.samples if s.episode == ep.index)
        assert abs(ep.ret - rewards) < 1e-9
    for s in batch.samples:
        assert len(s.response_ids) == len(s.old_logp) == len(s.entropy) >= 1
        assert len(s.prompt_ids) <= cfg.max_prompt_tokens
        decoded = tok.decode(s.prompt_ids)
        assert decoded.endswith("<|im_start|>assistant\n")
        if s.turn == 0:
            assert s.observation[:40] in decoded  # the observation sits in the prompt, never in the reply
    metrics = rollout_metrics(batch)
    assert metrics["env/success_rate"] == 0.0 and 0.0 <= metrics["env/valid_action_ratio"] <= 1.0
    assert metrics["reward/frac_zero_std_groups"] in (0.0, 0.5, 1.0)
    credit = assign_credit(batch, cfg)
    assert len(credit.advantages) == len(batch.samples)
    ids = anchor_ids(batch)
    assert ids[0] == ids[[s.turn == 0 and s.episode == 1 for s in batch.samples].index(True)]


def test_shared_game_states_give_the_same_rollout():
    cfg, policy, tok = tiny_model(["max_turns=3"])
    seeds, groups = group_layout([0, 1], 3)
    own, shared = (play_games(cfg, policy, tok, seeds, groups, share_states=share) for share in (False, True))
    assert own.episodes == shared.episodes
    assert len(own.samples) == len(shared.samples)
    for a, b in zip(own.samples, shared.samples, strict=True):
        assert (a.prompt_ids, a.observation, a.action, a.reward, a.valid, a.admissible) == \
            (b.prompt_ids, b.observation, b.action, b.reward, b.valid, b.admissible)
        assert torch.equal(a.response_ids, b.response_ids) and torch.equal(a.old_logp, b.old_logp)


def test_samples_record_the_turns_full_admissible_set():
    cfg, policy, tok = tiny_model(["max_turns=2"])
    env = make_env(cfg.env)
    try:
        full = env.reset(0).info["all_admissible_actions"]
        batch = play(policy.lm, tok, [env], [0], [0], rollout_settings(cfg), torch.Generator().manual_seed(0))
    finally:
        env.close()
    first = next(s for s in batch.samples if s.turn == 0)
    assert first.admissible == full and len(full) > 0
    for s in batch.samples:  # the env's verdict and the recorded set agree
        assert s.admissible and (not s.valid or is_admissible(s.action, s.admissible))


def test_all_admissible_prefers_the_full_list():
    assert all_admissible({"admissible_actions": ["a"], "all_admissible_actions": ["a", "look"]}) == ["a", "look"]
    assert all_admissible({"admissible_actions": ["a"]}) == ["a"]
    assert all_admissible({}, ["kept"]) == ["kept"]


def test_game_sampler_state_round_trips():
    a = GameSampler(0, 10, 50)
    first = a.draw(4)
    state = a.state_dict()
    nxt = a.draw(4)
    b = GameSampler(123, 10, 50)
    b.load_state_dict(state)
    assert b.draw(4) == nxt
    assert len(set(first)) == 4 and all(10 <= s < 60 for s in first)


def test_trajectory_prompts_extend_the_last_prompt_and_reply():
    cfg, policy, tok = tiny_model(["max_turns=3", "max_prompt_tokens=4096", "trajectory_prompts=true"])
    seeds, groups = group_layout([0], 2)
    batch = play_games(cfg, policy, tok, seeds, groups)
    by_turn = {(s.episode, s.turn): s for s in batch.samples}
    later = [(e, t) for e, t in by_turn if t > 0]
    assert later  # the random model plays more than one turn
    for e, t in later:
        before, now = by_turn[(e, t - 1)], by_turn[(e, t)]
        sequence = [*before.prompt_ids, *before.response_ids.tolist()]
        assert now.prompt_ids[: len(sequence)] == sequence
        if sequence[-1] != tok.eos_token_id:  # a reply cut at max_new_tokens is closed with the end-of-turn token
            assert now.prompt_ids[len(sequence)] == tok.eos_token_id
        decoded = tok.decode(now.prompt_ids[len(sequence):])
        assert f"Current observation (turn {t + 1})" in decoded and "Your task" not in decoded
        assert decoded.endswith("<|im_start|>assistant\n") and now.observation[:30] in decoded

"""Advantage estimators: hand-computed examples and naive loop references on random inputs."""

from __future__ import annotations

import math

import pytest
import torch

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.train.algorithms.advantages import (
    broadcast_to_samples,
    discounted_step_returns,
    dr_grpo_advantages,
    gae_advantages,
    gigpo_advantages,
    grpo_advantages,
    reinforce_pp_advantages,
    rloo_advantages,
)
from entropy_dynamics.train.algorithms.registry import adv_estimator
from entropy_dynamics.train.config_io import load_config

# Two groups of 3 (label 7: rewards 1, 0, 0; label 2: rewards 10, 10, 0) and a singleton (label 5).
RETURNS = torch.tensor([1.0, 0.0, 0.0, 10.0, 10.0, 0.0, 4.0])
GROUPS = torch.tensor([7, 7, 7, 2, 2, 2, 5])


def test_grpo_group_scale_hand_example() -> None:
    # group 7: mean 1/3, unbiased var ((2/3)^2 + 2 (1/3)^2) / 2 = 1/3 -> std 1/sqrt(3)
    # group 2: mean 20/3, deviations (10/3, 10/3, -20/3), var (2 * 100/9 + 400/9) / 2 = 100/3
    #   -> std 10/sqrt(3); the singleton gets 0
    s3 = math.sqrt(3.0)
    expected = [(2 / 3) * s3, -(1 / 3) * s3, -(1 / 3) * s3, (1 / 3) * s3, (1 / 3) * s3, -(2 / 3) * s3, 0.0]
    got = grpo_advantages(RETURNS, GROUPS, scale="group", eps=0.0)
    assert got.tolist() == pytest.approx(expected, abs=1e-5)


def test_grpo_batch_and_none_scales() -> None:
    centred = [2 / 3, -1 / 3, -1 / 3, 10 / 3, 10 / 3, -20 / 3, 0.0]
    assert grpo_advantages(RETURNS, GROUPS, scale="none").tolist() == pytest.approx(centred, abs=1e-5)
    assert dr_grpo_advantages(RETURNS, GROUPS).tolist() == pytest.approx(centred, abs=1e-5)
    batch_std = float(torch.tensor(RETURNS.tolist(), dtype=torch.float64).std())
    expected = [c / batch_std for c in centred]
    got = grpo_advantages(RETURNS, GROUPS, scale="batch", eps=0.0)
    assert got.tolist() == pytest.approx(expected, abs=1e-5)


def test_grpo_identical_rewards_give_zero_and_bad_scale_raises() -> None:
    returns = torch.tensor([0.1, 0.1, 0.1, 0.0, 0.0])  # 0.1 is inexact in binary: no eps may rescue it
    for scale in ("group", "batch"):
        adv = grpo_advantages(returns, torch.tensor([0, 0, 0, 1, 1]), scale=scale, eps=0.0)
        assert adv.tolist() == [0.0] * 5
    with pytest.raises(ConfigError, match="scale"):
        grpo_advantages(RETURNS, GROUPS, scale="std")


def test_rloo_hand_example() -> None:
    # group 7: 1 - (0+0)/2 = 1; 0 - (1+0)/2 = -0.5 (twice); group 2: 10 - 5 = 5 (twice), 0 - 10 = -10
    got = rloo_advantages(RETURNS, GROUPS)
    assert got.tolist() == pytest.approx([1.0, -0.5, -0.5, 5.0, 5.0, -10.0, 0.0], abs=1e-5)


def test_reinforce_pp_hand_example() -> None:
    # centred (2/3, -1/3, -1/3, 10/3, 10/3, -20/3, 0) has mean 0; whiten by its unbiased std
    centred = torch.tensor([2 / 3, -1 / 3, -1 / 3, 10 / 3, 10 / 3, -20 / 3, 0.0], dtype=torch.float64)
    std = math.sqrt(float((centred**2).sum()) / 6)
    got = reinforce_pp_advantages(RETURNS, GROUPS, eps=0.0)
    assert got.tolist() == pytest.approx((centred / std).tolist(), abs=1e-5)
    assert float(got.mean()) == pytest.approx(0.0, abs=1e-6)


def _loop_group_reference(returns: list[float], groups: list[int], kind: str) -> list[float]:
    out = []
    for r, g in zip(returns, groups, strict=True):
        members = [x for x, h in zip(returns, groups, strict=True) if h == g]
        n = len(members)
        if n == 1:
            out.append(0.0)
            continue
        mean = sum(members) / n
        std = math.sqrt(sum((x - mean) ** 2 for x in members) / (n - 1))
        if kind == "grpo":
            out.append((r - mean) / (std + 1e-6))
        elif kind == "rloo":
            out.append(r - (sum(members) - r) / (n - 1))
        else:  # dr_grpo, reinforce_pp
            out.append(r - mean)
    if kind == "reinforce_pp":
        mean = sum(out) / len(out)
        std = math.sqrt(sum((x - mean) ** 2 for x in out) / (len(out) - 1))
        out = [(x - mean) / (std + 1e-6) for x in out]
    return out


@pytest.mark.parametrize("kind", ["grpo", "dr_grpo", "rloo", "reinforce_pp"])
def test_group_estimators_match_loop_reference(kind: str) -> None:
    gen = torch.Generator().manual_seed(3)
    for _ in range(5):
        n = int(torch.randint(2, 40, (1,), generator=gen))
        returns = torch.randn(n, generator=gen, dtype=torch.float64)
        groups = torch.randint(0, 6, (n,), generator=gen) * 11  # sparse, non-contiguous labels
        expected = _loop_group_reference(returns.tolist(), groups.tolist(), kind)
        got = adv_estimator(kind).function()(returns, groups, None, load_config(None, []))
        assert got.tolist() == pytest.approx(expected, abs=1e-9)


def test_broadcast_gives_each_sample_its_episode_advantage() -> None:
    adv_e = torch.tensor([0.5, -1.0])
    assert broadcast_to_samples(adv_e, torch.tensor([0, 0, 1, 0, 1])).tolist() == [0.5, 0.5, -1.0, 0.5, -1.0]


def test_discounted_step_returns_hand_example() -> None:
    # episode 0: rewards (turns 0..2) = 0, -0.1, 1 ; gamma 0.5 -> R2 = 1, R1 = -0.1 + 0.5, R0 = 0 + 0.5 * 0.4
    # episode 1: one turn, reward 2. Samples are given out of order.
    rewards = torch.tensor([1.0, 2.0, 0.0, -0.1])
    episode = torch.tensor([0, 1, 0, 0])
    turn = torch.tensor([2, 0, 0, 1])
    got = discounted_step_returns(rewards, episode, turn, gamma=0.5)
    assert got.tolist() == pytest.approx([1.0, 2.0, 0.2, 0.4], abs=1e-6)
    with pytest.raises(ValueError, match="once"):
        discounted_step_returns(rewards, torch.tensor([0, 0, 0, 0]), torch.tensor([0, 1, 1, 2]), 0.5)


def test_gigpo_hand_example() -> None:
    # One task group with episodes 0 (return 1) and 1 (return 0): A^E = +0.5 / -0.5 (mean_norm).
    # Episode 0 turns: rewards 0, 1; episode 1 turns: 0, 0, 0. gamma 0.5 ->
    # step returns e0: (0.5, 1), e1: (0, 0, 0). Anchors: e0t0 and e1t0 share the start state (id 10),
    # e0t1 and e1t2 share a state (id 11), e1t1 is alone (id 12).
    # A^S: id 10 -> (0.5 - 0.25, 0 - 0.25); id 11 -> (1 - 0.5, 0 - 0.5); id 12 -> 0.
    rewards = torch.tensor([0.0, 1.0, 0.0, 0.0, 0.0])
    episode = torch.tensor([0, 0, 1, 1, 1])
    turn = torch.tensor([0, 1, 0, 1, 2])
    anchors = torch.tensor([10, 11, 10, 12, 11])
    got = gigpo_advantages(
        torch.tensor([1.0, 0.0]), torch.tensor([0, 0]), rewards, episode, turn, anchors, gamma=0.5, omega=2.0
    )
    expected = [0.5 + 2 * 0.25, 0.5 + 2 * 0.5, -0.5 - 2 * 0.25, -0.5 + 0.0, -0.5 - 2 * 0.5]
    assert got.tolist() == pytest.approx(expected, abs=1e-6)


def test_gigpo_matches_loop_reference() -> None:
    gen = torch.Generator().manual_seed(0)
    n_eps, gamma, omega = 12, 0.9, 0.7
    lengths = torch.randint(1, 6, (n_eps,), generator=gen).tolist()
    groups = torch.randint(0, 3, (n_eps,), generator=gen)
    returns = torch.randn(n_eps, generator=gen, dtype=torch.float64)
    episode = torch.tensor([e for e, n in enumerate(lengths) for _ in range(n)])
    turn = torch.tensor([t for n in lengths for t in range(n)])
    step_rewards = torch.randn(len(episode), generator=gen, dtype=torch.float64)
    # anchors: same task group and a small observation alphabet -> collisions across episodes
    obs = torch.randint(0, 3, (len(episode),), generator=gen)
    anchors = groups[episode] * 100 + obs
    got = gigpo_advantages(returns, groups, step_rewards, episode, turn, anchors, gamma, omega, scale="group")

    ep_adv = _loop_group_reference(returns.tolist(), groups.tolist(), "grpo")
    step_ret = []
    for s in range(len(episode)):
        e, t = int(episode[s]), int(turn[s])
        later = [(int(turn[k]), float(step_rewards[k])) for k in range(len(episode)) if int(episode[k]) == e]
        step_ret.append(sum(gamma ** (tk - t) * r for tk, r in later if tk >= t))
    step_adv = _loop_group_reference(step_ret, anchors.tolist(), "grpo")
    expected = [ep_adv[int(episode[s])] + omega * step_adv[s] for s in range(len(episode))]
    assert got.tolist() == pytest.approx(expected, abs=1e-6)


def test_gae_hand_example_skips_observation_tokens() -> None:
    # Row: action, action, obs, obs, action ; reward 1 on the last action token; gamma 0.9, lam 0.5.
    # Action tokens in order k = 0, 1, 2 (positions 0, 1, 4) with values 0.2, 0.4, 0.6:
    # delta2 = 1 - 0.6 = 0.4 ; delta1 = 0 + 0.9 * 0.6 - 0.4 = 0.14 ; delta0 = 0.9 * 0.4 - 0.2 = 0.16
    # A2 = 0.4 ; A1 = 0.14 + 0.45 * 0.4 = 0.32 ; A0 = 0.16 + 0.45 * 0.32 = 0.304
    mask = torch.tensor([[1.0, 1.0, 0.0, 0.0, 1.0]])
    values = torch.tensor([[0.2, 0.4, 99.0, -99.0, 0.6]])  # values on observation tokens must not matter
    rewards = torch.tensor([[0.0, 0.0, 5.0, 0.0, 1.0]])  # nor rewards there
    adv, ret = gae_advantages(rewards, values, mask, gamma=0.9, lam=0.5, whiten=False)
    assert adv.tolist()[0] == pytest.approx([0.304, 0.32, 0.0, 0.0, 0.4], abs=1e-6)
    assert ret.tolist()[0] == pytest.approx([0.504, 0.72, 0.0, 0.0, 1.0], abs=1e-6)


def _gae_loop_reference(rewards, values, mask, gamma, lam):
    n_rows, n_cols = mask.shape
    adv = torch.zeros(n_rows, n_cols, dtype=torch.float64)
    for b in range(n_rows):
        next_value, running = 0.0, 0.0
        for t in reversed(range(n_cols)):
            if mask[b, t] == 0:
                continue
            delta = float(rewards[b, t]) + gamma * next_value - float(values[b, t])
            running = delta + gamma * lam * running
            adv[b, t] = running
            next_value = float(values[b, t])
    return adv


def test_gae_matches_loop_reference_and_whitens() -> None:
    gen = torch.Generator().manual_seed(1)
    rewards = torch.randn(5, 17, generator=gen, dtype=torch.float64)
    values = torch.randn(5, 17, generator=gen, dtype=torch.float64)
    mask = (torch.rand(5, 17, generator=gen) > 0.3).double()
    mask[2] = 0.0  # an empty row
    expected = _gae_loop_reference(rewards, values, mask, 0.97, 0.9)
    adv, ret = gae_advantages(rewards, values, mask, 0.97, 0.9, whiten=False)
    torch.testing.assert_close(adv, expected)
    torch.testing.assert_close(ret, (expected + values) * mask)
    white, _ = gae_advantages(rewards, values, mask, 0.97, 0.9, whiten=True)
    on = white[mask.bool()]
    assert float(on.mean()) == pytest.approx(0.0, abs=1e-6)
    assert float(on.std()) == pytest.approx(1.0, abs=1e-4)
    assert float(white[~mask.bool()].abs().sum()) == 0.0


def test_gae_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="shape"):
        gae_advantages(torch.zeros(2, 3), torch.zeros(2, 4), torch.ones(2, 3), 1.0, 1.0)

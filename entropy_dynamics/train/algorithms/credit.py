"""From a rollout to per-token advantages (and SEAL's label source), by the configured algorithm and credit.

``credit: trajectory``: the group estimators (GRPO, Dr. GRPO, RLOO, REINFORCE++) score each episode once
(1 if won, minus the penalty per invalid turn), take group statistics over episodes and give every turn of an
episode the episode's advantage; GiGPO adds the anchor-state step advantage per turn.

``credit: turn`` (verl-agent, which the official SEAL code forks): every turn is its own sample scored
``1[episode won] - penalty x 1[this turn invalid]``; the group statistics run over all turn samples of the
group (``credit_stats: turns``) or over each trajectory's first turn (``trajectories``). So in a group where no
episode won, valid turns get a positive and invalid turns a negative advantage. GiGPO keeps its meaning:
that per-turn episode advantage plus omega x the anchor-state step advantage.

PPO uses the value head with GAE over each turn's reply, the turn's discounted return-to-go as the reward on
its last token. The maths lives in :mod:`entropy_dynamics.train.algorithms.advantages`.

SEAL's label source is the token advantages (or episode success, ``seal.label_source``); samples it must not
learn from carry NaN in ``seal_target`` (see :func:`entropy_dynamics.train.algorithms.seal.seal_labels`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from entropy_dynamics.train.algorithms import advantages as adv
from entropy_dynamics.train.config import TrainConfig
from entropy_dynamics.train.rollout.play import RolloutBatch


@dataclass
class Credit:
    """Per-sample token tensors (lists of Tensor[r_i]) for the update."""

    advantages: list[Tensor]
    seal_target: list[Tensor]  # NaN where SEAL leaves the token out
    returns: list[Tensor] | None  # PPO value targets
    sample_adv: Tensor  # Tensor[S]: each sample's mean advantage (for metrics)
    all_fail: Tensor | None = None  # BoolTensor[S]: the sample's task group has no winning episode


def _index_tensors(batch: RolloutBatch) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    returns = torch.tensor([e.ret for e in batch.episodes], dtype=torch.float32)
    groups = torch.tensor([e.group for e in batch.episodes], dtype=torch.long)
    episode = torch.tensor([s.episode for s in batch.samples], dtype=torch.long)
    turn = torch.tensor([s.turn for s in batch.samples], dtype=torch.long)
    step_rewards = torch.tensor([s.reward for s in batch.samples], dtype=torch.float32)
    return returns, groups, episode, turn, step_rewards


def anchor_ids(batch: RolloutBatch) -> Tensor:
    """GiGPO anchor-state ids: samples of the same task group with the identical observation share one."""
    keys: dict[tuple[int, str], int] = {}
    return torch.tensor([keys.setdefault((s.group, s.observation), len(keys)) for s in batch.samples])


def episode_level_advantages(batch: RolloutBatch, cfg: TrainConfig) -> Tensor:
    """Tensor[S]: one advantage per turn sample for the non-PPO algorithms (``credit: trajectory``)."""
    returns, groups, episode, turn, step_rewards = _index_tensors(batch)
    if cfg.algorithm == "gigpo":
        return adv.gigpo_advantages(returns, groups, step_rewards, episode, turn, anchor_ids(batch),
                                    gamma=cfg.gigpo_gamma, omega=cfg.gigpo_omega, scale=cfg.adv_scale)
    if cfg.algorithm == "grpo":
        per_episode = adv.grpo_advantages(returns, groups, scale=cfg.adv_scale)
    else:
        per_episode = adv.ADVANTAGE_FNS[cfg.algorithm](returns, groups)
    return adv.broadcast_to_samples(per_episode, episode)


def turn_scores(batch: RolloutBatch, penalty: float) -> Tensor:
    """Tensor[S]: each turn sample's score, ``1[its episode won] - penalty x 1[this turn was invalid]``."""
    won = torch.tensor([float(batch.episodes[s.episode].won) for s in batch.samples])
    invalid = torch.tensor([float(not s.valid) for s in batch.samples])
    return won - penalty * invalid


def first_turns(batch: RolloutBatch) -> Tensor:
    """BoolTensor[S]: the first sample of each trajectory (the one verl-agent's per-trajectory statistics read)."""
    turn = torch.tensor([s.turn for s in batch.samples], dtype=torch.long)
    episode = torch.tensor([s.episode for s in batch.samples], dtype=torch.long)
    first = torch.full((len(batch.episodes),), torch.iinfo(torch.long).max, dtype=torch.long)
    first = first.scatter_reduce(0, episode, turn, "amin")
    return turn == first[episode]


def turn_level_advantages(batch: RolloutBatch, cfg: TrainConfig) -> Tensor:
    """Tensor[S]: one advantage per turn sample with ``credit: turn`` (see the module docstring)."""
    scores = turn_scores(batch, cfg.invalid_action_penalty)
    groups = torch.tensor([s.group for s in batch.samples], dtype=torch.long)
    counted = first_turns(batch) if cfg.credit_stats == "trajectories" else None
    if cfg.algorithm in ("grpo", "gigpo", "dr_grpo"):
        scale = "none" if cfg.algorithm == "dr_grpo" else cfg.adv_scale
        per_turn = adv.grpo_advantages(scores, groups, scale=scale, counted=counted)
    else:
        per_turn = adv.ADVANTAGE_FNS[cfg.algorithm](scores, groups)
    if cfg.algorithm != "gigpo":
        return per_turn
    _, _, episode, turn, step_rewards = _index_tensors(batch)
    step_adv = adv.anchor_step_advantages(step_rewards, episode, turn, anchor_ids(batch), cfg.gigpo_gamma,
                                          cfg.adv_scale)
    return per_turn + cfg.gigpo_omega * step_adv.to(per_turn.dtype)


def all_fail_samples(batch: RolloutBatch) -> Tensor:
    """BoolTensor[S]: samples whose task group has no winning episode (any advantage they get comes from
    invalid-action penalties alone)."""
    groups = torch.tensor([e.group for e in batch.episodes], dtype=torch.long)
    won = torch.tensor([e.won for e in batch.episodes], dtype=torch.bool)
    _, inverse = torch.unique(groups, return_inverse=True)
    n_groups = int(inverse.max()) + 1 if inverse.numel() else 0
    group_won = torch.zeros(n_groups, dtype=torch.long).scatter_reduce(0, inverse, won.long(), "amax") > 0
    episode = torch.tensor([s.episode for s in batch.samples], dtype=torch.long)
    return ~group_won[inverse][episode]


def ppo_credit(batch: RolloutBatch, values: list[Tensor], cfg: TrainConfig) -> tuple[list[Tensor], list[Tensor]]:
    """GAE per turn sample: reward = the turn's discounted return-to-go on its last reply token."""
    _, _, episode, turn, step_rewards = _index_tensors(batch)
    turn_returns = adv.discounted_step_returns(step_rewards, episode, turn, cfg.gae_gamma)
    lengths = torch.tensor([len(s.response_ids) for s in batch.samples])
    width = int(lengths.max())
    mask = (torch.arange(width)[None, :] < lengths[:, None]).float()
    rewards = torch.zeros_like(mask)
    rewards[torch.arange(len(lengths)), (lengths - 1).clamp(min=0)] = turn_returns
    value_rows = torch.zeros_like(mask)
    for i, v in enumerate(values):
        value_rows[i, : len(v)] = v
    advantages, returns = adv.gae_advantages(rewards * mask, value_rows, mask, cfg.gae_gamma, cfg.gae_lambda)
    return ([advantages[i, :n] for i, n in enumerate(lengths.tolist())],
            [returns[i, :n] for i, n in enumerate(lengths.tolist())])


def assign_credit(batch: RolloutBatch, cfg: TrainConfig, values: list[Tensor] | None = None) -> Credit:
    """Advantages for every reply token, and SEAL's label source (``seal.label_source``)."""
    lengths = [len(s.response_ids) for s in batch.samples]
    returns = None
    if cfg.algorithm == "ppo":
        if values is None:
            raise ValueError("PPO needs the value head's predictions")
        token_adv, returns = ppo_credit(batch, values, cfg)
        sample_adv = torch.stack([a.mean() if len(a) else torch.tensor(0.0) for a in token_adv])
    else:
        level = turn_level_advantages if cfg.credit == "turn" else episode_level_advantages
        sample_adv = level(batch, cfg).float()
        token_adv = [sample_adv[i].expand(n).clone() for i, n in enumerate(lengths)]
    if cfg.seal.label_source == "episode_success":
        won = [batch.episodes[s.episode].won for s in batch.samples]
        seal_target = [torch.full((n,), 1.0 if w else -1.0) for n, w in zip(lengths, won, strict=True)]
    else:
        seal_target = token_adv
    all_fail = all_fail_samples(batch)
    if cfg.seal.penalty_only == "ignore":
        seal_target = [torch.full_like(t, math.nan) if skip else t
                       for t, skip in zip(seal_target, all_fail.tolist(), strict=True)]
    return Credit(token_adv, seal_target, returns, sample_adv, all_fail)

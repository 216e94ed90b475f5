"""The built-in advantage estimators in the registry's shapes (:mod:`.registry`), on the maths of
:mod:`.advantages`.

Group estimators: ``f(scores[N], group_ids[N], counted[N] | None, cfg) -> Tensor[N]``; GiGPO is GRPO plus
:func:`gigpo_step_term`; PPO (:func:`ppo_gae`) reads the value head's predictions.
"""

from __future__ import annotations

import torch
from torch import Tensor

from entropy_dynamics.train.algorithms import advantages as adv
from entropy_dynamics.train.config import TrainConfig
from entropy_dynamics.train.rollout.play import RolloutBatch


def grpo(scores: Tensor, group_ids: Tensor, counted: Tensor | None, cfg: TrainConfig) -> Tensor:
    """GRPO: the score minus its group mean, scaled by ``adv_scale``."""
    return adv.grpo_advantages(scores, group_ids, scale=cfg.adv_scale, counted=counted)


def dr_grpo(scores: Tensor, group_ids: Tensor, counted: Tensor | None, cfg: TrainConfig) -> Tensor:
    """Dr. GRPO: the score minus its group mean, no std scaling."""
    return adv.grpo_advantages(scores, group_ids, scale="none", counted=counted)


def rloo(scores: Tensor, group_ids: Tensor, counted: Tensor | None, cfg: TrainConfig) -> Tensor:
    """RLOO: the score minus the mean of the other members of its group."""
    return adv.rloo_advantages(scores, group_ids)


def reinforce_pp(scores: Tensor, group_ids: Tensor, counted: Tensor | None, cfg: TrainConfig) -> Tensor:
    """REINFORCE++ with a group baseline, whitened over the batch."""
    return adv.reinforce_pp_advantages(scores, group_ids)


def index_tensors(batch: RolloutBatch) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """(returns[E], group_ids[E], sample_episode[S], sample_turn[S], step_rewards[S]) of a rollout."""
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


def gigpo_step_term(batch: RolloutBatch, cfg: TrainConfig) -> Tensor:
    """GiGPO's per-turn term: ``omega`` x the anchor-state step advantage. Tensor[S]."""
    _, _, episode, turn, step_rewards = index_tensors(batch)
    step_adv = adv.anchor_step_advantages(step_rewards, episode, turn, anchor_ids(batch), cfg.gigpo_gamma,
                                          cfg.adv_scale)
    return cfg.gigpo_omega * step_adv


def ppo_gae(batch: RolloutBatch, values: list[Tensor], cfg: TrainConfig) -> tuple[list[Tensor], list[Tensor]]:
    """PPO: GAE per turn sample, the turn's discounted return-to-go as the reward on its last reply token.
    Returns (token advantages, value targets), one Tensor[r_i] per sample."""
    _, _, episode, turn, step_rewards = index_tensors(batch)
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

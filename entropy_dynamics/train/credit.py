"""From a rollout to per-token advantages (and SEAL's label source), by the configured algorithm.

Episode-level estimators (GRPO, Dr. GRPO, RLOO, REINFORCE++) give every turn of an episode the
episode's advantage (verl-agent); GiGPO adds the anchor-state step advantage per turn; PPO uses the
value head with GAE over each turn's reply, the turn's discounted return-to-go as the reward on its
last token. The maths lives in :mod:`entropy_dynamics.train.advantages`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from entropy_dynamics.train import advantages as adv
from entropy_dynamics.train.config import TrainConfig
from entropy_dynamics.train.rollout import RolloutBatch


@dataclass
class Credit:
    """Per-sample token tensors (lists of Tensor[r_i]) for the update."""

    advantages: list[Tensor]
    seal_target: list[Tensor]
    returns: list[Tensor] | None  # PPO value targets
    sample_adv: Tensor  # Tensor[S]: each sample's mean advantage (for metrics)


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
    """Tensor[S]: one advantage per turn sample for the non-PPO algorithms."""
    returns, groups, episode, turn, step_rewards = _index_tensors(batch)
    if cfg.algorithm == "gigpo":
        return adv.gigpo_advantages(returns, groups, step_rewards, episode, turn, anchor_ids(batch),
                                    gamma=cfg.gigpo_gamma, omega=cfg.gigpo_omega, scale=cfg.adv_scale)
    if cfg.algorithm == "grpo":
        per_episode = adv.grpo_advantages(returns, groups, scale=cfg.adv_scale)
    else:
        per_episode = adv.ADVANTAGE_FNS[cfg.algorithm](returns, groups)
    return adv.broadcast_to_samples(per_episode, episode)


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
        sample_adv = episode_level_advantages(batch, cfg).float()
        token_adv = [sample_adv[i].expand(n).clone() for i, n in enumerate(lengths)]
    if cfg.seal.label_source == "episode_success":
        won = [batch.episodes[s.episode].won for s in batch.samples]
        seal_target = [torch.full((n,), 1.0 if w else -1.0) for n, w in zip(lengths, won, strict=True)]
    else:
        seal_target = token_adv
    return Credit(token_adv, seal_target, returns, sample_adv)

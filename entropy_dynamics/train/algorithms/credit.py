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

from entropy_dynamics.train.algorithms.advantages import broadcast_to_samples
from entropy_dynamics.train.algorithms.registry import AdvantageEstimator, adv_estimator
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


def group_advantages(batch: RolloutBatch, cfg: TrainConfig, estimator: AdvantageEstimator) -> Tensor:
    """Tensor[S]: one advantage per turn sample from a group estimator, by ``credit`` (see the module
    docstring), plus the estimator's step term (GiGPO)."""
    fn = estimator.function()
    if cfg.credit == "turn":
        groups = torch.tensor([s.group for s in batch.samples], dtype=torch.long)
        counted = first_turns(batch) if cfg.credit_stats == "trajectories" else None
        per_sample = fn(turn_scores(batch, cfg.invalid_action_penalty), groups, counted, cfg)
    else:
        returns = torch.tensor([e.ret for e in batch.episodes], dtype=torch.float32)
        groups = torch.tensor([e.group for e in batch.episodes], dtype=torch.long)
        episode = torch.tensor([s.episode for s in batch.samples], dtype=torch.long)
        per_sample = broadcast_to_samples(fn(returns, groups, None, cfg), episode)
    step_term = estimator.step_function()
    if step_term is not None:
        per_sample = per_sample + step_term(batch, cfg).to(per_sample.dtype)
    return per_sample


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


def assign_credit(batch: RolloutBatch, cfg: TrainConfig, values: list[Tensor] | None = None) -> Credit:
    """Advantages for every reply token (by the registered estimator ``cfg.algorithm``), and SEAL's label
    source (``seal.label_source``). ``values``: the value head's predictions, for estimators that use them."""
    lengths = [len(s.response_ids) for s in batch.samples]
    estimator = adv_estimator(cfg.algorithm)
    returns = None
    if estimator.uses_values:
        if values is None:
            raise ValueError(f"{cfg.algorithm} needs the value head's predictions")
        token_adv, returns = estimator.function()(batch, values, cfg)
        sample_adv = torch.stack([a.mean() if len(a) else torch.tensor(0.0) for a in token_adv])
    else:
        sample_adv = group_advantages(batch, cfg, estimator).float()
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

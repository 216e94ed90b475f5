"""Advantage estimators: pure, vectorised functions (no Python loops over samples or tokens).

Shapes: ``E`` = episodes (trajectories) of the step, ``S`` = per-turn training samples (one per turn of an
episode), ``B``/``T`` = samples x response tokens (right-padded). ``group_ids`` identify the trajectories that
share a task (the G rollouts of one game and seed); any integer labels work, they need not be contiguous.

The episode-level estimators take one value per trajectory, so each episode weighs the same however many
turns it has. Per-turn credit (verl-agent, ``credit: turn`` in the trainer) passes one score per TURN SAMPLE
instead, with the group id of its task: the statistics then run over all turn samples of the group
(verl-agent's ``compute_mean_std_cross_steps=True``, long episodes weigh more), or, with ``counted``, over a
chosen subset only (one sample per trajectory: ``compute_mean_std_cross_steps=False``).
A group with a single counted member, or whose counted members all have the same value, gets advantage
exactly 0 (no learning signal), whatever ``eps``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.train.algorithms.registry import GRPO_SCALES


def _as_float(values: Tensor) -> Tensor:
    return values if values.is_floating_point() else values.float()


def _check_same_length(**tensors: Tensor) -> None:
    lengths = {name: t.shape for name, t in tensors.items()}
    first = next(iter(lengths.values()))
    if any(t.dim() != 1 for t in tensors.values()) or any(s != first for s in lengths.values()):
        shapes = ", ".join(f"{name}{tuple(s)}" for name, s in lengths.items())
        raise ValueError(f"expected 1-D tensors of one length, got {shapes}")


def group_stats(values: Tensor, group_ids: Tensor, counted: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Per-element group mean, unbiased group std and whether the group has a usable baseline.

    Args:
        values: Tensor[N] floats.
        group_ids: LongTensor[N] group label of each element.
        counted: optional BoolTensor[N]: only these elements make the statistics (all by default); every
            element still gets its group's statistics.
    Returns:
        (mean[N], std[N], informative[N]): the mean and unbiased std (``n - 1``) of each element's group, and
        True where the group has at least two counted members whose values differ. For other groups the std
        is set to 1 (so dividing never gives NaN) and callers set the advantage to exactly 0.
    """
    values = _as_float(values)
    weight = torch.ones_like(values) if counted is None else counted.to(values.dtype)
    _, inverse = torch.unique(group_ids, return_inverse=True)
    n_groups = int(inverse.max()) + 1 if inverse.numel() else 0
    empty = torch.zeros(n_groups, dtype=values.dtype, device=values.device)
    counts = empty.index_add(0, inverse, weight)
    mean = (empty.index_add(0, inverse, values * weight) / counts.clamp(min=1))[inverse]
    squares = empty.index_add(0, inverse, weight * (values - mean) ** 2)
    std = (squares / (counts - 1).clamp(min=1)).sqrt()
    keep = weight > 0
    spread = empty.scatter_reduce(0, inverse[keep], values[keep], "amax", include_self=False) - empty.scatter_reduce(
        0, inverse[keep], values[keep], "amin", include_self=False
    )
    informative = (counts > 1) & (spread > 0)
    return mean, torch.where(informative, std, 1.0)[inverse], informative[inverse]


def grpo_advantages(returns: Tensor, group_ids: Tensor, scale: str = "group", eps: float = 1e-6,
                    counted: Tensor | None = None) -> Tensor:
    """GRPO: the return minus its group mean, divided by a standard deviation.

    ``A_i = (R_i - mean_g R) / (std + eps)`` with ``std`` the unbiased std of the group (``scale="group"``),
    of the whole batch of returns (``"batch"``), or no division at all (``"none"``, Dr. GRPO).

    Args:
        returns: Tensor[N] scores: episode returns, or per-turn scores (then ``group_ids`` are the turn
            samples' task groups and the statistics run over turn samples).
        group_ids: LongTensor[N] task group of each element.
        scale: "group" | "batch" | "none".
        eps: added to the std.
        counted: optional BoolTensor[N]: the elements the means and stds are taken over (all by default).
    Returns:
        Tensor[N] advantages (0 in groups without two differing counted values).
    """
    if scale not in GRPO_SCALES:
        raise ConfigError(f"advantage scale must be one of {', '.join(GRPO_SCALES)}, got {scale!r}")
    _check_same_length(returns=returns, group_ids=group_ids)
    returns = _as_float(returns)
    mean, std, informative = group_stats(returns, group_ids, counted)
    centred = torch.where(informative, returns - mean, torch.zeros_like(returns))
    if scale == "group":
        return centred / (std + eps)
    if scale == "batch":
        pool = returns if counted is None else returns[counted]
        batch_std = pool.std() if pool.numel() > 1 else returns.new_zeros(())
        return centred / (batch_std + eps) if batch_std > 0 else centred
    return centred


def dr_grpo_advantages(returns: Tensor, group_ids: Tensor) -> Tensor:
    """Dr. GRPO: ``R_i - mean_g R`` without any std scaling. Tensor[E] -> Tensor[E]."""
    return grpo_advantages(returns, group_ids, scale="none")


def rloo_advantages(returns: Tensor, group_ids: Tensor) -> Tensor:
    """RLOO: the return minus the mean of the OTHER members of its group.

    ``A_i = R_i - (sum_g R - R_i) / (n_g - 1)``. Tensor[E] (returns), LongTensor[E] -> Tensor[E];
    0 for singleton groups.
    """
    _check_same_length(returns=returns, group_ids=group_ids)
    returns = _as_float(returns)
    _, inverse, counts = torch.unique(group_ids, return_inverse=True, return_counts=True)
    sums = returns.new_zeros(counts.numel()).index_add(0, inverse, returns)
    n = counts.to(returns.dtype)[inverse]
    leave_one_out = (sums[inverse] - returns) / (n - 1).clamp(min=1)
    return torch.where(n > 1, returns - leave_one_out, torch.zeros_like(returns))


def reinforce_pp_advantages(returns: Tensor, group_ids: Tensor, eps: float = 1e-6) -> Tensor:
    """REINFORCE++ with a group baseline: ``R_i - mean_g R``, then whitened over the batch.

    Whitening: subtract the batch mean, divide by the unbiased batch std + eps (verl's
    ``reinforce_plus_plus_baseline``, here over episodes rather than tokens).
    Tensor[E], LongTensor[E] -> Tensor[E].
    """
    centred = dr_grpo_advantages(returns, group_ids)
    if centred.numel() < 2:
        return torch.zeros_like(centred)
    return (centred - centred.mean()) / (centred.std() + eps)


def broadcast_to_samples(adv_e: Tensor, sample_episode: Tensor) -> Tensor:
    """Give every per-turn sample the advantage of its episode. Tensor[E], LongTensor[S] -> Tensor[S]."""
    return adv_e[sample_episode]


def _discount_matrix(length: int, factor: float, dtype: torch.dtype, device: torch.device) -> Tensor:
    """Tensor[T, T] with ``[t, k] = factor^(k - t)`` for ``k >= t`` and 0 below the diagonal."""
    idx = torch.arange(length, device=device)
    offset = idx[None, :] - idx[:, None]
    return torch.where(offset >= 0, factor ** offset.clamp(min=0).to(dtype), 0.0).to(dtype)


def discounted_step_returns(
    step_rewards: Tensor, sample_episode: Tensor, sample_turn: Tensor, gamma: float
) -> Tensor:
    """Per-turn discounted return to go within each episode: ``R_t = sum_{k>=t} gamma^(k-t) r_k``.

    Args:
        step_rewards: Tensor[S] reward of each turn.
        sample_episode: LongTensor[S] episode index of each sample (0..E-1).
        sample_turn: LongTensor[S] 0-based turn index of each sample within its episode (unique per episode;
            a missing turn counts as a zero reward).
        gamma: discount.
    Returns:
        Tensor[S] discounted returns.
    """
    rewards = _as_float(step_rewards)
    n_episodes = int(sample_episode.max()) + 1 if sample_episode.numel() else 0
    n_turns = int(sample_turn.max()) + 1 if sample_turn.numel() else 0
    grid = torch.zeros(n_episodes, n_turns, dtype=rewards.dtype, device=rewards.device)
    flat = sample_episode * n_turns + sample_turn
    if torch.unique(flat).numel() != flat.numel():
        raise ValueError("each (episode, turn) pair must appear once in sample_episode / sample_turn")
    grid.view(-1)[flat] = rewards
    returns_grid = grid @ _discount_matrix(n_turns, gamma, rewards.dtype, rewards.device).T
    return returns_grid.view(-1)[flat]


def gigpo_advantages(
    returns: Tensor,
    group_ids: Tensor,
    step_rewards: Tensor,
    sample_episode: Tensor,
    sample_turn: Tensor,
    anchor_ids: Tensor,
    gamma: float = 0.95,
    omega: float = 1.0,
    scale: str = "none",
) -> Tensor:
    """GiGPO (Feng et al. 2025): episode advantage + omega x anchor-state step advantage.

    ``A = A^E[episode] + omega * A^S`` where ``A^E`` is the GRPO advantage of the episode returns over
    their task group and ``A^S`` the same over the discounted step returns of the samples that share an
    anchor state.
    ``scale="none"`` is verl-agent's ``mean_norm`` (the SEAL scripts' setting), ``"group"`` its
    ``mean_std_norm``; it applies to both levels.

    Args:
        returns: Tensor[E] episode returns.
        group_ids: LongTensor[E] task group of each episode.
        step_rewards: Tensor[S] reward of each turn (including invalid-action penalties).
        sample_episode: LongTensor[S] episode index (0..E-1) of each sample.
        sample_turn: LongTensor[S] turn index of each sample within its episode.
        anchor_ids: LongTensor[S] anchor-state group of each sample (same task group and identical observation
            -> same id); singleton anchors get step advantage 0.
        gamma: discount of the step returns.
        omega: weight of the step advantage.
        scale: "group" | "batch" | "none" (as :func:`grpo_advantages`).
    Returns:
        Tensor[S] advantages.
    """
    _check_same_length(returns=returns, group_ids=group_ids)
    episode_adv = grpo_advantages(returns, group_ids, scale=scale)
    step_adv = anchor_step_advantages(step_rewards, sample_episode, sample_turn, anchor_ids, gamma, scale)
    return broadcast_to_samples(episode_adv, sample_episode) + omega * step_adv.to(episode_adv.dtype)


def anchor_step_advantages(step_rewards: Tensor, sample_episode: Tensor, sample_turn: Tensor, anchor_ids: Tensor,
                           gamma: float = 0.95, scale: str = "none") -> Tensor:
    """GiGPO's step advantage ``A^S``: GRPO over the discounted step returns of the samples that share an anchor
    state (singleton anchors get 0). Tensor[S] x 3, LongTensor[S] -> Tensor[S]; arguments as
    :func:`gigpo_advantages`."""
    _check_same_length(
        step_rewards=step_rewards, sample_episode=sample_episode, sample_turn=sample_turn, anchors=anchor_ids
    )
    step_returns = discounted_step_returns(step_rewards, sample_episode, sample_turn, gamma)
    return grpo_advantages(step_returns, anchor_ids, scale=scale)


def _masked_whiten(values: Tensor, mask: Tensor, eps: float = 1e-8) -> Tensor:
    n = mask.sum()
    mean = (values * mask).sum() / n
    var = (((values - mean) * mask) ** 2).sum() / (n - 1).clamp(min=1)
    return (values - mean) * torch.rsqrt(var + eps) * mask


def gae_advantages(
    token_rewards: Tensor, values: Tensor, mask: Tensor, gamma: float, lam: float, whiten: bool = True
) -> tuple[Tensor, Tensor]:
    """Generalised advantage estimation over action tokens, skipping (not resetting at) masked tokens.

    Tokens with ``mask == 0`` (observation tokens inside a response) are jumped over: the recursion
    ``delta_t = r_t + gamma V_next - V_t``, ``A_t = delta_t + gamma lam A_next`` links each action token to
    the NEXT ACTION TOKEN of the row (verl's multi-turn GAE); rewards and values on masked tokens are ignored.
    Computed without a token loop: the action tokens of each row are packed to the left and the recursion is
    one matmul with the ``(gamma lam)^(k-t)`` upper-triangular matrix.

    Args:
        token_rewards: Tensor[B, T] reward of each token (usually the turn reward on its last action token).
        values: Tensor[B, T] value-head predictions (detached).
        mask: Tensor[B, T] 1 on action tokens.
        gamma, lam: discount and GAE lambda.
        whiten: whiten the advantages over the action tokens of the batch (verl's default).
    Returns:
        (advantages[B, T], returns[B, T]); ``returns = raw advantages + values``; both 0 on masked tokens.
    """
    if not (token_rewards.shape == values.shape == mask.shape) or mask.dim() != 2:
        raise ValueError(
            f"token_rewards, values, mask must share one [B, T] shape, got "
            f"{tuple(token_rewards.shape)}, {tuple(values.shape)}, {tuple(mask.shape)}"
        )
    values = _as_float(values).detach()
    valid = mask.bool()
    dtype, (n_rows, n_cols) = values.dtype, mask.shape
    packed_pos = torch.where(valid, valid.long().cumsum(dim=1) - 1, n_cols)  # masked -> spill column
    rows = torch.arange(n_rows, device=mask.device)[:, None].expand(n_rows, n_cols)

    def pack(x: Tensor) -> Tensor:
        out = torch.zeros(n_rows, n_cols + 1, dtype=dtype, device=mask.device)
        out[rows, packed_pos] = x.to(dtype)
        return out[:, :n_cols]

    packed_r, packed_v = pack(token_rewards), pack(values)
    packed_valid = pack(valid.to(dtype))
    next_v = torch.cat([packed_v[:, 1:], packed_v.new_zeros(n_rows, 1)], dim=1)
    deltas = (packed_r + gamma * next_v - packed_v) * packed_valid
    packed_adv = deltas @ _discount_matrix(n_cols, gamma * lam, dtype, mask.device).T
    adv = torch.where(valid, packed_adv.gather(1, packed_pos.clamp(max=n_cols - 1)), 0.0)
    returns = torch.where(valid, adv + values, 0.0)
    if whiten:
        adv = _masked_whiten(adv, valid.to(dtype))
    return adv, returns

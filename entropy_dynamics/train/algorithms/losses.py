"""Policy-side losses: aggregation, :func:`policy_loss` (runs the registered variant a config names), k3 KL,
the entropy bonus, the Clip-Cov / KL-Cov token choices.

The policy-loss variants themselves (the clipped surrogate, Clip-Cov, KL-Cov) are in :mod:`.policy_losses`,
registered by name in :mod:`.registry`.

Shapes: ``B`` = per-turn samples of a (micro-)batch, ``T`` = response tokens (right-padded), ``mask`` = 1 on
action tokens. Every per-token loss is reduced by :func:`aggregate`; pass the optimizer step's global counts
(:func:`step_normalisers`) so that summing the micro-batch losses gives exactly the full-batch loss.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.train.algorithms.registry import AGG_MODES, policy_loss_entry, policy_loss_name

LOG_RATIO_CLAMP = 20.0


def _check_mode(mode: str) -> None:
    if mode not in AGG_MODES:
        raise ConfigError(f"loss aggregation mode must be one of {', '.join(AGG_MODES)}, got {mode!r}")


def _check_shapes(**tensors: Tensor) -> None:
    shapes = {name: tuple(t.shape) for name, t in tensors.items()}
    first = next(iter(shapes.values()))
    if len(first) != 2 or any(s != first for s in shapes.values()):
        listed = ", ".join(f"{name}{s}" for name, s in shapes.items())
        raise ValueError(f"expected [B, T] tensors of one shape, got {listed}")


def step_normalisers(masks: Iterable[Tensor]) -> dict[str, float]:
    """Global counts over all micro-batches of one optimizer step, for :func:`aggregate`.

    Under DDP (which averages gradients over ``W`` ranks) pass the counts summed over all ranks and divided
    by ``W``, so that the averaged gradient is the gradient of the whole step's loss.

    Args:
        masks: the Tensor[B_i, T_i] action masks of the step's micro-batches.
    Returns:
        ``{"global_tokens": action tokens, "global_seqs": samples with at least one action token}``.
    """
    tokens, seqs = 0.0, 0.0
    for mask in masks:
        tokens += float(mask.sum())
        seqs += float((mask.sum(dim=-1) > 0).sum())
    return {"global_tokens": tokens, "global_seqs": seqs}


def aggregate(
    values: Tensor,
    mask: Tensor,
    mode: str,
    *,
    global_tokens: float | None = None,
    global_seqs: float | None = None,
    seq_len_constant: float | None = None,
) -> Tensor:
    """Reduce a per-token loss to a scalar.

    Modes (``n_tok`` = action tokens, ``n_seq`` = samples with at least one action token; both global over
    the optimizer step when given, else counted in this micro-batch):

    - ``"token-mean"``: ``sum_{i,t} m v / n_tok`` (DAPO; verl's default; SEAL's setting).
    - ``"seq-mean-token-mean"``: ``sum_i (sum_t m v / sum_t m) / n_seq`` (original GRPO).
    - ``"seq-sum-constant"``: ``sum_{i,t} m v / (n_seq * C)`` with ``C = seq_len_constant`` (Dr. GRPO; pass
      the maximum response length; defaults to this batch's ``T``, which is only exact when every
      micro-batch has the same width).

    Args:
        values: Tensor[B, T] per-token loss.
        mask: Tensor[B, T] 1 on tokens that count.
        mode: one of :data:`AGG_MODES`.
    Returns:
        Tensor[] scalar.
    """
    _check_mode(mode)
    _check_shapes(values=values, mask=mask)
    mask = mask.to(values.dtype)
    masked = values * mask
    if mode == "token-mean":
        n_tok = global_tokens if global_tokens is not None else mask.sum()
        return masked.sum() / _at_least_one(n_tok)
    n_seq = global_seqs if global_seqs is not None else (mask.sum(dim=-1) > 0).sum()
    if mode == "seq-mean-token-mean":
        per_seq = masked.sum(dim=-1) / mask.sum(dim=-1).clamp(min=1)
        return per_seq.sum() / _at_least_one(n_seq)
    constant = seq_len_constant if seq_len_constant is not None else values.shape[-1]
    return masked.sum() / (_at_least_one(n_seq) * constant)


def _at_least_one(count: float | Tensor) -> float | Tensor:
    """A count, at least 1 (an empty batch reduces to 0, not NaN)."""
    return count.clamp(min=1) if isinstance(count, Tensor) else max(float(count), 1.0)


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``values`` over ``mask`` (0 if the mask is empty). Tensor[B, T] x2 -> Tensor[]."""
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp(min=1)


def token_covariance(logp: Tensor, advantages: Tensor, mask: Tensor) -> Tensor:
    """Cui et al.'s per-token centred product ``(log p - mean log p) (A - mean A)`` over the masked tokens.

    Tensor[B, T] x3 -> Tensor[B, T] (detached; 0 on masked-out tokens).
    """
    logp, advantages = logp.detach(), advantages.detach()
    cov = (logp - masked_mean(logp, mask)) * (advantages - masked_mean(advantages, mask))
    return cov * mask.to(cov.dtype)


def clip_cov_mask(
    logp: Tensor,
    advantages: Tensor,
    mask: Tensor,
    ratio: float,
    low: float,
    high: float,
    generator: torch.Generator | None = None,
    *,
    exclude: Tensor | None = None,
) -> Tensor:
    """Clip-Cov (Cui et al. 2025, Eq. 11-12): tokens whose policy-gradient term is dropped.

    Draws ``max(floor(ratio * N), 1)`` tokens uniformly (N = action tokens of the batch) among those with
    ``low < cov < high`` (strict, as veRL); fewer if fewer qualify, none if none do. The covariance is
    centred over all action tokens; ``exclude`` (e.g. tokens the PPO clip already cut) are not eligible.

    Args:
        logp, advantages, mask: Tensor[B, T].
        ratio: fraction of the action tokens to pick (paper: 2e-4).
        low, high: covariance band (paper: 1, 5).
        generator: RNG for the draw (reproducible runs).
        exclude: BoolTensor[B, T] of tokens that may not be picked.
    Returns:
        BoolTensor[B, T] picked tokens.
    """
    _check_shapes(logp=logp, advantages=advantages, mask=mask)
    valid = mask.bool()
    cov = token_covariance(logp, advantages, mask)
    eligible = valid & (cov > low) & (cov < high)
    if exclude is not None:
        eligible &= ~exclude
    candidates = eligible.view(-1).nonzero().squeeze(-1)
    n_pick = min(max(int(ratio * int(valid.sum())), 1), candidates.numel())
    rng_device = generator.device if generator is not None else None
    order = torch.randperm(candidates.numel(), generator=generator, device=rng_device)
    picked = torch.zeros(mask.numel(), dtype=torch.bool, device=mask.device)
    picked[candidates[order[:n_pick].to(candidates.device)]] = True
    return picked.view(mask.shape)


def kl_cov_mask(logp: Tensor, advantages: Tensor, mask: Tensor, ratio: float) -> Tensor:
    """KL-Cov (Cui et al. 2025, Eq. 13-14): the top ``floor(ratio * N)`` action tokens by covariance.

    Args:
        logp, advantages, mask: Tensor[B, T].
        ratio: fraction of the action tokens to pick (paper: 2e-3 for 7B, 2e-4 for 32B; veRL default 2e-4).
    Returns:
        BoolTensor[B, T] picked tokens (none when ``ratio * N < 1``).
    """
    _check_shapes(logp=logp, advantages=advantages, mask=mask)
    valid = mask.bool()
    n_pick = int(ratio * int(valid.sum()))
    cov = token_covariance(logp, advantages, mask).masked_fill(~valid, float("-inf"))
    picked = torch.zeros(mask.numel(), dtype=torch.bool, device=mask.device)
    if n_pick > 0:
        picked[cov.view(-1).topk(n_pick).indices] = True
    return picked.view(mask.shape)


@dataclass(frozen=True)
class LossSettings:
    """What a policy loss is told: the PPO clip range, the dual clip, the aggregation mode and the variant's
    own options (the ``clip_cov`` / ``kl_cov`` mapping; ``{}`` = the paper's defaults)."""

    eps_low: float = 0.2
    eps_high: float = 0.2
    dual_clip_c: float | None = 3.0
    agg_mode: str = "token-mean"
    options: dict[str, Any] = field(default_factory=dict)


def policy_loss(
    logp: Tensor,
    old_logp: Tensor,
    advantages: Tensor,
    mask: Tensor,
    *,
    eps_low: float = 0.2,
    eps_high: float = 0.2,
    dual_clip_c: float | None = 3.0,
    agg_mode: str = "token-mean",
    clip_cov: dict[str, float] | None = None,
    kl_cov: dict[str, float] | None = None,
    generator: torch.Generator | None = None,
    loss: str | None = None,
    **normalisers: float | None,
) -> tuple[Tensor, dict[str, float]]:
    """The policy loss ``loss`` from the registry (default: ``clip_cov`` when its options are given, ``kl_cov``
    likewise, else ``vanilla``, the PPO clipped surrogate with asymmetric clip range and dual clip).

    Args:
        logp: Tensor[B, T] log-probs under the current policy (with grad).
        old_logp: Tensor[B, T] log-probs under the rollout policy.
        advantages: Tensor[B, T] token advantages.
        mask: Tensor[B, T] 1 on action tokens.
        clip_cov, kl_cov: options of those variants (give at most one; ``{}`` = the paper's defaults).
        loss: a registered policy loss name (see :mod:`.registry`).
        normalisers: ``global_tokens``, ``global_seqs``, ``seq_len_constant`` for ``aggregate``.
    Returns:
        (loss Tensor[], stats) with ``policy/clip_frac`` (share of action tokens where the clip sets the
        loss), ``policy/clip_frac_lower`` (where the dual clip does), ``policy/approx_kl`` (mean of
        ``old_logp - logp``, verl's ``ppo_kl``) and ``policy/cov_selected_frac`` when a Cov variant runs.
        Stats are micro-batch means.
    """
    _check_shapes(logp=logp, old_logp=old_logp, advantages=advantages, mask=mask)
    _check_mode(agg_mode)
    if clip_cov is not None and kl_cov is not None:
        raise ConfigError("policy loss: clip_cov and kl_cov are alternatives; enable at most one")
    if dual_clip_c is not None and dual_clip_c <= 1.0:
        raise ConfigError(f"policy loss: dual_clip_c must be > 1 (or None), got {dual_clip_c}")
    if eps_low < 0 or eps_high < 0 or eps_low >= 1:
        raise ConfigError(f"policy loss: need 0 <= eps_low < 1 and eps_high >= 0, got {eps_low}, {eps_high}")
    entry = policy_loss_entry(policy_loss_name(loss, clip_cov, kl_cov))
    options = {"clip_cov": clip_cov, "kl_cov": kl_cov}.get(entry.options or "") or {}
    settings = LossSettings(eps_low, eps_high, dual_clip_c, agg_mode, dict(options))
    return entry.function()(logp, old_logp, advantages, mask, settings, generator, **normalisers)


def kl_k3(logp: Tensor, ref_logp: Tensor) -> Tensor:
    """Per-token k3 estimate of KL(pi || pi_ref): ``exp(d) - d - 1`` with ``d = ref_logp - logp``.

    ``d`` is clamped to +-20 (verl's ``low_var_kl``). Non-negative; its gradient flows into ``logp``.
    Tensor[B, T] x2 -> Tensor[B, T]; reduce it with :func:`aggregate`.
    """
    if logp.shape != ref_logp.shape:
        raise ValueError(f"logp{tuple(logp.shape)} and ref_logp{tuple(ref_logp.shape)} differ in shape")
    diff = (ref_logp.detach() - logp).clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
    return diff.exp() - diff - 1.0


def entropy_bonus_loss(
    entropy: Tensor, mask: Tensor, coef: float, agg_mode: str = "token-mean", **normalisers: float | None
) -> Tensor:
    """The entropy-bonus term to ADD to the loss: ``-coef * aggregate(entropy)``.

    The entropy must carry gradient (computed with ``entropy_grad=True``): a detached entropy would make the
    bonus a silent no-op, so that raises while autograd is on and ``coef != 0``.

    Args:
        entropy: Tensor[B, T] per-token entropy of the current policy.
        mask: Tensor[B, T] 1 on action tokens.
        coef: bonus coefficient (0 disables; verl-agent reportedly uses 1e-3).
    Returns:
        Tensor[] loss term (already multiplied by ``-coef``).
    """
    if coef != 0 and torch.is_grad_enabled() and not entropy.requires_grad:
        raise ValueError("entropy bonus: the entropy has no gradient (compute it with entropy_grad=True)")
    return -coef * aggregate(entropy, mask, agg_mode, **normalisers)

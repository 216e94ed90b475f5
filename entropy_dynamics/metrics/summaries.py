"""Batch summaries of token-level statistics: entropy by outcome / turn / quantile, Cui et al.'s covariance.

All functions reduce over the action tokens selected by ``mask`` and return plain floats under the
canonical names of ``docs/log-format.md`` (NaN where a group has no token).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from entropy_dynamics.metrics._checks import require
from entropy_dynamics.metrics._tensors import as_bool_mask, broadcast_rows


def _masked_mean(values: Tensor, mask: Tensor) -> float:
    count = int(mask.sum())
    if count == 0:
        return math.nan
    return float(values.double()[mask].sum() / count)


def _sorted_quantile(ordered: Tensor, q: float) -> float:
    """Linear-interpolation quantile (numpy's default) of sorted values; NaN when empty.

    (``torch.quantile`` refuses inputs above 16M elements, a size a large batch reaches.)
    """
    if ordered.numel() == 0:
        return math.nan
    position = q * (ordered.numel() - 1)
    low = math.floor(position)
    high = min(low + 1, ordered.numel() - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def entropy_summary(
    entropy: Tensor,
    mask: Tensor,
    advantages: Tensor | None = None,
    turn_index: Tensor | None = None,
) -> dict[str, float]:
    """Token-mean entropy of a batch, split by advantage sign and turn, plus quantiles.

    Args:
        entropy: Tensor[B, T] per-token entropy (e.g. from ``token_entropy``).
        mask: Tensor[B, T] bool/0-1, true on action tokens.
        advantages: optional Tensor[B, T] (or Tensor[B], broadcast over T) per-token advantage.
        turn_index: optional LongTensor[B], the 0-based turn each row belongs to.

    Returns:
        ``policy/entropy``, ``policy/entropy/p50``, ``policy/entropy/p90``; with advantages
        ``policy/entropy/pos`` (A >= 0) and ``policy/entropy/neg`` (A < 0); with turn indices
        ``policy/entropy/turn_<k>`` for every turn that has action tokens. NaN for an empty group.
    """
    require(isinstance(entropy, Tensor) and entropy.dim() == 2, "entropy must be a Tensor[B, T]")
    mask = as_bool_mask(mask, entropy)
    values = entropy.detach()
    out = {"policy/entropy": _masked_mean(values, mask)}
    ordered = torch.sort(values[mask].double()).values
    out["policy/entropy/p50"] = _sorted_quantile(ordered, 0.5)
    out["policy/entropy/p90"] = _sorted_quantile(ordered, 0.9)
    if advantages is not None:
        adv = broadcast_rows(advantages, entropy, "advantages")
        out["policy/entropy/pos"] = _masked_mean(values, mask & (adv >= 0))
        out["policy/entropy/neg"] = _masked_mean(values, mask & (adv < 0))
    if turn_index is not None:
        require(
            isinstance(turn_index, Tensor) and tuple(turn_index.shape) == (entropy.shape[0],),
            f"turn_index must be a Tensor[B] with B={entropy.shape[0]}",
        )
        turns = turn_index.to(device=entropy.device).long()
        has_tokens = mask.any(dim=1)
        for turn in torch.unique(turns[has_tokens]).tolist():
            out[f"policy/entropy/turn_{turn}"] = _masked_mean(values, mask & (turns == turn)[:, None])
    return out


def cov_logp_adv(logp: Tensor, advantages: Tensor, mask: Tensor, top_k: int = 16) -> dict[str, object]:
    """Cui et al. (2025) token covariance of log-probability and advantage over a batch's action tokens.

    ``cov_i = (logp_i - mean logp) * (A_i - mean A)`` with means over the masked tokens.

    Args:
        logp: Tensor[B, T] log-probability of the sampled tokens (gradient is ignored).
        advantages: Tensor[B, T] or Tensor[B] advantages.
        mask: Tensor[B, T] bool/0-1 action-token mask.
        top_k: how many of the largest-covariance tokens to return.

    Returns:
        ``policy/cov_logp_adv`` (mean cov), ``policy/cov_neg_frac`` (share of tokens with cov < 0),
        both floats (NaN without tokens); ``top_indices`` LongTensor[k, 2] (row, position) and
        ``top_values`` Tensor[k] of the largest covariances, k = min(top_k, #tokens).
    """
    require(isinstance(logp, Tensor) and logp.dim() == 2, "logp must be a Tensor[B, T]")
    require(int(top_k) >= 0, f"top_k must be >= 0, got {top_k}")
    mask = as_bool_mask(mask, logp)
    adv = broadcast_rows(advantages, logp, "advantages").double()
    values = logp.detach().double()
    positions = mask.nonzero()
    if positions.shape[0] == 0:
        empty = torch.empty(0, dtype=torch.float64, device=logp.device)
        return {
            "policy/cov_logp_adv": math.nan,
            "policy/cov_neg_frac": math.nan,
            "top_indices": positions,
            "top_values": empty,
        }
    token_logp, token_adv = values[mask], adv[mask]
    cov = (token_logp - token_logp.mean()) * (token_adv - token_adv.mean())
    top_values, top = torch.topk(cov, min(int(top_k), cov.numel()))
    return {
        "policy/cov_logp_adv": float(cov.mean()),
        "policy/cov_neg_frac": float((cov < 0).double().mean()),
        "top_indices": positions[top],
        "top_values": top_values,
    }

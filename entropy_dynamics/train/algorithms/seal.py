"""SEAL: an MLP head on the final hidden states, trained with BCE on "advantage >= 0" (the official code).

Paper dossier sections 2.1-2.3 and 6.4: the head is
``(L-1) x [Linear(d, d) -> GELU -> LayerNorm(d) -> Dropout]`` then ``Linear(d, 1)``; it reads the final-layer
hidden states (after the final norm) AT every response token; per-token BCE-with-logits against
``y = 1[A >= 0]`` is aggregated with the policy loss's mask and mode; the caller multiplies it by the
coefficient (0.02) and adds it to the policy loss, so gradients reach the backbone.

Shapes: ``B`` samples, ``T`` response tokens, ``S`` full sequence length, ``d`` hidden size.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.train.algorithms.losses import aggregate

SEAL_POOLINGS = ("token", "turn_mean")
ZERO_ADV_LABELS = (1.0, 0.0, "ignore")


class SealHead(nn.Module):
    """The SEAL classifier (official ``ProjZModule``): ``num_layers`` Linear layers in all.

    ``num_layers - 1`` blocks ``Linear(d, d) -> GELU -> LayerNorm(d) -> Dropout(dropout)``, then
    ``Linear(d, 1)``. PyTorch default initialisation, as the official code.
    """

    def __init__(self, hidden_size: int, num_layers: int = 3, dropout: float = 0.1) -> None:
        super().__init__()
        if num_layers < 1:
            raise ConfigError(f"SEAL head: num_layers must be >= 1, got {num_layers}")
        blocks: list[nn.Module] = []
        for _ in range(num_layers - 1):
            blocks += [
                nn.Linear(hidden_size, hidden_size),
                nn.GELU(),
                nn.LayerNorm(hidden_size),
                nn.Dropout(dropout),
            ]
        blocks.append(nn.Linear(hidden_size, 1))
        self.net = nn.Sequential(*blocks)

    def forward(self, hidden: Tensor) -> Tensor:
        """Tensor[..., d] hidden states -> Tensor[...] logits (computed in the head's dtype)."""
        return self.net(hidden.to(self.net[0].weight.dtype)).squeeze(-1)


def response_hidden_states(hidden_states: Tensor, response_length: int, position_offset: int = 0) -> Tensor:
    """The hidden states the head reads, sliced from the full sequence.

    ``position_offset=0`` (parity) takes the states AT the response tokens, positions ``[S-R, S)``; ``-1``
    takes the states that PREDICT them (the log-prob alignment, ablation).

    Args:
        hidden_states: Tensor[B, S, d] final-layer states of [prompt | response] (response right-aligned).
        response_length: R.
        position_offset: 0 or a negative shift.
    Returns:
        Tensor[B, R, d].
    """
    seq_len = hidden_states.shape[1]
    start = seq_len - response_length + position_offset
    if position_offset > 0 or start < 0:
        raise ConfigError(
            f"SEAL: position_offset {position_offset} with response length {response_length} does not fit "
            f"a sequence of {seq_len} positions (offset must be <= 0)"
        )
    return hidden_states[:, start : start + response_length]


def seal_labels(advantages: Tensor, zero_adv_label: float | str = 1.0) -> tuple[Tensor, Tensor]:
    """Labels ``1[A >= 0]`` and where they count.

    Args:
        advantages: Tensor[B, T] advantages used by the policy loss (the label source); NaN marks a token SEAL
            leaves out (``seal.penalty_only: ignore``).
        zero_adv_label: label of tokens with ``A == 0``: 1.0 (parity: all-fail groups count as "correct"),
            0.0, or "ignore" (those tokens get ``valid = 0``).
    Returns:
        (labels Tensor[B, T] in {0, 1}, valid Tensor[B, T] in {0, 1}), float.
    """
    if zero_adv_label not in ZERO_ADV_LABELS or isinstance(zero_adv_label, bool):
        raise ConfigError(f"SEAL: zero_adv_label must be 1.0, 0.0 or 'ignore', got {zero_adv_label!r}")
    advantages = advantages.detach().float()
    known = ~torch.isnan(advantages)
    zero = advantages == 0
    labels = (advantages >= 0).float()
    if zero_adv_label == 0.0:
        labels = labels.masked_fill(zero, 0.0)
    valid = known & ~zero if zero_adv_label == "ignore" else known
    return labels, valid.float()


def label_shares(targets: Tensor, all_fail: Tensor, zero_adv_label: float | str = 1.0) -> dict[str, float]:
    """Where a step's SEAL labels come from, over the reply tokens that carry one.

    Args:
        targets: Tensor[N] the label source of every reply token of the step (NaN = left out).
        all_fail: BoolTensor[N] the token's task group has no winning episode.
        zero_adv_label: as :func:`seal_labels`.
    Returns:
        ``seal/label_all_fail_share`` (share of labelled tokens from all-fail groups, whose labels rest on
        invalid-action penalties alone) and ``seal/label_pos_share`` (share labelled 1); NaN without labels.
    """
    labels, valid = seal_labels(targets, zero_adv_label)
    counted = valid > 0
    n = int(counted.sum())
    if n == 0:
        return {"seal/label_all_fail_share": math.nan, "seal/label_pos_share": math.nan}
    return {"seal/label_all_fail_share": float(all_fail[counted].float().mean()),
            "seal/label_pos_share": float(labels[counted].mean())}


def binary_auroc(scores: Tensor, labels: Tensor) -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties); NaN if a class is missing.

    Tensor[N] scores, Tensor[N] labels in {0, 1} -> float.
    """
    scores, positive = scores.detach().double().flatten(), labels.flatten() > 0.5
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    sorted_scores, order = scores.sort()
    _, inverse, counts = torch.unique_consecutive(sorted_scores, return_inverse=True, return_counts=True)
    first_rank = torch.cumsum(counts, 0) - counts + 1
    avg_rank = (first_rank + (counts - 1) / 2.0).double()[inverse]
    ranks = torch.empty_like(avg_rank).scatter_(0, order, avg_rank)
    u_stat = ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u_stat / (n_pos * n_neg))


def _head_stats(logits: Tensor, labels: Tensor, weight: Tensor, bce: Tensor) -> dict[str, float]:
    with torch.no_grad():
        keep = weight > 0
        n_kept = keep.sum().clamp(min=1)
        correct = ((logits > 0).float() == labels).float()
        return {
            "seal/bce": float((bce * keep).sum() / n_kept),
            "seal/head_acc": float((correct * keep).sum() / n_kept),
            "seal/head_auroc": binary_auroc(logits[keep], labels[keep]),
        }


def seal_loss(
    head: SealHead,
    hidden: Tensor,
    mask: Tensor,
    advantages: Tensor,
    *,
    agg_mode: str = "token-mean",
    zero_adv_label: float | str = 1.0,
    detach_backbone: bool = False,
    pooling: str = "token",
    **normalisers: float | None,
) -> tuple[Tensor, dict[str, float]]:
    """The UNSCALED SEAL loss (multiply by the coefficient, 0.02 in the paper, and add to the policy loss).

    ``pooling="token"`` (parity): per-token BCE of ``head(hidden)`` against :func:`seal_labels`, reduced by
    :func:`~entropy_dynamics.train.algorithms.losses.aggregate` with the policy loss's mask, mode and normalisers.
    Tokens dropped by ``zero_adv_label="ignore"`` add nothing but still count in the denominator, exactly like
    zero-advantage tokens in the policy loss (so gradient accumulation stays exact).
    ``pooling="turn_mean"`` (ablation): mean-pool the hidden states of each sample's action tokens, one BCE
    per sample (label from the sign of the sample's mean advantage), averaged over samples with the
    ``global_seqs`` normaliser whatever ``agg_mode`` is.

    Args:
        head: the SEAL head.
        hidden: Tensor[B, T, d] final-layer hidden states at the response tokens (see
            :func:`response_hidden_states`), with grad.
        mask: Tensor[B, T] 1 on action tokens.
        advantages: Tensor[B, T] token advantages used by the policy loss (or the ablation's label source).
        detach_backbone: stop the SEAL gradient at the hidden states (ablation: only the head learns).
        normalisers: ``global_tokens``, ``global_seqs``, ``seq_len_constant`` as for the policy loss.
    Returns:
        (loss Tensor[], stats): ``seal/bce`` (micro-batch mean BCE over counted tokens or samples),
        ``seal/head_acc``, ``seal/head_auroc`` (NaN when one class is absent).
    """
    if pooling not in SEAL_POOLINGS:
        raise ConfigError(f"SEAL: pooling must be one of {', '.join(SEAL_POOLINGS)}, got {pooling!r}")
    if hidden.dim() != 3 or hidden.shape[:2] != mask.shape or mask.shape != advantages.shape:
        raise ValueError(
            f"SEAL: expected hidden [B, T, d], mask and advantages [B, T]; got {tuple(hidden.shape)}, "
            f"{tuple(mask.shape)}, {tuple(advantages.shape)}"
        )
    if detach_backbone:
        hidden = hidden.detach()
    mask = mask.float()
    if pooling == "turn_mean":
        counts = mask.sum(dim=1)
        pooled = (hidden * mask.unsqueeze(-1).to(hidden.dtype)).sum(dim=1) / counts.clamp(min=1)[:, None]
        sample_adv = (advantages.detach().float() * mask).sum(dim=1) / counts.clamp(min=1)
        labels, valid = seal_labels(sample_adv, zero_adv_label)
        weight = valid * (counts > 0).float()
        logits = head(pooled).float()
        bce = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
        n_seq = normalisers.get("global_seqs")
        n_seq = float((counts > 0).sum()) if n_seq is None else n_seq
        loss = (bce * weight).sum() / max(n_seq, 1.0)
        return loss, _head_stats(logits, labels, weight, bce)
    labels, valid = seal_labels(advantages, zero_adv_label)
    logits = head(hidden).float()
    bce = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
    loss = aggregate(bce * valid, mask, agg_mode, **normalisers)
    return loss, _head_stats(logits, labels, valid * mask, bce)

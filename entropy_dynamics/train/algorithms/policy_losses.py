"""Policy losses, one function per variant (verl's ``vanilla``, ``clip_cov``, ``kl_cov``), registered by name in
:mod:`.registry`; :func:`~entropy_dynamics.train.algorithms.losses.policy_loss` checks the inputs and runs the
variant a config names.

Every variant has the registry's signature ``f(logp, old_logp, advantages, mask, settings, generator,
**normalisers) -> (loss, stats)``: Tensor[B, T] inputs (``mask`` = 1 on action tokens), a
:class:`~entropy_dynamics.train.algorithms.losses.LossSettings`, an RNG for variants that draw tokens, and the
step's global counts for :func:`~entropy_dynamics.train.algorithms.losses.aggregate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.train.algorithms.losses import (
    LOG_RATIO_CLAMP,
    LossSettings,
    aggregate,
    clip_cov_mask,
    kl_cov_mask,
    masked_mean,
)

CLIP_COV_DEFAULTS = {"ratio": 2e-4, "low": 1.0, "high": 5.0}
KL_COV_DEFAULTS = {"ratio": 2e-4, "coef": 1.0}


@dataclass
class Surrogate:
    """The per-token PPO surrogate of a batch and where its clips acted (all Tensor[B, T])."""

    per_token: Tensor  # max(-A r, -A clip(r)), dual-clipped for A < 0
    unclipped: Tensor  # -A r
    log_ratio: Tensor  # logp - old_logp, clamped to +-LOG_RATIO_CLAMP
    clip_active: Tensor  # the clip sets the loss
    dual_active: Tensor  # the dual clip sets the loss


def clipped_surrogate(logp: Tensor, old_logp: Tensor, advantages: Tensor, settings: LossSettings) -> Surrogate:
    """Per token, with ``r = exp(clamp(logp - old_logp, +-20))``: ``l = max(-A r, -A clip(r, 1 - eps_low,
    1 + eps_high))``; for ``A < 0`` and a dual clip ``c > 1``, ``l = min(l, -A c)`` (bounds the loss of very
    off-policy negative tokens)."""
    advantages = advantages.detach()
    log_ratio = (logp - old_logp.detach()).clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
    ratio = log_ratio.exp()
    unclipped = -advantages * ratio
    clipped = -advantages * ratio.clamp(1.0 - settings.eps_low, 1.0 + settings.eps_high)
    clip_active = clipped > unclipped
    per_token = torch.maximum(unclipped, clipped)
    dual_active = torch.zeros_like(clip_active)
    if settings.dual_clip_c is not None:
        dual_bound = -advantages * settings.dual_clip_c
        dual_active = (advantages < 0) & (per_token > dual_bound)
        per_token = torch.where(dual_active, dual_bound, per_token)
    return Surrogate(per_token, unclipped, log_ratio, clip_active, dual_active)


def _result(per_token: Tensor, s: Surrogate, mask: Tensor, settings: LossSettings, normalisers: dict,
            extra: dict[str, float] | None = None) -> tuple[Tensor, dict[str, float]]:
    """The aggregated loss and its stats: ``policy/clip_frac``, ``policy/clip_frac_lower``, ``policy/approx_kl``
    (micro-batch means) and ``extra``."""
    loss = aggregate(per_token, mask, settings.agg_mode, **normalisers)
    with torch.no_grad():
        stats = {
            "policy/clip_frac": float(masked_mean(s.clip_active.float(), mask)),
            "policy/clip_frac_lower": float(masked_mean(s.dual_active.float(), mask)),
            "policy/approx_kl": float(masked_mean(-s.log_ratio, mask)),
            **(extra or {}),
        }
    return loss, stats


def _options(given: dict[str, Any], defaults: dict[str, float], name: str) -> dict[str, float]:
    unknown = set(given) - set(defaults)
    if unknown:
        known = ", ".join(defaults)
        raise ConfigError(f"{name}: unknown key(s) {', '.join(sorted(unknown))}; known: {known}")
    return {**defaults, **{k: float(v) for k, v in given.items()}}


def vanilla_policy_loss(logp: Tensor, old_logp: Tensor, advantages: Tensor, mask: Tensor, settings: LossSettings,
                        generator: torch.Generator | None = None, **normalisers: float | None):
    """PPO clipped surrogate with asymmetric clip range and dual clip (verl's ``vanilla``)."""
    s = clipped_surrogate(logp, old_logp, advantages, settings)
    return _result(s.per_token, s, mask, settings, normalisers)


def clip_cov_policy_loss(logp: Tensor, old_logp: Tensor, advantages: Tensor, mask: Tensor, settings: LossSettings,
                         generator: torch.Generator | None = None, **normalisers: float | None):
    """Clip-Cov (Cui et al. 2025): the tokens from :func:`clip_cov_mask` (excluding those the PPO clip already
    cut) contribute no loss and no gradient; they still count in the normaliser. Options: ratio, low, high."""
    opts = _options(settings.options, CLIP_COV_DEFAULTS, "clip_cov")
    s = clipped_surrogate(logp, old_logp, advantages, settings)
    picked = clip_cov_mask(logp, advantages.detach(), mask, opts["ratio"], opts["low"], opts["high"], generator,
                           exclude=s.clip_active)
    extra = {"policy/cov_selected_frac": float(masked_mean(picked.float(), mask))}
    return _result(s.per_token.masked_fill(picked, 0.0), s, mask, settings, normalisers, extra)


def kl_cov_policy_loss(logp: Tensor, old_logp: Tensor, advantages: Tensor, mask: Tensor, settings: LossSettings,
                       generator: torch.Generator | None = None, **normalisers: float | None):
    """KL-Cov (Cui et al. 2025): as in the paper and veRL, the plain surrogate ``-A r`` (no PPO clip) plus
    ``coef * |logp - old_logp|`` on the tokens from :func:`kl_cov_mask`. Options: ratio, coef."""
    opts = _options(settings.options, KL_COV_DEFAULTS, "kl_cov")
    s = clipped_surrogate(logp, old_logp, advantages, settings)
    picked = kl_cov_mask(logp, advantages.detach(), mask, opts["ratio"])
    per_token = s.unclipped + opts["coef"] * s.log_ratio.abs() * picked
    s.clip_active = s.dual_active = torch.zeros_like(s.clip_active)
    extra = {"policy/cov_selected_frac": float(masked_mean(picked.float(), mask))}
    return _result(per_token, s, mask, settings, normalisers, extra)

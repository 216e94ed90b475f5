"""Checks of the token-level tensor inputs shared by the torch metric functions (summaries, interference)."""

from __future__ import annotations

from torch import Tensor

from entropy_dynamics.metrics._checks import require, require_same_shape


def as_bool_mask(mask: Tensor, like: Tensor, name: str = "mask") -> Tensor:
    """Tensor[B, T] 0-1/bool ``mask`` of ``like``'s shape -> bool Tensor[B, T] on ``like``'s device."""
    require(isinstance(mask, Tensor), f"{name} must be a torch.Tensor, got {type(mask).__name__}")
    require_same_shape("entropy/logp", tuple(like.shape), name, tuple(mask.shape))
    return mask.to(device=like.device).bool()


def broadcast_rows(values: Tensor, like: Tensor, name: str) -> Tensor:
    """Tensor[B] or Tensor[B, T] -> detached Tensor[B, T] on ``like``'s device (a per-row value repeats over T)."""
    require(isinstance(values, Tensor), f"{name} must be a torch.Tensor, got {type(values).__name__}")
    values = values.detach().to(like.device)
    if values.dim() == 1:
        require(values.shape[0] == like.shape[0], f"{name} has {values.shape[0]} rows, expected {like.shape[0]}")
        values = values[:, None].expand_as(like)
    require_same_shape("entropy/logp", tuple(like.shape), name, tuple(values.shape))
    return values

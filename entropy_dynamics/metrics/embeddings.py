"""Per-sample response embeddings from hidden states (the representation SEAL and the separation metrics use)."""

from __future__ import annotations

import torch
from torch import Tensor

from entropy_dynamics.metrics._checks import require, require_same_shape


def response_embeddings(hidden: Tensor, mask: Tensor) -> Tensor:
    """Masked mean of hidden states over each sample's response tokens.

    Follow the SEAL code's alignment: the hidden state at position t predicts token t + 1, so for a
    Hugging Face model pass ``hidden_states[-1][:, :-1]`` with the action mask of ``input_ids[:, 1:]``.

    Args:
        hidden: Tensor[B, T, d] hidden states (any float dtype; gradient is kept).
        mask: Tensor[B, T] bool/0-1, true on the positions to average.

    Returns:
        Tensor[B, d] in fp32 (fp64 for fp64 input); rows without any masked position are NaN.
    """
    require(isinstance(hidden, Tensor) and hidden.dim() == 3, "hidden must be a Tensor[B, T, d]")
    require(hidden.is_floating_point(), f"hidden must be floating point, got {hidden.dtype}")
    require(isinstance(mask, Tensor), f"mask must be a torch.Tensor, got {type(mask).__name__}")
    require_same_shape("hidden[..., 0]", tuple(hidden.shape[:2]), "mask", tuple(mask.shape))
    dtype = torch.promote_types(hidden.dtype, torch.float32)
    weights = mask.to(device=hidden.device, dtype=dtype)
    sums = torch.bmm(weights[:, None, :], hidden.to(dtype)).squeeze(1)
    counts = weights.sum(dim=1, keepdim=True)
    return sums / counts

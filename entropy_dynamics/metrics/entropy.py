"""Token entropy and sampled-token log-probs from logits in one chunked pass.

The vocabulary softmax of ``rows x V`` logits is the largest tensor a diagnostics step can create
(8 x 1024 x 32,000 fp32 = 1 GiB per copy). Here it is computed ``chunk_size`` rows at a time, in at
least fp32, so at most one chunk of it exists at once. The backward pass recomputes each chunk's
softmax instead of keeping it (a custom autograd function), so training with these log-probs costs
one ``[rows, V]`` gradient buffer and nothing else of that size.

Entropy: ``H = -sum_v p_v log p_v`` with ``p = softmax(logits / temperature)``.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from entropy_dynamics.metrics._checks import require, require_same_shape

_LOG_FLOOR = -1e6


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """fp32 for half/bf16/fp32 logits, fp64 for fp64 logits."""
    return torch.promote_types(dtype, torch.float32)


def _check_logits(logits: Tensor, temperature: float, chunk_size: int) -> None:
    require(isinstance(logits, Tensor), f"logits must be a torch.Tensor, got {type(logits).__name__}")
    require(logits.is_floating_point(), f"logits must be floating point, got {logits.dtype}")
    require(
        logits.dim() >= 1 and logits.shape[-1] >= 1,
        f"logits need a vocabulary dimension, got {tuple(logits.shape)}",
    )
    require(float(temperature) > 0.0, f"temperature must be > 0, got {temperature}")
    require(int(chunk_size) >= 1, f"chunk_size must be >= 1, got {chunk_size}")


def _chunk_log_softmax(logits_chunk: Tensor, temperature: float) -> Tensor:
    """Tensor[R, V] -> log-softmax of ``logits_chunk / temperature`` in the compute dtype (a fresh buffer)."""
    z = logits_chunk.to(_compute_dtype(logits_chunk.dtype), copy=True)
    if temperature != 1.0:
        z.div_(temperature)
    z.sub_(torch.logsumexp(z, dim=-1, keepdim=True))
    # -inf logits (banned tokens) would give 0 * -inf = NaN in p log p; exp(-1e6) is already exactly 0.
    return z.clamp_(min=_LOG_FLOOR)


def _entropy_from_log_softmax(log_p: Tensor) -> Tensor:
    """Tensor[R, V] log-probs -> Tensor[R] entropy (one temporary buffer of the chunk's size)."""
    return -(log_p.exp().mul_(log_p)).sum(dim=-1)


class _ChunkedLogProbEntropy(torch.autograd.Function):
    """rows x V logits -> (log p of given ids, entropy), chunked forward and recomputing backward."""

    @staticmethod
    def forward(ctx, logits: Tensor, ids: Tensor, temperature: float, chunk_size: int, entropy_grad: bool):
        rows = logits.shape[0]
        out_dtype = _compute_dtype(logits.dtype)
        logp = torch.empty(rows, dtype=out_dtype, device=logits.device)
        entropy = torch.empty(rows, dtype=out_dtype, device=logits.device)
        for start in range(0, rows, chunk_size):
            stop = min(start + chunk_size, rows)
            log_p = _chunk_log_softmax(logits[start:stop], temperature)
            logp[start:stop] = log_p.gather(1, ids[start:stop, None]).squeeze(1)
            entropy[start:stop] = _entropy_from_log_softmax(log_p)
        ctx.save_for_backward(logits, ids, entropy)
        ctx.temperature = temperature
        ctx.chunk_size = chunk_size
        ctx.set_materialize_grads(False)
        if not entropy_grad:
            ctx.mark_non_differentiable(entropy)
        return logp, entropy

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_logp: Tensor | None, grad_entropy: Tensor | None):
        logits, ids, entropy = ctx.saved_tensors
        if grad_logp is None and grad_entropy is None:
            return None, None, None, None, None
        grad_logits = torch.empty_like(logits)
        for start in range(0, logits.shape[0], ctx.chunk_size):
            stop = min(start + ctx.chunk_size, logits.shape[0])
            log_p = _chunk_log_softmax(logits[start:stop], ctx.temperature)
            p = log_p.exp()
            # d logp_y / dz = e_y - p ;  dH / dz = -p * (log p + H)
            grad_z = log_p  # reuse the buffer
            if grad_entropy is not None:
                g_h = grad_entropy[start:stop, None].to(p.dtype)
                grad_z.add_(entropy[start:stop, None]).mul_(g_h)
            else:
                grad_z.zero_()
            if grad_logp is not None:
                g_lp = grad_logp[start:stop, None].to(p.dtype)
                grad_z.add_(g_lp)
                grad_z.mul_(p).neg_()
                grad_z.scatter_add_(1, ids[start:stop, None], g_lp)
            else:
                grad_z.mul_(p).neg_()
            grad_logits[start:stop] = grad_z.div_(ctx.temperature)
        return grad_logits, None, None, None, None


def token_logprobs_and_entropy(
    logits: Tensor,
    token_ids: Tensor,
    temperature: float = 1.0,
    chunk_size: int = 1024,
    entropy_grad: bool = False,
) -> tuple[Tensor, Tensor]:
    """Log-probability of the given tokens and the full-distribution entropy, in one chunked pass.

    Args:
        logits: Tensor[..., V], any float dtype; pass only the positions you need (contiguous),
            e.g. the action positions, to avoid a copy.
        token_ids: LongTensor[...] (same leading shape), the sampled tokens, in [0, V).
        temperature: the sampling temperature; logits are divided by it.
        chunk_size: rows of the ``[rows, V]`` softmax materialised at once.
        entropy_grad: let the entropy carry gradient (for an entropy bonus). Log-probs always carry
            gradient when ``logits`` does.

    Returns:
        (logp, entropy): two Tensor[...] in fp32 (fp64 for fp64 logits).
    """
    _check_logits(logits, temperature, chunk_size)
    require(isinstance(token_ids, Tensor), f"token_ids must be a torch.Tensor, got {type(token_ids).__name__}")
    require(not token_ids.is_floating_point(), f"token_ids must be integer, got {token_ids.dtype}")
    require_same_shape("logits[..., :-1]", tuple(logits.shape[:-1]), "token_ids", tuple(token_ids.shape))
    vocab = logits.shape[-1]
    flat_ids = token_ids.reshape(-1).to(device=logits.device, dtype=torch.long)
    if flat_ids.numel():
        low, high = int(flat_ids.min()), int(flat_ids.max())
        require(low >= 0 and high < vocab, f"token_ids must lie in [0, {vocab}), got values in [{low}, {high}]")
    logp, entropy = _ChunkedLogProbEntropy.apply(
        logits.reshape(-1, vocab), flat_ids, float(temperature), int(chunk_size), bool(entropy_grad)
    )
    lead = tuple(logits.shape[:-1])
    return logp.reshape(lead), entropy.reshape(lead)


def token_entropy(logits: Tensor, temperature: float = 1.0, chunk_size: int = 1024) -> Tensor:
    """Per-position entropy of ``softmax(logits / temperature)``, chunked, without gradient.

    Args:
        logits: Tensor[..., V], any float dtype.
        temperature: the sampling temperature.
        chunk_size: rows of the softmax materialised at once.

    Returns:
        Tensor[...] entropy in nats, in [0, log V]; fp32 (fp64 for fp64 logits). For an entropy
        that carries gradient use ``token_logprobs_and_entropy(..., entropy_grad=True)``.
    """
    _check_logits(logits, temperature, chunk_size)
    vocab = logits.shape[-1]
    flat = logits.detach().reshape(-1, vocab)
    entropy = torch.empty(flat.shape[0], dtype=_compute_dtype(flat.dtype), device=flat.device)
    with torch.no_grad():
        for start in range(0, flat.shape[0], int(chunk_size)):
            stop = min(start + int(chunk_size), flat.shape[0])
            entropy[start:stop] = _entropy_from_log_softmax(_chunk_log_softmax(flat[start:stop], float(temperature)))
    return entropy.reshape(logits.shape[:-1])

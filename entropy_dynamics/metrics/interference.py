"""Gradient interference on a parameter subset: between A > 0 and A < 0 tokens, and between loss terms.

Every function takes scalars or per-token tensors that still carry their graph and differentiates
them with ``torch.autograd.grad(..., retain_graph=True)``: the caller's forward pass is reused and its
graph stays intact for the training backward that follows. Gradients are only formed for ``params``
(default: LM head + last transformer block, or the LoRA parameters when the model has them).

Definitions (``docs/metrics.md``, after the paper's section 6.2), with N+ / N- the numbers of masked tokens
with A > 0 / A < 0::

    u+ = grad (1/N+) sum_{A>0} A log p        u- = grad (1/N-) sum_{A<0} A log p
    grad_cos_pos_neg          = cos(u+, u-)
    displacement_neg_on_pos   = < u-, grad (1/N+) sum_{A>0} log p >

The displacement is the first-order change, per unit learning rate, of the mean log-likelihood of
the A > 0 tokens caused by a gradient-ascent step on the A < 0 tokens' objective alone; negative
means the correction of wrong behaviour pushes correct behaviour down.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from entropy_dynamics.metrics._checks import require
from entropy_dynamics.metrics._tensors import as_bool_mask, broadcast_rows


def _last_block(model: nn.Module) -> nn.Module | None:
    """The last element of the model's longest ``nn.ModuleList`` (its stack of transformer blocks)."""
    stacks = [module for module in model.modules() if isinstance(module, nn.ModuleList) and len(module) > 0]
    if not stacks:
        return None
    return max(stacks, key=len)[-1]


def default_interference_params(model: nn.Module) -> list[nn.Parameter]:
    """The parameters interference is measured on.

    LoRA adapter parameters (names containing ``lora_``) when the model has trainable ones; otherwise
    the output embedding (LM head; with tied embeddings that is the shared embedding matrix) plus
    every parameter of the last transformer block. Only parameters with ``requires_grad``.
    """
    require(isinstance(model, nn.Module), f"model must be a torch.nn.Module, got {type(model).__name__}")
    lora = [param for name, param in model.named_parameters() if "lora_" in name and param.requires_grad]
    if lora:
        return lora
    modules: list[nn.Module] = []
    get_head = getattr(model, "get_output_embeddings", None)
    head = get_head() if callable(get_head) else None
    if head is not None:
        modules.append(head)
    block = _last_block(model)
    if block is not None:
        modules.append(block)
    params: list[nn.Parameter] = []
    seen: set[int] = set()
    for module in modules:
        for param in module.parameters():
            if param.requires_grad and id(param) not in seen:
                seen.add(id(param))
                params.append(param)
    require(
        bool(params),
        f"found no LM head, transformer block or LoRA parameters with requires_grad in "
        f"{type(model).__name__}; pass the parameters to measure explicitly",
    )
    return params


def _check_params(params: Sequence[Tensor]) -> list[Tensor]:
    params = list(params)
    require(bool(params), "params is empty: pass at least one parameter to differentiate")
    require(all(isinstance(p, Tensor) and p.requires_grad for p in params), "every param must require grad")
    return params


def _gradient(term: Tensor, params: list[Tensor]) -> list[Tensor]:
    """Scalar -> its gradient w.r.t. each param (zeros where the term does not depend on it)."""
    require(isinstance(term, Tensor) and term.numel() == 1, "each term must be a scalar tensor")
    if not term.requires_grad:
        return [torch.zeros_like(p) for p in params]
    grads = torch.autograd.grad(term.reshape(()), params, retain_graph=True, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads, strict=True)]


def _dot(grads_a: list[Tensor], grads_b: list[Tensor]) -> float:
    """Inner product of two gradients given as per-parameter lists (fp64 accumulation)."""
    parts = [torch.dot(a.reshape(-1).double(), b.reshape(-1).double()) for a, b in zip(grads_a, grads_b, strict=True)]
    return float(torch.stack(parts).sum())


def _cosine(dot_ab: float, norm_a: float, norm_b: float) -> float:
    if norm_a == 0.0 or norm_b == 0.0:
        return math.nan
    return max(-1.0, min(1.0, dot_ab / (norm_a * norm_b)))


def grad_cosine(term_a: Tensor, term_b: Tensor, params: Sequence[Tensor]) -> float:
    """Cosine between the gradients of two scalars w.r.t. ``params`` (NaN if either gradient is zero)."""
    params = _check_params(params)
    grad_a, grad_b = _gradient(term_a, params), _gradient(term_b, params)
    return _cosine(_dot(grad_a, grad_b), math.sqrt(_dot(grad_a, grad_a)), math.sqrt(_dot(grad_b, grad_b)))


def gradient_interference(logp: Tensor, advantages: Tensor, mask: Tensor, params: Sequence[Tensor]) -> dict[str, float]:
    """Interference between the policy-gradient of A > 0 tokens and of A < 0 tokens.

    Args:
        logp: Tensor[B, T] log-probabilities of the sampled tokens, with graph to ``params``.
        advantages: Tensor[B, T] or Tensor[B] advantages (no gradient taken through them).
        mask: Tensor[B, T] bool/0-1 action-token mask.
        params: the parameter subset (see ``default_interference_params``).

    Returns:
        ``interference/grad_cos_pos_neg``, ``interference/displacement_neg_on_pos``,
        ``interference/grad_norm_pos``, ``interference/grad_norm_neg``; all NaN when the batch has
        no A > 0 or no A < 0 token. Costs three backward passes through ``params``' part of the graph.
    """
    require(isinstance(logp, Tensor) and logp.dim() == 2, "logp must be a Tensor[B, T]")
    require(logp.requires_grad, "logp carries no gradient: compute it with grad enabled from the model")
    mask = as_bool_mask(mask, logp)
    params = _check_params(params)
    adv = broadcast_rows(advantages, logp, "advantages").to(logp.dtype)
    positive, negative = mask & (adv > 0), mask & (adv < 0)
    n_pos, n_neg = int(positive.sum()), int(negative.sum())
    keys = ("grad_cos_pos_neg", "displacement_neg_on_pos", "grad_norm_pos", "grad_norm_neg")
    if n_pos == 0 or n_neg == 0:
        return {f"interference/{key}": math.nan for key in keys}
    weighted = adv * logp
    u_pos = _gradient(weighted[positive].sum() / n_pos, params)
    u_neg = _gradient(weighted[negative].sum() / n_neg, params)
    likelihood_pos = _gradient(logp[positive].sum() / n_pos, params)
    norm_pos, norm_neg = math.sqrt(_dot(u_pos, u_pos)), math.sqrt(_dot(u_neg, u_neg))
    values = (
        _cosine(_dot(u_pos, u_neg), norm_pos, norm_neg),
        _dot(u_neg, likelihood_pos),
        norm_pos,
        norm_neg,
    )
    return {f"interference/{key}": value for key, value in zip(keys, values, strict=True)}


def loss_term_gradients(terms: Mapping[str, Tensor], params: Sequence[Tensor]) -> dict[str, float]:
    """Per-loss-term gradient norms and pairwise cosines on a parameter subset.

    Args:
        terms: ``{name: scalar loss term}`` from one forward pass, e.g. ``{"pg": ..., "seal": ...}``.
        params: the parameter subset.

    Returns:
        ``interference/grad_norm_<name>`` for each term and ``interference/grad_cos_<a>_<b>`` for each
        pair in the mapping's order (``grad_cos_pg_seal`` for the example). Cosines involving a zero
        gradient are NaN.
    """
    require(isinstance(terms, Mapping) and len(terms) >= 1, "terms must be a non-empty {name: scalar} mapping")
    params = _check_params(params)
    names = list(terms)
    grads = {name: _gradient(terms[name], params) for name in names}
    norms = {name: math.sqrt(_dot(grads[name], grads[name])) for name in names}
    out = {f"interference/grad_norm_{name}": norms[name] for name in names}
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            dot = _dot(grads[first], grads[second])
            out[f"interference/grad_cos_{first}_{second}"] = _cosine(dot, norms[first], norms[second])
    return out

"""One decode step of a Hugging Face causal LM: the model's own modules, without its top-level wrapper.

``lm(input_ids=..., attention_mask=...)`` does work at every call that one decode step does not need: it builds
the 4-D attention mask from the 2-D padding mask, runs the output-capturing and kwarg-checking wrappers and
builds output objects. On a small model that is ~40 % of a decode step (``benchmarks/probe_overheads.py``).
:func:`decode_step` runs the same modules in the same order (token embedding, rotary embedding, every decoder
layer, final norm, LM head) with the mask transformers itself would build, for the architectures whose top-level
forward is exactly that: Llama, Qwen2 and Qwen3 with full attention in every layer, eager or SDPA attention
(:func:`lean_decoding`). Any other model takes the ordinary call. The logits are the ordinary call's, bit for bit
(``tests/train/models/test_decode.py``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from entropy_dynamics.train.models.prompt_cache import CACHE_NAME

#: ``config.model_type`` of the architectures whose top-level forward is embed -> rotary -> layers -> norm -> head.
LEAN_TYPES = frozenset({"llama", "qwen2", "qwen3"})


def lean_decoding(lm: torch.nn.Module) -> bool:
    """Whether :func:`decode_step` may bypass ``lm``'s top-level forward (see the module docstring): a plain
    (not PEFT-wrapped) Llama, Qwen2 or Qwen3 with eager or SDPA attention, full attention in every layer and no
    logit soft-capping, under a transformers whose decoder layers take ``cache=`` and return the hidden states
    (5.2x, the versions tested; older ones keep the ordinary call)."""
    from transformers import PreTrainedModel

    if CACHE_NAME != "cache":  # transformers before 5.2x: other layer arguments and outputs, not tested here
        return False
    if not isinstance(lm, PreTrainedModel):  # a PEFT wrapper, a custom module
        return False
    config, base = lm.config, getattr(lm, "model", None)
    if base is None or getattr(config, "model_type", None) not in LEAN_TYPES:
        return False
    if getattr(config, "_attn_implementation", None) not in ("eager", "sdpa"):
        return False
    if not all(hasattr(base, name) for name in ("embed_tokens", "rotary_emb", "layers", "norm")):
        return False
    if not isinstance(getattr(lm, "lm_head", None), torch.nn.Linear) or getattr(base, "has_sliding_layers", False):
        return False
    full_attention = all(kind == "full_attention" for kind in getattr(config, "layer_types", None) or [])
    return full_attention and not getattr(config, "final_logit_softcapping", None)


def decode_mask(mask: Tensor, implementation: str, dtype: torch.dtype) -> Tensor | None:
    """The 4-D mask transformers builds for one decode step (one query per row, no position after it):
    eager: additive ``[B, 1, 1, L]`` (0 where attended, the dtype's minimum elsewhere); SDPA: boolean ``[B, 1, 1, L]``,
    or None when every position is attended.

    mask: Tensor[B, L], 1 on the positions a row attends (its prompt, its reply so far and this token)."""
    attended = mask.bool()[:, None, None, :]
    if implementation == "sdpa":
        return None if bool(attended.all()) else attended
    zero = torch.zeros((), dtype=dtype, device=mask.device)
    return torch.where(attended, zero, torch.finfo(dtype).min)


def decode_step(lm: torch.nn.Module, token: Tensor, mask: Tensor, position: Tensor, cache, lean: bool) -> tuple:
    """(logits Tensor[B, V] of the next token, the cache) after one decode step.

    token: LongTensor[B] the tokens to feed; mask: Tensor[B, L] 1 on attended positions, this token's included;
    position: LongTensor[B] their position ids; cache: the KV cache (``lean``: updated in place, returned as is);
    lean: :func:`lean_decoding` of ``lm`` (False = the ordinary ``lm(...)`` call)."""
    if not lean:
        out = lm(input_ids=token[:, None], attention_mask=mask, position_ids=position[:, None], use_cache=True,
                 **{CACHE_NAME: cache})
        return out.logits[:, -1], getattr(out, CACHE_NAME)
    base = lm.model
    positions = position[:, None]
    hidden = base.embed_tokens(token[:, None])
    rotary = base.rotary_emb(hidden, positions)
    attention = decode_mask(mask, lm.config._attn_implementation, hidden.dtype)
    for layer in base.layers[: lm.config.num_hidden_layers]:
        hidden = layer(hidden, attention_mask=attention, position_embeddings=rotary, position_ids=positions,
                       use_cache=True, **{CACHE_NAME: cache})
    return lm.lm_head(base.norm(hidden)[:, -1]), cache

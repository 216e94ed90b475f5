"""Batched sampling with a KV cache, recording each sampled token's log-prob and the full entropy.

Our own loop instead of ``generate``: the log-probs and entropies at the rollout temperature come out
of the sampling forward itself, so no second "old policy" forward is needed. The prompts are encoded by
:func:`~entropy_dynamics.train.models.prompt_cache.encode_prompts` (the common prefix once, each distinct prompt
once; ``shared_prompts=False`` runs every prompt in full, the reference path), and a reply that ends
leaves the batch (per-sequence stopping): later decode steps run only the live rows.

The random stream is the same either way: every decode step draws one uniform number for every row of the
batch (a finished row's draw is discarded) and picks the token by inverse-CDF (:func:`draw_tokens`), so a seed
gives the same replies whichever path encodes the prompts (up to float rounding of the probabilities). The
cache of the decode loop is preallocated (:func:`~entropy_dynamics.train.models.prompt_cache.with_room`):
each step writes its keys and values in place, and runs the model's modules without its top-level wrapper where
that gives the same logits (:func:`~entropy_dynamics.train.models.decode.decode_step`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from entropy_dynamics.metrics.entropy import token_logprobs_and_entropy
from entropy_dynamics.train.models.decode import decode_step, lean_decoding
from entropy_dynamics.train.models.prompt_cache import (
    PrefixMemo,
    encode_padded,
    encode_prompts,
    select_rows,
    with_room,
)


def draw_tokens(probs: Tensor, uniform: Tensor) -> Tensor:
    """Inverse-CDF sampling: for each row the token whose cumulative-probability interval holds
    ``uniform * total`` (one uniform number per row, where ``torch.multinomial`` draws one per vocabulary
    entry). Tokens of zero probability are never drawn.

    probs: Tensor[B, V] (rows need not sum to exactly 1); uniform: Tensor[B] in [0, 1) -> LongTensor[B]."""
    cdf = probs.cumsum(-1)
    target = (uniform.to(cdf.dtype) * cdf[:, -1])[:, None]
    return torch.searchsorted(cdf, target, right=True).squeeze(-1).clamp(max=probs.shape[-1] - 1)


@dataclass
class Sampled:
    """Replies of one batch. ``tokens``/``logp``/``entropy``: Tensor[B, T] (right-padded, on CPU);
    ``lengths``: LongTensor[B] reply lengths (eos included when produced); ``truncated``: BoolTensor[B];
    ``prompt_tokens``: prompt tokens the model actually ran (after sharing)."""

    tokens: Tensor
    logp: Tensor
    entropy: Tensor
    lengths: Tensor
    truncated: Tensor
    prompt_tokens: int = 0


@torch.no_grad()
def sample_replies(
    lm: torch.nn.Module,
    prompts: list[list[int]],
    *,
    eos_id: int,
    pad_id: int,
    max_new_tokens: int,
    temperature: float,
    generator: torch.Generator,
    shared_prompts: bool = True,
    prefix_memo: PrefixMemo | None = None,
) -> Sampled:
    """Sample one reply per prompt (stops at ``eos_id`` or ``max_new_tokens``).

    Sampling draws from ``softmax(logits / temperature)`` with ``generator`` (on CPU, so runs are
    reproducible across devices); ``logp``/``entropy`` are of that same tempered distribution.
    ``prefix_memo`` keeps the common prefix's KV cache between calls (one rollout's turns).
    """
    enc = (encode_prompts(lm, prompts, pad_id, prefix_memo=prefix_memo) if shared_prompts
           else encode_padded(lm, prompts, pad_id))
    device = enc.mask.device
    batch = len(prompts)
    out_tok = torch.full((batch, max_new_tokens), pad_id, dtype=torch.long)
    out_logp = torch.zeros((batch, max_new_tokens))
    out_ent = torch.zeros((batch, max_new_tokens))
    done = torch.zeros(batch, dtype=torch.bool)
    lengths = torch.zeros(batch, dtype=torch.long)
    rows = torch.arange(batch)  # the batch row of each cache row still decoding
    lean = lean_decoding(lm)  # one decode step without the model's top-level wrapper (same logits)
    cache = with_room(enc.cache, max_new_tokens)
    width_k = enc.mask.shape[1]
    mask = torch.cat([enc.mask, torch.zeros((batch, max_new_tokens), dtype=enc.mask.dtype, device=device)], dim=1)
    position, logits = enc.next_position, enc.last_logits.float()
    for t in range(max_new_tokens):
        uniform = torch.rand(batch, generator=generator)[rows]  # one draw per row, finished rows' discarded
        token = draw_tokens(torch.softmax(logits / temperature, dim=-1), uniform.to(device)).cpu()
        logp, ent = token_logprobs_and_entropy(logits, token.to(device), temperature=temperature)
        out_tok[rows, t] = token
        out_logp[rows, t] = logp.cpu()
        out_ent[rows, t] = ent.cpu()
        lengths[rows] += 1
        ended = token == eos_id
        done[rows[ended]] = True
        if bool(done.all()) or t == max_new_tokens - 1:
            break
        if bool(ended.any()):  # per-sequence stopping: finished replies leave the batch
            keep = (~ended).nonzero().squeeze(-1)
            cache = select_rows(cache, keep.to(device))
            rows, token, mask, position = rows[keep], token[keep], mask[keep.to(device)], position[keep.to(device)]
        mask[:, width_k + t] = 1
        logits, cache = decode_step(lm, token.to(device), mask[:, : width_k + t + 1], position, cache, lean)
        position = position + 1
        logits = logits.float()
    width = int(lengths.max())
    return Sampled(out_tok[:, :width], out_logp[:, :width], out_ent[:, :width], lengths, ~done,
                   prompt_tokens=enc.encoded_tokens)

"""Batched sampling with a KV cache, recording each sampled token's log-prob and the full entropy.

Our own loop instead of ``generate``: the log-probs and entropies at the rollout temperature come out
of the sampling forward itself, so no second "old policy" forward is needed; left padding and
``position_ids = cumsum(mask) - 1`` make a padded prompt behave exactly like an unpadded one.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from transformers.modeling_outputs import CausalLMOutputWithPast

from entropy_dynamics.metrics.entropy import token_logprobs_and_entropy

#: transformers >= 5.2x names the KV cache ``cache`` (argument and output); older versions ``past_key_values``.
CACHE_NAME = "cache" if "cache" in CausalLMOutputWithPast.__dataclass_fields__ else "past_key_values"


@dataclass
class Sampled:
    """Replies of one batch. ``tokens``/``logp``/``entropy``: Tensor[B, T] (right-padded, on CPU);
    ``lengths``: LongTensor[B] reply lengths (eos included when produced); ``truncated``: BoolTensor[B]."""

    tokens: Tensor
    logp: Tensor
    entropy: Tensor
    lengths: Tensor
    truncated: Tensor


def left_pad(seqs: list[list[int]], pad_id: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """(ids[B, L], mask[B, L]) with every sequence flush right."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        if s:
            ids[i, width - len(s):] = torch.tensor(s, dtype=torch.long)
            mask[i, width - len(s):] = 1
    return ids.to(device), mask.to(device)


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
) -> Sampled:
    """Sample one reply per prompt (stops at ``eos_id`` or ``max_new_tokens``).

    Sampling draws from ``softmax(logits / temperature)`` with ``generator`` (on CPU, so runs are
    reproducible across devices); ``logp``/``entropy`` are of that same tempered distribution.
    """
    device = next(lm.parameters()).device
    ids, mask = left_pad(prompts, pad_id, device)
    batch = ids.shape[0]
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    out_tok = torch.full((batch, max_new_tokens), pad_id, dtype=torch.long)
    out_logp = torch.zeros((batch, max_new_tokens))
    out_ent = torch.zeros((batch, max_new_tokens))
    done = torch.zeros(batch, dtype=torch.bool)
    lengths = torch.zeros(batch, dtype=torch.long)
    cache = None
    step_ids, step_pos = ids, positions
    for t in range(max_new_tokens):
        out = lm(input_ids=step_ids, attention_mask=mask, position_ids=step_pos, use_cache=True, logits_to_keep=1,
                 **{CACHE_NAME: cache})
        cache = getattr(out, CACHE_NAME)
        logits = out.logits[:, -1, :].float()
        probs = torch.softmax(logits / temperature, dim=-1).cpu()
        token = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
        logp, ent = token_logprobs_and_entropy(logits, token.to(logits.device), temperature=temperature)
        live = ~done
        out_tok[live, t] = token[live]
        out_logp[live, t] = logp.cpu()[live]
        out_ent[live, t] = ent.cpu()[live]
        lengths += live.long()
        done |= token == eos_id
        if bool(done.all()):
            break
        step_ids = token.to(device).unsqueeze(-1)
        step_pos = step_pos[:, -1:] + 1
        mask = torch.cat([mask, torch.ones((batch, 1), dtype=mask.dtype, device=device)], dim=-1)
    return Sampled(out_tok[:, : int(lengths.max())], out_logp[:, : int(lengths.max())],
                   out_ent[:, : int(lengths.max())], lengths, ~done)

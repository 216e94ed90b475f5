"""Encode a batch of prompts once each, then reuse their KV cache for every reply that follows them.

Within one step many prompts repeat: every turn of every trajectory starts with the same system prompt, and
the trajectories of a group often share whole prompts (same game, same first actions). :func:`encode_prompts`

1. runs the prefix common to all prompts once (one row; its KV cache is expanded, not recomputed);
2. runs each *distinct* prompt's remainder once (rows left-padded after the prefix; masked pads in the
   middle of a sequence behave exactly like absent tokens, as ``position_ids = cumsum(mask) - 1``);
3. indexes the cache rows back to one row per prompt.

Every prompt token then attends to exactly the tokens it attends to when the prompt is run alone, so
logits agree with the per-prompt forward up to float rounding, and gradients flow through the shared
rows (the expand and index are differentiable): the update gets the same gradient from fewer tokens.
:func:`forward_replies` adds the replies (teacher-forced) on top of the encoded prompts, for the update.

Shapes: ``B`` prompts, ``U`` distinct prompts, ``K`` cached positions (prefix + padded remainder),
``T`` reply tokens, ``V`` vocabulary, ``d`` hidden size.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer
from transformers.modeling_outputs import CausalLMOutputWithPast

#: transformers >= 5.2x names the KV cache ``cache`` (argument and output); older versions ``past_key_values``.
CACHE_NAME = "cache" if "cache" in CausalLMOutputWithPast.__dataclass_fields__ else "past_key_values"
#: A prefix's KV cache per layer, kept between calls by its token ids.
PrefixMemo = dict[tuple[int, ...], list[tuple[Tensor, Tensor]]]


@dataclass
class EncodedPrompts:
    """The KV cache of B prompts and what the next position needs."""

    cache: DynamicCache  # B rows, K positions
    mask: Tensor  # LongTensor[B, K]: 1 on prompt tokens
    next_position: Tensor  # LongTensor[B]: each prompt's length (the position of the token after it)
    last_logits: Tensor  # Tensor[B, V]: the logits after the last prompt token
    last_hidden: Tensor | None  # Tensor[B, d]: the final hidden state at the last prompt token (if asked)
    distinct: int  # U
    encoded_tokens: int  # prompt tokens actually run through the model


def common_prefix_length(seqs: list[tuple[int, ...]]) -> int:
    """Length of the longest token prefix every sequence starts with."""
    shortest = min(len(s) for s in seqs)
    if len(seqs) == 1:
        return shortest
    rows = torch.tensor([s[:shortest] for s in seqs], dtype=torch.long)
    differs = (rows != rows[:1]).any(dim=0)
    return int(differs.nonzero()[0, 0]) if bool(differs.any()) else shortest


def distinct_rows(prompts: list[list[int]]) -> tuple[list[tuple[int, ...]], Tensor]:
    """(the distinct prompts in first-seen order, LongTensor[B] index of each prompt among them)."""
    slot: dict[tuple[int, ...], int] = {}
    inverse = [slot.setdefault(tuple(p), len(slot)) for p in prompts]
    return list(slot), torch.tensor(inverse, dtype=torch.long)


def cache_from(layers: list[tuple[Tensor, Tensor]]) -> DynamicCache:
    return DynamicCache(ddp_cache_data=layers)


def cache_layers(cache: DynamicCache) -> list[tuple[Tensor, Tensor]]:
    return [(layer.keys, layer.values) for layer in cache.layers]


def select_rows(cache: DynamicCache, index: Tensor) -> DynamicCache:
    """A new cache holding rows ``index`` of ``cache`` (differentiable; a :class:`RoomyLayer` cache keeps its
    room)."""
    if cache.layers and isinstance(cache.layers[0], RoomyLayer):
        return _cache_of([layer.rows(index) for layer in cache.layers])  # type: ignore[attr-defined]
    return cache_from([(k[index], v[index]) for k, v in cache_layers(cache)])


class RoomyLayer(DynamicLayer):
    """A cache layer whose keys and values sit in buffers with room for more positions, so that appending a
    decode step writes in place instead of concatenating (``DynamicLayer`` copies the whole cache of every layer
    at every step). ``keys``/``values`` are views ``[B, H, length, D]`` of the buffers ``[B, H, capacity, D]``.
    For no-grad decoding only: in-place writes would break autograd."""

    def __init__(self, keys: Tensor, values: Tensor, room: int) -> None:
        super().__init__()
        batch, heads, length, dim = keys.shape
        self._keys = keys.new_empty((batch, heads, length + room, dim))
        self._values = values.new_empty((batch, heads, length + room, values.shape[-1]))
        self._keys[:, :, :length] = keys
        self._values[:, :, :length] = values
        self._length = length
        self.lazy_initialization(keys, values)
        self._view()

    def _view(self) -> None:
        self.keys = self._keys[:, :, : self._length]
        self.values = self._values[:, :, : self._length]

    def update(self, key_states: Tensor, value_states: Tensor, *args, **kwargs) -> tuple[Tensor, Tensor]:
        new = key_states.shape[-2]
        if self._length + new > self._keys.shape[-2]:  # out of room: grow by doubling
            grown = RoomyLayer(self.keys, self.values, max(new, self._length))
            self._keys, self._values = grown._keys, grown._values
        self._keys[:, :, self._length: self._length + new] = key_states
        self._values[:, :, self._length: self._length + new] = value_states
        self._length += new
        self._view()
        return self.keys, self.values

    def rows(self, index: Tensor) -> RoomyLayer:
        """A layer holding rows ``index`` (room kept)."""
        layer = RoomyLayer.__new__(RoomyLayer)
        DynamicLayer.__init__(layer)
        layer._keys, layer._values, layer._length = self._keys[index], self._values[index], self._length
        layer.lazy_initialization(layer._keys, layer._values)
        layer._view()
        return layer


def with_room(cache: DynamicCache, room: int) -> DynamicCache:
    """A copy of ``cache`` whose layers have room for ``room`` more positions (see :class:`RoomyLayer`)."""
    return _cache_of([RoomyLayer(k, v, room) for k, v in cache_layers(cache)])


def _cache_of(layers: list[RoomyLayer]) -> DynamicCache:
    cache = DynamicCache()
    cache.layers = list(layers)
    return cache


#: What one more forward call costs, in padded tokens, when :func:`length_buckets` splits prompts by length
#: (a call of the tiny preset costs ~2-3 ms of fixed overhead on a CPU core, a token ~50 us forward + backward).
BUCKET_OVERHEAD_TOKENS = 48


def length_buckets(lengths: list[int], overhead: int | None = None) -> list[list[int]]:
    """Split rows into groups of similar length, each run as its own left-padded batch: the grouping of the
    rows sorted by length that minimises padded tokens (rows x longest, summed over groups) + ``overhead``
    (default :data:`BUCKET_OVERHEAD_TOKENS`) per group (dynamic programming over the sorted order, O(n^2)).
    Returns row indices per group, shortest group first."""
    overhead = BUCKET_OVERHEAD_TOKENS if overhead is None else overhead
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    sizes = [lengths[i] for i in order]
    best = [0.0] + [float("inf")] * len(sizes)  # best[j]: cost of the first j sorted rows
    cut = [0] * (len(sizes) + 1)
    for j in range(1, len(sizes) + 1):
        for i in range(j):  # group = sorted rows i..j-1, padded to sizes[j - 1]
            cost = best[i] + (j - i) * sizes[j - 1] + overhead
            if cost < best[j]:
                best[j], cut[j] = cost, i
    groups, j = [], len(sizes)
    while j > 0:
        groups.append(order[cut[j]:j])
        j = cut[j]
    return groups[::-1]


def _pad_between(layers: list[tuple[Tensor, Tensor]], at: int, room: int) -> list[tuple[Tensor, Tensor]]:
    """Insert ``room`` zero positions at position ``at`` of every layer's keys and values (masked pads)."""
    if room == 0:
        return layers
    out = []
    for k, v in layers:
        pad_k = k.new_zeros((*k.shape[:2], room, k.shape[-1]))
        pad_v = v.new_zeros((*v.shape[:2], room, v.shape[-1]))
        out.append((torch.cat([k[:, :, :at], pad_k, k[:, :, at:]], dim=2),
                    torch.cat([v[:, :, :at], pad_v, v[:, :, at:]], dim=2)))
    return out


def encode_prompts(lm: torch.nn.Module, prompts: list[list[int]], pad_id: int, *, need_hidden: bool = False,
                   prefix_memo: PrefixMemo | None = None) -> EncodedPrompts:
    """Run B non-empty prompts through ``lm`` (common prefix once, each distinct prompt once).

    The distinct remainders run in groups of similar length (:func:`length_buckets`), so a short prompt is not
    padded to the longest one; their caches are then padded with masked positions to one width.
    ``prefix_memo`` (no-grad callers only) keeps the prefix's KV cache across calls, so a prefix shared by
    several calls (the system prompt, turn after turn) is encoded once."""
    device = next(lm.parameters()).device
    distinct, inverse = distinct_rows(prompts)
    n_distinct = len(distinct)
    shared = min(common_prefix_length(distinct), min(len(p) for p in distinct) - 1)  # >= 1 token left per row
    prefix_layers = None
    encoded = 0
    if shared > 0:
        prefix = distinct[0][:shared]
        prefix_layers = prefix_memo.get(prefix) if prefix_memo is not None else None
        if prefix_layers is None:
            out = lm(input_ids=torch.tensor([prefix], device=device),
                     position_ids=torch.arange(shared, device=device)[None], use_cache=True, logits_to_keep=1)
            prefix_layers = cache_layers(getattr(out, CACHE_NAME))
            encoded += shared
            if prefix_memo is not None:
                prefix_memo[prefix] = prefix_layers
    rest = [p[shared:] for p in distinct]
    width = max(len(r) for r in rest)
    _, rest_mask = left_pad(rest, pad_id)
    mask = torch.cat([torch.ones((n_distinct, shared), dtype=torch.long), rest_mask], dim=1).to(device)
    encoded += int(rest_mask.sum())
    layers_parts, logits_parts, hidden_parts, rows_done = [], [], [], []
    for rows in length_buckets([len(r) for r in rest]):
        ids, part_mask = left_pad([rest[i] for i in rows], pad_id)
        part_mask = torch.cat([torch.ones((len(rows), shared), dtype=torch.long), part_mask], dim=1).to(device)
        past = None if prefix_layers is None else cache_from(
            [(k.expand(len(rows), -1, -1, -1), v.expand(len(rows), -1, -1, -1)) for k, v in prefix_layers])
        out = lm(input_ids=ids.to(device), attention_mask=part_mask,
                 position_ids=(part_mask.cumsum(-1) - 1).clamp(min=0)[:, shared:], use_cache=True, logits_to_keep=1,
                 output_hidden_states=need_hidden, **{CACHE_NAME: past})
        layers_parts.append(_pad_between(cache_layers(getattr(out, CACHE_NAME)), shared, width - ids.shape[1]))
        logits_parts.append(out.logits[:, -1])
        hidden_parts.append(out.hidden_states[-1][:, -1] if need_hidden else None)
        rows_done += rows
    if len(layers_parts) == 1:
        cache = cache_from(layers_parts[0])
        last_logits, last_hidden = logits_parts[0], hidden_parts[0]
    else:
        cache = cache_from([(torch.cat([part[n][0] for part in layers_parts]),
                             torch.cat([part[n][1] for part in layers_parts])) for n in range(len(layers_parts[0]))])
        last_logits = torch.cat(logits_parts)
        last_hidden = torch.cat(hidden_parts) if need_hidden else None
    # rows of the encoded batch -> one row per prompt
    slot = torch.empty(n_distinct, dtype=torch.long)
    slot[torch.tensor(rows_done, dtype=torch.long)] = torch.arange(n_distinct)
    index = slot[inverse].to(device)
    identity = len(prompts) == n_distinct and bool((index == torch.arange(n_distinct, device=device)).all())
    return EncodedPrompts(
        cache=cache if identity else select_rows(cache, index), mask=mask[inverse.to(device)],
        next_position=mask.sum(-1)[inverse.to(device)], last_logits=last_logits[index],
        last_hidden=last_hidden[index] if need_hidden else None, distinct=n_distinct, encoded_tokens=encoded,
    )


def left_pad(seqs: list[list[int]], pad_id: int) -> tuple[Tensor, Tensor]:
    """(ids[B, L], mask[B, L]) with every sequence flush right."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        if s:
            ids[i, width - len(s):] = torch.tensor(s, dtype=torch.long)
            mask[i, width - len(s):] = 1
    return ids, mask


def encode_padded(lm: torch.nn.Module, prompts: list[list[int]], pad_id: int, *,
                  need_hidden: bool = False) -> EncodedPrompts:
    """The reference path of :func:`encode_prompts`: every prompt run in full, left-padded to the longest."""
    device = next(lm.parameters()).device
    ids, mask = left_pad(prompts, pad_id)
    ids, mask = ids.to(device), mask.to(device)
    out = lm(input_ids=ids, attention_mask=mask, position_ids=(mask.cumsum(-1) - 1).clamp(min=0), use_cache=True,
             logits_to_keep=1, output_hidden_states=need_hidden)
    return EncodedPrompts(cache=getattr(out, CACHE_NAME), mask=mask, next_position=mask.sum(-1),
                          last_logits=out.logits[:, -1], distinct=len(prompts), encoded_tokens=int(mask.sum()),
                          last_hidden=out.hidden_states[-1][:, -1] if need_hidden else None)


def forward_replies(lm: torch.nn.Module, prompts: list[list[int]], response: Tensor, response_mask: Tensor,
                    pad_id: int, *, need_hidden: bool = False) -> tuple[Tensor, Tensor | None, Tensor | None, int]:
    """Teacher-forced replies after their prompts: (logits[B, T, V] predicting each reply token,
    hidden[B, T, d] final states AT the reply tokens | None, hidden state at the last prompt token | None,
    tokens run through the model).

    ``response``: LongTensor[B, T] right-padded replies; ``response_mask``: [B, T], 1 on reply tokens."""
    enc = encode_prompts(lm, prompts, pad_id, need_hidden=need_hidden)
    width_t = response.shape[1]
    mask = torch.cat([enc.mask, response_mask.to(enc.mask.dtype)], dim=1)
    positions = enc.next_position[:, None] + torch.arange(width_t, device=response.device)[None]
    out = lm(input_ids=response, attention_mask=mask, position_ids=positions, use_cache=True,
             output_hidden_states=need_hidden, **{CACHE_NAME: enc.cache})
    logits = torch.cat([enc.last_logits[:, None], out.logits[:, :-1]], dim=1)
    hidden = out.hidden_states[-1] if need_hidden else None
    return logits, hidden, enc.last_hidden, enc.encoded_tokens + int(response_mask.sum())


def containing_rows(seqs: list[list[int]]) -> tuple[list[int], Tensor]:
    """(indices of the sequences kept, LongTensor[B] the kept row each sequence is a prefix of): a sequence
    that starts another (an earlier turn of the same conversation) is not run on its own."""
    kept: list[int] = []
    row = [0] * len(seqs)
    for i in sorted(range(len(seqs)), key=lambda i: -len(seqs[i])):
        s = seqs[i]
        row[i] = next((r for r, k in enumerate(kept) if seqs[k][: len(s)] == s), len(kept))
        if row[i] == len(kept):
            kept.append(i)
    return kept, torch.tensor(row, dtype=torch.long)


def forward_contained(lm: torch.nn.Module, prompts: list[list[int]], responses: list[Tensor], width_t: int,
                      pad_id: int, *, need_hidden: bool = False) -> tuple[Tensor, Tensor | None, int]:
    """Samples whose prompt + reply starts a longer sample's (the turns of one conversation) read their
    logits and states off that sample's forward: (logits[B, T, V] predicting each reply token, final hidden
    states[B, T + 1, d] from the last prompt token to the end of the reply | None, tokens run).

    Positions past a reply's end are clamped (masked by the caller). The LM head runs on the reply positions
    alone (``get_output_embeddings`` on the final hidden states: no logit soft-capping models)."""
    device = next(lm.parameters()).device
    seqs = [[*p, *r.tolist()] for p, r in zip(prompts, responses, strict=True)]
    kept, row = containing_rows(seqs)
    width = max(len(seqs[k]) for k in kept)
    ids = torch.full((len(kept), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(kept), width), dtype=torch.long)
    for r, k in enumerate(kept):
        ids[r, : len(seqs[k])] = torch.tensor(seqs[k], dtype=torch.long)
        mask[r, : len(seqs[k])] = 1
    ids, mask = ids.to(device), mask.to(device)
    out = lm(input_ids=ids, attention_mask=mask, position_ids=(mask.cumsum(-1) - 1).clamp(min=0),
             output_hidden_states=True, logits_to_keep=1, use_cache=False)
    start = torch.tensor([len(p) - 1 for p in prompts], device=device)
    at = (start[:, None] + torch.arange(width_t + 1, device=device)[None]).clamp(max=width - 1)
    hidden = out.hidden_states[-1][row.to(device)[:, None], at]  # final (normed) states, as the LM head reads them
    logits = lm.get_output_embeddings()(hidden[:, :-1])  # the head on reply positions only
    return logits, (hidden if need_hidden else None), int(mask.sum())

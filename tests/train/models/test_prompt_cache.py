"""Shared-prompt encoding: the same logits, states and gradients as running every prompt in full."""

from __future__ import annotations

import pytest
import torch

from entropy_dynamics.train.models.prompt_cache import (
    common_prefix_length,
    containing_rows,
    distinct_rows,
    encode_padded,
    encode_prompts,
    forward_replies,
    length_buckets,
)
from entropy_dynamics.train.run.batching import pad_prompt_response
from tests.train.conftest import tiny_model


def _prompts(vocab: int) -> list[list[int]]:
    """Four prompts: a 12-token common prefix, two of them identical, one only a token longer than it."""
    gen = torch.Generator().manual_seed(0)
    prefix = torch.randint(10, vocab, (12,), generator=gen).tolist()
    a, b = (prefix + torch.randint(10, vocab, (n,), generator=gen).tolist() for n in (5, 9))
    return [a, b, a, [*prefix, 11]]


def _uneven_prompts(vocab: int) -> list[list[int]]:
    """Five prompts after an 8-token prefix whose remainders (3, 90, 4, 85, 3 again) fall in two length groups."""
    gen = torch.Generator().manual_seed(2)
    prefix = torch.randint(10, vocab, (8,), generator=gen).tolist()
    short, long_a, short_b, long_b = (prefix + torch.randint(10, vocab, (n,), generator=gen).tolist()
                                      for n in (3, 90, 4, 85))
    return [short, long_a, short_b, long_b, short]


def test_length_buckets_trade_padding_for_calls():
    assert length_buckets([3, 90, 4, 85], overhead=48) == [[0, 2], [3, 1]]  # 8 + 180 + 96 < 4 x 90 + 48
    assert length_buckets([5, 9, 1], overhead=48) == [[2, 0, 1]]  # one call: 3 x 9 + 48 < any split
    assert length_buckets([7], overhead=0) == [[0]] and length_buckets([], overhead=5) == []
    assert length_buckets([2, 4, 6], overhead=0) == [[0], [1], [2]]  # free calls: no padding at all


def test_common_prefix_and_distinct_rows():
    assert common_prefix_length([(1, 2, 3), (1, 2, 4), (1, 2)]) == 2
    assert common_prefix_length([(5, 6)]) == 2
    assert common_prefix_length([(1,), (2,)]) == 0
    distinct, inverse = distinct_rows([[1, 2], [3], [1, 2], [3], [4]])
    assert distinct == [(1, 2), (3,), (4,)] and inverse.tolist() == [0, 1, 0, 1, 2]


def test_encoded_prompts_match_the_padded_forward_and_run_fewer_tokens():
    _, policy, tok = tiny_model()
    lm = policy.lm.eval()
    prompts = _prompts(len(tok))
    memo = {}
    with torch.no_grad():
        shared = encode_prompts(lm, prompts, tok.pad_token_id, need_hidden=True, prefix_memo=memo)
        again = encode_prompts(lm, prompts, tok.pad_token_id, need_hidden=True, prefix_memo=memo)
        full = encode_padded(lm, prompts, tok.pad_token_id, need_hidden=True)
    torch.testing.assert_close(shared.last_logits, full.last_logits, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(shared.last_hidden, full.last_hidden, atol=1e-5, rtol=1e-5)
    assert shared.next_position.tolist() == [len(p) for p in prompts]
    assert shared.distinct == 3
    # the prefix once (12), then the distinct remainders (5 + 9 + 1): 27 of the 61 prompt tokens
    assert shared.encoded_tokens == 12 + 5 + 9 + 1 and full.encoded_tokens == sum(len(p) for p in prompts)
    assert again.encoded_tokens == 5 + 9 + 1  # the memo holds the prefix
    torch.testing.assert_close(again.last_logits, shared.last_logits)


@pytest.mark.parametrize("uneven", [False, True], ids=["one-length-group", "two-length-groups"])
def test_replies_after_shared_prompts_give_the_full_forward_logits_states_and_gradients(uneven):
    _, policy, tok = tiny_model()
    lm = policy.lm
    prompts = _uneven_prompts(len(tok)) if uneven else _prompts(len(tok))
    gen = torch.Generator().manual_seed(1)
    responses = [torch.randint(10, len(tok), (n,), generator=gen) for n in (3, 6, 4, 1, 5)[: len(prompts)]]
    ids, attention, positions, width_p, response, mask = pad_prompt_response(prompts, responses, tok.pad_token_id)
    weights = torch.randn((*response.shape, len(tok)), generator=gen)

    def grads(loss):
        lm.zero_grad(set_to_none=True)
        loss.backward()
        return {n: p.grad.clone() for n, p in lm.named_parameters() if p.grad is not None}

    out = lm(input_ids=ids, attention_mask=attention, position_ids=positions, logits_to_keep=response.shape[1] + 1,
             output_hidden_states=True)
    ref_logits, ref_hidden = out.logits[:, :-1], out.hidden_states[-1]
    on_reply = mask[..., None]
    ref_grads = grads((ref_logits * weights * on_reply).sum() + (ref_hidden[:, width_p:] * on_reply).sum())
    logits, hidden, last, tokens = forward_replies(lm, prompts, response, mask.long(), tok.pad_token_id,
                                                   need_hidden=True)
    on = mask.bool()
    torch.testing.assert_close(logits[on], ref_logits[on], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(hidden[on], ref_hidden[:, width_p:][on], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(last, ref_hidden[:, width_p - 1], atol=1e-5, rtol=1e-5)
    assert tokens == (8 + 3 + 90 + 4 + 85 if uneven else 27) + int(mask.sum())
    new_grads = grads((logits * weights * mask[..., None]).sum() + (hidden * mask[..., None]).sum())
    assert new_grads.keys() == ref_grads.keys()
    for name, grad in ref_grads.items():
        torch.testing.assert_close(new_grads[name], grad, atol=1e-4, rtol=1e-4)


def test_containing_rows_keeps_only_sequences_no_other_one_starts_with():
    kept, row = containing_rows([[1, 2], [1, 2, 3, 4], [5], [1, 2, 3], [5, 6], [2]])
    assert kept == [1, 4, 5]
    assert row.tolist() == [0, 0, 1, 0, 1, 2]

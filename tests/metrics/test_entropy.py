"""token_entropy / token_logprobs_and_entropy against a naive full-softmax reference."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from entropy_dynamics.errors import EntropyDynamicsError
from entropy_dynamics.metrics import token_entropy, token_logprobs_and_entropy


def naive_logp_entropy(logits: torch.Tensor, ids: torch.Tensor, temperature: float = 1.0):
    """Full-vocabulary reference: log_softmax over everything at once."""
    log_p = torch.log_softmax(logits.double() / temperature, dim=-1)
    entropy = -(log_p.exp() * log_p).sum(-1)
    return log_p.gather(-1, ids.unsqueeze(-1)).squeeze(-1), entropy


shapes = st.tuples(st.integers(1, 3), st.integers(1, 7), st.integers(1, 40))


@settings(max_examples=25, deadline=None)
@given(
    shape=shapes,
    chunk=st.integers(1, 9),
    temperature=st.floats(0.3, 3.0),
    scale=st.floats(0.0, 30.0),
    seed=st.integers(0, 2**16),
)
def test_matches_reference_and_is_bounded(shape, chunk, temperature, scale, seed):
    gen = torch.Generator().manual_seed(seed)
    b, t, v = shape
    logits = torch.randn(b, t, v, generator=gen) * scale
    ids = torch.randint(0, v, (b, t), generator=gen)
    logp, entropy = token_logprobs_and_entropy(logits, ids, temperature=temperature, chunk_size=chunk)
    ref_logp, ref_entropy = naive_logp_entropy(logits, ids, temperature)
    assert logp.shape == entropy.shape == (b, t)
    assert logp.dtype == torch.float32
    torch.testing.assert_close(logp.double(), ref_logp, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(entropy.double(), ref_entropy, rtol=1e-4, atol=1e-4)
    assert (entropy >= -1e-5).all() and (entropy <= math.log(v) + 1e-4).all()
    torch.testing.assert_close(token_entropy(logits, temperature, chunk_size=chunk), entropy)


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 30),
    vocab=st.integers(2, 30),
    chunks=st.tuples(st.integers(1, 31), st.integers(1, 31)),
)
def test_chunk_size_invariance(rows, vocab, chunks):
    logits = torch.randn(rows, vocab, dtype=torch.float64) * 4
    ids = torch.randint(0, vocab, (rows,))
    first = token_logprobs_and_entropy(logits, ids, chunk_size=chunks[0])
    second = token_logprobs_and_entropy(logits, ids, chunk_size=chunks[1])
    torch.testing.assert_close(first, second)
    # padding rows (any values) never change the real rows
    padded = torch.cat([logits, torch.full((3, vocab), 1e4, dtype=torch.float64)])
    padded_ids = torch.cat([ids, torch.zeros(3, dtype=torch.long)])
    logp, entropy = token_logprobs_and_entropy(padded, padded_ids, chunk_size=chunks[0])
    torch.testing.assert_close((logp[:rows], entropy[:rows]), first)


def test_uniform_and_one_hot_extremes():
    vocab = 50
    uniform = token_entropy(torch.zeros(3, vocab))
    torch.testing.assert_close(uniform, torch.full((3,), math.log(vocab)))
    peaked = torch.full((2, vocab), -float("inf"))
    peaked[:, 7] = 0.0
    logp, entropy = token_logprobs_and_entropy(peaked, torch.tensor([7, 7]))
    assert torch.isfinite(entropy).all() and (entropy.abs() < 1e-6).all()
    torch.testing.assert_close(logp, torch.zeros(2))


def test_half_precision_input_is_computed_in_fp32():
    logits = (torch.randn(4, 9, 301) * 8).to(torch.bfloat16)
    ids = torch.randint(0, 301, (4, 9))
    logp, entropy = token_logprobs_and_entropy(logits, ids, chunk_size=5)
    assert logp.dtype == entropy.dtype == torch.float32
    ref_logp, ref_entropy = naive_logp_entropy(logits.float(), ids)
    torch.testing.assert_close(entropy.double(), ref_entropy, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(logp.double(), ref_logp, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_gradients_match_autograd_through_full_softmax(temperature):
    torch.manual_seed(0)
    logits = (torch.randn(2, 5, 17, dtype=torch.float64) * 3).requires_grad_()
    ids = torch.randint(0, 17, (2, 5))
    w_logp, w_ent = torch.randn(2, 5, dtype=torch.float64), torch.randn(2, 5, dtype=torch.float64)

    logp, entropy = token_logprobs_and_entropy(logits, ids, temperature, chunk_size=3, entropy_grad=True)
    (grad,) = torch.autograd.grad((logp * w_logp).sum() + (entropy * w_ent).sum(), logits)
    ref_logp, ref_entropy = naive_logp_entropy(logits, ids, temperature)
    (ref_grad,) = torch.autograd.grad(
        (ref_logp * w_logp).sum() + (ref_entropy * w_ent).sum(), logits, retain_graph=True
    )
    torch.testing.assert_close(grad, ref_grad)

    (grad_lp,) = torch.autograd.grad((token_logprobs_and_entropy(logits, ids, temperature)[0] * w_logp).sum(), logits)
    (ref_grad_lp,) = torch.autograd.grad((ref_logp * w_logp).sum(), logits, retain_graph=True)
    torch.testing.assert_close(grad_lp, ref_grad_lp)

    only_entropy = token_logprobs_and_entropy(logits, ids, temperature, chunk_size=4, entropy_grad=True)[1]
    (grad_h,) = torch.autograd.grad((only_entropy * w_ent).sum(), logits)
    (ref_grad_h,) = torch.autograd.grad((ref_entropy * w_ent).sum(), logits)
    torch.testing.assert_close(grad_h, ref_grad_h)


def test_bf16_backward_matches_fp32_reference():
    logits = (torch.randn(3, 8, 257) * 4).to(torch.bfloat16).requires_grad_()
    ids = torch.randint(0, 257, (3, 8))
    logp, _ = token_logprobs_and_entropy(logits, ids, chunk_size=7)
    logp.sum().backward()
    assert logits.grad.dtype == torch.bfloat16
    reference = logits.detach().float().requires_grad_()
    naive_logp_entropy(reference, ids)[0].sum().backward()
    torch.testing.assert_close(logits.grad.float(), reference.grad.float(), rtol=1e-2, atol=1e-2)


def test_gradcheck_float64():
    logits = torch.randn(3, 6, dtype=torch.float64, requires_grad=True)
    ids = torch.tensor([0, 5, 2])

    def both(x):
        return token_logprobs_and_entropy(x, ids, temperature=1.3, chunk_size=2, entropy_grad=True)

    assert torch.autograd.gradcheck(both, (logits,))


def test_entropy_grad_flag_and_no_grad_mode():
    logits = torch.randn(2, 4, 11, requires_grad=True)
    ids = torch.randint(0, 11, (2, 4))
    logp, entropy = token_logprobs_and_entropy(logits, ids)
    assert logp.requires_grad and not entropy.requires_grad
    _, entropy_with_grad = token_logprobs_and_entropy(logits, ids, entropy_grad=True)
    assert entropy_with_grad.requires_grad
    assert not token_entropy(logits).requires_grad
    with torch.no_grad():
        logp_ng, _ = token_logprobs_and_entropy(logits, ids)
    assert not logp_ng.requires_grad
    torch.testing.assert_close(logp_ng, logp.detach())


def test_backward_keeps_no_softmax_chunks():
    """Only the logits, the ids and the per-row entropy are saved for backward."""
    logits = torch.randn(64, 97, requires_grad=True)
    ids = torch.randint(0, 97, (64,))
    saved: list[int] = []

    def pack(tensor):
        saved.append(tensor.numel())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        logp, _ = token_logprobs_and_entropy(logits, ids, chunk_size=8, entropy_grad=True)
    assert sum(saved) <= logits.numel() + 2 * 64
    logp.sum().backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()


@pytest.mark.parametrize(
    ("logits", "ids", "kwargs", "message"),
    [
        (torch.randn(2, 5), torch.tensor([0, 5]), {}, "token_ids must lie in"),
        (torch.randn(2, 5), torch.tensor([0, 1, 2]), {}, "must match"),
        (torch.randn(2, 5), torch.tensor([0.0, 1.0]), {}, "must be integer"),
        (torch.randn(2, 5), torch.tensor([0, 1]), {"temperature": 0.0}, "temperature must be > 0"),
        (torch.randn(2, 5), torch.tensor([0, 1]), {"chunk_size": 0}, "chunk_size"),
        (torch.arange(10).reshape(2, 5), torch.tensor([0, 1]), {}, "floating point"),
    ],
)
def test_bad_input_raises_one_line_error(logits, ids, kwargs, message):
    with pytest.raises(EntropyDynamicsError, match=message) as info:
        token_logprobs_and_entropy(logits, ids, **kwargs)
    assert "\n" not in str(info.value)

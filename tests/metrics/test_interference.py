"""Gradient interference on tiny random HF models, checked against flattened .grad and finite differences."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import GPT2Config, GPT2LMHeadModel, LlamaForCausalLM

from entropy_dynamics.errors import EntropyDynamicsError
from entropy_dynamics.metrics import (
    default_interference_params,
    grad_cosine,
    gradient_interference,
    loss_term_gradients,
    token_logprobs_and_entropy,
)
from tests.tiny_llama import tiny_llama as build_tiny_llama

VOCAB = 48


def tiny_llama(seed: int = 0, tie: bool = False) -> LlamaForCausalLM:
    # float64 for the finite-difference checks
    return build_tiny_llama(seed, vocab_size=VOCAB, tie_word_embeddings=tie).double().eval()


def sampled_logp(model, seed: int = 0, rows: int = 4, length: int = 7):
    gen = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(0, VOCAB, (rows, length), generator=gen)
    logits = model(input_ids=input_ids).logits[:, :-1].contiguous()
    logp, _ = token_logprobs_and_entropy(logits, input_ids[:, 1:], chunk_size=5)
    return logp


def flat_grad(scalar: torch.Tensor, params) -> torch.Tensor:
    """Reference gradient: .backward() into .grad, then flatten and concatenate."""
    for param in params:
        param.grad = None
    scalar.backward(retain_graph=True)
    flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params])
    for param in params:
        param.grad = None
    return flat


def test_default_params_are_lm_head_and_last_block():
    model = tiny_llama()
    params = default_interference_params(model)
    expected = [model.lm_head.weight, *model.model.layers[-1].parameters()]
    assert [id(p) for p in params] == [id(p) for p in expected]
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=VOCAB, n_embd=16, n_layer=3, n_head=2, n_positions=32))
    gpt2_params = default_interference_params(gpt2)
    assert {id(p) for p in gpt2_params} == {id(gpt2.lm_head.weight)} | {
        id(p) for p in gpt2.transformer.h[2].parameters()
    }


def test_default_params_prefer_lora():
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(tiny_llama().float(), LoraConfig(r=2, target_modules=["q_proj", "v_proj"]))
    params = default_interference_params(model)
    names = {id(p): n for n, p in model.named_parameters()}
    assert params and all("lora_" in names[id(p)] for p in params)
    assert len(params) == 2 * 2 * 2  # layers x (q, v) x (A, B)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1000))
def test_grad_cosine_equals_cosine_of_flattened_gradients(seed):
    model = tiny_llama(seed % 3)
    params = default_interference_params(model)
    logp = sampled_logp(model, seed)
    term_a, term_b = logp[:2].mean(), (logp[2:] ** 2).mean()
    got = grad_cosine(term_a, term_b, params)
    ref_a, ref_b = flat_grad(term_a, params), flat_grad(term_b, params)
    assert got == pytest.approx(float(torch.nn.functional.cosine_similarity(ref_a, ref_b, dim=0)), abs=1e-10)


def test_gradient_interference_matches_reference_and_finite_difference():
    model = tiny_llama(1)
    params = default_interference_params(model)
    logp = sampled_logp(model, 3)
    advantages = torch.tensor([1.5, -0.5, 0.7, -2.0], dtype=torch.float64)
    mask = torch.ones_like(logp, dtype=torch.bool)
    mask[0, :2] = False
    out = gradient_interference(logp, advantages, mask, params)

    adv = advantages[:, None].expand_as(logp)
    pos, neg = mask & (adv > 0), mask & (adv < 0)
    u_pos = flat_grad((adv * logp)[pos].mean(), params)
    u_neg = flat_grad((adv * logp)[neg].mean(), params)
    ll_pos = flat_grad(logp[pos].mean(), params)
    cos = torch.nn.functional.cosine_similarity(u_pos, u_neg, dim=0)
    assert out["interference/grad_cos_pos_neg"] == pytest.approx(float(cos), abs=1e-10)
    assert out["interference/displacement_neg_on_pos"] == pytest.approx(float(u_neg @ ll_pos), rel=1e-9)
    assert out["interference/grad_norm_neg"] == pytest.approx(float(u_neg.norm()), rel=1e-9)

    # First-order meaning: a small ascent step along u- changes mean log p of A > 0 tokens by eps * D
    # (central difference; the model's float32 rotary tables limit how small eps can usefully be).
    eps = 1e-3

    def mean_pos_logp_after_step(scale: float) -> float:
        with torch.no_grad():
            originals = [param.clone() for param in params]
            offset = 0
            for param in params:
                param.add_(scale * u_neg[offset : offset + param.numel()].view_as(param))
                offset += param.numel()
            value = float(sampled_logp(model, 3)[pos].mean())
            for param, original in zip(params, originals, strict=True):
                param.copy_(original)
        return value

    realised = (mean_pos_logp_after_step(eps) - mean_pos_logp_after_step(-eps)) / (2 * eps)
    assert realised == pytest.approx(out["interference/displacement_neg_on_pos"], rel=1e-4)


def test_one_sided_batch_gives_nan_and_graph_survives():
    model = tiny_llama()
    params = default_interference_params(model)
    logp = sampled_logp(model)
    mask = torch.ones_like(logp, dtype=torch.bool)
    out = gradient_interference(logp, torch.ones(4, dtype=torch.float64), mask, params)
    assert all(math.isnan(v) for v in out.values())
    out = gradient_interference(logp, torch.tensor([1.0, -1.0, 1.0, 0.0]), mask, params)
    assert not math.isnan(out["interference/grad_cos_pos_neg"])
    logp.sum().backward()  # the training backward still works after the diagnostics
    assert model.lm_head.weight.grad is not None


def test_loss_term_gradients_norms_and_pairs():
    model = tiny_llama(2, tie=True)
    params = default_interference_params(model)
    logp = sampled_logp(model, 5)
    terms = {"pg": -logp.mean(), "seal": (logp[:, 0] ** 2).mean(), "kl": torch.tensor(0.0)}
    out = loss_term_gradients(terms, params)
    assert set(out) == {
        "interference/grad_norm_pg",
        "interference/grad_norm_seal",
        "interference/grad_norm_kl",
        "interference/grad_cos_pg_seal",
        "interference/grad_cos_pg_kl",
        "interference/grad_cos_seal_kl",
    }
    ref_pg, ref_seal = flat_grad(terms["pg"], params), flat_grad(terms["seal"], params)
    assert out["interference/grad_norm_pg"] == pytest.approx(float(ref_pg.norm()), rel=1e-9)
    cos = float(torch.nn.functional.cosine_similarity(ref_pg, ref_seal, dim=0))
    assert out["interference/grad_cos_pg_seal"] == pytest.approx(cos, abs=1e-10)
    assert out["interference/grad_norm_kl"] == 0.0 and math.isnan(out["interference/grad_cos_pg_kl"])


def test_bad_inputs_raise_clear_errors():
    model = tiny_llama()
    params = default_interference_params(model)
    with torch.no_grad():
        detached = sampled_logp(model)
    with pytest.raises(EntropyDynamicsError, match="carries no gradient"):
        gradient_interference(detached, torch.ones(4), torch.ones(4, 6), params)
    with pytest.raises(EntropyDynamicsError, match="params is empty"):
        grad_cosine(torch.tensor(1.0), torch.tensor(2.0), [])
    with pytest.raises(EntropyDynamicsError, match="no LM head"):
        default_interference_params(torch.nn.Linear(2, 2).requires_grad_(False))


def test_masked_rows_are_ignored():
    """Masking a sample out gives the same figures as running the model without it."""
    model = tiny_llama(4)
    params = default_interference_params(model)
    gen = torch.Generator().manual_seed(7)
    input_ids = torch.randint(0, VOCAB, (4, 7), generator=gen)
    advantages = torch.tensor([1.0, -1.0, 0.5, -3.0], dtype=torch.float64)

    def logp_of(ids):
        logits = model(input_ids=ids).logits[:, :-1].contiguous()
        return token_logprobs_and_entropy(logits, ids[:, 1:])[0]

    mask = torch.ones(4, 6, dtype=torch.bool)
    mask[3] = False
    masked = gradient_interference(logp_of(input_ids), advantages, mask, params)
    dropped = gradient_interference(logp_of(input_ids[:3]), advantages[:3], mask[:3], params)
    assert masked == pytest.approx(dropped, rel=1e-8)

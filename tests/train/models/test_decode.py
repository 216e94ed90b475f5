"""One decode step without the model's top-level wrapper gives the ordinary call's logits, bit for bit, on the
architectures it is allowed for; every other model keeps the ordinary call."""

from __future__ import annotations

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, Qwen2Config, Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM

from entropy_dynamics.train.models.decode import decode_step, lean_decoding
from entropy_dynamics.train.models.prompt_cache import encode_prompts, with_room
from entropy_dynamics.train.rollout import sampling
from tests.tiny_llama import tiny_llama

SIZES = {"vocab_size": 64, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2,
         "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 128}


def _model(kind: str, attention: str):
    torch.manual_seed(0)
    if kind == "llama":
        lm = tiny_llama(num_key_value_heads=1, max_position_embeddings=128)
    elif kind == "qwen2":
        lm = Qwen2ForCausalLM(Qwen2Config(**SIZES))
    else:
        lm = Qwen3ForCausalLM(Qwen3Config(head_dim=8, **SIZES))
    lm.config._attn_implementation = attention
    return lm.eval()


def _decode(lm, prompts: list[list[int]], lean: bool, steps: int = 6) -> torch.Tensor:
    """Logits[steps, B, V] of ``steps`` decode steps after the prompts (fed token 5, then the argmax)."""
    with torch.no_grad():
        enc = encode_prompts(lm, prompts, 0)
        rows, width = len(prompts), enc.mask.shape[1]
        cache = with_room(enc.cache, steps)
        mask = torch.cat([enc.mask, torch.zeros((rows, steps), dtype=enc.mask.dtype)], dim=1)
        position, token, out = enc.next_position, torch.full((rows,), 5), []
        for t in range(steps):
            mask[:, width + t] = 1
            logits, cache = decode_step(lm, token, mask[:, : width + t + 1], position, cache, lean)
            out.append(logits)
            position, token = position + 1, logits.argmax(-1)
    return torch.stack(out)


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("kind", ["llama", "qwen2", "qwen3"])
def test_lean_decode_gives_the_ordinary_calls_logits_bit_for_bit(kind, attention):
    lm = _model(kind, attention)
    assert lean_decoding(lm)
    padded = [[3, 4, 5, 6, 7, 8, 9], [3, 4, 10, 11], [3, 4, 10, 11], [3, 12, 13, 14, 15, 16, 17, 18, 19]]
    same_length = [[3, 4, 5, 6], [3, 7, 8, 9]]  # no padding: SDPA gets no mask at all
    for prompts in (padded, same_length):
        assert torch.equal(_decode(lm, prompts, lean=True), _decode(lm, prompts, lean=False)), (kind, attention)


def test_other_models_keep_the_ordinary_call():
    torch.manual_seed(0)
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=64, n_embd=16, n_layer=2, n_head=2, n_positions=64))
    sliding = Qwen2ForCausalLM(Qwen2Config(use_sliding_window=True, sliding_window=4, max_window_layers=0, **SIZES))
    flash_like = _model("llama", "eager")
    flash_like.config._attn_implementation = "flex_attention"
    wrapped = torch.nn.Sequential(_model("llama", "eager"))  # not a transformers model itself (e.g. PEFT's wrapper)
    for lm in (gpt2, sliding, flash_like, wrapped):
        assert not lean_decoding(lm), type(lm).__name__


def test_sampled_replies_are_the_same_with_and_without_the_lean_step(monkeypatch):
    lm = _model("llama", "eager")
    prompts = [[3, 4, 5, 6, 7], [3, 4, 9], [3, 4, 9], [3, 8, 8, 8, 8, 8, 8]]

    def sample():
        return sampling.sample_replies(lm, prompts, eos_id=1, pad_id=0, max_new_tokens=12, temperature=1.0,
                                       generator=torch.Generator().manual_seed(7))

    lean = sample()
    monkeypatch.setattr(sampling, "lean_decoding", lambda lm: False)
    ordinary = sample()
    assert torch.equal(lean.tokens, ordinary.tokens) and torch.equal(lean.lengths, ordinary.lengths)
    assert torch.equal(lean.logp, ordinary.logp) and torch.equal(lean.entropy, ordinary.entropy)


def test_an_older_transformers_keeps_the_ordinary_call(monkeypatch):
    from entropy_dynamics.train.models import decode

    lm = _model("llama", "eager")
    assert decode.lean_decoding(lm)
    monkeypatch.setattr(decode, "CACHE_NAME", "past_key_values")  # the layers' arguments before transformers 5.2x
    assert not decode.lean_decoding(lm)

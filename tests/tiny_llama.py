"""A tiny random Llama built in code, shared by the tests that need a real Hugging Face causal LM."""

from __future__ import annotations

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def tiny_llama(seed: int = 0, **config: object) -> LlamaForCausalLM:
    """A random 2-layer Llama (hidden 16, vocab 64 unless ``config`` overrides any ``LlamaConfig`` field),
    initialised after ``torch.manual_seed(seed)``."""
    settings: dict[str, object] = {"vocab_size": 64, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2,
                                   "num_attention_heads": 2, "num_key_value_heads": 2, "max_position_embeddings": 64}
    settings.update(config)
    torch.manual_seed(seed)
    return LlamaForCausalLM(LlamaConfig(**settings))

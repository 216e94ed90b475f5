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


#: The word-level vocabulary of :func:`save_tiny_hub_model` (a TextWorld-like command language).
HUB_WORDS = ["[PAD]", "[EOS]", "[UNK]", "you", "are", "in", "a", "kitchen", "hall", "garden", "exits", "north",
             "south", "east", "west", "take", "open", "go", "key", "door", "knife", "apple", "eat", "actions", ":", ">"]


def save_tiny_hub_model(folder, hidden_size: int = 32):
    """A random 2-layer Llama and a word-level tokenizer (:data:`HUB_WORDS`), built in code and saved in
    ``folder`` like a hub model (for trainers that take a model path, such as TRL's); returns ``folder``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(HUB_WORDS)}, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.decoder = decoders.WordPiece()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="[PAD]", eos_token="[EOS]",
                                        unk_token="[UNK]")
    tiny_llama(vocab_size=len(HUB_WORDS), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
               pad_token_id=0, bos_token_id=1, eos_token_id=1).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder

"""A byte-level BPE tokenizer trained in code (no download) for the `tiny` preset.

Byte-level: any UTF-8 text encodes (no unknown token). Trained on the environment's own text with
merges allowed across word boundaries (no regex pre-split), the formulaic prompt phrases become single
tokens: TextWorld cooking prompts average ~96 tokens at 2048 entries against ~330 with word-bounded
merges (measured on the expert turns of 60 games). The reply tags and the chat markers are
single added tokens, and a ChatML chat template is attached, so ``apply_chat_template`` works.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

SPECIAL_TOKENS = ["<pad>", "<bos>", "<eos>", "<|im_start|>", "<|im_end|>"]
REPLY_TAGS = ["<think>", "</think>", "<action>", "</action>"]

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def train_bpe_tokenizer(corpus: Iterable[str], vocab_size: int = 1024) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE on ``corpus`` and wrap it as a HF fast tokenizer.

    The end of an assistant turn is ``<|im_end|>`` (also the eos token), as in SmolLM2's template.
    """
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS + REPLY_TAGS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(corpus), trainer=trainer)
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<bos>", eos_token="<|im_end|>", pad_token="<pad>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
    )
    hf.add_tokens(REPLY_TAGS)
    hf.chat_template = CHAT_TEMPLATE
    hf.padding_side = "left"
    return hf

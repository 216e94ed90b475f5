"""The in-code byte-level BPE of the tiny preset."""

from __future__ import annotations

from transformers import AutoTokenizer

from entropy_dynamics.train.models.tokenizer import REPLY_TAGS, train_bpe_tokenizer
from tests.train.conftest import CORPUS


def test_any_text_round_trips_and_tags_are_single_tokens(tmp_path):
    tok = train_bpe_tokenizer(CORPUS * 4, 400)
    for text in ["take red apple", "héllo wörld 🍎\n\ttabs", "zzz qqq unseen words 12345"]:
        assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text
    for tag in REPLY_TAGS:
        assert len(tok(tag, add_special_tokens=False)["input_ids"]) == 1
    assert tok.unk_token_id is None
    assert tok.eos_token == "<|im_end|>" and tok.pad_token_id != tok.eos_token_id
    tok.save_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path)
    text = "<think>x</think><action>go north</action>"
    assert again(text)["input_ids"] == tok(text)["input_ids"]


def test_merges_shorten_the_training_text_and_chat_template_renders():
    tok = train_bpe_tokenizer(CORPUS * 4, 400)
    text = CORPUS[0]
    assert len(tok(text, add_special_tokens=False)["input_ids"]) < len(text.encode()) / 3
    rendered = tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    assert rendered == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"

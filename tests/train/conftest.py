"""Shared settings of the trainer tests: a very small `tiny` preset on two real TextWorld cooking games."""

from __future__ import annotations

import pytest

#: Overrides that keep every trainer test to a few seconds on one CPU thread.
FAST = [
    "tiny.hidden_size=32", "tiny.num_layers=2", "tiny.num_heads=2", "tiny.intermediate_size=64",
    "tiny.vocab_size=600", "tiny.corpus_games=2", "game_pool_size=2", "games_per_step=1", "group_size=2",
    "max_turns=3", "max_new_tokens=8", "max_prompt_tokens=256", "micro_batch_size=8", "samples_every=1",
    "torch_threads=1",
]


@pytest.fixture
def fast_overrides(tmp_path) -> list[str]:
    return [*FAST, f"output_dir={tmp_path / 'run'}"]


CORPUS = [
    "You are in a kitchen. There is a fridge, a counter and a red apple. Admissible actions: take red apple",
    "<think>I need the apple, so I take it.</think>\n<action>take red apple from counter</action>",
    "Your task: cook a meal. Current observation: you see a cookbook. go north, open fridge, examine cookbook",
]


def tiny_model(overrides: list[str] | None = None):
    """(cfg, policy, tokenizer): a fast tiny preset whose tokenizer is trained on a fixed corpus."""
    import torch

    from entropy_dynamics.train.config_io import load_config
    from entropy_dynamics.train.models.policy import build_policy, build_tiny_lm
    from entropy_dynamics.train.models.tokenizer import train_bpe_tokenizer

    cfg = load_config(None, [*FAST, *(overrides or [])])
    torch.manual_seed(0)
    tokenizer = train_bpe_tokenizer(CORPUS * 4, 400)
    return cfg, build_policy(cfg, build_tiny_lm(cfg, tokenizer)), tokenizer

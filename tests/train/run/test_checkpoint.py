"""Atomic checkpoints and RNG round trips."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.train.models.tokenizer import train_bpe_tokenizer
from entropy_dynamics.train.run.checkpoint import (
    find_checkpoint,
    load_checkpoint,
    restore_rng,
    rng_state,
    save_checkpoint,
)
from tests.train.conftest import CORPUS


def test_replace_is_atomic_and_an_interrupted_swap_is_still_found(tmp_path):
    tok = train_bpe_tokenizer(CORPUS, 300)
    assert find_checkpoint(tmp_path) is None
    save_checkpoint(tmp_path, {"step": 1}, tok)
    save_checkpoint(tmp_path, {"step": 2}, tok)
    assert load_checkpoint(find_checkpoint(tmp_path))["step"] == 2
    assert not (tmp_path / "checkpoint.tmp").exists() and not (tmp_path / "checkpoint.old").exists()
    # a kill between the two renames leaves only checkpoint.old: it is used
    (tmp_path / "checkpoint").rename(tmp_path / "checkpoint.old")
    assert find_checkpoint(tmp_path).name == "checkpoint.old"
    # a kill while writing leaves a partial checkpoint.tmp: ignored
    (tmp_path / "checkpoint.tmp").mkdir()
    assert load_checkpoint(find_checkpoint(tmp_path))["step"] == 2
    (tmp_path / "checkpoint.old" / "state.pt").write_bytes(b"garbage")
    with pytest.raises(ConfigError, match="unreadable checkpoint"):
        load_checkpoint(tmp_path / "checkpoint.old")


def test_rng_states_round_trip():
    gens = {"sampling": torch.Generator().manual_seed(1)}

    def draw() -> tuple[float, ...]:
        sampled = float(torch.rand(1, generator=gens["sampling"]))
        return random.random(), float(np.random.rand()), float(torch.rand(1)), sampled

    state = rng_state(gens)
    first = draw()
    assert draw() != first
    restore_rng(state, gens)
    assert draw() == first

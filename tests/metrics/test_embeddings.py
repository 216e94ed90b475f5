"""response_embeddings against a per-row loop, on real hidden states of a tiny random model."""

from __future__ import annotations

import math

import pytest
import torch

from entropy_dynamics.errors import EntropyDynamicsError
from entropy_dynamics.metrics import response_embeddings
from tests.tiny_llama import tiny_llama


def test_masked_mean_of_model_hidden_states_matches_loop():
    model = tiny_llama(vocab_size=40, intermediate_size=24, num_hidden_layers=1).eval()
    input_ids = torch.randint(0, 40, (3, 9))
    hidden = model(input_ids=input_ids, output_hidden_states=True).hidden_states[-1][:, :-1]
    mask = torch.rand(3, 8) > 0.4
    mask[:, 0] = True
    got = response_embeddings(hidden, mask)
    assert got.shape == (3, 16) and got.requires_grad
    for row in range(3):
        expected = hidden[row][mask[row]].mean(0)
        torch.testing.assert_close(got[row], expected)


def test_padding_does_not_change_embeddings_and_empty_rows_are_nan():
    hidden = torch.randn(2, 5, 4, dtype=torch.bfloat16)
    mask = torch.tensor([[1, 1, 0, 1, 0], [0, 0, 0, 0, 0]])
    base = response_embeddings(hidden, mask)
    assert base.dtype == torch.float32
    padded = torch.cat([hidden, torch.full((2, 3, 4), 1e4, dtype=torch.bfloat16)], dim=1)
    padded_mask = torch.cat([mask, torch.zeros(2, 3, dtype=torch.long)], dim=1)
    torch.testing.assert_close(response_embeddings(padded, padded_mask), base, equal_nan=True)
    assert all(math.isnan(v) for v in base[1].tolist())


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(EntropyDynamicsError, match="must match"):
        response_embeddings(torch.zeros(2, 5, 3), torch.ones(2, 4))

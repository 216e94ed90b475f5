"""entropy_summary and cov_logp_adv against naive per-token Python loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from entropy_dynamics.errors import EntropyDynamicsError
from entropy_dynamics.metrics import cov_logp_adv, entropy_summary


def random_batch(seed: int, rows: int, cols: int):
    gen = torch.Generator().manual_seed(seed)
    entropy = torch.rand(rows, cols, generator=gen) * 3
    mask = torch.rand(rows, cols, generator=gen) > 0.3
    advantages = torch.randn(rows, cols, generator=gen)
    turns = torch.randint(0, 3, (rows,), generator=gen)
    return entropy, mask, advantages, turns


def naive_summary(entropy, mask, advantages, turns):
    tokens = [
        (float(entropy[b, t]), float(advantages[b, t]), int(turns[b]))
        for b in range(entropy.shape[0])
        for t in range(entropy.shape[1])
        if mask[b, t]
    ]

    def mean(values):
        return sum(values) / len(values) if values else math.nan

    out = {
        "policy/entropy": mean([h for h, _, _ in tokens]),
        "policy/entropy/pos": mean([h for h, a, _ in tokens if a >= 0]),
        "policy/entropy/neg": mean([h for h, a, _ in tokens if a < 0]),
        "policy/entropy/p50": float(np.quantile([h for h, _, _ in tokens], 0.5)) if tokens else math.nan,
        "policy/entropy/p90": float(np.quantile([h for h, _, _ in tokens], 0.9)) if tokens else math.nan,
    }
    for turn in sorted({k for _, _, k in tokens}):
        out[f"policy/entropy/turn_{turn}"] = mean([h for h, _, k in tokens if k == turn])
    return out


def assert_same_dict(got: dict, expected: dict):
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-6, abs=1e-6, nan_ok=True), key


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), rows=st.integers(1, 6), cols=st.integers(1, 9))
def test_entropy_summary_matches_naive(seed, rows, cols):
    entropy, mask, advantages, turns = random_batch(seed, rows, cols)
    got = entropy_summary(entropy, mask, advantages, turns)
    assert_same_dict(got, naive_summary(entropy, mask, advantages, turns))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), pad_rows=st.integers(0, 3), pad_cols=st.integers(0, 4))
def test_padding_and_masked_values_do_not_change_summaries(seed, pad_rows, pad_cols):
    entropy, mask, advantages, turns = random_batch(seed, 4, 6)
    base = entropy_summary(entropy, mask, advantages, turns)
    base_cov = cov_logp_adv(-entropy, advantages, mask)
    padded = torch.nn.functional.pad(entropy, (0, pad_cols, 0, pad_rows), value=1e6)
    padded_mask = torch.nn.functional.pad(mask, (0, pad_cols, 0, pad_rows), value=False)
    padded_adv = torch.nn.functional.pad(advantages, (0, pad_cols, 0, pad_rows), value=-1e6)
    padded_turns = torch.cat([turns, torch.full((pad_rows,), 9)])
    garbage = torch.where(padded_mask, padded, torch.full_like(padded, -7.0))
    assert_same_dict(entropy_summary(garbage, padded_mask, padded_adv, padded_turns), base)
    padded_cov = cov_logp_adv(-padded, padded_adv, padded_mask)
    assert padded_cov["policy/cov_logp_adv"] == pytest.approx(base_cov["policy/cov_logp_adv"], nan_ok=True)
    assert padded_cov["policy/cov_neg_frac"] == pytest.approx(base_cov["policy/cov_neg_frac"], nan_ok=True)
    torch.testing.assert_close(padded_cov["top_values"], base_cov["top_values"])


def test_row_advantages_broadcast_and_empty_groups_are_nan():
    entropy = torch.tensor([[1.0, 2.0], [3.0, 5.0]])
    mask = torch.tensor([[True, True], [True, False]])
    out = entropy_summary(entropy, mask, advantages=torch.tensor([0.5, 0.0]), turn_index=torch.tensor([2, 2]))
    assert out["policy/entropy"] == pytest.approx(2.0)
    assert out["policy/entropy/pos"] == pytest.approx(2.0)
    assert math.isnan(out["policy/entropy/neg"])
    assert out["policy/entropy/turn_2"] == pytest.approx(2.0)
    assert "policy/entropy/turn_0" not in out
    empty = entropy_summary(entropy, torch.zeros(2, 2, dtype=torch.bool))
    assert all(math.isnan(value) for value in empty.values())
    assert set(empty) == {"policy/entropy", "policy/entropy/p50", "policy/entropy/p90"}


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), rows=st.integers(1, 5), cols=st.integers(1, 8), top_k=st.integers(0, 6))
def test_cov_matches_naive(seed, rows, cols, top_k):
    gen = torch.Generator().manual_seed(seed)
    logp = -torch.rand(rows, cols, generator=gen) * 5
    adv = torch.randn(rows, cols, generator=gen)
    mask = torch.rand(rows, cols, generator=gen) > 0.4
    out = cov_logp_adv(logp, adv, mask, top_k=top_k)
    tokens = [(b, t) for b in range(rows) for t in range(cols) if mask[b, t]]
    if not tokens:
        assert math.isnan(out["policy/cov_logp_adv"]) and out["top_indices"].shape[0] == 0
        return
    mean_lp = sum(float(logp[b, t]) for b, t in tokens) / len(tokens)
    mean_a = sum(float(adv[b, t]) for b, t in tokens) / len(tokens)
    cov = {(b, t): (float(logp[b, t]) - mean_lp) * (float(adv[b, t]) - mean_a) for b, t in tokens}
    assert out["policy/cov_logp_adv"] == pytest.approx(sum(cov.values()) / len(cov), abs=1e-9)
    assert out["policy/cov_neg_frac"] == pytest.approx(sum(v < 0 for v in cov.values()) / len(cov))
    expected_top = sorted(cov.values(), reverse=True)[: min(top_k, len(cov))]
    assert out["top_values"].tolist() == pytest.approx(expected_top)
    for (b, t), value in zip(out["top_indices"].tolist(), out["top_values"].tolist(), strict=True):
        assert cov[(b, t)] == pytest.approx(value)


def test_bad_shapes_raise_clear_errors():
    with pytest.raises(EntropyDynamicsError, match="must match"):
        entropy_summary(torch.zeros(2, 3), torch.ones(2, 4))
    with pytest.raises(EntropyDynamicsError, match="turn_index"):
        entropy_summary(torch.zeros(2, 3), torch.ones(2, 3), turn_index=torch.zeros(3))
    with pytest.raises(EntropyDynamicsError, match="advantages has 3 rows"):
        cov_logp_adv(torch.zeros(2, 3), torch.zeros(3), torch.ones(2, 3))

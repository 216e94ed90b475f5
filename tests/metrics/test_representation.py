"""separation / separation_metrics against naive pairwise loops, plus degenerate inputs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from entropy_dynamics.errors import EntropyDynamicsError
from entropy_dynamics.metrics import separation, separation_metrics


def cos(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def naive_silhouette(points, labels):
    """Textbook silhouette with cosine distance, one sample at a time."""
    values = []
    for i, point in enumerate(points):
        same = [1 - cos(point, q) for j, q in enumerate(points) if j != i and labels[j] == labels[i]]
        other = [1 - cos(point, q) for j, q in enumerate(points) if labels[j] != labels[i]]
        a, b = sum(same) / len(same), sum(other) / len(other)
        values.append((b - a) / max(a, b))
    return sum(values) / len(values)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), n_pos=st.integers(2, 7), n_neg=st.integers(2, 7), dim=st.integers(2, 6))
def test_cosine_statistics_match_pairwise_loops(seed, n_pos, n_neg, dim):
    rng = np.random.default_rng(seed)
    emb = rng.normal(size=(n_pos + n_neg, dim)) + rng.normal(size=dim)
    labels = np.array([True] * n_pos + [False] * n_neg)
    rng.shuffle(labels)
    out = separation(emb, labels)
    pos, neg = emb[labels], emb[~labels]
    inter = np.mean([cos(a, b) for a in pos for b in neg])
    intra_pos = np.mean([cos(a, b) for a, b in itertools.permutations(pos, 2)])
    intra_neg = np.mean([cos(a, b) for a, b in itertools.permutations(neg, 2)])
    assert out["inter_cos"] == pytest.approx(inter)
    assert out["intra_pos_cos"] == pytest.approx(intra_pos)
    assert out["intra_neg_cos"] == pytest.approx(intra_neg)
    assert out["sep_ratio"] == pytest.approx(2 * inter - intra_pos - intra_neg)
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    assert out["centroid_dist"] == pytest.approx(np.linalg.norm(unit[labels].mean(0) - unit[~labels].mean(0)))
    assert out["silhouette"] == pytest.approx(naive_silhouette(emb, labels))
    assert 0.0 <= out["probe_auroc"] <= 1.0
    assert (out["n_pos"], out["n_neg"]) == (n_pos, n_neg)


def test_probe_separates_separable_classes_and_not_identical_ones():
    rng = np.random.default_rng(0)
    shared = rng.normal(size=32) * 5
    labels = np.arange(60) % 2 == 0
    separable = shared + rng.normal(size=(60, 32)) + np.where(labels[:, None], 3.0, -3.0) * np.eye(32)[0]
    mixed = shared + rng.normal(size=(60, 32))
    good, bad = separation(separable, labels), separation(mixed, labels)
    assert good["probe_auroc"] > 0.95
    assert 0.2 < bad["probe_auroc"] < 0.8
    assert good["sep_ratio"] < bad["sep_ratio"]
    assert good["silhouette"] > bad["silhouette"]


def test_degenerate_inputs_give_nan_without_error():
    emb = np.random.default_rng(1).normal(size=(4, 3))
    one_class = separation(emb, np.ones(4, dtype=bool))
    assert math.isnan(one_class["inter_cos"]) and math.isnan(one_class["probe_auroc"])
    assert math.isnan(one_class["silhouette"]) and not math.isnan(one_class["intra_pos_cos"])
    singleton = separation(emb, np.array([1, 0, 0, 0]))
    assert math.isnan(singleton["intra_pos_cos"]) and math.isnan(singleton["probe_auroc"])
    assert not math.isnan(singleton["inter_cos"]) and not math.isnan(singleton["centroid_dist"])
    empty = separation(np.zeros((0, 3)), np.zeros(0, dtype=bool))
    assert all(math.isnan(v) for k, v in empty.items() if not k.startswith("n_"))


def test_nan_and_zero_rows_are_ignored_and_torch_is_accepted():
    rng = np.random.default_rng(2)
    emb = rng.normal(size=(8, 5))
    labels = np.array([1, 0] * 4, dtype=bool)
    base = separation(emb, labels)
    noisy = np.vstack([emb, np.full((1, 5), np.nan), np.zeros((1, 5))])
    noisy_labels = np.concatenate([labels, [True, False]])
    assert separation(torch.tensor(noisy), torch.tensor(noisy_labels)) == pytest.approx(base, nan_ok=True)
    named = separation_metrics(emb, labels)
    assert named["repr/sep_ratio"] == base["sep_ratio"] and "repr/probe_auroc" in named


def test_bad_labels_raise_clear_errors():
    with pytest.raises(EntropyDynamicsError, match="labels must have shape"):
        separation(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(EntropyDynamicsError, match="booleans or 0/1"):
        separation(np.ones((3, 2)), np.array([0, 1, 2]))

"""How well correct and incorrect samples are separated in representation space (paper.md section 6.3).

Works on numpy (torch tensors are accepted and converted), so it needs no deep-learning stack; the
linear probe and the silhouette use scikit-learn (the ``train`` extra), imported on first use.

Cosine statistics use L2-normalised embeddings ê::

    inter_cos     = mean_{i in P, j in N} cos(e_i, e_j)
    intra_pos_cos = mean_{i != j in P} cos(e_i, e_j)          (intra_neg_cos likewise for N)
    sep_ratio     = 2 inter_cos - intra_pos_cos - intra_neg_cos  (lower = better separated)
    centroid_dist = || mean_P ê - mean_N ê ||
    silhouette    = silhouette score of the two classes under cosine distance
    probe_auroc   = AUROC of out-of-fold logistic-regression scores (stratified k-fold, k <= 5)

Degenerate inputs (one class only, fewer than two samples in a class) give NaN, never an error.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from entropy_dynamics.metrics._checks import require

_KEYS = (
    "inter_cos",
    "intra_pos_cos",
    "intra_neg_cos",
    "sep_ratio",
    "centroid_dist",
    "silhouette",
    "probe_auroc",
    "n_pos",
    "n_neg",
)


def _to_numpy(values: Any) -> np.ndarray:
    detach = getattr(values, "detach", None)
    if callable(detach):  # a torch tensor, converted without importing torch here
        values = detach().float().cpu().numpy()
    return np.asarray(values)


def _mean_pair_cos(unit_a: np.ndarray, unit_b: np.ndarray) -> float:
    """Mean cosine over all pairs (i in a, j in b) of unit vectors: <sum a, sum b> / (|a| |b|)."""
    if len(unit_a) == 0 or len(unit_b) == 0:
        return math.nan
    return float(unit_a.sum(0) @ unit_b.sum(0) / (len(unit_a) * len(unit_b)))


def _mean_intra_cos(unit: np.ndarray) -> float:
    """Mean cosine over ordered pairs i != j of unit vectors: (|sum|^2 - n) / (n (n - 1))."""
    n = len(unit)
    if n < 2:
        return math.nan
    total = unit.sum(0)
    return float((total @ total - n) / (n * (n - 1)))


def _silhouette(unit: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.metrics import silhouette_score

    return float(silhouette_score(unit, labels, metric="cosine"))


def _probe_auroc(embeddings: np.ndarray, labels: np.ndarray, seed: int) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    folds = int(min(5, labels.sum(), (~labels).sum()))
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_val_predict(probe, embeddings, labels, cv=splitter, method="decision_function")
    return float(roc_auc_score(labels, scores))


def separation(embeddings: Any, labels: Any, seed: int = 0) -> dict[str, float]:
    """Separation statistics of two classes of embeddings.

    Args:
        embeddings: array-like [N, d] (numpy or torch); rows that are not finite or are all zero
            are ignored.
        labels: array-like [N] bool / 0-1; true = positive (correct, A >= 0) sample.
        seed: fold shuffling seed of the cross-validated probe.

    Returns:
        ``inter_cos``, ``intra_pos_cos``, ``intra_neg_cos``, ``sep_ratio``, ``centroid_dist``,
        ``silhouette``, ``probe_auroc`` (floats, NaN where undefined) and the counts ``n_pos``, ``n_neg``.
    """
    emb = _to_numpy(embeddings).astype(np.float64)
    lab = _to_numpy(labels)
    require(emb.ndim == 2, f"embeddings must be [N, d], got shape {emb.shape}")
    require(lab.shape == (emb.shape[0],), f"labels must have shape ({emb.shape[0]},), got {lab.shape}")
    require(np.isin(lab, (0, 1)).all() if lab.size else True, "labels must be booleans or 0/1 (true = positive sample)")
    norms = np.linalg.norm(emb, axis=1) if emb.size else np.zeros(emb.shape[0])
    keep = np.isfinite(emb).all(axis=1) & (norms > 0)
    emb, lab, norms = emb[keep], lab[keep].astype(bool), norms[keep]
    unit = emb / norms[:, None]
    pos, neg = unit[lab], unit[~lab]
    out = dict.fromkeys(_KEYS, math.nan)
    out["n_pos"], out["n_neg"] = float(len(pos)), float(len(neg))
    out["inter_cos"] = _mean_pair_cos(pos, neg)
    out["intra_pos_cos"] = _mean_intra_cos(pos)
    out["intra_neg_cos"] = _mean_intra_cos(neg)
    out["sep_ratio"] = 2 * out["inter_cos"] - out["intra_pos_cos"] - out["intra_neg_cos"]
    if len(pos) and len(neg):
        out["centroid_dist"] = float(np.linalg.norm(pos.mean(0) - neg.mean(0)))
    if len(pos) >= 2 and len(neg) >= 2:
        out["silhouette"] = _silhouette(unit, lab)
        out["probe_auroc"] = _probe_auroc(emb, lab, seed)
    return out


def separation_metrics(embeddings: Any, labels: Any, seed: int = 0, prefix: str = "repr/") -> dict[str, float]:
    """``separation`` under canonical metric names (``repr/inter_cos``, ``repr/sep_ratio``, ...)."""
    return {f"{prefix}{key}": value for key, value in separation(embeddings, labels, seed).items()}

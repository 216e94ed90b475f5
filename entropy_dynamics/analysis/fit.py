"""The entropy-reward relation R = -a * exp(H) + b (Cui et al. 2025)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

#: Fewest paired finite points for a fit.
MIN_FIT_POINTS = 3


def _model(h: np.ndarray, a: float, b: float) -> np.ndarray:
    return -a * np.exp(h) + b


def fit_entropy_reward(entropy: np.ndarray, reward: np.ndarray) -> dict[str, Any]:
    """Least-squares fit of ``reward = -a * exp(entropy) + b``. entropy, reward: (n,) paired.

    Returns ``{"a", "b", "r2", "n"}``; with fewer than 3 finite pairs or constant entropy, ``a``,
    ``b`` and ``r2`` are None and ``reason`` says why.
    """
    h = np.asarray(entropy, dtype=float)
    r = np.asarray(reward, dtype=float)
    if h.shape != r.shape:
        raise ValueError(f"entropy and reward must have the same shape, got {h.shape} and {r.shape}")
    ok = np.isfinite(h) & np.isfinite(r)
    h, r = h[ok], r[ok]
    n = int(h.size)
    if n < MIN_FIT_POINTS:
        return {"a": None, "b": None, "r2": None, "n": n, "reason": f"too few points ({n} < {MIN_FIT_POINTS})"}
    if float(np.ptp(h)) == 0.0:
        return {"a": None, "b": None, "r2": None, "n": n, "reason": "entropy is constant"}
    with np.errstate(over="ignore"):
        x = np.exp(h)
    if not np.isfinite(x).all():
        return {"a": None, "b": None, "r2": None, "n": n,
                "reason": f"entropy up to {float(h.max()):.4g}: exp(entropy) overflows (a sum over tokens, not nats "
                          "per token?)"}
    try:
        slope, intercept = np.polyfit(x, r, 1)
        with warnings.catch_warnings():  # its note that the covariance is undefined (e.g. a constant reward):
            warnings.simplefilter("ignore", OptimizeWarning)  # the covariance is not used, R² says how good the fit is
            (a, b), _ = curve_fit(_model, h, r, p0=(-slope, intercept))
    except (np.linalg.LinAlgError, RuntimeError, ValueError) as exc:
        return {"a": None, "b": None, "r2": None, "n": n, "reason": f"the fit did not converge ({exc})"}
    residual = r - _model(h, a, b)
    total = float(np.sum((r - r.mean()) ** 2))
    # a constant reward explains nothing (its mean's rounding would leave total a few ulps above 0)
    r2 = 1.0 - float(np.sum(residual**2)) / total if total > 0 and float(np.ptp(r)) > 0 else None
    return {"a": float(a), "b": float(b), "r2": r2, "n": n}

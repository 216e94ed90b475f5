"""Downsampling of long series for plotting: bucketed min/max envelopes that keep chosen steps exact."""

from __future__ import annotations

import numpy as np

_INT32 = np.iinfo(np.int32)
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def compact_steps(steps: np.ndarray) -> np.ndarray:
    """``steps`` as int32 (half the bytes in the page) when they fit, else int64: a cast would wrap steps beyond
    2^31 (timestamps, sample counters) onto wrong, even negative, x positions without a word."""
    steps = np.asarray(steps)
    if steps.size == 0 or (steps.min() >= _INT32.min and steps.max() <= _INT32.max):
        return steps.astype(np.int32)
    return steps.astype(np.int64)


def compact_values(values: np.ndarray) -> np.ndarray:
    """``values`` as float32 when every finite one fits, else float64 (a cast would turn 1e39 into inf)."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if finite.size and float(np.abs(finite).max()) > _FLOAT32_MAX:
        return values
    return values.astype(np.float32)


def minmax_envelope(
    steps: np.ndarray, values: np.ndarray, max_points: int, keep_steps: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """At most about ``max_points`` points that trace the series' min/max envelope.

    The series is cut into ``max_points // 2`` buckets of equal point count; each bucket contributes
    its minimum and its maximum (in step order), so spikes survive. The first and last points, and
    every point whose step is in ``keep_steps`` (e.g. change points), are always kept exactly.

    Args:
        steps: int[N], ascending.
        values: float[N], finite.
        max_points: target size (>= 4).
        keep_steps: int[K] steps that must appear unchanged in the output.

    Returns:
        (steps[M], values[M]) with M <= max_points + K + 2, ascending in step.
    """
    n = len(steps)
    if n <= max_points:
        return steps, values
    size = -(-n // max(2, max_points // 2))
    n_buckets = -(-n // size)
    pad = n_buckets * size - n
    grid = np.concatenate([values, np.full(pad, np.nan)]).reshape(n_buckets, size)
    # pad < size, so the last bucket holds at least one real point and no row is all NaN.
    offsets = np.arange(n_buckets) * size
    lo = offsets + np.nanargmin(grid, axis=1)
    hi = offsets + np.nanargmax(grid, axis=1)
    picked = np.concatenate([lo, hi, [0, n - 1]])
    if keep_steps is not None and len(keep_steps):
        picked = np.concatenate([picked, np.flatnonzero(np.isin(steps, keep_steps))])
    picked = np.unique(picked)
    return steps[picked], values[picked]

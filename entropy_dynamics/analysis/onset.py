"""Eruption onsets: where a flat level turns into the rise (a hinge fit inside the eruption segment).

A linear-trend segment that holds a flat stretch and then a convex rise starts its line too early: the
least-squares line of "flat, then up" begins at the flat stretch. The onset is the knot ``tau`` of the best
hinge ``y = c + s * max(0, t - tau)`` (flat, then a straight rise) fitted to the segment, searched in its
first half, so it only ever moves later.
"""

from __future__ import annotations

import numpy as np

#: Knots tried per segment at most (evenly spaced indices), so a long segment costs O(KNOTS * n).
KNOTS = 200


def hinge_onset(t: np.ndarray, y: np.ndarray) -> int:
    """Index of the best hinge knot in the first half of (t, y). t, y: (n,) one segment, t ascending.

    Returns 0 when the segment is too short (< 6 points) or no knot fits better than a rise from the start.
    """
    n = y.size
    if n < 6:
        return 0
    knots = np.unique(np.linspace(0, n // 2, num=min(KNOTS, n // 2 + 1)).astype(int))
    x = np.maximum(0.0, t[None, :] - t[knots][:, None])  # (k, n) hinge regressor per knot
    xm = x.mean(axis=1, keepdims=True)
    ym = y.mean()
    sxx = ((x - xm) ** 2).sum(axis=1)
    sxy = ((x - xm) * (y - ym)[None, :]).sum(axis=1)
    slope = np.divide(sxy, sxx, out=np.zeros_like(sxy), where=sxx > 1e-15)
    rss = ((y - ym) ** 2).sum() - slope * sxy
    rss = np.where(slope > 0, rss, np.inf)
    if not np.isfinite(rss).any():
        return 0
    return int(knots[int(np.argmin(rss))])

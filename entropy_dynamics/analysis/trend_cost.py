"""Piecewise linear-trend cost for ruptures, O(1) per segment through prefix sums.

ruptures' own ``CostLinear`` solves a least-squares problem for every candidate segment, which makes
Pelt slow beyond a few hundred points. The residual sum of squares of a straight-line fit
``y ~ a + b t`` on ``y[s:e]`` only needs the sums of 1, t, t^2, y, t*y and y^2 over the segment, so
this cost keeps their prefix sums and answers each ``error(s, e)`` in constant time.
"""

from __future__ import annotations

import numpy as np
from ruptures.base import BaseCost


class TrendSums:
    """Prefix sums of a series for straight-line fits on any slice.

    ``t``, ``y``: shape (n,). Sums are taken with ``t`` centred and scaled to [-1, 1] for
    numerical stability; slopes returned by :meth:`slope` are per unit of the original ``t``.
    """

    def __init__(self, t: np.ndarray, y: np.ndarray) -> None:
        t = np.asarray(t, dtype=float)
        y = np.asarray(y, dtype=float)
        self.t0 = float(t[0]) if t.size else 0.0
        self.scale = float(max(t[-1] - t[0], 1.0)) if t.size else 1.0
        u = (t - self.t0) / self.scale
        zero = np.zeros(1)
        self.c1 = np.concatenate([zero, np.cumsum(np.ones_like(u))])
        self.ct = np.concatenate([zero, np.cumsum(u)])
        self.ctt = np.concatenate([zero, np.cumsum(u * u)])
        self.cy = np.concatenate([zero, np.cumsum(y)])
        self.cty = np.concatenate([zero, np.cumsum(u * y)])
        self.cyy = np.concatenate([zero, np.cumsum(y * y)])
        self._lists: tuple[list[float], ...] | None = None

    def _moments(self, start, end):
        n = self.c1[end] - self.c1[start]
        st = self.ct[end] - self.ct[start]
        stt = self.ctt[end] - self.ctt[start]
        sy = self.cy[end] - self.cy[start]
        sty = self.cty[end] - self.cty[start]
        syy = self.cyy[end] - self.cyy[start]
        return n, st, stt, sy, sty, syy

    def rss(self, start, end):
        """Residual sum of squares of a line fitted to ``[start:end]`` (scalars or index arrays)."""
        n, st, stt, sy, sty, syy = self._moments(start, end)
        n = np.maximum(n, 1.0)
        sxx = stt - st * st / n
        sxy = sty - st * sy / n
        syy_c = syy - sy * sy / n
        with np.errstate(divide="ignore", invalid="ignore"):
            explained = np.where(sxx > 1e-15, sxy * sxy / np.where(sxx > 1e-15, sxx, 1.0), 0.0)
        return np.maximum(syy_c - explained, 0.0)

    def rss_scalar(self, start: int, end: int) -> float:
        """:meth:`rss` for one segment, in plain float arithmetic (Pelt calls this in its inner loop)."""
        if self._lists is None:
            self._lists = tuple(a.tolist() for a in (self.c1, self.ct, self.ctt, self.cy, self.cty, self.cyy))
        c1, ct, ctt, cy, cty, cyy = self._lists
        n = c1[end] - c1[start]
        if n <= 0:
            return 0.0
        st = ct[end] - ct[start]
        sy = cy[end] - cy[start]
        sxx = ctt[end] - ctt[start] - st * st / n
        sxy = cty[end] - cty[start] - st * sy / n
        syy = cyy[end] - cyy[start] - sy * sy / n
        explained = sxy * sxy / sxx if sxx > 1e-15 else 0.0
        return max(syy - explained, 0.0)

    def line(self, start: int, end: int) -> tuple[float, float]:
        """``(slope per unit t, intercept at t = t0)`` of the fit on ``[start:end]``."""
        n, st, stt, sy, sty, _ = self._moments(start, end)
        sxx = stt - st * st / n
        slope_u = (sty - st * sy / n) / sxx if sxx > 1e-15 else 0.0
        intercept = (sy - slope_u * st) / n
        return float(slope_u / self.scale), float(intercept)


class CostLinearTrend(BaseCost):
    """ruptures cost: RSS of a straight line in time, per segment. Signal shape (n, 2): [y, t]."""

    model = "linear_trend"
    min_size = 3

    def __init__(self) -> None:
        self.sums: TrendSums | None = None
        self.signal: np.ndarray | None = None

    def fit(self, signal: np.ndarray) -> CostLinearTrend:
        signal = np.asarray(signal, dtype=float)
        if signal.ndim != 2 or signal.shape[1] != 2:
            raise ValueError("CostLinearTrend expects a signal of shape (n, 2): columns y and t")
        self.signal = signal
        self.sums = TrendSums(signal[:, 1], signal[:, 0])
        return self

    def error(self, start: int, end: int) -> float:
        return self.sums.rss_scalar(start, end)

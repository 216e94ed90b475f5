"""ruptures' ``Pelt`` for the piecewise linear-trend cost, with each step's candidates scored as one numpy array.

``ruptures.Pelt(custom_cost=CostLinearTrend(), min_size=m, jump=j).fit(signal).predict(pen)`` spends its time in
Python: a dict copy, a cost call and a ``sum`` per candidate start per candidate end, ~17,000 of each for one
200-point stretch. The live detector segments its last 200 points every 10 points, so that loop was 98 % of
``watch --replay``. :func:`pelt_breakpoints` runs the same recursion (the same candidate ends, the same admissible
starts in the same order, the same pruning rule, the first of equal totals) with the costs of all admissible
starts of an end computed at once from :class:`~.trend_cost.TrendSums`; the totals are the same floating-point
sums in the same order, so it returns the same breakpoints (``tests/analysis/test_pelt.py`` checks it against
ruptures).
"""

from __future__ import annotations

import numpy as np

from entropy_dynamics.analysis.trend_cost import TrendSums


def pelt_breakpoints(sums: TrendSums, n: int, min_size: int, jump: int, pen: float) -> list[int]:
    """Sorted segment ends (the last one is ``n``) of the penalised piecewise linear-trend fit of the ``n`` points
    of ``sums``, as ``ruptures.Pelt(...).predict(pen)`` gives them (``min_size`` >= 3 points per segment, starts
    on multiples of ``jump``). Raises ValueError when no segment fits (``n < min_size``)."""
    if n < min_size:
        raise ValueError(f"cannot segment {n} points into pieces of at least {min_size}")
    ends = np.array([k for k in range(0, n, jump) if k >= min_size] + [n])
    starts = np.unique(np.r_[0, ends[:-1]])
    # every segment's cost + pen at once (rows: starts, columns: ends), by the same float operations as ruptures'
    # per-segment cost, so the totals below are the same sums
    grid = sums.rss(starts[:, None], ends[None, :]) + pen
    row = np.full(n + 1, -1)
    row[starts] = np.arange(starts.size)
    total = np.full(n + 1, np.nan)  # total[b]: the best penalised cost of the points [0, b), summed as ruptures
    total[0] = 0.0
    previous = np.zeros(n + 1, dtype=np.int64)  # the start of the last segment of that best partition
    admissible = np.zeros(0, dtype=np.int64)
    for col, end in enumerate(ends.tolist()):
        newest = (end - min_size) // jump * jump
        if not np.isnan(total[newest]):  # ruptures skips (and drops) a start that ends no partition yet
            admissible = np.append(admissible, newest)
        candidates = total[admissible] + grid[row[admissible], col]
        best = int(np.argmin(candidates))  # the first of equal totals, as min() over ruptures' admissible list
        total[end] = candidates[best]
        previous[end] = admissible[best]
        admissible = admissible[candidates <= total[end] + pen]
    out = [n]
    while previous[out[-1]] > 0:
        out.append(int(previous[out[-1]]))
    return out[::-1]

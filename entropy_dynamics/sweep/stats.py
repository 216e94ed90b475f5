"""Statistics of a few seeds per arm: mean with a 95 % t interval, Fisher's exact test, Mann-Whitney U (exact),
and the seeds per arm a t test would need."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from scipy import stats


def _finite(values: Sequence[float | None]) -> list[float]:
    """The finite values (None, NaN and infinities left out)."""
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def mean_ci(values: Sequence[float], level: float = 0.95) -> dict[str, float | int]:
    """``{"n", "mean", "ci"}``: the mean of the finite values and the half-width of its two-sided t interval
    (``t_{(1+level)/2, n-1} x sd / sqrt(n)``; NaN for n < 2, NaN mean for n = 0)."""
    x = np.asarray(_finite(values), dtype=float)
    n = int(x.size)
    if n == 0:
        return {"n": 0, "mean": math.nan, "ci": math.nan}
    if n == 1:
        return {"n": 1, "mean": float(x[0]), "ci": math.nan}
    half = stats.t.ppf((1 + level) / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
    return {"n": n, "mean": float(x.mean()), "ci": float(half)}


def fisher_p(hits_a: int, n_a: int, hits_b: int, n_b: int) -> float:
    """Two-sided Fisher exact p for "the rate differs" between two arms (NaN when an arm is empty)."""
    if n_a == 0 or n_b == 0:
        return math.nan
    return float(stats.fisher_exact([[hits_a, n_a - hits_a], [hits_b, n_b - hits_b]])[1])


#: Up to this many ways to split the pooled values, :func:`mann_whitney_p` enumerates them all (exact p).
EXACT_SPLITS = 200_000


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U p of two samples (finite values only; NaN when one is empty; 1.0 when every
    value is the same).

    Exact for the few runs per arm a sweep has: the rank sum of ``a`` over every way of splitting the pooled
    values into groups of the two sizes (mid-ranks for ties), p = 2 x the smaller tail, at most 1; scipy's
    normal approximation only beyond :data:`EXACT_SPLITS` splits. The approximation scipy uses whenever values
    tie (every collapsed run's success is 0) is off at this n: for 1 run against 6 equal ones it gives 0.041, where
    no split can do better than 2/7."""
    x, y = _finite(a), _finite(b)
    if not x or not y:
        return math.nan
    if len(set(x) | set(y)) == 1:
        return 1.0
    if math.comb(len(x) + len(y), len(x)) > EXACT_SPLITS:
        return float(stats.mannwhitneyu(x, y, alternative="two-sided").pvalue)
    ranks = stats.rankdata(x + y)
    splits = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(len(ranks)), len(x))),
                         dtype=np.intp).reshape(-1, len(x))
    sums = ranks[splits].sum(axis=1)
    observed = ranks[: len(x)].sum()
    tol = 1e-9 * max(1.0, float(ranks.sum()))
    lower, upper = np.mean(sums <= observed + tol), np.mean(sums >= observed - tol)
    return float(min(1.0, 2.0 * min(lower, upper)))


def rank_direction(a: Sequence[float], b: Sequence[float]) -> int:
    """Which way a Mann-Whitney difference points: +1 when ``a``'s values rank above ``b``'s on average (U of
    ``a`` above n_a n_b / 2), -1 below, 0 level. The sign of the difference of means can disagree when one value
    is far out (one eruption 200x the others)."""
    x, y = _finite(a), _finite(b)
    if not x or not y:
        return 0
    ranks = stats.rankdata(x + y)
    u = float(ranks[: len(x)].sum()) - len(x) * (len(x) + 1) / 2
    centre = len(x) * len(y) / 2
    return 0 if math.isclose(u, centre) else (1 if u > centre else -1)


def diff_ci(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> dict[str, float]:
    """``{"diff", "low", "high"}``: mean(a) - mean(b) and its two-sided Welch t interval (unequal variances,
    Welch-Satterthwaite degrees of freedom). NaN bounds when an arm has fewer than 2 finite values or both arms
    are constant (no spread to build an interval from)."""
    x, y = np.asarray(_finite(a), dtype=float), np.asarray(_finite(b), dtype=float)
    if not x.size or not y.size:
        return {"diff": math.nan, "low": math.nan, "high": math.nan}
    diff = float(x.mean() - y.mean())
    if x.size < 2 or y.size < 2:
        return {"diff": diff, "low": math.nan, "high": math.nan}
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(va + vb)
    if se == 0.0:
        return {"diff": diff, "low": math.nan, "high": math.nan}
    dof = (va + vb) ** 2 / (va ** 2 / (x.size - 1) + vb ** 2 / (y.size - 1))
    half = float(stats.t.ppf((1 + level) / 2, dof) * se)
    return {"diff": diff, "low": diff - half, "high": diff + half}


def runs_needed(a: Sequence[float], b: Sequence[float], alpha: float = 0.05, power: float = 0.8,
                max_runs: int = 10_000) -> int | None:
    """Runs per arm a two-sided two-sample t test needs to detect a difference of the size seen, ``|mean(a) -
    mean(b)|`` in units of the pooled sd (Cohen's d), at ``alpha`` with probability ``power``: the smallest n with
    ``P(|T'| > t_{1-alpha/2, 2n-2}) >= power``, T' noncentral t with 2n - 2 degrees of freedom and noncentrality
    ``d sqrt(n / 2)``. A planning figure, not evidence: it takes the observed difference as the true one. None when
    an arm has fewer than 2 finite values, there is no spread or no difference, or more than ``max_runs`` are needed."""
    x, y = np.asarray(_finite(a), dtype=float), np.asarray(_finite(b), dtype=float)
    if x.size < 2 or y.size < 2:
        return None
    pooled = math.sqrt(((x.size - 1) * x.var(ddof=1) + (y.size - 1) * y.var(ddof=1)) / (x.size + y.size - 2))
    diff = abs(float(x.mean() - y.mean()))
    if pooled == 0.0 or diff == 0.0:
        return None
    d = diff / pooled

    def achieved(n: int) -> float:
        dof, ncp = 2 * n - 2, d * math.sqrt(n / 2)
        crit = stats.t.ppf(1 - alpha / 2, dof)
        lower = float(stats.nct.cdf(-crit, dof, ncp))  # the wrong-sign tail: negligible, NaN where scipy underflows
        return float(stats.nct.sf(crit, dof, ncp)) + (lower if math.isfinite(lower) else 0.0)

    if achieved(max_runs) < power:
        return None
    low, high = 2, max_runs  # achieved() rises with n: bisect for the smallest n that reaches the power
    while low < high:
        mid = (low + high) // 2
        low, high = (low, mid) if achieved(mid) >= power else (mid + 1, high)
    return low

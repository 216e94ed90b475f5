import numpy as np
import pytest
import ruptures as rpt

from entropy_dynamics.analysis.pelt import pelt_breakpoints
from entropy_dynamics.analysis.trend_cost import CostLinearTrend, TrendSums


@pytest.mark.parametrize("seed", range(12))
def test_the_same_breakpoints_as_ruptures_pelt(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 420))
    t = np.cumsum(rng.choice([1, 2, 5], n)).astype(float)
    kinks = np.sort(rng.uniform(t[0], t[-1], int(rng.integers(0, 6))))
    y = np.zeros(n)
    for k in kinks:
        y += rng.normal(0, 0.01) * np.clip(t - k, 0, None)
    y += rng.normal(0, rng.uniform(0.02, 0.5), n) + np.where(rng.random(n) < 0.03, 2.0, 0.0)
    sigma = 0.3
    for min_size, jump in ((4, 1), (3, 1), (4, 2), (5, 3)):
        if n < 2 * min_size:
            continue
        for factor in (0.5, 2.0, 7.0):
            pen = factor * sigma**2 * np.log(n) * 3
            expected = rpt.Pelt(custom_cost=CostLinearTrend(), min_size=min_size, jump=jump).fit(
                np.c_[y, t]).predict(pen=pen)
            assert pelt_breakpoints(TrendSums(t, y), n, min_size, jump, pen) == expected


def test_a_clean_tent_and_too_few_points():
    t = np.arange(300.0)
    y = np.where(t < 100, 1 - 0.01 * t, np.where(t < 200, 0.01 * (t - 100), 1 - 0.005 * (t - 200)))
    bkps = pelt_breakpoints(TrendSums(t, y), 300, 5, 1, 0.1)
    assert len(bkps) == 3 and abs(bkps[0] - 100) <= 1 and abs(bkps[1] - 200) <= 1 and bkps[2] == 300
    assert pelt_breakpoints(TrendSums(t[:6], y[:6]), 6, 4, 1, 0.1) == [6]
    with pytest.raises(ValueError):
        pelt_breakpoints(TrendSums(t[:3], y[:3]), 3, 4, 1, 0.1)

import numpy as np
import ruptures as rpt

from entropy_dynamics.analysis.trend_cost import CostLinearTrend, TrendSums


def test_rss_and_line_match_numpy_least_squares():
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.choice([1, 2, 5], 300)).astype(float)
    y = 0.01 * t + rng.normal(0, 0.3, t.size)
    sums = TrendSums(t, y)
    for a, b in [(0, 300), (17, 90), (250, 260)]:
        slope, intercept = np.polyfit(t[a:b], y[a:b], 1)
        residual = np.sum((y[a:b] - (slope * t[a:b] + intercept)) ** 2)
        assert np.isclose(sums.rss(a, b), residual, rtol=1e-6)
        assert np.isclose(sums.rss_scalar(a, b), residual, rtol=1e-6)
        fit_slope, fit_intercept = sums.line(a, b)
        assert np.isclose(fit_slope, slope, rtol=1e-6)
        assert np.isclose(fit_intercept + fit_slope * (t[a] - sums.t0), slope * t[a] + intercept, atol=1e-6)


def test_rss_is_vectorised_over_index_arrays():
    t = np.arange(50.0)
    y = np.abs(t - 25.0)
    sums = TrendSums(t, y)
    starts, ends = np.array([0, 0, 25]), np.array([25, 50, 50])
    got = sums.rss(starts, ends)
    assert got.shape == (3,)
    assert got[0] < 1e-9 and got[2] < 1e-9 and got[1] > 100


def test_pelt_with_the_trend_cost_finds_the_kinks_of_a_clean_tent():
    t = np.arange(300.0)
    y = np.where(t < 100, 1 - 0.01 * t, np.where(t < 200, 0.01 * (t - 100), 1 - 0.005 * (t - 200)))
    bkps = rpt.Pelt(custom_cost=CostLinearTrend(), min_size=5, jump=1).fit(np.c_[y, t]).predict(pen=0.1)
    # the kink point lies on both lines, so either side of it is exact
    assert len(bkps) == 3 and abs(bkps[0] - 100) <= 1 and abs(bkps[1] - 200) <= 1 and bkps[2] == 300

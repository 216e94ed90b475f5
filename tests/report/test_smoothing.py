import numpy as np
import pandas as pd
import pytest

from entropy_dynamics.errors import EntropyDynamicsError
from entropy_dynamics.report.smoothing import check_smoothing, ema, logging_gap


def test_ema_is_debiased_as_by_hand():
    # weight 0.5: num = 0.5 num + x, den = 0.5 den + 1
    values = np.array([4.0, 0.0, 2.0])
    expected = [4.0, (0.5 * 4) / 1.5, (0.25 * 4 + 0.5 * 0 + 2) / 1.75]
    assert np.allclose(ema(np.arange(3), values, 0.5), expected)
    # not pulled towards zero at the start, unlike the biased recurrence s = w s + (1 - w) x from s = 0
    assert ema(np.arange(3), values, 0.5)[0] == 4.0


def test_ema_equals_pandas_ewm_on_regular_steps():
    rng = np.random.default_rng(0)
    values = rng.normal(size=400).cumsum()
    for weight in (0.3, 0.6, 0.9, 0.99):
        reference = pd.Series(values).ewm(alpha=1 - weight, adjust=True).mean().to_numpy()
        assert np.allclose(ema(np.arange(400) * 10, values, weight), reference, rtol=1e-9, atol=1e-9)


def test_gaps_decay_as_many_steps_as_they_span():
    values = np.array([1.0, 0.0, 5.0])
    steps = np.array([0, 1, 4])  # usual gap 1 (median of 1, 3): the last point comes 3 steps later
    w = 0.8
    num = (w ** 3) * (w * 1.0 + 0.0) + 5.0
    den = (w ** 3) * (w + 1) + 1
    assert np.isclose(ema(steps, values, w, gap=1.0)[-1], num / den)
    # a series thinned to every 4th step with gap 4 smooths over the same steps as the full one with gap 1
    full = np.sin(np.arange(400) / 40)
    reference = ema(np.arange(400), full, 0.9)[::4]
    thinned = ema(np.arange(0, 400, 4), full[::4], 0.9, gap=1.0)
    per_point = ema(np.arange(0, 400, 4), full[::4], 0.9, gap=4.0)  # what a point-count EMA would draw
    assert np.abs(thinned - reference).max() < 0.05 < np.abs(per_point - reference).max()


def test_weight_zero_is_the_raw_series_and_bad_weights_are_refused():
    values = np.array([1.0, 3.0, 2.0])
    assert np.array_equal(ema(np.arange(3), values, 0.0), values)
    for bad in (-0.1, 1.0, float("nan")):
        with pytest.raises(EntropyDynamicsError, match=r"between 0 and 0\.99"):
            check_smoothing(bad)


def test_logging_gap_is_the_median_spacing():
    assert logging_gap(np.array([0, 10, 20, 30, 100])) == 10
    assert logging_gap(np.array([5])) == 1.0


def test_steps_far_beyond_nanosecond_datetimes_smooth_like_small_ones():
    values = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    small = np.array([0, 10, 20, 40, 50])
    for offset, scale in ((1_733_500_000_000, 1), (0, 10**12), (2**52, 1)):  # ms timestamps, huge spacing
        got = ema(small * scale + offset, values, 0.6)
        np.testing.assert_allclose(got, ema(small, values, 0.6), rtol=1e-9)

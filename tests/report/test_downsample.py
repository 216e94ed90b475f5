import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from entropy_dynamics.report.downsample import minmax_envelope


def test_short_series_is_returned_unchanged():
    steps, values = np.arange(10), np.linspace(0, 1, 10)
    s, v = minmax_envelope(steps, values, 100)
    assert np.array_equal(s, steps) and np.array_equal(v, values)


def test_long_series_keeps_extremes_ends_and_marked_steps_exactly():
    rng = np.random.default_rng(0)
    steps = np.arange(1, 10_001) * 2
    values = rng.normal(size=steps.size).cumsum()
    values[4321] = 1e3  # an isolated spike must survive
    keep = np.array([steps[17], steps[5000], steps[9998]])
    s, v = minmax_envelope(steps, values, 500, keep)
    assert len(s) <= 500 + len(keep) + 2
    assert np.all(np.diff(s) > 0)
    assert s[0] == steps[0] and s[-1] == steps[-1]
    assert v.max() == values.max() and v.min() == values.min()
    for k in keep:
        assert k in s and v[s == k][0] == values[steps == k][0]
    # every output point is a real input point
    assert np.array_equal(v, values[np.searchsorted(steps, s)])


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 5000), max_points=st.integers(4, 700), seed=st.integers(0, 10))
def test_any_length_and_budget(n, max_points, seed):
    rng = np.random.default_rng(seed)
    steps = np.cumsum(rng.integers(1, 4, n))
    values = rng.normal(size=n)
    s, v = minmax_envelope(steps, values, max_points)
    assert len(s) <= max(n if n <= max_points else 0, max_points + 2)
    assert v.max() == values.max() and v.min() == values.min()

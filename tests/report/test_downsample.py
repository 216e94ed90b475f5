import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from entropy_dynamics.report.downsample import compact_steps, compact_values, minmax_envelope


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


def test_compact_types_only_where_the_numbers_fit():
    small = np.array([0, 5, 2**31 - 1])
    assert compact_steps(small).dtype == np.int32
    big = np.array([1_733_500_000_000, 1_733_500_001_000])  # millisecond timestamps as steps
    assert compact_steps(big).dtype == np.int64 and compact_steps(big).tolist() == big.tolist()
    assert compact_values(np.array([0.5, np.nan])).dtype == np.float32
    huge = compact_values(np.array([1e39, -1e300, np.nan]))
    assert huge.dtype == np.float64 and np.isfinite(huge[:2]).all()

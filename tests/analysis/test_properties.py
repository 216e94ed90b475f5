"""Property tests: any series, however odd, gives segments that cover its finite steps, or a warning."""

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from entropy_dynamics.analysis import OnlineDetector, find_cycles
from entropy_dynamics.analysis.segmenter import MIN_POINTS, segment

values_strategy = st.one_of(
    st.lists(st.one_of(st.floats(min_value=-5, max_value=50), st.sampled_from([0.3, float("nan"), float("inf")])),
             min_size=0, max_size=300),
    st.lists(st.floats(min_value=0.01, max_value=10), min_size=15, max_size=300),
)


@settings(max_examples=60, deadline=None)
@given(values=values_strategy, gaps=st.lists(st.sampled_from([1, 2, 5]), min_size=300, max_size=300))
def test_segmentation_never_crashes_and_covers_the_finite_steps(values, gaps):
    v = np.array(values, dtype=float)
    steps = np.cumsum(gaps[: v.size]).astype(np.int64)
    result = segment(steps, v)
    finite = steps[np.isfinite(v)]
    if finite.size < MIN_POINTS:
        assert result.segments == [] and any("too short" in w for w in result.warnings)
        return
    segs = result.segments
    assert segs[0].start_step == finite[0] and segs[-1].end_step == finite[-1]
    for a, b in itertools.pairwise(segs):
        assert a.end_step < b.start_step and not np.any((finite > a.end_step) & (finite < b.start_step))
    assert all(np.isfinite([s.slope, s.start_value, s.end_value]).all() for s in segs)
    for cycle in find_cycles(segs, steps, v):
        assert cycle.eruption_start_step <= cycle.peak_step


@settings(max_examples=30, deadline=None)
@given(values=values_strategy)
def test_online_detector_never_crashes(values):
    detector = OnlineDetector(total_steps=len(values) or None)
    for step, value in enumerate(values, start=1):
        for event in detector.update(step, value):
            assert event.start_step <= event.confirmed_at_step == step

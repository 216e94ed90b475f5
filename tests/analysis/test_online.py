import itertools
import math

import numpy as np
import pytest

from entropy_dynamics.analysis import OnlineDetector, segment
from entropy_dynamics.analysis.eruptions import INTERVAL_DIFFS, median_window, settled_window
from entropy_dynamics.analysis.synthetic import synthetic_series
from entropy_dynamics.errors import ConfigError


def _feed(detector, steps, values):
    emitted = []
    for step, value in zip(steps.tolist(), values.tolist(), strict=True):
        emitted.extend(detector.update(step, value))
    return emitted


def test_events_are_returned_once_and_kept():
    s = synthetic_series(1000, 2, seed=5, noise=0.04)
    detector = OnlineDetector("r", total_steps=int(s.steps[-1]))
    emitted = _feed(detector, s.steps, s.values)
    assert emitted == detector.events and detector.current_phase == emitted[-1].phase
    assert all(e.run == "r" and e.start_step <= e.confirmed_at_step for e in emitted)
    assert all(a.confirmed_at_step <= b.confirmed_at_step for a, b in itertools.pairwise(emitted))
    eruptions = [e.start_step for e in emitted if e.phase == "eruption"]
    assert len(eruptions) == 2
    for found, true in zip(eruptions, s.onsets, strict=True):
        assert abs(found - true) <= 20
    assert "subsidence" in {e.phase for e in emitted}


def test_no_eruption_on_a_monotone_descent():
    s = synthetic_series(3000, 0, seed=2, monotone=True, noise=0.06, spikes=5)
    detector = OnlineDetector(total_steps=int(s.steps[-1]))
    _feed(detector, s.steps, s.values)
    assert "eruption" not in {e.phase for e in detector.events}
    assert detector.events[0].start_step == s.steps[0]


def test_nan_repeated_and_backward_steps_are_ignored():
    detector = OnlineDetector()
    assert detector.update(1, 0.5) == []
    assert detector.update(2, math.nan) == [] and detector.update(2, -1.0) == []
    assert detector.update(1, 0.4) == []
    assert detector.current_phase is None and detector.events == []


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError):
        OnlineDetector(refit_every=0)
    with pytest.raises(ConfigError, match="unknown analysis option"):
        OnlineDetector(min_tail=2)


def test_no_two_events_share_a_start_and_eruptions_match_the_offline_onsets():
    for seed in range(6):
        s = synthetic_series(600, 3, seed=seed, noise=0.08, log_every="mixed")
        detector = OnlineDetector()
        _feed(detector, s.steps, s.values)
        detector.finish()
        starts = [e.start_step for e in detector.events]
        assert len(starts) == len(set(starts))
        offline = [g.start_step for g in segment(s.steps, s.values).segments if g.phase == "eruption"]
        assert [e.start_step for e in detector.events if e.phase == "eruption"] == offline


def test_the_smoothing_window_is_fixed_as_soon_as_later_steps_cannot_change_it():
    rng = np.random.default_rng(0)
    for _ in range(200):
        steps = np.cumsum(rng.choice([1, 2, 5, 7], size=int(rng.integers(2, 15)), p=[0.5, 0.2, 0.2, 0.1]))
        full = median_window(steps, 5)
        settled = [settled_window(steps[:k], 5) for k in range(1, steps.size + 1)]
        assert all(w in (None, full) for w in settled)  # never a window the full run would not give
        if steps.size >= INTERVAL_DIFFS + 1:
            assert settled[INTERVAL_DIFFS] == full
    assert [settled_window(np.arange(1, k + 1), 5) for k in (6, 7)] == [None, 5]  # every step: known at 7 points
    assert settled_window(np.arange(1, 7) * 5, 5) == 3


def test_an_eruption_in_the_first_steps_is_confirmed_before_the_eleventh_point():
    values = [0.2, 0.21, 0.2, 0.8, 0.85, 0.9, 0.88, 0.9, 0.87, 0.9, 0.88, 0.9]
    detector = OnlineDetector()
    for step, value in enumerate(values, start=1):
        detector.update(step, value)
    offline = [s.start_step for s in segment(np.arange(1, 13), np.array(values)).segments if s.phase == "eruption"]
    (event,) = [e for e in detector.events if e.phase == "eruption"]
    assert [event.start_step] == offline and event.confirmed_at_step < 11

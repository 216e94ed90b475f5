"""The sweep's time-left estimate: pending runs at the mean full-run duration, active runs the rest of it."""

from __future__ import annotations

import pytest

from entropy_dynamics.sweep.runner import format_duration, time_left


def test_no_estimate_before_a_full_run_finished():
    assert time_left([], pending=10, active_elapsed=[5.0], parallel=2) is None


def test_pending_runs_take_the_mean_and_active_runs_the_rest_of_it():
    # mean 100 s; 4 pending (400 s of work), one active for 30 s (70 s left), one past the mean (0 s): 2 at a time
    assert time_left([80.0, 120.0], pending=4, active_elapsed=[30.0, 150.0], parallel=2) == pytest.approx(235.0)


@pytest.mark.parametrize(("seconds", "text"), [(40, "40 s"), (59.4, "59 s"), (720, "12 min"), (7500, "2 h 05 min"),
                                               (3600, "1 h 00 min")])
def test_durations_read_in_hours_and_minutes(seconds, text):
    assert format_duration(seconds) == text

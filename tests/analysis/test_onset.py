import numpy as np

from entropy_dynamics.analysis import segment_series
from entropy_dynamics.analysis.onset import hinge_onset


def test_hinge_onset_finds_where_a_flat_level_turns_into_a_rise():
    t = np.arange(100.0)
    y = np.where(t < 37, 0.0, (t - 37) * 0.05) + np.random.default_rng(0).normal(0, 0.01, 100)
    assert abs(hinge_onset(t, y) - 37) <= 1


def test_hinge_onset_stays_at_the_start_of_a_straight_rise_and_of_short_or_falling_segments():
    t = np.arange(60.0)
    assert hinge_onset(t, 0.05 * t) == 0
    assert hinge_onset(t[:5], 0.05 * t[:5]) == 0
    assert hinge_onset(t, -0.05 * t) == 0


def test_an_eruption_after_a_long_flat_stretch_starts_where_the_rise_does():
    # plateau at 0.3, then x5 over 40 steps: the eruption segment may begin in the flat part, its onset may not
    rng = np.random.default_rng(3)
    steps = np.arange(1, 401)
    log_h = np.where(steps < 300, np.log(0.3), np.log(0.3) + (steps - 300) / 40 * np.log(5))
    log_h = np.minimum(log_h, np.log(1.5)) + rng.normal(0, 0.05, steps.size)
    _, segments = segment_series(steps, np.exp(log_h))
    (eruption,) = [s for s in segments if s.phase == "eruption"]
    assert 295 <= eruption.start_step <= 305


def test_a_step_up_followed_by_a_gradual_decline_is_an_eruption_then_subsidence():
    # x12 within 2 logged steps, then a slow decay back: the segmenter puts one change point at the top,
    # so the declining segment starts with the jump (the tiny-model runs of sample_logs/ look like this)
    rng = np.random.default_rng(4)
    steps = np.arange(1, 121)
    log_h = np.where(steps < 30, np.log(0.2), np.log(2.4) - (steps - 30) / 60 * np.log(6))
    log_h = np.where(steps >= 90, np.log(0.4), log_h) + rng.normal(0, 0.1, steps.size)
    _, segments = segment_series(steps, np.exp(log_h))
    phases = [s.phase for s in segments]
    assert phases.count("eruption") == 1
    k = phases.index("eruption")
    assert 27 <= segments[k].start_step <= 31 and phases[k + 1] == "subsidence"


def test_a_step_down_is_still_a_descent():
    rng = np.random.default_rng(5)
    steps = np.arange(1, 121)
    log_h = np.where(steps < 60, np.log(1.0), np.log(0.3)) + rng.normal(0, 0.05, steps.size)
    _, segments = segment_series(steps, np.exp(log_h))
    assert "eruption" not in [s.phase for s in segments]


def test_a_step_up_after_the_plateau_that_follows_an_eruption_is_a_second_eruption():
    # eruption 1 (x4 over 10 steps), a long high plateau, then a step up x8 and a slow decay: that decline
    # follows "eruption, plateau", so it reads as the first eruption's subsidence, yet it starts a new cycle
    rng = np.random.default_rng(6)
    steps = np.arange(1, 241)
    log_h = np.full(steps.size, np.log(0.2))
    rise = (steps >= 30) & (steps < 40)
    log_h[rise] = np.log(0.2) + (steps[rise] - 30) / 10 * np.log(4)
    log_h[(steps >= 40) & (steps < 100)] = np.log(0.8)
    late = steps >= 100
    log_h[late] = np.log(6.4) - (steps[late] - 100) / 140 * np.log(4)
    _, segments = segment_series(steps, np.exp(log_h + rng.normal(0, 0.1, steps.size)))
    onsets = [s.start_step for s in segments if s.phase == "eruption"]
    assert len(onsets) == 2 and 25 <= onsets[0] <= 35 and 95 <= onsets[1] <= 101

import itertools
from pathlib import Path

import numpy as np
import pytest

from entropy_dynamics.analysis import segment_series
from entropy_dynamics.analysis.segmenter import MIN_POINTS, robust_noise, segment
from entropy_dynamics.analysis.synthetic import synthetic_series
from entropy_dynamics.errors import ConfigError


def _assert_covers(steps, values, segments):
    finite = steps[np.isfinite(values)]
    assert segments[0].start_step == finite[0] and segments[-1].end_step == finite[-1]
    covered = np.zeros(finite.size, dtype=int)
    for a, b in itertools.pairwise(segments):
        assert a.end_step < b.start_step
        assert not np.any((finite > a.end_step) & (finite < b.start_step)), "a logged step fell between segments"
    for s in segments:
        covered += (finite >= s.start_step) & (finite <= s.end_step)
    assert np.all(covered == 1)


@pytest.mark.parametrize("log_every", [1, 2, 5, "mixed"])
def test_segments_cover_every_logged_step_in_order(log_every):
    s = synthetic_series(1200, 3, seed=4, log_every=log_every, nan_fraction=0.05, spikes=5)
    change_points, segments = segment_series(s.steps, s.values)
    _assert_covers(s.steps, s.values, segments)
    assert change_points == [seg.start_step for seg in segments[1:]]
    assert all(a.phase != b.phase for a, b in itertools.pairwise(segments))


def test_constant_series_is_one_plateau():
    steps = np.arange(1, 101)
    change_points, segments = segment_series(steps, np.full(100, 0.7))
    assert change_points == []
    assert [(s.phase, s.start_step, s.end_step) for s in segments] == [("plateau", 1, 100)]


def test_too_short_series_gives_a_warning_not_a_crash():
    result = segment(np.arange(MIN_POINTS - 1), np.linspace(1, 0.5, MIN_POINTS - 1))
    assert result.segments == [] and result.change_points == []
    assert "too short" in result.warnings[0]
    assert segment_series(np.array([]), np.array([])) == ([], [])


def test_isolated_spikes_are_not_eruptions():
    s = synthetic_series(1000, 0, seed=3, noise=0.04)
    values = s.values.copy()
    values[[200, 450, 451, 700]] *= 4.0
    _, segments = segment_series(s.steps, values)
    assert "eruption" not in {seg.phase for seg in segments}


def test_monotone_descent_has_no_eruption_and_starts_with_descent():
    for seed in range(5):
        s = synthetic_series(2000, 0, seed=seed, monotone=True, noise=0.06, spikes=5)
        _, segments = segment_series(s.steps, s.values)
        assert segments[0].phase == "descent"
        assert "eruption" not in {seg.phase for seg in segments}


def test_non_positive_values_fall_back_to_linear_scale():
    t = np.arange(200)
    values = np.where(t < 100, 1.0 - 0.01 * t, 0.0) + np.random.default_rng(0).normal(0, 0.01, 200)
    result = segment(t, values)
    assert not result.log_scale
    assert any("linear scale" in w for w in result.warnings)
    assert result.segments[0].phase == "descent"


def test_unknown_option_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown analysis option"):
        segment_series(np.arange(100), np.ones(100), penalty=3)


def test_penalty_factor_controls_the_number_of_change_points():
    s = synthetic_series(1500, 2, seed=9, noise=0.06)
    few, _ = segment_series(s.steps, s.values, penalty_factor=200.0, min_change=1.0)
    many, _ = segment_series(s.steps, s.values, penalty_factor=0.5, min_change=1.0)
    assert len(few) < len(many)


def test_robust_noise_ignores_outliers_and_trend():
    rng = np.random.default_rng(1)
    y = np.linspace(0, 3, 5000) + rng.normal(0, 0.1, 5000)
    y[::100] += 5
    assert 0.09 < robust_noise(y) < 0.11


def test_hundred_thousand_points_are_segmented():
    s = synthetic_series(100_000, 2, seed=2)
    _, segments = segment_series(s.steps, s.values)
    assert [seg.phase for seg in segments].count("eruption") == 2


def test_a_step_up_of_eruption_size_is_an_eruption_even_when_its_own_line_is_flat():
    """Small-model eruptions are often a jump between two logged points followed by a noisy high level
    (the demo's run: 0.35 -> 1.5-3.2 nats within two steps); a slow bump of the same noise is not."""
    rng = np.random.default_rng(3)
    steps = np.arange(1, 61)
    base = 0.35 * np.exp(rng.normal(0, 0.12, 60))
    jumped = np.where(steps > 45, base * 5.0, base)
    _, segments = segment_series(steps, jumped)
    (eruption,) = [s for s in segments if s.phase == "eruption"]
    assert abs(eruption.start_step - 46) <= 2 and eruption.ratio >= 1.8
    bumped = np.where(steps > 45, base * 1.3, base)  # a x1.3 step: below the x1.8 eruption size
    _, segments = segment_series(steps, bumped)
    assert "eruption" not in [s.phase for s in segments]


def test_steps_that_count_timesteps_get_a_warning_and_max_rise_steps_in_those_units_finds_the_eruption():
    """Logged every 2048 steps (SB3's timesteps), the 30-step window spans under two points: a x4 climb over six
    points is a rise, and the warning says which option to give; in timestep units it is the eruption it is."""
    import numpy as np

    from entropy_dynamics.analysis.options import PhaseOptions
    from entropy_dynamics.analysis.segmenter import segment

    rng = np.random.default_rng(0)
    values = np.r_[np.linspace(1.0, 0.3, 60), np.linspace(0.3, 1.2, 6), np.linspace(1.2, 0.5, 40)]
    values = values * np.exp(rng.normal(0, 0.03, values.size))
    steps = (np.arange(values.size) + 1) * 2048
    coarse = segment(steps, values)
    assert "eruption" not in [s.phase for s in coarse.segments]
    assert any("--max-rise-steps" in w and "2048 apart" in w for w in coarse.warnings)
    scaled = segment(steps, values, PhaseOptions(max_rise_steps=30 * 2048))
    assert [s.phase for s in scaled.segments] == ["descent", "eruption", "subsidence"] and not scaled.warnings
    assert not segment(np.arange(values.size) * 5, values).warnings  # every 5 updates: the window spans 6 points


def test_a_rise_does_not_hide_a_larger_decline():
    # 50 noisy points (noise 0.18 in log, as AReaL's small-batch runs): up x1.5, flat, down x0.6 over 20 steps, up
    # x1.8. Pelt cuts only where the last climb starts; the two flat-ended pieces joined into one "rise 1..50"
    # (x1.5 between its smoothed ends) over a stretch that falls x0.6 on the way
    steps = np.arange(1, 51)
    level = np.interp(steps, [1, 3, 5, 18, 38, 45, 50], [0.35, 0.35, 0.52, 0.5, 0.3, 0.55, 0.55])
    values = level * np.exp(np.random.default_rng(18).normal(0, 0.18, 50))
    segments = segment(steps, values).segments
    _assert_covers(steps, values, segments)
    assert [s.phase for s in segments if s.start_step <= 20 and s.end_step >= 35] == ["descent"]
    for s in segments:  # and no trend segment holds a move against its label larger than its own change
        if s.phase in ("rise", "descent"):
            inside = (steps >= s.start_step) & (steps <= s.end_step)
            smooth = np.log(segment(steps, values).smooth[inside])
            against = np.max(smooth[0] - smooth) if s.phase == "rise" else np.max(smooth - smooth[0])
            assert against <= abs(np.log(s.ratio)) + 0.2


def test_a_wavy_rise_stays_one_rise():
    # a x2.5 rise over 150 steps with x1.1 waves is a rise, its dips are not descents
    steps = np.arange(1, 201)
    log_h = np.log(0.3) + np.log(2.5) * np.clip((steps - 25) / 150, 0, 1) + 0.1 * np.sin(2 * np.pi * steps / 40)
    values = np.exp(log_h + np.random.default_rng(3).normal(0, 0.05, 200))
    phases = [s.phase for s in segment(steps, values).segments if s.end_step > 40 and s.start_step < 160]
    assert phases == ["rise"]


def test_the_real_areal_run_that_falls_between_two_climbs_has_its_descent():
    # held-out AReaL run (docs/heldout-curves.md): the eye sees a descent 0.6 -> 0.3 over steps 10-36; it was one
    # "rise 1..50"
    from entropy_dynamics.logs import read_runs

    root = Path(__file__).resolve().parents[2]
    run = read_runs(root / "sample_logs/public/areal_gsm8k/logs_email_failed/trial_20251129_171626.csv")[0]
    series = run.series("grpo_actor/entropy/avg")  # the source name; read as policy/entropy
    segments = segment(series.index.to_numpy(), series.to_numpy()).segments
    assert [s.phase for s in segments if s.start_step <= 12 and s.end_step >= 34] == ["descent"]

"""The phase definitions hold as written, and the labels do not depend on how much of a run is looked at,
how often it was logged, or its scale (beyond the documented absolute floor)."""

from pathlib import Path

import numpy as np
import pytest

from entropy_dynamics.analysis import OnlineDetector, PhaseOptions, analyze_run, segment
from entropy_dynamics.analysis.eruptions import erupted_points, trailing_noise
from entropy_dynamics.analysis.stream import replay
from entropy_dynamics.analysis.synthetic import synthetic_series
from entropy_dynamics.logs import read_runs

SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"
OURS = ["grpo", "grpo_seed1", "grpo_seal", "grpo_seal_seed1", "sft12_grpo", "sft12_grpo_seal"]


def onsets(steps, values, **options) -> list[int]:
    result = segment(steps, values, PhaseOptions().updated(**options))
    return [s.start_step for s in result.segments if s.phase == "eruption"]


def step_run(n: int, jump_at: int, factor: float, base: float = 0.4, noise: float = 0.08, seed: int = 0,
             every: int = 1):
    """A flat noisy run that jumps x``factor`` at step ``jump_at`` over 4 steps and stays up."""
    rng = np.random.default_rng(seed)
    steps = np.arange(1, n + 1) * every
    level = np.where(steps < jump_at, 0.0, np.log(factor) * np.clip((steps - jump_at) / 4, 0, 1))
    return steps, base * np.exp(level + rng.normal(0, noise, n))


def test_an_eruption_is_found_wherever_it_sits_in_the_run():
    for jump_at in (3, 150, 596):
        steps, values = step_run(600, jump_at, 4.0)
        (found,) = onsets(steps, values)
        assert abs(found - jump_at) <= 3, jump_at


def test_a_short_run_whose_entropy_erupts_in_its_first_steps_and_stays_up():
    steps = np.arange(1, 54)
    values = np.where(steps <= 30, 0.3 * (4.2 / 0.3) ** ((steps - 1) / 29), 4.2)
    values = values * np.exp(np.random.default_rng(1).normal(0, 0.05, steps.size))
    result = segment(steps, values)
    eruption = next(s for s in result.segments if s.phase == "eruption")
    assert eruption.start_step <= 8  # half way (in log) to x1.8 on a steady climb from step 1
    assert "plateau" in [s.phase for s in result.segments[1:]]


def test_windows_find_the_same_onsets():
    """Every eruption of a run is found, at the same onset (within 2 % of the window), in every window that
    holds it with max_rise_steps of context before and 20 steps after."""
    for seed in range(4):
        s = synthetic_series(1500, 3, seed=seed, noise=0.06)
        full = onsets(s.steps, s.values)
        assert full
        for lo, hi in ((0, 700), (300, 1000), (600, 1500), (900, 1500)):
            keep = (s.steps >= s.steps[0] + lo) & (s.steps <= s.steps[0] + hi)
            part = onsets(s.steps[keep], s.values[keep])
            inside = [o for o in full if s.steps[keep][0] + 30 <= o <= s.steps[keep][-1] - 20]
            tolerance = 0.02 * (s.steps[keep][-1] - s.steps[keep][0])
            for o in inside:
                assert any(abs(o - p) <= tolerance for p in part), (seed, lo, hi, o, part)


def test_logging_every_two_or_five_steps_moves_onsets_by_at_most_one_interval():
    steps, values = step_run(1500, 700, 3.0, noise=0.05)
    (full,) = onsets(steps, values)
    for every in (2, 5):
        keep = slice(0, None, every)
        (found,) = onsets(steps[keep], values[keep])
        assert abs(found - full) <= every, every


def spike_run(every: int, seed: int = 0):
    """Flat at 0.4 nats, x2.4 over steps 500-510, back down by step 540, logged every ``every`` steps."""
    steps = np.arange(every, 1000 + every, every)
    up = np.clip((steps - 500) / 10, 0, 1) - np.clip((steps - 510) / 30, 0, 1)
    values = 0.4 * np.exp(np.log(2.4) * up + np.random.default_rng(seed).normal(0, 0.03, steps.size))
    return steps, values


def test_a_short_eruption_logged_every_five_steps_is_not_smoothed_away():
    """The running median covers about smooth_points *steps*: a 10-step eruption logged every 5 steps (3 points
    up) stays an eruption, at the onset found when every step is logged (within one interval)."""
    (every_step,) = onsets(*spike_run(1))
    for every in (2, 5):
        (found,) = onsets(*spike_run(every))
        assert abs(found - every_step) <= every, every


def test_a_plateau_before_an_eruption_is_judged_up_to_the_low_the_eruption_rose_from():
    """The smoothed values of a plateau's last points already see the climb; the plateau ends at the eruption's
    low, so its numbers run on where the eruption's begin and a flat stretch never reads as a rise."""
    steps, values = spike_run(1)
    segments = segment(steps, values).segments
    phases = [s.phase for s in segments]
    assert phases[:2] == ["plateau", "eruption"]
    assert segments[0].end_value == segments[1].start_value


def test_a_subsidence_ends_back_at_the_low_the_eruption_rose_from():
    """After an eruption the entropy falls back to where it rose from and then collapses further: the fall back
    is the subsidence, the collapse below the eruption's low is a descent."""
    steps = np.arange(1, 301)
    up = np.clip((steps - 100) / 5, 0, 1) - np.clip((steps - 105) / 20, 0, 1)  # back at the base by step 125
    collapse = np.clip((steps - 125) / 100, 0, 1)
    values = 0.5 * np.exp(np.log(4.0) * up - np.log(8.0) * collapse
                          + np.random.default_rng(0).normal(0, 0.03, steps.size))
    segments = segment(steps, values).segments
    phases = [s.phase for s in segments]
    assert phases[:3] == ["plateau", "eruption", "subsidence"], phases
    subsidence = segments[2]
    assert 115 <= subsidence.end_step <= 130
    descent = next(s for s in segments[3:] if s.phase == "descent")
    assert descent.end_value < 0.5 * subsidence.end_value


@pytest.mark.parametrize("every", [1, 5, "mixed"])
def test_live_equals_offline_whatever_the_logging_interval(every):
    s = synthetic_series(400, 2, seed=4, noise=0.05, log_every=every)
    offline = [seg.start_step for seg in segment(s.steps, s.values).segments if seg.phase == "eruption"]
    detector = OnlineDetector()
    for step, value in zip(s.steps.tolist(), s.values.tolist(), strict=True):
        detector.update(step, value)
    detector.finish()
    assert offline
    assert [e.start_step for e in detector.events if e.phase == "eruption"] == offline


def test_scale_matters_only_through_the_absolute_floor():
    steps, values = step_run(400, 200, 3.0, base=0.4)
    assert onsets(steps, values) == onsets(steps, values * 10)
    assert onsets(steps, values * 0.05) == []  # 0.02 -> 0.06 nats: x3 but below the 0.3-nat floor
    assert onsets(steps, values * 0.05, min_rise=0.0) == onsets(steps, values)


def test_bursts_of_a_run_collapsed_near_zero_are_not_eruptions():
    rng = np.random.default_rng(4)
    steps = np.arange(1, 301)
    values = 0.05 * np.exp(rng.normal(0, 0.2, 300))
    for at in (80, 160, 240):
        values[at:at + 6] = 0.2
    assert onsets(steps, values) == []


def test_a_slow_rise_is_a_rise_not_a_plateau_nor_an_eruption():
    steps = np.arange(1, 401)
    values = 0.3 * np.exp(np.log(3.0) * steps / 400 + np.random.default_rng(2).normal(0, 0.04, 400))
    phases = {s.phase for s in segment(steps, values).segments}
    assert "eruption" not in phases and "rise" in phases


@pytest.mark.parametrize("name", OURS)
def test_no_other_segment_holds_a_rise_of_eruption_size(name):
    """No point of a non-eruption segment stands an eruption's height (ratio, floor, noise) above a low in the
    same segment, unless it belongs to an eruption (still climbing to its top, within max_rise_steps of its
    onset); the last points before an eruption are left out, since their running median already sees the
    climb."""
    (run,) = read_runs(SAMPLES / name)
    series = run.metrics["policy/entropy"].dropna()
    opts = PhaseOptions()
    result = segment(series.index.to_numpy(), series.to_numpy(), opts)
    t, y = result.steps.astype(float), np.log(series.to_numpy())
    s = np.log(result.smooth)
    erupted, low = erupted_points(t, s, result.smooth, trailing_noise(y), opts, log_scale=True)
    for k, seg in enumerate(result.segments):
        if seg.phase == "eruption":
            assert seg.ratio >= opts.min_ratio and seg.change >= opts.min_rise
            continue
        a, b = np.searchsorted(t, seg.start_step), np.searchsorted(t, seg.end_step) + 1
        assert seg.start_value == result.smooth[a]
        if k + 1 < len(result.segments) and result.segments[k + 1].phase == "eruption":
            # the piece ends at the low the eruption rose from, when that low lies in the piece
            following = result.segments[k + 1]
            assert seg.end_value in (result.smooth[b - 1], following.start_value)
            b -= opts.smooth_points // 2
        else:
            assert seg.end_value == result.smooth[b - 1]
        owned = {j for e in result.eruptions for j in range(e.onset, e.last_erupted + 1)}
        inside = [j for j in range(a, b) if erupted[j] and low[j] >= a and j not in owned]
        assert not inside, (seg, inside)


@pytest.mark.parametrize("name", OURS)
def test_live_replay_confirms_every_offline_eruption_at_its_onset(name):
    (run,) = read_runs(SAMPLES / name)
    offline = [s.start_step for s in analyze_run(run).segments if s.phase == "eruption"]
    events, _ = replay(run)
    live = [e for e in events if e.phase == "eruption"]
    assert [e.start_step for e in live] == offline
    assert all(e.confirmed_at_step - e.start_step <= 30 for e in live)
    starts = [e.start_step for e in events]
    assert len(starts) == len(set(starts))

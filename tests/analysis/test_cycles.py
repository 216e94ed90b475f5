import numpy as np

from entropy_dynamics.analysis import find_cycles, segment_series
from entropy_dynamics.analysis.synthetic import synthetic_series
from entropy_dynamics.analysis.types import Segment


def test_cycles_match_the_synthetic_truth():
    s = synthetic_series(2000, 3, seed=11, noise=0.04)
    _, segments = segment_series(s.steps, s.values)
    cycles = find_cycles(segments, s.steps, s.values)
    assert len(cycles) == 3
    span = s.steps[-1] - s.steps[0]
    for cycle, truth in zip(cycles, s.cycles, strict=True):
        assert abs(cycle.eruption_start_step - truth["onset"]) <= 0.02 * span
        assert abs(cycle.peak_step - truth["peak"]) <= 0.02 * span
        assert abs(cycle.subsidence_end_step - truth["end"]) <= 0.03 * span
        assert cycle.amplitude_ratio > 1.8
        assert cycle.rise_steps == cycle.peak_step - cycle.eruption_start_step
        assert cycle.decay_steps == cycle.subsidence_end_step - cycle.peak_step
    assert cycles[0].period_steps is None
    assert cycles[1].period_steps == cycles[1].eruption_start_step - cycles[0].eruption_start_step


def test_end_is_null_while_the_run_is_still_erupting_or_subsiding():
    steps = np.arange(1, 101)
    values = np.exp(np.concatenate([np.zeros(60), np.linspace(0, 1.5, 20), np.linspace(1.5, 1.0, 20)]))
    segments = [Segment(1, 60, "plateau", 0, 1, 1), Segment(61, 80, "eruption", 0.1, 1, 4.5),
                Segment(81, 100, "subsidence", -0.1, 4.5, 2.7)]
    (cycle,) = find_cycles(segments, steps, values)
    assert cycle.subsidence_end_step is None and cycle.decay_steps is None
    assert cycle.eruption_start_step == 61 and 78 <= cycle.peak_step <= 82
    assert np.isclose(cycle.base_value, 1.0)
    (cycle,) = find_cycles(segments[:2], steps[:80], values[:80])
    assert cycle.subsidence_end_step is None

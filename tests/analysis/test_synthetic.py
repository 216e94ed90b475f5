import numpy as np
import pytest

from entropy_dynamics.analysis.synthetic import SHAPES, make_run, shapes_suite, synthetic_series, synthetic_suite


@pytest.mark.parametrize("cycles", [0, 1, 4])
def test_truth_is_consistent(cycles):
    s = synthetic_series(1200, cycles, seed=cycles)
    assert len(s.onsets) == len(s.cycles) == cycles
    assert s.steps.shape == s.values.shape == s.phases.shape
    for cycle in s.cycles:
        i = np.searchsorted(s.steps, cycle["onset"])
        assert s.phases[i] == "eruption" and s.phases[i - 1] != "eruption"
        assert cycle["onset"] < cycle["peak"] < cycle["end"]
    assert s.phases[0] == "descent"


def test_logging_gaps_spikes_and_monotone():
    s = synthetic_series(2000, 2, seed=1, log_every="mixed", nan_fraction=0.05, spikes=5)
    assert set(np.diff(s.steps).tolist()) <= {1, 2, 5}
    assert 0.04 <= np.isnan(s.values).mean() <= 0.07
    assert (synthetic_series(100, 0, log_every=5).steps % 5 == 0).all()
    mono = synthetic_series(3000, 0, seed=1, monotone=True, noise=0.0)
    assert np.all(np.diff(mono.values) <= 0) and set(mono.phases) == {"descent"}


def test_bad_settings_raise():
    for kwargs in ({"n_points": 10}, {"n_cycles": 5}, {"n_cycles": 1, "monotone": True}, {"log_every": 0}):
        with pytest.raises(ValueError):
            synthetic_series(**{"n_points": 500, "n_cycles": 1, **kwargs})


def test_make_run_gives_a_run_with_truth():
    run = make_run("demo", n_points=500, n_cycles=1, with_metrics=True)
    assert run.name == "demo" and "policy/entropy" in run.metrics.columns
    assert run.metadata["truth"]["onsets"] and "reward/mean" in run.metrics.columns
    assert len(synthetic_suite(5, seed=2)) == 5


@pytest.mark.parametrize("shape", SHAPES)
def test_real_run_shapes_have_the_truth_they_claim(shape):
    s = synthetic_series(300, shape=shape, seed=2, noise=0.0)
    truth = np.log(s.values)
    if shape in ("wavy_rise", "collapse"):
        assert s.onsets == []
        # no x1.8 climb within 30 steps anywhere (the bursts of a collapse stay under +0.2 nats)
        for j in range(s.steps.size):
            before = truth[(s.steps >= s.steps[j] - 30) & (s.steps <= s.steps[j])]
            assert truth[j] - before.min() < np.log(1.8) or s.values[j] - np.exp(before.min()) < 0.3
    else:
        (onset,) = s.onsets
        i = np.searchsorted(s.steps, onset)
        assert s.phases[i] == "eruption"
        assert s.values.max() / s.values[i] >= 2.5 and s.values.max() - s.values[i] >= 0.4
    if shape == "early":
        assert onset <= s.steps[4]
    if shape == "end":
        assert onset >= s.steps[-8]
    if shape == "collapse":
        assert s.values[-1] < 0.1
    with pytest.raises(ValueError):
        synthetic_series(100, shape="zigzag")


def test_the_shapes_suite_cycles_through_the_shapes():
    assert [kw["shape"] for kw in shapes_suite(len(SHAPES), seed=1)] == list(SHAPES)

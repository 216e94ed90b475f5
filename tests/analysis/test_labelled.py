"""The analyzer against real curves labelled by eye (benchmarks/real_runs/labels.json): a floor that fails
when a change loses eruptions a person sees or adds many they do not."""

from pathlib import Path

import numpy as np

from entropy_dynamics.analysis.labelled import load_labels, score_labelled, widen

LABELS = Path(__file__).resolve().parents[2] / "benchmarks" / "real_runs" / "labels.json"


def test_the_labelled_real_curves_are_read_as_a_person_reads_them():
    score = score_labelled(load_labels(LABELS))
    assert len(score.curves) == 17
    assert score.recall >= 0.9 and score.precision >= 0.55
    assert score.phase_agreement >= 0.9
    by_name = {c.name: c for c in score.curves}
    for name, curve in by_name.items():
        if name.startswith("deep_grpo/GSM8K"):
            assert curve.false_alarms == [], name  # long monotone runs: no eruption
    assert by_name["deep_grpo/TreeRL"].hits == 1 and not by_name["deep_grpo/TreeRL"].false_alarms


def test_slack_widens_a_labelled_range_by_logged_points():
    steps = np.array([1, 2, 4, 8, 16])
    assert widen(4, 4, steps, 0) == (4, 4)
    assert widen(4, 4, steps, 1) == (2, 8)
    assert widen(1, 16, steps, 3) == (1, 16)
    strict, slack = score_labelled(load_labels(LABELS)), score_labelled(load_labels(LABELS), slack_points=1)
    assert slack.hits >= strict.hits and slack.false_alarms <= strict.false_alarms

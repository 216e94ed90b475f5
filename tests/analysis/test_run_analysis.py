import numpy as np
import pandas as pd
import pytest

from entropy_dynamics.analysis import analyze_run
from entropy_dynamics.analysis.synthetic import make_run, synthetic_series
from entropy_dynamics.errors import MetricNotFoundError
from entropy_dynamics.logs import frame_to_run


def _run(columns: dict[str, np.ndarray], steps: np.ndarray):
    return frame_to_run("r", "mem", "test", pd.DataFrame(columns, index=pd.Index(steps, name="step")))


def test_default_metric_and_contract_fields():
    run = make_run("syn", n_points=800, n_cycles=2, seed=3)
    analysis = analyze_run(run)
    d = analysis.to_dict()
    assert list(d) == ["run", "source", "metric", "source_metric", "n_points", "first_step", "last_step",
                       "change_points", "segments", "cycles", "warnings", "extra"]
    assert d["extra"]["options"]["min_ratio"] == 1.8
    assert d["metric"] == "policy/entropy" and d["n_points"] == 800 and d["warnings"] == []
    assert len(d["cycles"]) == 2


def test_fallback_to_a_column_ending_in_entropy_is_reported():
    s = synthetic_series(300, 0, seed=1)
    analysis = analyze_run(_run({"my/token_entropy": s.values, "loss": s.values}, s.steps))
    assert analysis.metric == "my/token_entropy"
    assert "analysed 'my/token_entropy'" in analysis.warnings[0]


def test_unknown_metric_lists_the_available_ones():
    run = make_run("syn", n_points=300, n_cycles=0)
    with pytest.raises(MetricNotFoundError, match="available: policy/entropy"):
        analyze_run(run, metric="nope")


def test_too_short_run_is_a_warning():
    analysis = analyze_run(_run({"policy/entropy": np.linspace(1, 0.5, 4)}, np.arange(4)))
    assert analysis.segments == [] and analysis.cycles == [] and "too short" in analysis.warnings[0]


def test_any_metric_can_be_analysed():
    run = make_run("syn", n_points=600, n_cycles=1, with_metrics=True, seed=2)
    analysis = analyze_run(run, metric="repr/inter_cos")
    assert analysis.metric == "repr/inter_cos" and analysis.segments


def test_json_of_a_cycle_with_a_non_positive_base_has_no_nan():
    import json

    from entropy_dynamics.analysis.types import Cycle, PhaseAnalysis

    analysis = PhaseAnalysis("r", "s", "m", "m", 3, 1, 3, cycles=[Cycle(1, 2, None, 0.0, 1.0, float("nan"))])
    assert json.loads(json.dumps(analysis.to_dict(), allow_nan=False))["cycles"][0]["amplitude_ratio"] is None

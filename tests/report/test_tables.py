import numpy as np
import pandas as pd

from entropy_dynamics.analysis.types import Cycle, PhaseAnalysis, Segment
from entropy_dynamics.logs import frame_to_run
from entropy_dynamics.report.tables import (
    TAIL_POINTS,
    cycle_rows,
    eruption_share,
    flatten_config,
    segment_rows,
    summarize,
)

from .conftest import plan_analysis


def _run(values: dict[str, np.ndarray], steps: np.ndarray):
    return frame_to_run("r", "r.jsonl", "jsonl", pd.DataFrame(values, index=pd.Index(steps, name="step")))


def test_eruption_share_counts_logged_steps_inside_eruption_segments():
    steps = np.arange(0, 100, 2)  # 50 logged steps
    run = _run({"policy/entropy": np.ones(50)}, steps)
    analysis = PhaseAnalysis("r", "r", "policy/entropy", "policy/entropy", 50, 0, 98, segments=[
        Segment(0, 38, "descent", -0.1, 1, 0.5), Segment(40, 58, "eruption", 0.1, 0.5, 1),
        Segment(60, 98, "subsidence", -0.1, 1, 0.6)])
    assert eruption_share(run, analysis) == 10 / 50


def test_summary_row_of_the_generated_run(full_run):
    analysis = plan_analysis(full_run)
    row = summarize("seed 0", full_run, analysis)
    assert row.cycles == 2
    assert row.largest_ratio == max(c.amplitude_ratio for c in analysis.cycles)
    tail = full_run.metrics["env/success_rate"].dropna().iloc[-TAIL_POINTS:].mean()
    assert row.success_metric == "env/success_rate" and np.isclose(row.final_success, tail)
    assert row.degen_metric == "degen/sentence_dup_rate"
    cells = row.cells()
    assert cells["cycles"] == "2" and cells["largest"].startswith("×") and cells["share"].endswith("%")


def test_summary_without_success_or_degeneration():
    run = _run({"policy/entropy": np.linspace(1, 0, 30)}, np.arange(30))
    analysis = PhaseAnalysis("r", "r", "policy/entropy", "policy/entropy", 30, 0, 29,
                             segments=[Segment(0, 29, "descent", -0.03, 1, 0)])
    cells = summarize("r", run, analysis).cells()
    assert cells["success"] == "—" and cells["degen"] == "—" and cells["largest"] == "—"
    assert cells["share"] == "0.0%"


def test_cycle_and_segment_rows():
    analysis = PhaseAnalysis("r", "r", "m", "m", 10, 0, 9, segments=[Segment(0, 9, "eruption", 0.5, 0.1, 0.9)],
                             cycles=[Cycle(0, 9, None, 0.1, 0.9, 9.0, 9, None, None)])
    (row,) = cycle_rows(analysis)
    assert row["subsided"] == "still subsiding" and row["ratio"] == "×9" and row["period"] == "—"
    (seg,) = segment_rows(analysis)
    assert seg["steps"] == "10" and seg["phase"] == "eruption" and seg["slope"] == "+0.5"


def test_flatten_config_dots_nested_keys_and_cuts_long_values():
    rows = dict(flatten_config({"seal": {"coef": 0.02, "head": {"dim": 64}}, "tags": ["a", "b"],
                                "prompt": "x" * 1000, "empty": {}}))
    assert rows["seal.coef"] == "0.02" and rows["seal.head.dim"] == "64"
    assert rows["tags"] == '["a", "b"]' and rows["empty"] == "{}"
    assert len(rows["prompt"]) < 320 and rows["prompt"].endswith("…")

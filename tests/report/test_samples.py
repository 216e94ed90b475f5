import numpy as np
import pandas as pd

from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.logs import frame_to_run
from entropy_dynamics.report.samples import MAX_TEXT_CHARS, MAX_TRAJECTORIES, sample_groups

from .conftest import plan_analysis


def test_samples_just_before_and_after_each_onset(full_run):
    groups = sample_groups(full_run, plan_analysis(full_run))
    assert [g.title for g in groups] == ["C1: eruption onset at step 101", "C2: eruption onset at step 201"]
    assert [v.step for v in groups[0].views] == [95, 105]
    assert [v.step for v in groups[1].views] == [195, 210]
    assert groups[0].views[0].label == "6 steps before onset"
    turn = groups[0].views[0].trajectories[0][1]
    assert turn["response"] == "<think>take milk</think> take milk" and turn["valid"] is True


def test_no_eruption_shows_first_and_last_and_clips_long_records():
    traj = {"turns": [{"observation": "o" * (MAX_TEXT_CHARS + 50), "response": "r", "action": "go"}]}
    samples = [{"type": "samples", "step": s, "trajectories": [traj] * (MAX_TRAJECTORIES + 3)} for s in (5, 9, 2)]
    run = frame_to_run("r", "r", "jsonl", pd.DataFrame({"policy/entropy": np.ones(10)},
                                                       index=pd.Index(np.arange(10), name="step")),
                       samples=samples)
    analysis = PhaseAnalysis("r", "r", "policy/entropy", "policy/entropy", 10, 0, 9)
    (group,) = sample_groups(run, analysis)
    assert [v.step for v in group.views] == [2, 9]
    view = group.views[0]
    assert len(view.trajectories) == MAX_TRAJECTORIES and view.hidden == 3
    assert view.trajectories[0][0]["observation"].endswith("[50 more chars]")


def test_run_without_samples_has_no_groups():
    run = frame_to_run("r", "r", "jsonl", pd.DataFrame({"policy/entropy": np.ones(3)}))
    assert sample_groups(run, PhaseAnalysis("r", "r", "policy/entropy", "policy/entropy", 3, 0, 2)) == []


def test_odd_sample_records_from_other_tools_do_not_break_the_view():
    samples = [{"step": 2, "trajectories": {"turns": "one string"}},
               {"step": 3, "trajectories": [{"turns": [1, None, {"response": 5}]}]}, {"step": "x"}]
    run = frame_to_run("r", "r", "jsonl", pd.DataFrame({"policy/entropy": np.ones(5)}), samples=samples)
    (group,) = sample_groups(run, PhaseAnalysis("r", "r", "policy/entropy", "policy/entropy", 5, 0, 4))
    first, last = group.views
    assert first.trajectories == [[{"response": "one string"}]]
    assert last.trajectories == [[{"response": "1"}, {"response": ""}, {"response": "5"}]]

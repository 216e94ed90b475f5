"""The analyzer on real public verl GRPO runs (W&B exports in sample_logs/public)."""

from entropy_dynamics.analysis import analyze_run
from entropy_dynamics.analysis.stream import replay
from entropy_dynamics.logs import read_runs


def test_tree_rl_run_shows_its_descent_and_the_late_eruption(real_logs):
    (run,) = read_runs(real_logs / "deep_grpo" / "tree_methods_training_instability_entropy.csv")
    analysis = analyze_run(run)
    assert analysis.n_points == 927 and analysis.source_metric == "actor/entropy"
    assert analysis.segments[0].phase == "descent" and analysis.segments[0].end_step <= 60
    assert [c.eruption_start_step for c in analysis.cycles] == [s.start_step for s in analysis.segments
                                                                if s.phase == "eruption"]
    (cycle,) = analysis.cycles
    assert 770 <= cycle.eruption_start_step <= 810
    assert cycle.subsidence_end_step is None and cycle.amplitude_ratio >= 1.8 and cycle.amplitude >= 0.3
    after = [s.phase for s in analysis.segments if s.start_step > cycle.eruption_start_step]
    assert set(after) <= {"rise", "plateau"}  # the slower climb to 1.4 nats after the sharp part


def test_monotone_runs_have_no_eruption(real_logs):
    runs = read_runs(real_logs / "deep_grpo" / "training_dynamics_entropy.csv")
    runs += read_runs(real_logs / "deep_grpo" / "depth_and_entropy.csv")
    assert len(runs) == 5
    for run in runs:
        analysis = analyze_run(run)
        assert analysis.cycles == [], run.name
        assert analysis.segments[0].phase == "descent"


def test_live_replay_confirms_the_tree_rl_eruption_quickly(real_logs):
    (run,) = read_runs(real_logs / "deep_grpo" / "tree_methods_training_instability_entropy.csv")
    events, _ = replay(run)
    late = [e for e in events if e.phase == "eruption" and e.start_step >= 700]
    assert late and 770 <= late[0].start_step <= 810
    assert late[0].confirmed_at_step - late[0].start_step <= 30

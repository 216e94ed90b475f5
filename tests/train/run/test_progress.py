"""The one progress bar (train, sft, demo) and the lines printed above it."""

from __future__ import annotations

from entropy_dynamics.train.run.callbacks import TrainState
from entropy_dynamics.train.run.progress import ProgressBar, print_above_progress


def test_progress_bar_shows_the_headline_figures_and_the_phase(tmp_path, capsys):
    state = TrainState(config=None, run_name="x", output_dir=tmp_path, extra={"phase": "eruption"})
    bar = ProgressBar("grpo", total=3)
    bar.on_train_start(state, {})
    bar.on_step_end(state, {"reward/mean": 0.25, "env/success_rate": 0.5, "policy/entropy": 1.2345})
    bar.on_train_end(state)
    line = capsys.readouterr().err.splitlines()[-1]
    assert "1/3" in line and "reward 0.250 success 0.50 entropy 1.234 phase eruption" in line
    assert "loss" not in line  # absent figures are not shown


def test_auto_total_is_the_loops_length_and_a_resume_starts_where_it_left(tmp_path, capsys):
    state = TrainState(config=None, run_name="x", output_dir=tmp_path, step=4, total_steps=10)
    bar = ProgressBar("train")
    bar.on_train_start(state, {})
    state.step = 5
    bar.on_step_end(state, {"loss/sft": 0.5})
    print_above_progress("[entropy-dynamics] eruption of policy/entropy from step 3")
    bar.on_train_end(state)
    err = capsys.readouterr().err
    assert "5/10" in err and "loss 0.500" in err and "phase" not in err
    assert "[entropy-dynamics] eruption of policy/entropy from step 3\n" in err


def test_a_phase_event_refreshes_the_shown_phase(tmp_path, capsys):
    state = TrainState(config=None, run_name="x", output_dir=tmp_path, total_steps=2, extra={"phase": None})
    bar = ProgressBar("train")
    bar.on_train_start(state, {})
    bar.on_step_end(state, {"policy/entropy": 0.5})
    state.extra["phase"] = "descent"  # set by live detection after the bar's own step hook
    bar.on_event(state, "phase", {"phase": "descent"})
    bar.on_train_end(state)
    assert "entropy 0.500 phase descent" in capsys.readouterr().err

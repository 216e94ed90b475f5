"""The trainer's sinks beside JSONL: TensorBoard (read back by our reader) and W&B (phase metric, alerts, summary)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from entropy_dynamics.logs import read_runs
from entropy_dynamics.logs.model import ReadStats
from entropy_dynamics.logs.wandb_offline import iter_wandb_records
from entropy_dynamics.train.run.callbacks import CallbackList, JsonlSink, TrainState, WandbSink
from entropy_dynamics.train.run.live_phase import LivePhase
from entropy_dynamics.train.run.loop import train
from entropy_dynamics.train.run.run_phase import PHASE_CODES
from entropy_dynamics.train.run.tensorboard_sink import TensorBoardSink
from tests.train.run.test_instruments import metric_records, tiny_config
from tests.train.run.test_loop import _finished_wandb_run


def erupting_entropy() -> np.ndarray:
    """A slow descent (80 steps), an eruption (x3 in 10 steps), a subsidence (40 steps); a little noise."""
    rng = np.random.default_rng(1)
    curve = np.concatenate([np.linspace(0.6, 0.2, 80), np.linspace(0.3, 1.0, 10), np.linspace(1.0, 0.6, 40)])
    return curve + rng.normal(0.0, 0.005, curve.size)


def drive(sinks: list, out: Path, entropy: np.ndarray) -> LivePhase:
    """Run the loop's hook sequence (live detection first, then the sinks) over a scripted entropy curve."""
    live = LivePhase(on_eruption=(), echo=None)
    hooks = CallbackList([live, *sinks])
    state = TrainState(config=tiny_config(out), run_name="scripted", output_dir=out, total_steps=entropy.size)
    hooks.train_start(state, {"run": "scripted", "config": {"lr": 1e-3, "seal": {"coef": 0.02}}, "versions": {},
                              "resumed_from_step": None})
    for step, value in enumerate(entropy, start=1):
        state.step = step
        hooks.step_end(state, {"policy/entropy": float(value), "env/success_rate": 0.5})
        for event, fields in state.pending_events:
            hooks.event(state, event, **fields)
        state.pending_events.clear()
    hooks.train_end(state)
    return live


def test_a_training_run_can_be_opened_in_tensorboard(tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(tiny_config(out, "steps=2", "tensorboard=true"))
    logged = metric_records(out / "metrics.jsonl")
    (run,) = read_runs(out / "tensorboard")
    assert run.reader == "tensorboard" and list(run.steps) == [1, 2]
    for step, metrics in logged.items():
        finite = {k: v for k, v in metrics.items() if v is not None and math.isfinite(v)}
        assert len(finite) > 20 and "policy/entropy" in finite
        for name, value in finite.items():
            assert run.metrics.at[step, name] == pytest.approx(value, rel=1e-6, abs=1e-9), name
    assert set(run.metrics["phase"]) <= set(PHASE_CODES.values())


def test_tensorboard_sink_charts_the_phase_and_events(tmp_path: Path) -> None:
    entropy = erupting_entropy()
    live = drive([TensorBoardSink(tmp_path / "tb")], tmp_path, entropy)
    (run,) = read_runs(tmp_path / "tb")
    assert run.metrics["policy/entropy"].to_numpy() == pytest.approx(entropy, rel=1e-6)
    eruption = next(e for e in live.events if e.phase == "eruption")
    phase = run.metrics["phase"]
    assert phase.loc[eruption.confirmed_at_step] == PHASE_CODES["eruption"]
    assert phase.loc[1] == PHASE_CODES[None]
    assert run.metrics["event/phase"].dropna().index.tolist() == [e.confirmed_at_step for e in live.events]


def test_wandb_offline_run_shows_phase_alerts_and_cycle_summary(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    wandb_sink = WandbSink("offline", "entropy-dynamics-test", alerts=True)
    live = drive([JsonlSink(out / "metrics.jsonl"), wandb_sink], out, erupting_entropy())
    (folder,) = (out / "wandb").glob("offline-run-*")
    (run,) = _finished_wandb_run(folder)
    eruption = next(e for e in live.events if e.phase == "eruption")
    assert run.metrics.at[eruption.confirmed_at_step, "phase"] == PHASE_CODES["eruption"]
    assert run.metrics.at[1, "phase"] == PHASE_CODES[None]
    summary = run.metadata["summary"]
    assert summary["cycles/eruptions"] >= 1
    assert summary["cycles/max_amplitude"] > 2
    assert summary["cycles/final_success"] == pytest.approx(0.5)
    assert summary["cycles/collapsed"] == 0.0
    (wandb_file,) = folder.glob("*.wandb")
    records = [r for _, r in iter_wandb_records(wandb_file, ReadStats(), False)]
    alerts = [r.alert for r in records if r.WhichOneof("record_type") == "alert"]
    assert [a.title for a in alerts] == [f"scripted: {e.phase} at step {e.start_step}" for e in live.events]


def test_wandb_sink_ignores_hooks_after_finish(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    sink = WandbSink("offline", "entropy-dynamics-test")
    drive([sink], out, erupting_entropy()[:5])
    state = TrainState(config=None, run_name="scripted", output_dir=out, step=6)
    sink.on_step_end(state, {"policy/entropy": 1.0})
    sink.on_event(state, "late", {})
    (folder,) = (out / "wandb").glob("offline-run-*")
    (run,) = _finished_wandb_run(folder)
    assert run.last_step == 5 and math.isfinite(run.metrics.at[5, "policy/entropy"])


def test_a_resumed_run_shows_in_tensorboard_as_it_continued(tmp_path: Path) -> None:
    """The resumed writer purges the first session's points after the checkpoint step (as the JSONL log is
    truncated there): TensorBoard and our reader show steps 1-3 of the first session, then the second's (which
    stopped at step 4)."""
    for resumed, steps, value in ((None, range(1, 6), 1.0), (3, range(4, 5), 2.0)):
        sink = TensorBoardSink(tmp_path / "tb")
        state = TrainState(config=None, run_name="r", output_dir=tmp_path)
        sink.on_train_start(state, {"config": {}, "resumed_from_step": resumed})
        for step in steps:
            state.step = step
            sink.on_step_end(state, {"policy/entropy": value})
        sink.on_train_end(state)
        if resumed is None:
            (first,) = (tmp_path / "tb").glob("*tfevents*")
            first.rename(first.with_name(first.name.replace("events.out", "events.out.0")))  # file name order
    (run,) = read_runs(tmp_path / "tb")
    assert run.metrics["policy/entropy"].to_dict() == {1: 1.0, 2: 1.0, 3: 1.0, 4: 2.0}  # old step 5 purged
    assert run.stats.duplicate_steps == 0

"""Live phase detection in the loop: phase events in the log, eruption reactions, resume replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from entropy_dynamics.analysis import OnlineDetector
from entropy_dynamics.errors import ConfigError
from entropy_dynamics.logs import MetricLogWriter
from entropy_dynamics.train.run.callbacks import Callback, TrainState
from entropy_dynamics.train.run.live_phase import LivePhase
from entropy_dynamics.train.run.loop import train
from tests.train.run.test_instruments import tiny_config


def erupting_series(n: int = 28, descent: int = 20) -> list[float]:
    """Entropy that descends slowly for ``descent`` steps, then rises sharply (x7 in 8 steps)."""
    down = [1.0 - 0.5 * i / descent + 0.01 * (-1) ** i for i in range(descent)]
    return down + [0.5 + 3.0 * (i + 1) / (n - descent) for i in range(n - descent)]


class ScriptedEntropy(Callback):
    """Replaces the logged entropy with a scripted series (runs before LivePhase, so it drives the detector)."""

    def __init__(self, values: list[float]) -> None:
        self.values = values

    def on_step_end(self, state: TrainState, metrics: dict[str, float]) -> None:
        metrics["policy/entropy"] = self.values[state.step - 1]


def records(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_an_erupting_run_logs_the_phase_event_and_reacts(tmp_path):
    out = tmp_path / "run"
    series = erupting_series()
    cfg = tiny_config(out, f"steps={len(series)}", "max_turns=1", "group_size=2", "max_new_tokens=4")
    live = LivePhase(on_eruption=("checkpoint", "samples", "stop"), echo=None)
    state = train(cfg, callbacks=[ScriptedEntropy(series), live])
    lines = records(out / "metrics.jsonl")
    phases = [r for r in lines if r["type"] == "event" and r["event"] == "phase"]
    eruption = next(r for r in phases if r["phase"] == "eruption")
    confirmed = eruption["confirmed_at_step"]
    assert eruption["step"] == confirmed and eruption["start_step"] <= confirmed
    assert series[confirmed - 1] > 2 * min(series)  # confirmed while the scripted rise is on
    assert eruption["metric"] == "policy/entropy"
    # reactions: samples and a checkpoint at the confirmation step, then the run stops there
    steps = [r["step"] for r in lines if r["type"] == "metrics"]
    assert steps[-1] == confirmed < len(series)
    assert any(r["type"] == "samples" and r["step"] == confirmed for r in lines)
    assert any(r["type"] == "event" and r["event"] == "checkpoint" and r["step"] == confirmed for r in lines)
    assert any(r["type"] == "event" and r["event"] == "stopped" for r in lines)
    assert state.extra["phase"] == "eruption" == live.current_phase


def _state(cfg, out: Path, resumed_from_step: int | None = None) -> TrainState:
    return TrainState(config=cfg, run_name="scripted", output_dir=out, total_steps=28,
                      resumed_from_step=resumed_from_step)


def test_raise_seal_multiplies_the_coefficient_up_to_the_cap(tmp_path):
    cfg = tiny_config(tmp_path, "seal.coef=0.02")
    state = _state(cfg, tmp_path)
    live = LivePhase(on_eruption=("raise_seal",), seal_factor=3.0, seal_max=0.05, echo=None)
    live.on_train_start(state, {})
    actions = set()
    for step, value in enumerate(erupting_series(), start=1):
        state.step = step
        actions |= live.on_step_end(state, {"policy/entropy": value})
    assert actions == set()  # raising SEAL needs no loop action
    raised = [fields for event, fields in state.pending_events if event == "seal_coef"]
    assert raised and raised[0] == {"old": 0.02, "new": pytest.approx(0.05), "reason": "eruption"}
    assert cfg.seal.coef == pytest.approx(0.05)
    assert [e for e, _ in state.pending_events].count("phase") == len(live.events) >= 1


def test_resume_replays_the_log_into_the_detector(tmp_path):
    cfg = tiny_config(tmp_path, "seal.coef=0.02")
    series = erupting_series()
    upto = 27
    writer = MetricLogWriter(tmp_path / "metrics.jsonl")
    writer.header("scripted", {}, {}, None)
    for step, value in enumerate(series[:upto], start=1):
        writer.metrics(step, {"policy/entropy": value})
    writer.event(22, "seal_coef", old=0.02, new=0.04, reason="eruption")
    writer.close()
    fresh = OnlineDetector(run="scripted", total_steps=28)
    expected = [e for step, v in enumerate(series[:upto], start=1) for e in fresh.update(step, v)]
    assert any(e.phase == "eruption" for e in expected)

    state = _state(cfg, tmp_path, resumed_from_step=upto)
    live = LivePhase(echo=None)
    live.on_train_start(state, {})
    assert live.detector.events == expected
    assert state.extra["phase"] == expected[-1].phase
    assert cfg.seal.coef == 0.04  # the coefficient raised before the interruption
    assert state.pending_events == []  # replayed transitions are in the log already


def test_bad_reactions_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown reaction 'explode'"):
        LivePhase(on_eruption=("explode",))
    live = LivePhase(on_eruption=("raise_seal",))
    with pytest.raises(ConfigError, match="needs SEAL on"):
        live.on_train_start(_state(tiny_config(tmp_path), tmp_path), {})

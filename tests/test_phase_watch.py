"""The phase-watch core shared by our loop (LivePhase) and the TRL callback: reactions, events, resume replay."""

from __future__ import annotations

import pytest

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.logs import MetricLogWriter
from entropy_dynamics.phase_watch import PhaseWatch, parse_reactions


def erupting(n: int = 28, descent: int = 20) -> list[float]:
    """Entropy that descends slowly for ``descent`` steps, then rises sharply (x7 in 8 steps)."""
    down = [1.0 - 0.5 * i / descent + 0.01 * (-1) ** i for i in range(descent)]
    return down + [0.5 + 3.0 * (i + 1) / (n - descent) for i in range(n - descent)]


def test_reaction_names_and_their_old_aliases():
    assert parse_reactions(["checkpoint", "stop"]) == ("checkpoint", "stop")
    assert parse_reactions("save") == ("checkpoint",) and parse_reactions("none") == () == parse_reactions(None)
    with pytest.raises(ConfigError, match="unknown reaction 'explode'"):
        parse_reactions(["explode"])
    with pytest.raises(ConfigError, match="'samples' is not available here"):
        parse_reactions("samples", supported=("checkpoint", "stop"))


def test_an_eruption_is_emitted_printed_and_asks_for_the_reactions():
    said, emitted = [], []
    watch = PhaseWatch("policy/entropy", ("checkpoint", "stop"), echo=said.append)
    assert watch.start("run") == []
    asked = set()
    for step, value in enumerate(erupting(), start=1):
        events = watch.observe(step, value, lambda kind, **fields: emitted.append((kind, fields)))
        asked |= watch.reactions_to(events)
    eruptions = [f for kind, f in emitted if kind == "phase" and f["phase"] == "eruption"]
    assert eruptions and eruptions[0]["metric"] == "policy/entropy" and watch.current_phase == "eruption"
    assert asked == {"checkpoint", "stop"}
    assert any(line.startswith("[entropy-dynamics] eruption of policy/entropy from step") for line in said)
    assert watch.observe(29, float("nan"), lambda *a, **k: None) == []


def test_resume_replays_the_log_so_the_detector_matches_the_uninterrupted_one(tmp_path):
    values = erupting()
    whole = PhaseWatch("policy/entropy")
    whole.start("run")
    for step, value in enumerate(values, start=1):
        whole.observe(step, value, lambda *a, **k: None)
    log = tmp_path / "metrics.jsonl"
    with MetricLogWriter(log) as writer:
        writer.header("run", config={}, versions={})
        for step, value in enumerate(values[:24], start=1):
            writer.metrics(step, {"policy/entropy": value})
        writer.event(24, "seal_coef", old=0.02, new=0.04)
    resumed = PhaseWatch("policy/entropy")
    logged = resumed.start("run", log, resumed_from_step=24)
    assert [e["event"] for e in logged] == ["seal_coef"]
    for step, value in enumerate(values[24:], start=25):
        resumed.observe(step, value, lambda *a, **k: None)
    assert resumed.current_phase == whole.current_phase
    assert resumed.detector.events == whole.detector.events

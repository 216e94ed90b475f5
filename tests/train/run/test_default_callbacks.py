"""The instruments and live phase detection every run gets from its config (what `entropy-dynamics train` runs)."""

from __future__ import annotations

import pytest

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.train.config_io import load_config
from entropy_dynamics.train.run.callbacks import Callback
from entropy_dynamics.train.run.default_callbacks import with_default_callbacks
from entropy_dynamics.train.run.instruments import Instruments
from entropy_dynamics.train.run.live_phase import LivePhase
from entropy_dynamics.train.run.loop import train
from entropy_dynamics.train.run.progress import ProgressBar
from tests.train.run.test_instruments import tiny_config
from tests.train.run.test_live_phase import ScriptedEntropy, erupting_series, records


def test_the_config_sections_build_the_callbacks_around_the_callers():
    cfg = load_config(None, ["instruments.every=3", "instruments.max_samples=8", "phase.on_eruption=[stop]",
                             "phase.metric=halluc/rate", "phase.total_steps=null", "phase.detector={confirm: 2}"])
    mine = Callback()
    inst, given, live = with_default_callbacks(cfg, [mine], echo=None)
    assert given is mine  # instruments first, the caller's callbacks, live detection last
    assert isinstance(inst, Instruments) and (inst.every, inst.max_samples) == (3, 8)
    assert isinstance(live, LivePhase) and live.reactions == ("stop",) and live.metric == "halluc/rate"
    assert live.watch.detector_options == {"confirm": 2} and live.watch.echo is None


def test_a_callers_own_instruments_or_live_phase_replace_the_configs():
    cfg = load_config(None, [])
    own_live, own_inst = LivePhase(echo=None), Instruments(every=1)
    assert with_default_callbacks(cfg, [own_live, own_inst]) == [own_live, own_inst]
    off = load_config(None, ["instruments=off", "phase=false"])
    assert not off.instruments.enabled and not off.phase.enabled
    assert with_default_callbacks(off, []) == []


@pytest.mark.parametrize("override, message", [
    ("phase.on_eruption=[explode]", "unknown reaction 'explode'"),
    ("phase.on_eruption=[raise_seal]", "raise_seal needs SEAL on"),
    ("phase.seal_factor=1", "'phase.seal_factor' must be > 1"),
    ("phase.total_steps=soon", "'phase.total_steps' must be auto, null or an integer"),
    ("instruments.every=0", "'instruments.every' must be >= 1"),
    ("instruments.enabled=maybe", "'instruments.enabled' must be true or false"),
])
def test_bad_sections_are_one_line_config_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [override])


def test_an_erupting_run_gets_phase_events_and_reactions_from_the_config(tmp_path, capsys):
    out = tmp_path / "run"
    series = erupting_series()
    cfg = tiny_config(out, f"steps={len(series)}", "max_turns=1", "group_size=2", "max_new_tokens=4",
                      "instruments.enabled=false", "phase.on_eruption=[samples, stop]")
    said: list[str] = []
    state = train(cfg, callbacks=[ScriptedEntropy(series), ProgressBar("train")], echo=said.append)
    lines = records(out / "metrics.jsonl")
    eruption = next(r for r in lines if r["type"] == "event" and r["event"] == "phase" and r["phase"] == "eruption")
    confirmed = eruption["confirmed_at_step"]
    assert [r["step"] for r in lines if r["type"] == "metrics"][-1] == confirmed < len(series)
    assert any(r["type"] == "samples" and r["step"] == confirmed for r in lines)
    assert any(r["type"] == "event" and r["event"] == "stopped" for r in lines)
    assert any(line.startswith("[entropy-dynamics] eruption of policy/entropy") for line in said)
    assert state.extra["phase"] == "eruption"
    assert "phase eruption" in capsys.readouterr().err  # the progress bar shows the phase

"""A report of a log written by our own trainer (a real tiny GRPO + SEAL run with instruments)."""

from __future__ import annotations

import pytest
from markupsafe import escape

from entropy_dynamics.logs import read_runs
from entropy_dynamics.report import render_report
from entropy_dynamics.report.panels import select_panels
from entropy_dynamics.train.config_io import load_config
from entropy_dynamics.train.run.instruments import Instruments
from entropy_dynamics.train.run.loop import train

#: The tiny setting of tests/train: a one-layer Llama on two cached cooking games.
TINY = ["games_per_step=1", "group_size=3", "max_turns=2", "max_new_tokens=6", "game_pool_size=2",
        "tiny.corpus_games=2", "tiny.hidden_size=32", "tiny.num_layers=1", "tiny.num_heads=2",
        "tiny.intermediate_size=64", "tiny.vocab_size=300", "checkpoint_every=0", "samples_every=2"]


@pytest.fixture(scope="module")
def trainer_log(tmp_path_factory):
    out = tmp_path_factory.mktemp("trainer") / "run"
    cfg = load_config(None, [*TINY, f"output_dir={out}", "steps=4", "seal.coef=0.02"])
    train(cfg, callbacks=[Instruments(every=1, max_samples=4)])
    return out / "metrics.jsonl"


def test_report_of_a_trainer_log(tmp_path, trainer_log):
    (run,) = read_runs(trainer_log)
    html = render_report([run], tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.count("* plotly.js v") == 1
    panels, missing = select_panels(run)
    keys = {p.spec.key for p in panels}
    assert {"reward", "outcome", "turn", "update", "seal", "degen", "halluc", "grad_norms"} <= keys
    for note in missing:  # what the trainer did not log is listed, not plotted
        assert f"<li>{escape(note)}</li>" in html
    assert "Sampled trajectories around eruption onsets" in html  # samples_every=2: first and last shown
    assert "too short" in html.lower() or "No eruption detected" in html  # 4 steps: no phases to find
    assert "Config (" in html and "Versions" in html

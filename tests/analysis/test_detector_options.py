"""The live detector's typed options: documented defaults, checks, and the same detector from keywords or options."""

from __future__ import annotations

import pytest

from entropy_dynamics.analysis import OnlineDetector
from entropy_dynamics.analysis.options import DetectorOptions, option_help
from entropy_dynamics.analysis.synthetic import synthetic_series
from entropy_dynamics.cli.main import main
from entropy_dynamics.errors import ConfigError


def test_defaults_and_help_come_from_the_dataclass():
    assert DetectorOptions() == DetectorOptions(refit_every=10, lookback=200, confirm=2)
    assert option_help("lookback", DetectorOptions).endswith("(default 200)")
    with pytest.raises(ConfigError, match="lookback >= 20"):
        DetectorOptions(lookback=5)


def test_typed_options_and_keywords_give_the_same_events():
    series = synthetic_series(seed=3, n_cycles=2)
    typed = OnlineDetector(run="x", detector=DetectorOptions(refit_every=5, confirm=3))
    keywords = OnlineDetector(run="x", refit_every=5, confirm=3)
    for step, value in zip(series.steps, series.values, strict=True):
        typed.update(int(step), float(value))
        keywords.update(int(step), float(value))
    assert typed.events == keywords.events and typed.events


def test_watch_help_shows_the_detector_defaults(capsys):
    assert main(["watch", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--confirm" in text and "(default 2)" in text and "(default 200)" in text

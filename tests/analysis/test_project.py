"""The project table's pure parts: config flattening, varying columns, statistics of a run, setting effects."""

from __future__ import annotations

import pandas as pd
import pytest

from entropy_dynamics.analysis.project import (
    STATISTICS,
    flatten_config,
    phase_statistics,
    project_table,
    setting_effects,
    sort_table,
    varying_columns,
)
from entropy_dynamics.logs import frame_to_run


def test_flatten_config_unwraps_wandb_values_and_nests() -> None:
    config = {"lr": {"value": 1e-5}, "model": {"name": "tiny", "lora": {"r": 8}}, "tags": ["a", "b"]}
    assert flatten_config(config) == {"lr": 1e-5, "model.name": "tiny", "model.lora.r": 8, "tags": "['a', 'b']"}


def test_varying_columns_counts_a_missing_key_as_a_value() -> None:
    configs = [{"lr": 1, "seed": 0, "x": 1}, {"lr": 1, "seed": 1, "x": 1}, {"lr": 1, "seed": 2}]
    assert varying_columns(configs) == ["seed", "x"]


def _run(name: str, entropy: list[float], config: dict) -> object:
    frame = pd.DataFrame({"policy/entropy": entropy}, index=pd.Index(range(1, len(entropy) + 1), name="step"))
    run = frame_to_run(name, f"{name}.jsonl", "jsonl", frame)
    run.config = config
    return run


def test_a_run_without_entropy_gets_empty_phase_values() -> None:
    run = frame_to_run("r", "r.jsonl", "jsonl", pd.DataFrame({"reward/mean": [0.1, 0.2]},
                                                             index=pd.Index([1, 2], name="step")))
    stats = phase_statistics(run)
    assert list(stats) == list(STATISTICS) and stats["last_step"] == 2
    assert all(stats[k] is None for k in list(STATISTICS)[1:])


def test_table_sorting_and_setting_effects() -> None:
    flat = [0.5 - 0.001 * i for i in range(100)]
    erupting = [*flat[:60], *(0.44 + 0.15 * i for i in range(10)), *(1.9 - 0.01 * i for i in range(30))]
    runs = [_run("a", flat, {"lr": 1e-5, "seed": 0}), _run("b", erupting, {"lr": 1e-4, "seed": 0}),
            _run("c", erupting, {"lr": 1e-4, "seed": 1})]
    table = project_table(runs)
    assert list(table.columns[:4]) == ["run", "source", "config.lr", "config.seed"]
    assert list(table["eruptions"]) == [0, 1, 1]
    assert list(sort_table(table, "lr", descending=True)["run"]) == ["b", "c", "a"]
    assert list(sort_table(table, "max_amplitude")["run"]) == ["b", "c", "a"]  # empty cells last
    with pytest.raises(KeyError, match="no column 'nope'"):
        sort_table(table, "nope")
    effects = setting_effects(table)
    lr = effects[effects["column"] == "lr"].set_index("value")
    assert lr.loc[1e-4, "erupting_share"] == 1.0 and lr.loc[1e-5, "erupting_share"] == 0.0
    assert lr.loc[1e-4, "runs"] == 2 and list(effects["column"]) == ["lr", "lr", "seed", "seed"]


def test_cached_statistics_of_another_analyzer_version_are_not_read_back(tmp_path, monkeypatch) -> None:
    from entropy_dynamics.analysis import project

    run = _run("r", [1.0, 0.5, 0.3, 2.0, 1.8, 1.5], {})
    run.source = "wandb://ent/proj/r"
    first = project.statistics_key(run, None, None)
    project.cached_statistics([run], folder=tmp_path)
    assert [p.stem for p in tmp_path.glob("*.json")] == [first]
    monkeypatch.setattr(project, "analyzer_fingerprint", lambda: "another analyzer")
    assert project.statistics_key(run, None, None) != first
    project.cached_statistics([run], folder=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 2  # computed again, not read from the old entry

"""``analyze`` on a whole project: a 200-run W&B sweep (fake API seam), the cache, the formats, a folder of runs."""

from __future__ import annotations

import json

import pytest

from entropy_dynamics.cli.main import main
from entropy_dynamics.logs import wandb_api
from tests.logs.fake_wandb import make_sweep_api, sweep_rows

N_RUNS = 200


@pytest.fixture(scope="module")
def sweep_api():
    return make_sweep_api(N_RUNS, n_steps=150)


@pytest.fixture
def project(monkeypatch, sweep_api):
    monkeypatch.setattr(wandb_api, "API_FACTORY", lambda: sweep_api)
    return sweep_api


def _scans(api) -> int:
    return sum(len(run.page_sizes) for run in api._projects["ent/sweep"])


def _analyze_json(capsys, *args: str) -> dict:
    code = main(["analyze", *args, "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_a_200_run_project_gives_one_row_per_run_and_is_cached(tmp_path, capsys, project):
    cache = str(tmp_path / "cache")
    before = _scans(project)
    table = _analyze_json(capsys, "wandb://ent/sweep", "--cache", cache, "--jobs", "8")
    assert _scans(project) - before == N_RUNS
    rows = table["runs"]
    assert [r["run"] for r in rows] == [f"sweep-{i:03d}" for i in range(N_RUNS)]
    assert {k for k in rows[0] if k.startswith("config.")} == {"config.lr", "config.seal_coef", "config.seed"}
    for row in rows:
        erupts = row["config.seal_coef"] == 0.0
        assert (row["eruptions"] >= 1) == erupts, row
        assert row["collapsed"] == erupts and row["last_step"] == 149
        assert (row["max_amplitude"] is not None and row["max_amplitude"] > 2) == erupts
    settings = {(s["column"], s["value"]): s for s in table["settings"]}
    assert settings[("seal_coef", 0.0)]["erupting_share"] == 1.0 and settings[("seal_coef", 0.02)]["runs"] == 100
    assert settings[("seal_coef", 0.02)]["erupting_share"] == 0.0
    assert set(table["definitions"]) >= {"eruptions", "max_amplitude", "collapsed", "final_success"}
    assert len(list((tmp_path / "cache" / "statistics").glob("*.json"))) == N_RUNS

    # a second call reads every finished run from the cache; a run that grew is fetched again
    grown = project._projects["ent/sweep"][7]
    grown._rows = sweep_rows(160, erupts=False, seed=7)
    grown.lastHistoryStep = 159
    before = _scans(project)
    again = _analyze_json(capsys, "wandb://ent/sweep", "--cache", cache)
    assert _scans(project) - before == 1 and grown.page_sizes
    assert again["runs"][7]["last_step"] == 159
    assert [r for i, r in enumerate(again["runs"]) if i != 7] == [r for i, r in enumerate(rows) if i != 7]
    assert again["runs"][0]["source"] == "wandb://ent/sweep/s000"
    # the statistics of the 199 unchanged runs came from the cache; the grown run's are new
    assert len(list((tmp_path / "cache" / "statistics").glob("*.json"))) == N_RUNS + 1


def test_html_page_is_sortable_and_csv_has_a_line_per_run(tmp_path, capsys, monkeypatch):
    api = make_sweep_api(12, n_steps=150)
    monkeypatch.setattr(wandb_api, "API_FACTORY", lambda: api)
    page = tmp_path / "sweep.html"
    code = main(["analyze", "wandb://ent/sweep", "--no-cache", "--format", "html", "--out", str(page),
                 "--sort", "eruptions", "--desc"])
    assert code == 0, capsys.readouterr().err
    text = page.read_text()
    body = text.split("<tbody>")[1].split("</tbody>")[0]
    assert body.count("<tr") == 12 and "addEventListener(\"click\"" in text
    assert body.split("</tr>")[0].startswith('<tr class="erupts">')  # sorted: erupting runs first
    assert "Which settings erupt" in text and "<script src" not in text

    assert main(["analyze", "wandb://ent/sweep", "--no-cache", "--format", "csv", "--sort", "lr"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 12 + 1 and lines[0].startswith("run,source,config.lr,config.seal_coef,config.seed")
    assert lines[1].split(",")[2] == "1e-06"


def test_a_folder_of_runs_gives_the_table_too(tmp_path, capsys, monkeypatch):
    api = make_sweep_api(6, n_steps=150)
    monkeypatch.setattr(wandb_api, "API_FACTORY", lambda: api)
    assert main(["pull", "ent/sweep", "--out", str(tmp_path / "pulled")]) == 0
    capsys.readouterr()
    table = _analyze_json(capsys, str(tmp_path / "pulled"), "--table", "--config-columns", "seal_coef,model.name",
                          "--sort", "seal_coef")
    rows = table["runs"]
    assert len(rows) == 6 and [r["config.seal_coef"] for r in rows] == [0.0] * 4 + [0.02] * 2
    assert {r["config.model.name"] for r in rows} == {"tiny"}
    assert [r["eruptions"] >= 1 for r in rows] == [True] * 4 + [False] * 2
    assert main(["analyze", str(tmp_path / "pulled"), "--table"]) == 0
    assert "6 runs" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["--sort", "nope"], "error: --sort: no column 'nope'"),
    (["--format", "xml"], "error: --format must be one of table, json, csv, html"),
    (["--jobs", "0"], "error: --jobs must be >= 1"),
    (["--filters", "{bad"], "error: --filters: invalid JSON"),
])
def test_bad_table_options_are_one_line_errors(capsys, project, args, message):
    code = main(["analyze", "wandb://ent/sweep", "--no-cache", *args])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(message), err
    assert len(err.strip().splitlines()) == 1


def test_the_terminal_table_fits_80_columns_in_every_layout(capsys, monkeypatch):
    from entropy_dynamics.cli.common import out
    from tests.test_sample_logs import SAMPLES, TRAIN_RUNS

    monkeypatch.setattr(out, "width", 80)
    logs = [str(SAMPLES / e["path"]) for e in TRAIN_RUNS]
    for paths, layout in ((logs[:1], "side by side"), (logs[:2], "side by side"), (logs, "key columns")):
        assert main(["analyze", *paths, "--table", "--no-cache"]) == 0
        text = capsys.readouterr().out
        lines = text.splitlines()
        assert lines[0] == f"{len(paths)} runs" and max(len(line) for line in lines) <= 80, text
        assert "eruptions" in text and "success" in text
        if layout == "side by side":  # one column per run, named by the run (a long name folds over lines)
            header = "".join(lines[1:5])
            assert all(e["name"][:9] in header for e in TRAIN_RUNS[:len(paths)]), text
            assert any(line.startswith("│ eruptions ") for line in lines)
        else:  # one row per run with its statistics; the config columns are named as left out
            assert sum(e["name"] in text for e in TRAIN_RUNS) == len(TRAIN_RUNS) and "more columns (" in text

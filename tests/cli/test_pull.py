import json

import pytest

from cli.main import main
from entropy_dynamics.logs import read_runs, wandb_api
from tests.logs.fake_wandb import make_api


@pytest.fixture
def fake_api(monkeypatch):
    api = make_api(120)
    monkeypatch.setattr(wandb_api, "API_FACTORY", lambda: api)
    return api


def test_pull_project_with_filters_then_inspect(tmp_path, capsys, fake_api):
    out_dir = tmp_path / "pulled"
    code = main(["pull", "ent/proj", "--filters", '{"config.seal_coef": 0.0}', "--out", str(out_dir),
                 "--format", "json", "--page-size", "50"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)["runs"]
    assert [(r["run"], r["run_id"], r["steps"]) for r in summary] == [("base", "r1", 120)]
    assert fake_api.runs_calls == [("ent/proj", {"config.seal_coef": 0.0})]
    assert fake_api.run("ent/proj/r1").page_sizes == [50]
    run = read_runs(out_dir)[0]
    assert run.points() == {"policy/entropy": 120, "reward/mean": 120, "val/acc": 2}
    assert run.config == {"lr": 1e-5, "seal_coef": 0.0}
    code = main(["inspect", "wandb://ent/proj/r2", "--format", "json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["runs"][0]["reader"] == "wandb-api"


def test_pull_errors_are_one_line(tmp_path, capsys, fake_api):
    for args, start in [
        (["pull", "ent/proj", "--filters", "{bad", "--out", str(tmp_path)], "error: --filters: invalid JSON"),
        (["pull", "ent/proj/zzz", "--out", str(tmp_path)], "error: ent/proj/zzz: W&B API: fetching the run failed"),
        (["pull", "ent", "--out", str(tmp_path)], "error: ent: expected wandb://ENTITY/PROJECT"),
    ]:
        code = main(args)
        err = capsys.readouterr().err
        assert code == 2 and err.startswith(start), err
        assert len(err.strip().splitlines()) == 1

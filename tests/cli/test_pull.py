import json
from pathlib import Path

import pytest

from entropy_dynamics.cli.main import main
from entropy_dynamics.logs import read_runs, wandb_api
from tests.logs.fake_wandb import FakeApi, FakeRun, make_api


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


def test_pull_gives_every_run_its_own_folder(tmp_path, capsys, monkeypatch):
    rows = [{"_step": s, "actor/entropy": 1.0 / (s + 1)} for s in range(5)]
    ids = ["a/b", "a_b", "A_B", "..", "x" * 300]
    api = FakeApi({"ent/proj": [FakeRun(i, f"run {n}", {}, rows) for n, i in enumerate(ids)]})
    monkeypatch.setattr(wandb_api, "API_FACTORY", lambda: api)
    assert main(["pull", "ent/proj", "--out", str(tmp_path / "p"), "--format", "json"]) == 0
    paths = [r["path"] for r in json.loads(capsys.readouterr().out)["runs"]]
    folders = [Path(p).parent for p in paths]
    assert len({f.name.casefold() for f in folders}) == len(ids)
    assert folders[1].name == "a_b" and folders[0].name.startswith("a_b-")
    assert all(f.parent == tmp_path / "p" and len(f.name) < 120 for f in folders)
    assert [read_runs(p)[0].name for p in paths] == [f"run {n}" for n in range(len(ids))]
    # pulling again overwrites each run's own log, never another's
    assert main(["pull", "ent/proj", "--out", str(tmp_path / "p"), "--format", "json"]) == 0
    assert [Path(r["path"]) for r in json.loads(capsys.readouterr().out)["runs"]] == [Path(p) for p in paths]


def test_pull_output_path_errors_are_one_line(tmp_path, capsys, fake_api):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    other = tmp_path / "other" / "r1"
    other.mkdir(parents=True)
    (other / "metrics.jsonl").write_text('{"type": "header", "run": "x", "source": "wandb://e/p/zzz"}\n')
    for out, expected in [("/dev/null", "error: /dev/null: --out must be a folder"),
                          (str(a_file), f"error: {a_file}: --out must be a folder"),
                          (str(a_file / "sub"), "cannot write: Not a directory"),
                          (str(tmp_path / "other"), "holds another pulled run (wandb://e/p/zzz)")]:
        code = main(["pull", "ent/proj/r1", "--out", out])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert expected in err, err

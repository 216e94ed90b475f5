import json

import pytest

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs import read_runs, wandb_api
from entropy_dynamics.logs.wandb_api import fetch_runs, parse_target, pull
from tests.logs.fake_wandb import make_api


@pytest.mark.parametrize(
    ("target", "parsed"),
    [("wandb://ent/proj/r1", ("ent", "proj", "r1")), ("ent/proj", ("ent", "proj", None)),
     ("https://wandb.ai/ent/proj/runs/r1?nw=1", ("ent", "proj", "r1")), ("ent/proj/runs/r1", ("ent", "proj", "r1"))],
)
def test_parse_target(target, parsed):
    assert parse_target(target) == parsed


def test_bad_target():
    with pytest.raises(LogReadError, match="expected wandb://ENTITY/PROJECT"):
        parse_target("wandb://just-one")


def test_complete_history_of_one_run_through_scan_history():
    api = make_api(2500)
    runs = fetch_runs("wandb://ent/proj/r1", api=api, page_size=1000, show_progress=False)
    assert len(runs) == 1
    run = runs[0]
    assert run.name == "base" and run.reader == "wandb-api" and run.source == "wandb://ent/proj/r1"
    assert run.points() == {"policy/entropy": 2500, "reward/mean": 2500, "val/acc": 25}
    assert run.config == {"lr": 1e-5, "seal_coef": 0.0}
    fake = api.run("ent/proj/r1")
    assert fake.page_sizes == [1000] and fake.pages_served == 3


def test_project_with_filters_and_non_scalar_values():
    api = make_api(20)
    runs = fetch_runs("wandb://ent/proj", {"config.seal_coef": 0.02}, api=api, show_progress=False)
    assert api.runs_calls == [("ent/proj", {"config.seal_coef": 0.02})]
    assert [r.name for r in runs] == ["seal"]
    assert runs[0].points() == {"policy/entropy": 10}
    assert runs[0].stats.non_numeric == 10  # "status" strings; media dicts are not metrics
    assert "_wandb" not in runs[0].config
    with pytest.raises(LogReadError, match="no runs match"):
        fetch_runs("wandb://ent/proj", {"config.seal_coef": 9}, api=api, show_progress=False)


def test_api_failures_become_one_line_errors(monkeypatch):
    with pytest.raises(LogReadError, match=r"wandb://ent/proj/nope: W&B API: fetching the run failed: ValueError"):
        fetch_runs("wandb://ent/proj/nope", api=make_api(5), show_progress=False)

    def no_server():
        raise ConnectionError("no route to api.wandb.ai")

    monkeypatch.setattr(wandb_api, "API_FACTORY", no_server)
    with pytest.raises(LogReadError, match="W&B API: connecting failed: ConnectionError: no route"):
        read_runs("wandb://ent/proj/r1")


def test_pull_writes_our_jsonl_that_reads_back_exactly(tmp_path):
    api = make_api(300)
    written = pull("ent/proj", tmp_path / "pulled", api=api, show_progress=False)
    assert [p.relative_to(tmp_path).as_posix() for _, p in written] == ["pulled/r1/metrics.jsonl",
                                                                         "pulled/r2/metrics.jsonl"]
    header = json.loads((tmp_path / "pulled" / "r1" / "metrics.jsonl").read_text().splitlines()[0])
    assert header["type"] == "header" and header["config"] == {"lr": 1e-5, "seal_coef": 0.0}
    assert header["source"] == "wandb://ent/proj/r1" and header["metadata"]["run_id"] == "r1"
    assert header["resumed_from_step"] is None and header["created"]
    back = {r.name: r for r in read_runs(tmp_path / "pulled")}
    original = {r.name: r for r in fetch_runs("ent/proj", api=api, show_progress=False)}
    assert set(back) == {"base", "seal"}
    for name, run in original.items():
        assert back[name].metrics.equals(run.metrics)
        assert back[name].source_names == run.source_names
    # pulling again overwrites instead of appending
    pull("ent/proj/r1", tmp_path / "pulled", api=api, show_progress=False)
    assert len(read_runs(tmp_path / "pulled" / "r1")[0].metrics) == 300

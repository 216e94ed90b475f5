"""The shipped sample logs say what sample_logs/README.md says they say.

``sample_logs/manifest.json`` lists each run's folder, the command that reproduces it and the claims the
README makes about it (eruption cycles found by `analyze`, eruptions found by `watch --replay`); these tests
re-derive them from the logs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from entropy_dynamics.analysis import analyze_run
from entropy_dynamics.cli.main import main
from entropy_dynamics.logs import read_runs

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"
MANIFEST = json.loads((SAMPLES / "manifest.json").read_text())
TRAIN_RUNS = [entry for entry in MANIFEST["runs"] if entry["kind"] == "train"]


def test_sample_logs_stay_small():
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 40 * 2**20  # the budget for a fresh clone's sample logs, public held-out curves included


def test_readme_names_every_run_and_its_command():
    readme = (SAMPLES / "README.md").read_text()
    for entry in MANIFEST["runs"]:
        assert entry["path"] in readme
        assert entry["command"] in readme


@pytest.mark.parametrize("entry", TRAIN_RUNS, ids=lambda e: e["name"])
def test_every_training_log_reads_whole_and_matches_its_manifest_entry(entry):
    # not strict: the trainer writes NaN as null where a metric is undefined (e.g. no negative advantage)
    (run,) = read_runs(SAMPLES / entry["path"])
    assert run.reader == "jsonl"
    assert run.name == entry["name"]
    assert list(run.metrics.index) == list(range(1, entry["steps"] + 1))
    assert run.config["seal"]["coef"] == entry["seal_coef"]
    assert run.metrics["policy/entropy"].notna().all()
    assert (ROOT / entry["config"]).is_file()


@pytest.mark.parametrize("entry", TRAIN_RUNS, ids=lambda e: e["name"])
def test_analyze_reports_the_stated_number_of_eruption_cycles(entry, capsys):
    code = main(["analyze", str(SAMPLES / entry["path"]), "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    (result,) = json.loads(captured.out)["runs"]
    assert result["last_step"] == entry["steps"]
    assert len(result["cycles"]) == entry["eruption_cycles"]
    assert all(c["amplitude_ratio"] >= 1.8 for c in result["cycles"])
    (run,) = read_runs(SAMPLES / entry["path"])
    assert len(analyze_run(run).cycles) == entry["eruption_cycles"]  # the library says the same


@pytest.mark.parametrize("entry", TRAIN_RUNS, ids=lambda e: e["name"])
def test_watch_replay_reports_the_offline_eruptions_at_their_onsets(entry, capsys):
    code = main(["watch", str(SAMPLES / entry["path"]), "--replay", "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    events = [json.loads(line) for line in captured.out.splitlines() if line.strip()]
    live = [e["start_step"] for e in events if e["phase"] == "eruption"]
    assert len(live) == entry["replay_eruptions"]
    (run,) = read_runs(SAMPLES / entry["path"])
    assert live == [c.eruption_start_step for c in analyze_run(run).cycles]  # live = offline
    starts = [e["start_step"] for e in events]
    assert len(starts) == len(set(starts))


WANDB_RUNS = [entry for entry in MANIFEST["runs"] if entry["kind"] == "wandb"]


@pytest.mark.parametrize("entry", WANDB_RUNS, ids=lambda e: e["path"])
def test_every_wandb_offline_folder_reads_like_its_jsonl_twin(entry):
    (wandb_run,) = read_runs(SAMPLES / entry["path"])
    assert wandb_run.reader == "wandb-offline"
    (jsonl_run,) = read_runs(SAMPLES / entry["twin"])
    assert wandb_run.name == jsonl_run.name
    from_wandb = wandb_run.series("policy/entropy")
    from_jsonl = jsonl_run.series("policy/entropy")
    # both sinks saw the same steps (a run killed mid-way may leave W&B a few buffered steps short)
    assert set(from_wandb.index) <= set(from_jsonl.index)
    assert len(from_wandb) >= entry["min_steps"]
    assert from_wandb.to_numpy() == pytest.approx(from_jsonl.loc[from_wandb.index].to_numpy(), rel=1e-6)


def test_compare_of_grpo_and_seal_renders_both_runs(tmp_path, capsys):
    paths = [str(SAMPLES / e["path"]) for e in TRAIN_RUNS]
    assert len(paths) >= 2
    out = tmp_path / "compare.html"
    code = main(["compare", *paths, "--out", str(out), "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    payload = json.loads(captured.out)
    assert payload["out"] == str(out) and len(payload["runs"]) == len(paths)
    page = out.read_text()
    for path in paths:
        assert read_runs(path)[0].name in page


def _every_shipped_log() -> list[Path]:
    """Every log file or W&B run folder under sample_logs/ (our runs, the sweep's, the public ones)."""
    files = [p for pattern in ("*.jsonl", "*.jsonl.gz", "*.csv", "stdout.log") for p in SAMPLES.rglob(pattern)]
    return sorted([*files, *(p for p in (SAMPLES / "wandb").iterdir() if p.is_dir())])


def test_live_replay_reports_every_offline_eruption_at_its_onset_on_every_shipped_log():
    from entropy_dynamics.analysis.stream import replay
    from entropy_dynamics.errors import MetricNotFoundError

    compared = 0
    for path in _every_shipped_log():
        for run in read_runs(path):
            try:
                offline = [c.eruption_start_step for c in analyze_run(run).cycles]
            except MetricNotFoundError:  # reward / length tables of the public runs: no entropy to segment
                continue
            events, _ = replay(run)
            assert [e.start_step for e in events if e.phase == "eruption"] == offline, (path, run.name)
            starts = [e.start_step for e in events]
            assert len(starts) == len(set(starts)), (path, run.name)
            compared += 1
    assert compared >= 35

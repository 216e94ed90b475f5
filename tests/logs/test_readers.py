import json
from pathlib import Path

import pytest

from entropy_dynamics.errors import LogReadError, MetricNotFoundError
from entropy_dynamics.logs import MetricLogWriter, available_formats, detect_format, read_many, read_runs
from tests.logs.log_writers import write_events, write_trainer_state


def _our_log(path, steps=3):
    with MetricLogWriter(path) as log:
        log.header(path.parent.name, config={}, versions={})
        for step in range(1, steps + 1):
            log.metrics(step, {"policy/entropy": 1.0 / step})
    return path


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.jsonl", '{"step": 1, "x": 1}\n', "jsonl"),
        ("verl.txt", '{"step": 1, "data": {"x": 1}}\n', "jsonl"),
        ("train.log", "boot\n(TaskRunner pid=1) step:1 - actor/entropy:0.5\n", "verl-console"),
        ("stdout", "step:1 - actor/entropy:np.float64(0.5) - x:1\n", "verl-console"),
        ("export.csv", '"Step","r - actor/entropy","r - actor/entropy__MIN","r - actor/entropy__MAX"\n1,1,1,1\n',
         "wandb-csv"),
        ("plain.csv", "step,loss\n1,2\n", "csv"),
        ("trainer_state.json", '{"log_history": []}', "trainer-state"),
        ("state.json", '{"best_metric": null, "log_history": [{"step": 1}]}', "trainer-state"),
        ("run-abc.wandb", ":W&B\xe1\xbe\x00", "wandb-offline"),
    ],
)
def test_detect_file_format(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content, encoding="latin-1")
    assert detect_format(path) == expected


def test_every_registered_reader_loads():
    assert available_formats() == sorted(["csv", "hf-stdout", "jsonl", "parquet", "tensorboard", "trainer-state",
                                          "verl-console", "wandb-api", "wandb-csv", "wandb-offline"])
    assert detect_format("wandb://ent/proj/run") == "wandb-api"


def test_bad_inputs_are_one_line_errors(tmp_path):
    with pytest.raises(LogReadError, match="no such file or folder"):
        read_runs(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(LogReadError, match=r"empty\.jsonl: file is empty"):
        read_runs(tmp_path / "empty.jsonl")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(LogReadError, match=r"unknown log format \(force a reader with --reader"):
        read_runs(tmp_path / "blob.bin")
    with pytest.raises(LogReadError, match="unknown format 'excel'"):
        read_runs(tmp_path / "blob.bin", format="excel")
    (tmp_path / "folder.jsonl").mkdir()
    with pytest.raises(LogReadError, match="holds no log"):
        read_runs(tmp_path / "folder.jsonl")
    with pytest.raises(LogReadError, match=r"folder\.jsonl: cannot read"):
        read_runs(tmp_path / "folder.jsonl", format="verl-console")
    (tmp_path / "only_blank.jsonl").write_text("\n\n")
    with pytest.raises(LogReadError, match="no metric records found"):
        read_runs(tmp_path / "only_blank.jsonl")


def test_forced_reader_overrides_detection(tmp_path):
    path = tmp_path / "weird.dat"
    path.write_text("step,loss\n1,2\n2,3\n")
    with pytest.raises(LogReadError, match="unknown log format"):
        read_runs(path)
    assert read_runs(path, format="csv")[0].points() == {"loss/total": 2}


def test_folders_give_one_run_per_run_folder(tmp_path):
    root = tmp_path / "experiments"
    _our_log(root / "pulled" / "r1" / "metrics.jsonl")
    _our_log(root / "pulled" / "r2" / "metrics.jsonl", steps=5)
    write_trainer_state(root / "trl-run", [{"step": 1, "entropy": 0.4}])
    write_events(root / "tb" / "logs" / "v1", {"actor/entropy": [(1, 0.5)]})
    runs = read_runs(root)
    assert sorted((r.reader, r.name, len(r.metrics)) for r in runs) == [
        ("jsonl", "r1", 3), ("jsonl", "r2", 5), ("tensorboard", "v1", 1), ("trainer-state", "trl-run", 1)]
    assert len(read_runs(root, format="jsonl")) == 2
    assert detect_format(root / "pulled" / "r1") == "jsonl"


def test_trainer_output_dir_prefers_our_log(tmp_path):
    out = tmp_path / "out"
    _our_log(out / "metrics.jsonl")
    write_trainer_state(out, [{"step": 1, "entropy": 0.4}])
    assert [r.reader for r in read_runs(out)] == ["jsonl"]


def test_read_many_keeps_order(tmp_path):
    a = _our_log(tmp_path / "a" / "metrics.jsonl")
    b = _our_log(tmp_path / "b" / "metrics.jsonl")
    assert [r.name for r in read_many([b, a])] == ["b", "a"]


def test_loose_log_files_in_a_folder_are_runs_of_their_own(tmp_path):
    root = tmp_path / "logs"
    _our_log(root / "r1" / "metrics.jsonl")
    _our_log(root / "loose.jsonl", steps=4)
    (root / "train.log").write_text("step:1 - actor/entropy:0.5\nstep:2 - actor/entropy:0.4\n")
    (root / "history.csv").write_text("step,entropy\n1,0.5\n")
    (root / "stderr.log").write_text("INFO starting\n")  # console output without records: not a run
    (root / "notes.txt").write_text("hello\n")
    (root / "config.json").write_text('{"lr": 1}')
    runs = read_runs(root)
    assert [(r.reader, Path(r.source).name) for r in runs] == [
        ("csv", "history.csv"), ("jsonl", "loose.jsonl"), ("jsonl", "metrics.jsonl"), ("verl-console", "train.log")]


# 2^53 + 1: the first integer a float64 cannot hold (the analysis works on float steps)
HUGE = str(2**53 + 1)


@pytest.mark.parametrize(
    ("name", "content", "line"),
    [
        ("m.jsonl", f'{{"step": 1, "a": 1}}\n{{"step": {HUGE}, "a": 2}}\n{{"step": 2, "a": 3}}\n', 2),
        ("m.csv", f"step,a\n1,1\n{HUGE},2\n2,3\n", 3),
        ("train.log", f"step:1 - a:1\nstep:{HUGE} - a:2\nstep:2 - a:3\n", 2),
        ("trainer_state.json",
         f'{{"log_history": [{{"step": 1, "a": 1}}, {{"step": {HUGE}, "a": 2}}, {{"step": 2, "a": 3}}]}}', None),
    ],
)
def test_a_step_beyond_2_to_the_53_is_a_bad_line(tmp_path, name, content, line):
    path = tmp_path / name
    path.write_text(content)
    run = read_runs(path)[0]
    assert run.steps.tolist() == [1, 2] and run.series("a").tolist() == [1.0, 3.0]
    assert run.stats.bad_lines == 1
    with pytest.raises(LogReadError) as info:
        read_runs(path, strict=True)
    assert info.value.line == line and "step" in info.value.message


def test_an_empty_path_is_an_error_not_the_current_folder():
    with pytest.raises(LogReadError, match="empty path"):
        read_runs("")


def test_a_metric_without_one_usable_value_is_named_as_such(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text("".join(f'{{"step": {s}, "entropy": null, "reward": {s}}}\n' for s in range(5)))
    run = read_runs(path)[0]
    with pytest.raises(MetricNotFoundError, match="no metric 'policy/entropy' with a usable value"):
        run.series("entropy")
    with pytest.raises(MetricNotFoundError, match="available: reward"):
        run.series("loss")


def test_a_run_given_twice_is_read_once_with_a_warning(tmp_path):
    from entropy_dynamics.logs.readers import read_many

    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "metrics.jsonl").write_text("".join(f'{{"step": {s}, "entropy": {s / 10}}}\n' for s in range(1, 6)))
    (tmp_path / "link").symlink_to(folder)
    other = tmp_path / "other.jsonl"
    other.write_text('{"step": 1, "entropy": 0.5}\n')
    runs = read_many([folder, folder / "metrics.jsonl", tmp_path / "link", other])
    assert [r.source for r in runs] == [str(folder / "metrics.jsonl"), str(other)]
    assert len(runs[0].stats.warnings) == 2 and "given more than once" in runs[0].stats.warnings[0]
    assert not runs[1].stats.warnings


def test_compare_draws_a_run_given_twice_once(tmp_path, capsys):
    from entropy_dynamics.cli.main import main

    log = tmp_path / "metrics.jsonl"
    log.write_text("".join(f'{{"step": {s}, "entropy": {1 + (s % 5) / 10}}}\n' for s in range(1, 40)))
    assert main(["compare", str(tmp_path), str(log), "--out", str(tmp_path / "c.html"), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)["runs"]) == 1 and "given more than once; it is counted once" in captured.err

import threading

import pytest

from entropy_dynamics.analysis.stream import JsonlTail, follow_jsonl, pick_value, record_values, replay
from entropy_dynamics.analysis.synthetic import synthetic_series
from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs import MetricLogWriter, read_runs


def _write(path, series, upto=None, name="live-run"):
    with MetricLogWriter(path) as log:
        log.header(name, config={"steps": int(series.steps[-1])}, versions={})
        for step, value in list(zip(series.steps.tolist(), series.values.tolist(), strict=True))[:upto]:
            log.metrics(step, {"actor/entropy": value, "reward/mean": 0.1})


def test_tail_reads_only_complete_new_lines(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"step": 1, "entropy": 0.5}\n{"step": 2, "entr')
    tail = JsonlTail(path)
    assert [obj["step"] for _, obj in tail.read()] == [1]
    with open(path, "a") as fh:
        fh.write('opy": 0.4}\nnot json\n')
    assert [(line, obj["step"]) for line, obj in tail.read()] == [(2, 2)]
    assert list(tail.read()) == []


def test_record_formats_and_metric_choice():
    assert record_values({"type": "metrics", "step": 3, "metrics": {"a": 1}}) == (3, {"a": 1})
    assert record_values({"step": 4.0, "data": {"actor/entropy": 0.2}}) == (4, {"actor/entropy": 0.2})
    assert record_values({"step": 5, "entropy": 0.1, "time": 9}) == (5, {"entropy": 0.1})
    assert record_values({"type": "event", "step": 5}) is None
    assert pick_value({"actor/entropy": 0.3}, "policy/entropy", fallback=False) == 0.3
    assert pick_value({"my_entropy": 0.3}, "policy/entropy", fallback=False) is None
    assert pick_value({"my_entropy": 0.3}, "policy/entropy", fallback=True) == 0.3


def test_follow_sees_lines_written_while_it_runs(tmp_path):
    s = synthetic_series(900, 1, seed=4, noise=0.04)
    path = tmp_path / "metrics.jsonl"
    first = int(s.steps.searchsorted(s.onsets[0])) - 30
    _write(path, s, upto=first)

    go, done, polls = threading.Event(), threading.Event(), []

    def grow():
        go.wait()
        with MetricLogWriter(path) as log:
            for step, value in zip(s.steps[first:].tolist(), s.values[first:].tolist(), strict=True):
                log.metrics(step, {"actor/entropy": value})
        done.set()

    def stop():  # called before each read: on the second call the first part has been read
        polls.append(1)
        if len(polls) == 2:
            go.set()
        return done.is_set()

    writer = threading.Thread(target=grow)
    writer.start()
    events = list(follow_jsonl(path, poll=0.01, stop=stop))
    writer.join()
    assert events and all(e.run == "live-run" for e in events)
    eruptions = [e for e in events if e.phase == "eruption"]
    assert len(eruptions) == 1 and abs(eruptions[0].start_step - s.onsets[0]) <= 20
    assert eruptions[0].confirmed_at_step > s.steps[first - 1]


def test_follow_gives_the_same_events_as_replay(tmp_path):
    s = synthetic_series(600, 1, seed=2, noise=0.05)
    path = tmp_path / "metrics.jsonl"
    _write(path, s)
    followed = list(follow_jsonl(path, poll=0.05, timeout=0.1))
    (run,) = read_runs(path)
    replayed, warnings = replay(run)
    assert warnings == []
    assert followed == replayed


def test_follow_a_missing_file_is_a_log_error(tmp_path):
    with pytest.raises(LogReadError, match="no such file"):
        list(follow_jsonl(tmp_path / "none.jsonl", timeout=0))


def test_follow_refuses_non_jsonl_logs(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Step,a\n1,2\n")
    with pytest.raises(LogReadError, match="--follow reads JSONL"):
        list(follow_jsonl(path, timeout=0))

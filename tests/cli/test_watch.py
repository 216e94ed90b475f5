"""``entropy-dynamics watch`` through the CLI."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from entropy_dynamics.analysis.synthetic import synthetic_series
from entropy_dynamics.cli.main import main
from entropy_dynamics.logs import MetricLogWriter


def _log(path):
    s = synthetic_series(800, 1, seed=6, noise=0.04)
    with MetricLogWriter(path) as log:
        log.header("w", config={"steps": 800}, versions={})
        for step, value in zip(s.steps.tolist(), s.values.tolist(), strict=True):
            log.metrics(step, {"policy/entropy": value})
    return s


def test_replay_prints_one_json_object_per_event(tmp_path, capsys):
    s = _log(tmp_path / "m.jsonl")
    assert main(["watch", str(tmp_path / "m.jsonl"), "--replay", "--format", "json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines and all(list(e) == ["run", "phase", "start_step", "confirmed_at_step"] for e in lines)
    eruptions = [e for e in lines if e["phase"] == "eruption"]
    assert len(eruptions) == 1 and abs(eruptions[0]["start_step"] - s.onsets[0]) <= 20


def test_follow_with_timeout_stops_and_prints_text(tmp_path, capsys):
    _log(tmp_path / "m.jsonl")
    assert main(["watch", str(tmp_path / "m.jsonl"), "--follow", "--timeout", "0.2", "--poll", "0.05"]) == 0
    text = capsys.readouterr().out
    assert "w: eruption from step" in text


def test_bad_options_are_one_line_exit_2(tmp_path, capsys):
    _log(tmp_path / "m.jsonl")
    assert main(["watch", str(tmp_path / "m.jsonl"), "--follow", "--replay"]) == 2
    assert capsys.readouterr().err.strip() == "error: choose one of --follow and --replay"
    assert main(["watch", str(tmp_path / "missing.jsonl"), "--replay"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


WRITER = """
import os, sys
from entropy_dynamics.logs import MetricLogWriter
from entropy_dynamics.analysis.synthetic import synthetic_series
path = sys.argv[1]
for command in sys.stdin:
    action, name, n, seed = command.split()
    if action == "truncate":
        open(path, "w").close()
    elif action == "rotate":
        os.rename(path, path + ".1")
    s = synthetic_series(int(n), 1, seed=int(seed), noise=0.04)
    with MetricLogWriter(path) as log:
        log.header(name, config={"steps": int(n)}, versions={})
        for step, value in zip(s.steps.tolist(), s.values.tolist()):
            log.metrics(step, {"policy/entropy": value})
    print(int(s.onsets[0]), flush=True)
"""


def _lines(stream) -> queue.Queue:
    """The lines of a process's output, as they come (read on a thread, so waiting on them can time out)."""
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    return lines


def _eruption_of(events: queue.Queue, run: str) -> dict:
    while True:
        event = json.loads(events.get(timeout=120))  # a guard against a hang, not a timing assumption
        if event["run"] == run and event["phase"] == "eruption":
            return event


def test_follow_survives_truncation_and_rotation_and_ends_on_sigterm(tmp_path):
    log = tmp_path / "metrics.jsonl"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "OMP_NUM_THREADS": "1"}
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(log)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=env)
    watcher = None
    try:
        writer.stdin.write("append first 800 6\n")
        writer.stdin.flush()
        onsets = [int(writer.stdout.readline())]
        watcher = subprocess.Popen([sys.executable, "-m", "entropy_dynamics", "watch", str(log), "--follow",
                                    "--format", "json", "--poll", "0.05"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=env)
        events, warnings = _lines(watcher.stdout), _lines(watcher.stderr)
        found = [_eruption_of(events, "first")]
        # a new, shorter run truncates the log in place; then the log is rotated and a third run starts
        for command, name in (("truncate second 500 1", "second"), ("rotate third 600 3", "third")):
            writer.stdin.write(command + "\n")
            writer.stdin.flush()
            onsets.append(int(writer.stdout.readline()))
            found.append(_eruption_of(events, name))
            assert re.search(r"log (truncated|rewritten|rotated); following the new run", warnings.get(timeout=120))
        for event, onset in zip(found, onsets, strict=True):
            assert abs(event["start_step"] - onset) <= 20, (found, onsets)
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(timeout=120) == 0
        assert warnings.empty()
    finally:
        writer.stdin.close()
        writer.wait(timeout=120)
        if watcher is not None and watcher.poll() is None:
            watcher.kill()


def test_replay_prints_the_reader_warnings(tmp_path, capsys):
    _log(tmp_path / "m.jsonl")
    with open(tmp_path / "m.jsonl", "a") as fh:
        fh.write("{broken\n")
    assert main(["watch", str(tmp_path / "m.jsonl"), "--replay"]) == 0
    assert capsys.readouterr().err.startswith(f"warning: {tmp_path / 'm.jsonl'}:802: corrupt JSON line")

"""Feeding the online detector: replay a finished run, or follow a JSONL log while it grows."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from entropy_dynamics.analysis.online import OnlineDetector
from entropy_dynamics.analysis.run_analysis import DEFAULT_METRIC, resolve_metric
from entropy_dynamics.analysis.types import PhaseEvent
from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs.model import Run, to_float
from entropy_dynamics.logs.names import canonical_name


def replay(run: Run, metric: str | None = None, **options: Any) -> tuple[list[PhaseEvent], list[str]]:
    """Stream one finished run through an :class:`OnlineDetector`, point by point.

    The detector judges sharpness against the run's last step (a trainer knows its planned steps
    too). Returns the events and warnings about the metric used.
    """
    column, warnings = resolve_metric(run, metric)
    series = run.metrics[column].dropna()
    options.setdefault("total_steps", run.last_step)
    detector = OnlineDetector(run=run.name, **options)
    for step, value in zip(series.index.tolist(), series.tolist(), strict=True):
        detector.update(int(step), float(value))
    detector.finish()
    return detector.events, warnings


class JsonlTail:
    """Reads the complete lines appended to a file since the last call (a partial last line waits)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.offset = 0
        self.line = 0

    def read(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """New JSON objects with their line numbers; lines that are not JSON objects are skipped."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n")
        if end < 0:
            return
        self.offset += end + 1
        for raw in data[: end + 1].split(b"\n")[:-1]:
            self.line += 1
            try:
                obj = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(obj, dict):
                yield self.line, obj


def record_values(obj: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """``(step, metrics)`` of one metric record: ours, flat ``{"step": N, ...}`` or verl's ``data``."""
    if obj.get("type") not in (None, "metrics"):
        return None
    step = obj.get("step", obj.get("_step"))
    if isinstance(step, float) and step.is_integer():
        step = int(step)
    if not isinstance(step, int) or isinstance(step, bool):
        return None
    values = obj.get("metrics", obj.get("data"))
    if not isinstance(values, dict):
        values = {k: v for k, v in obj.items() if k not in ("step", "_step", "time", "type")}
    return step, values


def pick_value(values: dict[str, Any], target: str, fallback: bool) -> float | None:
    """The value of metric ``target`` (canonical or source name) in one record."""
    for key, raw in values.items():
        if key == target or canonical_name(key) == target:
            return to_float(raw)
    if fallback:
        for key, raw in values.items():
            if key.lower().endswith("entropy"):
                return to_float(raw)
    return None


def follow_jsonl(path: str | os.PathLike[str], metric: str | None = None, *, poll: float = 1.0,
                 timeout: float | None = None, total_steps: int | None = None,
                 **options: Any) -> Iterator[PhaseEvent]:
    """Tail a JSONL log while another process writes it; yield phase events as they are confirmed.

    The run name and planned steps come from the log's header (``run``, ``config.steps``) when there
    is one. Stops after ``timeout`` seconds (None: never; interrupt with Ctrl-C).
    """
    if not Path(path).is_file():
        raise LogReadError(path, "no such file")
    if Path(path).suffix not in (".jsonl", ".json", ".log", ".txt"):
        raise LogReadError(path, "--follow reads JSONL metric logs (use --replay for other formats)")
    target = canonical_name(metric) or metric if metric else DEFAULT_METRIC
    tail = JsonlTail(path)
    detector: OnlineDetector | None = None
    run_name, planned = Path(path).parent.name or Path(path).stem, total_steps
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        for _, obj in tail.read():
            if obj.get("type") == "header":
                run_name = str(obj.get("run") or run_name)
                steps = (obj.get("config") or {}).get("steps")
                planned = planned or (steps if isinstance(steps, int) else None)
                continue
            record = record_values(obj)
            if record is None:
                continue
            value = pick_value(record[1], target, fallback=metric is None)
            if value is None:
                continue
            if detector is None:
                detector = OnlineDetector(run=run_name, total_steps=planned, **options)
            yield from detector.update(record[0], value)
        if deadline is not None and time.monotonic() >= deadline:
            return
        time.sleep(poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic())))

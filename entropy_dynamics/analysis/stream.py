"""Feeding the online detector: replay a finished run, or follow a JSONL log while it grows."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Restart:
    """The followed file was replaced: ``reason`` is ``"truncated"``, ``"rotated"`` or ``"rewritten"``."""

    reason: str


_HEAD_BYTES = 512


class JsonlTail:
    """Reads the complete lines appended to a file since the last call (a partial last line waits).

    Like ``tail -F``: a file truncated in place, rewritten from its start, or moved aside and recreated
    (log rotation) is noticed -- :meth:`read` then yields a :class:`Restart` and goes on from the new
    file's first line. Lines the old file got before it was moved aside are read first.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.offset = 0
        self.line = 0
        self._fh: Any = None
        self._identity: tuple[int, int] | None = None
        self._head = b""

    def read(self) -> Iterator[tuple[int, dict[str, Any]] | Restart]:
        """New JSON objects with their line numbers, and a :class:`Restart` where the file was replaced;
        lines that are not JSON objects are skipped."""
        yield from self._drain()
        try:
            st = os.stat(self.path)
        except FileNotFoundError:  # between a rotation's move and the new file
            return
        identity = (st.st_dev, st.st_ino)
        reason = None
        if self._fh is None or identity != self._identity:
            reason = None if self._fh is None else "rotated"
            if self._fh is not None:
                self._fh.close()
            try:
                self._fh = open(self.path, "rb")  # noqa: SIM115 -- held open across reads, closed in close()
            except FileNotFoundError:
                self._fh = None
                return
            self._identity = (os.fstat(self._fh.fileno()).st_dev, os.fstat(self._fh.fileno()).st_ino)
        elif st.st_size < self.offset:
            reason = "truncated"
        elif self._head and os.pread(self._fh.fileno(), len(self._head), 0) != self._head:
            reason = "rewritten"
        if reason is not None:
            self.offset, self.line, self._head = 0, 0, b""
            yield Restart(reason)
        yield from self._drain()

    def _drain(self) -> Iterator[tuple[int, dict[str, Any]]]:
        if self._fh is None:
            return
        self._fh.seek(self.offset)
        data = self._fh.read()
        end = max(data.rfind(b"\n"), data.rfind(b"\r"))
        if end < 0:
            return
        if self.offset == 0:
            self._head = data[: min(end + 1, _HEAD_BYTES)]
        self.offset += end + 1
        for raw in data[: end + 1].splitlines():
            self.line += 1
            try:
                obj = json.loads(raw)
            except (ValueError, RecursionError):
                continue
            if isinstance(obj, dict):
                yield self.line, obj

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


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
                 stop: Callable[[], bool] | None = None, on_warning: Callable[[str], None] | None = None,
                 **options: Any) -> Iterator[PhaseEvent]:
    """Tail a JSONL log while another process writes it; yield phase events as they are confirmed.

    The run name and planned steps come from the log's header (``run``, ``config.steps``) when there
    is one. A log truncated, rewritten or rotated under it, or a header of another run (not a resume),
    starts a new run: a fresh detector under the new name, announced through ``on_warning``. Stops after
    ``timeout`` seconds, or once ``stop()`` is true and everything written before it was read (None:
    never; interrupt with Ctrl-C).
    """
    if not Path(path).is_file():
        raise LogReadError(path, "no such file" if not Path(path).exists() else "not a regular file")
    if Path(path).suffix not in (".jsonl", ".json", ".log", ".txt"):
        raise LogReadError(path, "--follow reads JSONL metric logs (use --replay for other formats)")
    target = canonical_name(metric) or metric if metric else DEFAULT_METRIC
    tail = JsonlTail(path)
    default_name = Path(path).parent.name or Path(path).stem
    detector: OnlineDetector | None = None
    run_name, planned, seen_metrics = default_name, total_steps, False
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            finished = stop is not None and stop()
            for item in tail.read():
                if isinstance(item, Restart):
                    if on_warning is not None:
                        on_warning(f"{path}: log {item.reason}; following the new run from its first line")
                    detector, run_name, planned, seen_metrics = None, default_name, total_steps, False
                    continue
                obj = item[1]
                if obj.get("type") == "header":
                    if seen_metrics and obj.get("resumed_from_step") is None:
                        new_name = str(obj.get("run") or default_name)
                        if on_warning is not None:
                            on_warning(f"{path}:{item[0]}: header of a new run {new_name!r}; following it from here")
                        detector, planned, seen_metrics = None, total_steps, False
                    run_name = str(obj.get("run") or run_name)
                    steps = (obj.get("config") or {}).get("steps") if isinstance(obj.get("config"), dict) else None
                    planned = planned or (steps if isinstance(steps, int) and not isinstance(steps, bool) else None)
                    continue
                record = record_values(obj)
                if record is None:
                    continue
                seen_metrics = True
                value = pick_value(record[1], target, fallback=metric is None)
                if value is None:
                    continue
                if detector is None:
                    detector = OnlineDetector(run=run_name, total_steps=planned, **options)
                yield from detector.update(record[0], value)
            if finished or (deadline is not None and time.monotonic() >= deadline):
                return
            time.sleep(poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic())))
    finally:
        tail.close()

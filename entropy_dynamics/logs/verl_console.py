"""verl's console logger: ``step:N - key:value - key:value ...`` lines inside any other output.

Lines may carry ANSI colour codes and Ray prefixes (``(TaskRunner pid=123)``); values may be
wrapped (``np.float64(0.3)``, ``np.int64(3)``, ``tensor(0.3, device='cuda:0')``). Every line
without a ``step:N -`` record (config dumps, progress bars, warnings) is ignored.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs.checks import RecordChecker, reject_record, warn_counts
from entropy_dynamics.logs.model import ReadStats, Run, as_step, build_run
from entropy_dynamics.logs.text import sniff_encoding

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_RECORD = re.compile(r"(?:^|[\s)\]])step:(\d+)\s+-\s+(.*)$")
#: A field separator candidate: " - " (the spaces around it are stripped from key and value). Linear:
#: ``\s+-\s+(?=key:)`` backtracks quadratically on long runs of spaces.
_SEPARATOR = re.compile(r"\s-\s")
_KEY = re.compile(r"[ \t]*[^\s:]+:")
_WRAPPED = re.compile(r"^[A-Za-z_][\w.]*\((.*)\)$")

#: A probe for format detection (``readers``): a verl record somewhere in a file's bytes.
SIGNATURE = re.compile(rb"\bstep:\d+\s+-\s+\S+:")


def parse_value(text: str) -> Any:
    """``"np.float64(0.3)"`` -> 0.3, ``"tensor(2, device='cuda:0')"`` -> 2.0, ``"0.5"`` -> 0.5;
    anything else is returned as the stripped text (counted as non-numeric later)."""
    text = text.strip()
    wrapped = _WRAPPED.match(text)
    if wrapped:
        text = wrapped.group(1).split(",")[0].strip()
    try:
        return float(text)
    except ValueError:
        return text


def parse_line(line: str) -> tuple[int | None, dict[str, Any]] | None:
    """The step and ``{key: value}`` of one console line, or ``None`` for any other line. The step is
    ``None`` when it is too long to be one (more than 19 digits)."""
    match = _RECORD.search(_ANSI.sub("", line).rstrip())
    if match is None:
        return None
    values: dict[str, Any] = {}
    for field in split_fields(match.group(2)):
        key, sep, value = field.partition(":")
        if sep and key:
            values[key.strip()] = parse_value(value)
    digits = match.group(1)
    return (int(digits) if len(digits) <= _MAX_STEP_DIGITS else None), values


_MAX_STEP_DIGITS = 19


def split_fields(body: str) -> list[str]:
    """``"a:1 - b:x - y - c:2"`` -> ``["a:1", "b:x - y", "c:2"]``: a `` - `` separates fields only where
    a ``key:`` follows it (values may hold dashes). Linear in the line's length."""
    fields: list[str] = []
    start = 0
    for sep in _SEPARATOR.finditer(body):
        if _KEY.match(body, sep.end()):
            fields.append(body[start:sep.start()])
            start = sep.end()
    fields.append(body[start:])
    return [f.strip() for f in fields]


def iter_console_records(path: Path) -> Iterator[tuple[int, int | None, dict[str, Any]]]:
    """``(line_number, step, values)`` for every record line of a console log."""
    with open(path, "rb") as fh:
        encoding = sniff_encoding(fh.read(4096))
    with open(path, encoding=encoding, errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            parsed = parse_line(line)
            if parsed is not None:
                yield lineno, parsed[0], parsed[1]


def split_restarts(records: list[tuple[int, int, dict[str, Any]]]) -> list[list[tuple[int, int, dict[str, Any]]]]:
    """``(line, step, values)`` records cut where the step starts over: at or below the first step of the
    run so far (a new run; a resume goes back only to its checkpoint, later than the start)."""
    runs: list[list[tuple[int, int, dict[str, Any]]]] = []
    for record in records:
        if not runs or record[1] <= runs[-1][0][1] < runs[-1][-1][1]:
            runs.append([])
        runs[-1].append(record)
    return runs


def read_verl_console(path: str | os.PathLike[str], strict: bool = False) -> list[Run]:
    """The runs of a verl console log (stdout of ``python -m verl.trainer.main_ppo``): one, or one per
    start-over of the step when several runs were logged to the same file (warned)."""
    path = Path(path)
    stats = ReadStats()
    records: list[tuple[int, int, dict[str, Any]]] = []
    for lineno, step, values in iter_console_records(path):
        if step is None or as_step(step) is None:
            reject_record(path, stats, strict, "step does not fit (|step| >= 2^53: not a training step)", lineno,
                          "bigstep")
            continue
        records.append((lineno, step, values))
    if not records:
        raise LogReadError(path, "no verl 'step:N - key:value' lines found")
    parts = split_restarts(records)
    runs = []
    for index, part in enumerate(parts):
        part_stats = stats if index == 0 else ReadStats()
        if len(parts) > 1 and index == 0:
            starts = ", ".join(str(p[0][0]) for p in parts[1:])
            stats.warn_once("runs", f"{path}: holds {len(parts)} runs (the step starts over at lines {starts}); "
                                    "read as separate runs")
        checker = RecordChecker(path, part_stats, strict)
        for lineno, step, values in part:
            checker.check(step, values, lineno)
        name = path.stem if index == 0 else f"{path.stem}#{index + 1}"
        run = build_run(name, str(path), "verl-console", [(step, values) for _, step, values in part],
                        stats=part_stats, metadata={"first_line": part[0][0]})
        warn_counts(run, path)
        runs.append(run)
    return runs

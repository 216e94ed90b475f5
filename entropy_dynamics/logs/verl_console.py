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

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_RECORD = re.compile(r"(?:^|[\s)\]])step:(\d+)\s+-\s+(.*)$")
_FIELD_SPLIT = re.compile(r"\s+-\s+(?=[^\s:]+:)")
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


def parse_line(line: str) -> tuple[int, dict[str, Any]] | None:
    """The step and ``{key: value}`` of one console line, or ``None`` for any other line."""
    match = _RECORD.search(_ANSI.sub("", line).rstrip())
    if match is None:
        return None
    values: dict[str, Any] = {}
    for field in _FIELD_SPLIT.split(match.group(2)):
        key, sep, value = field.partition(":")
        if sep and key:
            values[key.strip()] = parse_value(value)
    return int(match.group(1)), values


def iter_console_records(path: Path) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """``(line_number, step, values)`` for every record line of a console log."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            parsed = parse_line(line)
            if parsed is not None:
                yield lineno, parsed[0], parsed[1]


def read_verl_console(path: str | os.PathLike[str], strict: bool = False) -> list[Run]:
    """One run from a verl console log (stdout of ``python -m verl.trainer.main_ppo``)."""
    path = Path(path)
    stats = ReadStats()
    checker = RecordChecker(path, stats, strict)
    records: list[tuple[int, dict[str, Any]]] = []
    for lineno, step, values in iter_console_records(path):
        if as_step(step) is None:
            reject_record(path, stats, strict, f"step {step} does not fit a 64-bit integer", lineno)
            continue
        checker.check(step, values, lineno)
        records.append((step, values))
    if not records:
        raise LogReadError(path, "no verl 'step:N - key:value' lines found")
    run = build_run(path.stem, str(path), "verl-console", records, stats=stats)
    warn_counts(run, path)
    return [run]

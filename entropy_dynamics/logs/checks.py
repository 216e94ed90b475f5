"""Checks shared by the readers. Strict mode: the first bad value or step fails with file and line.

Lenient mode: :func:`entropy_dynamics.logs.model.build_run` counts the same problems instead
(``ReadStats``) and the reader warns once per kind.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs.model import ReadStats, Run, to_float


class RecordChecker:
    """Checks a reader's records one at a time, in log order.

    Strict: a step that repeats or goes back, or a bad value, raises :class:`LogReadError`.
    Lenient: the first step that goes back is warned about once, naming where (values and
    duplicates are left to :func:`~entropy_dynamics.logs.model.build_run`'s counts).
    ``allow_null``: JSON ``null`` is a legitimate value (our JSONL writes an undefined metric, NaN, as
    null: ``docs/log-format.md``), counted as non-finite but not an error even in strict mode.
    """

    def __init__(self, path: str | Path, stats: ReadStats, strict: bool, allow_null: bool = False) -> None:
        self.path = str(path)
        self.stats = stats
        self.strict = strict
        self.allow_null = allow_null
        self.last_step: int | None = None

    def check(self, step: int, values: Mapping[str, Any], line: int | None, where: str = "") -> None:
        """Check one record. ``line`` is the 1-based line of a text log; sources without lines pass
        ``where`` instead (e.g. ``"record 12"``), which prefixes the message."""
        last = self.last_step
        self.last_step = step if last is None else max(last, step)
        prefix = f"{where}: " if where else ""
        if last is not None and step <= last:
            if self.strict:
                what = "repeats" if step == last else "goes back from"
                raise LogReadError(self.path, f"{prefix}step {step} {what} step {last}", line)
            if step < last:
                location = f"{self.path}:{line}" if line is not None else self.path
                self.stats.warn_once("backwards", f"{location}: {prefix}step {step} goes back from {last}; "
                                                  "later values win")
        if not self.strict:
            return
        for key, raw in values.items():
            if raw is None and self.allow_null:
                continue
            value = to_float(raw)
            if value is None:
                raise LogReadError(self.path, f"{prefix}non-numeric value {_short(raw)} for {key!r}", line)
            if not math.isfinite(value):
                raise LogReadError(self.path, f"{prefix}non-finite value ({_short(raw)}) for {key!r}", line)


def history_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """The metric values of one W&B history row: W&B's own ``_``-keys (``_step``, ``_runtime`` ...) and
    media / nested values (dicts, lists) left out. Shared by the offline and the API reader."""
    return {k: v for k, v in row.items() if not k.startswith("_") and not isinstance(v, (dict, list))}


def reject_record(
    path: str | Path, stats: ReadStats, strict: bool, message: str, line: int | None = None, key: str = "bad"
) -> None:
    """A record that cannot be used: raise :class:`LogReadError` in strict mode, else count it as a bad
    line and warn once per ``key`` (the warning names the file, the line when known, and ``message``)."""
    if strict:
        raise LogReadError(path, message, line)
    stats.bad_lines += 1
    where = f"{path}:{line}" if line is not None else str(path)
    stats.warn_once(key, f"{where}: {message}; skipped")


#: Corrupt stretches warned about one by one per file; beyond that they are only counted.
MAX_CORRUPTION_WARNINGS = 10


def note_corruption(path: str | Path, stats: ReadStats, strict: bool, message: str) -> None:
    """A corrupt stretch of a binary log that the reader passed over: raise :class:`LogReadError` in strict
    mode, else count it in ``bad_lines`` and warn (each of the first :data:`MAX_CORRUPTION_WARNINGS`)."""
    if strict:
        raise LogReadError(path, message)
    stats.bad_lines += 1
    key = f"corrupt:{path}"
    seen = stats.corrupt_stretches.get(key, 0) + 1
    stats.corrupt_stretches[key] = seen
    if seen <= MAX_CORRUPTION_WARNINGS:
        stats.warnings.append(f"{path}: {message}")
    elif seen == MAX_CORRUPTION_WARNINGS + 1:
        stats.warnings.append(f"{path}: more corrupt stretches skipped (see skipped.bad_lines)")


def check_frame_strict(
    path: str | Path, steps: np.ndarray, raw: pd.DataFrame, numeric: pd.DataFrame, lines: np.ndarray
) -> None:
    """Vectorised strict check of a table: ``steps`` (n,) int64 in row order, ``raw`` the cells as
    read (n, m), ``numeric`` the same cells as floats (NaN where not a number), ``lines`` (n,) the
    line number of each row. Raises on the first row (then column) with a problem."""
    problems: list[tuple[int, str]] = []
    if len(steps) > 1:
        order = np.flatnonzero(np.diff(steps) <= 0)
        if len(order):
            i = int(order[0]) + 1
            what = "repeats" if steps[i] == steps[i - 1] else "goes back from"
            problems.append((i, f"step {steps[i]} {what} step {steps[i - 1]}"))
    not_number, non_finite = cell_problems(raw, numeric)
    for mask, label in ((not_number, "non-numeric value"), (non_finite, "non-finite value")):
        rows, cols = np.nonzero(mask)
        if len(rows):
            k = int(np.argmin(rows))
            r, c = int(rows[k]), int(cols[k])
            problems.append((r, f"{label} {_short(raw.iat[r, c])} for {raw.columns[c]!r}"))
    if problems:
        row, message = min(problems, key=lambda p: p[0])
        raise LogReadError(path, message, int(lines[row]))


def text_columns(raw: pd.DataFrame) -> list[int]:
    """Positions of the columns not read as numbers or bools (those need converting and checking)."""
    return [i for i, dtype in enumerate(raw.dtypes)
            if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))]


def cell_problems(raw: pd.DataFrame, numeric: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Two (n, m) bool masks over a table: cells holding something that is not a number, and cells
    holding NaN/inf. Empty cells are neither (no point at that step). Only columns read as text are
    looked at as text (a column the CSV parser read as numbers holds nothing else)."""
    present = raw.notna().to_numpy(dtype=bool, copy=True)
    values = numeric.to_numpy(dtype="float64")
    not_number = np.zeros_like(present)
    for i in text_columns(raw):
        text = raw.iloc[:, i].astype("string").str.strip().str.lower()
        present[:, i] &= (text != "").fillna(False).to_numpy(dtype=bool)
        spelled_nan = text.isin(["nan", "-nan", "+nan"]).fillna(False).to_numpy(dtype=bool)
        not_number[:, i] = present[:, i] & np.isnan(values[:, i]) & ~spelled_nan
    non_finite = present & ~np.isfinite(values) & ~not_number
    return not_number, non_finite


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def warn_counts(run: Run, where: str | Path) -> None:
    """Add one warning per kind of problem ``build_run`` counted (duplicates, bad values)."""
    stats = run.stats
    if stats.duplicate_steps:
        stats.warn_once("duplicates", f"{where}: {stats.duplicate_steps} duplicate steps; later values win")
    counts = [f"{n} {kind}" for n, kind in ((stats.non_numeric, "non-numeric"), (stats.non_finite, "NaN/inf")) if n]
    if counts:
        stats.warn_once("values", f"{where}: {' and '.join(counts)} values left out")

"""Turn a table (one row per logged step, one column per metric) into a :class:`Run`, vectorised.

Shared by the CSV, Parquet and W&B-chart-export readers. Lenient mode counts what it drops in
``ReadStats`` and warns once per kind, naming the first line; strict mode fails on the first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs.checks import cell_problems, check_frame_strict, text_columns
from entropy_dynamics.logs.model import STEP_LIMIT, ReadStats, Run, frame_to_run


def to_numeric_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """(n, m) cells of any dtype -> float64 in one block; anything that is not a number becomes NaN.
    Numeric columns convert in one array operation (a table can have tens of thousands of columns)."""
    texts = text_columns(raw)
    numbers = np.setdiff1d(np.arange(raw.shape[1]), texts)
    values = np.empty(raw.shape, dtype="float64")
    if len(numbers):
        values[:, numbers] = raw.iloc[:, numbers].to_numpy(dtype="float64", na_value=np.nan)
    for i in texts:
        values[:, i] = pd.to_numeric(raw.iloc[:, i].astype("string").str.strip(), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan)
    return pd.DataFrame(values, index=raw.index, columns=raw.columns)


def table_to_run(
    path: str | Path,
    name: str,
    reader: str,
    raw: pd.DataFrame,
    step_column: str,
    *,
    strict: bool,
    first_line: int,
    metadata: dict[str, Any] | None = None,
) -> Run:
    """Build one run from ``raw`` (rows in log order). Row ``i`` is on line ``first_line + i``.

    Rows without an integer step are skipped (counted as bad lines); a step logged again keeps
    the later non-empty value per metric (counted as a duplicate); NaN/inf and non-numeric cells
    are left out (counted). Empty cells are simply "no point at this step".
    """
    stats = ReadStats()
    raw = raw.reset_index(drop=True)
    step_values = to_numeric_frame(raw[[step_column]])[step_column].to_numpy()
    in_range = np.abs(step_values) < STEP_LIMIT  # NaN/inf fail too
    good_step = in_range & (np.mod(step_values, 1) == 0)
    if not good_step.all():
        bad = int(np.flatnonzero(~good_step)[0])
        message = f"no integer step in column {step_column!r} (got {raw[step_column].iat[bad]!r})"
        if strict:
            raise LogReadError(path, message, first_line + bad)
        stats.bad_lines += int((~good_step).sum())
        stats.warn_once("bad", f"{path}:{first_line + bad}: {message}; row skipped")
    metrics_raw = raw.loc[good_step, [c for c in raw.columns if c != step_column]]
    steps = step_values[good_step].astype("int64")
    rows = np.flatnonzero(good_step)
    # Blank rows of a multi-run export (this run has no point here) are not log lines of this run.
    filled = metrics_raw.notna().to_numpy().any(axis=1) if metrics_raw.shape[1] else np.ones(len(steps), bool)
    metrics_raw, steps, rows = metrics_raw.loc[filled], steps[filled], rows[filled]
    numeric = to_numeric_frame(metrics_raw)
    if strict:
        positions = range(len(steps))
        check_frame_strict(
            path, steps, metrics_raw.set_axis(positions), numeric.set_axis(positions), first_line + rows
        )
    _count_problems(path, stats, metrics_raw, numeric, steps, rows, first_line)
    values = numeric.to_numpy()
    numeric = numeric.where(np.isfinite(values))
    numeric.index = pd.Index(steps, name="step")
    if numeric.index.has_duplicates:
        numeric = numeric.groupby(level=0, sort=True).last()
    return frame_to_run(name, str(path), reader, numeric, stats=stats, metadata=metadata)


def _count_problems(
    path: str | Path,
    stats: ReadStats,
    raw: pd.DataFrame,
    numeric: pd.DataFrame,
    steps: np.ndarray,
    rows: np.ndarray,
    first_line: int,
) -> None:
    """Fill ``stats`` (non-numeric, non-finite, duplicate and backwards steps) and warn once each."""
    not_number, non_finite = cell_problems(raw, numeric)
    for mask, field, label in (
        (not_number, "non_numeric", "non-numeric values"),
        (non_finite, "non_finite", "NaN/inf values"),
    ):
        count = int(mask.sum())
        if count:
            setattr(stats, field, getattr(stats, field) + count)
            first = int(rows[np.flatnonzero(mask.any(axis=1))[0]])
            stats.warn_once(field, f"{path}:{first_line + first}: {count} {label} left out")
    if len(steps):
        stats.duplicate_steps += int(len(steps) - len(np.unique(steps)))
        running_max = np.maximum.accumulate(steps)
        backwards = np.flatnonzero(steps[1:] < running_max[:-1])
        stats.backwards_steps += len(backwards)
        if len(backwards):
            line = first_line + int(rows[backwards[0] + 1])
            stats.warn_once("backwards", f"{path}:{line}: step goes back ({len(backwards)} rows); later values win")
        if stats.duplicate_steps:
            stats.warn_once("duplicates", f"{path}: {stats.duplicate_steps} duplicate steps; later values win")

"""Generic tables with a step column: CSV (also TSV) and Parquet, one run per file."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs.model import Run
from entropy_dynamics.logs.tables import table_to_run

#: Column names taken as the step, in order of preference (matched case-insensitively).
STEP_COLUMNS = (
    "step",
    "_step",
    "global_step",
    "train/global_step",
    "trainer/global_step",
    "steps",
    "training_step",
    "iteration",
    "iter",
    "update",
    "timestep",
)


def find_step_column(path: str | Path, columns: list[str]) -> str:
    """The step column of a table, or a :class:`LogReadError` naming what was looked for."""
    lowered = {str(c).strip().lower(): c for c in columns}
    for candidate in STEP_COLUMNS:
        if candidate in lowered:
            return lowered[candidate]
    shown = ", ".join(map(str, columns[:12])) + (" ..." if len(columns) > 12 else "")
    raise LogReadError(path, f"no step column (looked for {', '.join(STEP_COLUMNS)}); columns: {shown}")


def read_csv_text(path: str | Path, strict: bool) -> tuple[pd.DataFrame, int]:
    """All cells as text (empty cells as NaN) and the number of malformed rows skipped.

    Strict mode fails on the first malformed row; lenient mode skips and counts them.
    """
    sep = "\t" if Path(path).suffix.lower() == ".tsv" else ","
    options = {
        "sep": sep,
        "dtype": str,
        "index_col": False,
        "encoding": "utf-8-sig",
        "keep_default_na": False,
        "na_values": [""],
    }
    try:
        return pd.read_csv(path, **options), 0
    except pd.errors.EmptyDataError:
        raise LogReadError(path, "file is empty") from None
    except pd.errors.ParserError as exc:
        if strict:
            raise LogReadError(path, f"malformed CSV: {_one_line(exc)}") from None
    skipped: list[list[str]] = []

    def skip(row: list[str]) -> None:
        skipped.append(row)

    frame = pd.read_csv(path, engine="python", on_bad_lines=skip, **options)
    return frame, len(skipped)


def read_csv(path: str | os.PathLike[str], strict: bool = False) -> list[Run]:
    """A CSV/TSV with a step column (``step``, ``_step``, ``global_step``, ``Step``, ``iteration``...)."""
    raw, malformed = read_csv_text(path, strict)
    if raw.empty and not len(raw.columns):
        raise LogReadError(path, "file is empty")
    run = table_to_run(
        path, Path(path).stem, "csv", raw, find_step_column(path, list(raw.columns)), strict=strict, first_line=2
    )
    note_malformed(run, path, malformed)
    return [run]


def read_parquet(path: str | os.PathLike[str], strict: bool = False) -> list[Run]:
    """A Parquet table with a step column."""
    try:
        raw = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise LogReadError(path, f"not a readable Parquet file: {_one_line(exc)}") from None
    raw.columns = [str(c) for c in raw.columns]
    step = find_step_column(path, list(raw.columns))
    return [table_to_run(path, Path(path).stem, "parquet", raw, step, strict=strict, first_line=1)]


def note_malformed(run: Run, path: str | os.PathLike[str], count: int) -> None:
    if count:
        run.stats.bad_lines += count
        run.stats.warn_once("bad", f"{path}: {count} malformed CSV rows skipped")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())

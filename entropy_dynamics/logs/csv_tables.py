"""Generic tables with a step column: CSV (also TSV) and Parquet, one run per file."""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs.model import Run
from entropy_dynamics.logs.names import canonical_name
from entropy_dynamics.logs.tables import table_to_run
from entropy_dynamics.logs.text import sniff_encoding

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
    "time/iterations",  # Stable-Baselines3's progress.csv (one row per policy update)
)


def find_step_column(path: str | Path, columns: list[str], wanted: str | None = None) -> str:
    """The step column of a table (``wanted`` if given, else the first of :data:`STEP_COLUMNS`), or a
    :class:`LogReadError` naming what was looked for and the columns there are."""
    lowered = {str(c).strip().lower(): c for c in columns}
    for candidate in (wanted,) if wanted is not None else STEP_COLUMNS:
        if candidate in columns:
            return candidate
        if candidate.strip().lower() in lowered:
            return lowered[candidate.strip().lower()]
    shown = ", ".join(map(str, columns[:12])) + (" ..." if len(columns) > 12 else "")
    looked = f"--step-column {wanted!r}" if wanted is not None else f"looked for {', '.join(STEP_COLUMNS)}"
    raise LogReadError(path, f"no step column ({looked}); columns: {shown}")


@dataclass
class CsvText:
    """A CSV's cells as text (empty cells NaN) and what reading it passed over."""

    frame: pd.DataFrame
    malformed: int = 0
    """Rows with the wrong number of fields, skipped."""
    open_quote_line: int | None = None
    """Line of a quote that is never closed (quotes were then read as plain characters)."""


_OPEN_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


def read_csv_text(path: str | Path, strict: bool, columns: list[str] | None = None) -> CsvText:
    """All cells (empty cells as NaN), as numbers where a whole column parses as numbers, else as text
    (checked cell by cell later); ``columns`` limits which are read.

    Strict mode fails on the first malformed row or an unterminated quote; lenient mode skips and
    counts malformed rows, and reads a file with an unterminated quote with quotes as plain text
    (instead of swallowing every later line into one field).
    """
    sep = "\t" if Path(path).suffix.lower() == ".tsv" else ","
    with open(path, "rb") as fh:
        head = fh.read(4096)
    encoding = sniff_encoding(head)
    header = head.decode(encoding, errors="replace").lstrip("\ufeff").splitlines()[:1]
    no_comma = sep == "," and bool(header) and "," not in header[0]
    european = no_comma and ";" in header[0]
    if no_comma and "\t" in header[0]:
        sep = "\t"  # a TSV saved as .csv
    options: dict = {
        "sep": ";" if european else sep,  # Excel in a comma-decimal locale writes ';' between fields, ',' in numbers
        "decimal": "," if european else ".",
        "index_col": False,
        "encoding": encoding,
        "encoding_errors": "replace",
        "keep_default_na": False,
        "na_values": [""],
        "usecols": columns,
    }
    try:
        return CsvText(pd.read_csv(path, **options))
    except pd.errors.EmptyDataError:
        raise LogReadError(path, "file is empty") from None
    except pd.errors.ParserError as exc:
        open_quote = _OPEN_QUOTE.search(str(exc))
        line = int(open_quote.group(1)) + 1 if open_quote else None
        if strict:
            what = "a quote opened here is never closed" if open_quote else f"malformed CSV: {_one_line(exc)}"
            raise LogReadError(path, what, line) from None
    skipped: list[list[str]] = []

    def skip(row: list[str]) -> None:
        skipped.append(row)

    if open_quote:
        options["quoting"] = csv.QUOTE_NONE
    frame = pd.read_csv(path, engine="python", on_bad_lines=skip, **options)
    return CsvText(frame, len(skipped), line)


def read_csv(path: str | os.PathLike[str], strict: bool = False, step_column: str | None = None) -> list[Run]:
    """A CSV/TSV with a step column (``step``, ``_step``, ``global_step``, ``Step``, ``iteration``...)."""
    text = read_csv_text(path, strict)
    raw = text.frame
    if raw.empty and not len(raw.columns):
        raise LogReadError(path, "file is empty")
    name = Path(path).stem
    if list(raw.columns) == TENSORBOARD_EXPORT and step_column is None:
        name, tag = tensorboard_export_names(name)
        raw = raw.drop(columns="Wall time").rename(columns={"Value": tag})
    run = table_to_run(
        path, name, "csv", raw, find_step_column(path, list(raw.columns), step_column), strict=strict, first_line=2
    )
    note_malformed(run, path, text)
    return [run]


#: The columns of TensorBoard's "Download CSV" of one scalar chart (file ``run-<run>-tag-<tag>.csv``, ``/`` in the
#: tag written as ``_``).
TENSORBOARD_EXPORT = ["Wall time", "Step", "Value"]


def tensorboard_export_names(stem: str) -> tuple[str, str]:
    """``(run name, metric name)`` of a TensorBoard CSV download from its file name: ``run-grpo-tag-actor_entropy`` ->
    ``("grpo", "actor_entropy")``; a renamed file is both run and metric."""
    match = re.fullmatch(r"(?:run-)?(.*?)-tag-(.+)", stem)
    run, tag = (match.group(1) or stem, match.group(2)) if match else (stem, stem)
    return run, _unflattened(tag)


def _unflattened(tag: str) -> str:
    """The tag with the ``/`` TensorBoard wrote as ``_`` put back where that gives a known metric name
    (``actor_entropy`` -> ``actor/entropy``); else the tag as it is."""
    if canonical_name(tag) is not None:
        return tag
    underscores = [i for i, c in enumerate(tag) if c == "_"]
    candidates = [tag.replace("_", "/")] + [f"{tag[:i]}/{tag[i + 1:]}" for i in underscores]
    return next((c for c in candidates if canonical_name(c) is not None), tag)


def read_parquet(path: str | os.PathLike[str], strict: bool = False, step_column: str | None = None) -> list[Run]:
    """A Parquet table with a step column."""
    try:
        raw = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise LogReadError(path, f"not a readable Parquet file: {_one_line(exc)}") from None
    raw.columns = [str(c) for c in raw.columns]
    step = find_step_column(path, list(raw.columns), step_column)
    return [table_to_run(path, Path(path).stem, "parquet", raw, step, strict=strict, first_line=1)]


def note_malformed(run: Run, path: str | os.PathLike[str], text: CsvText) -> None:
    """Warn about what :func:`read_csv_text` passed over (counted in ``bad_lines``)."""
    if text.malformed:
        run.stats.bad_lines += text.malformed
        run.stats.warn_once("bad", f"{path}: {text.malformed} malformed CSV rows skipped")
    if text.open_quote_line is not None:
        run.stats.bad_lines += 1
        run.stats.warn_once("quote", f"{path}:{text.open_quote_line}: a quote opened here is never closed; "
                                     "quotes read as plain characters")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())

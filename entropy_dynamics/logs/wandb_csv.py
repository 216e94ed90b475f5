"""The W&B chart CSV export ("Export panel -> CSV"): several runs per file.

Header: an x column first (``Step``, ``global_step``, ``_step``...), then per run and metric
``"<run> - <metric>"`` with ``__MIN`` / ``__MAX`` companions (dropped: for a single run they equal
the value; for a ``Group: <name>`` they span the group). Empty cells = no point at that step.
"""

from __future__ import annotations

import os

import numpy as np

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs.csv_tables import note_malformed, read_csv_text
from entropy_dynamics.logs.model import Run
from entropy_dynamics.logs.tables import table_to_run, to_numeric_frame

_SEPARATOR = " - "
_GROUP = "Group: "


def is_wandb_export_header(columns: list[str]) -> bool:
    """True when a CSV header looks like a W&B chart export."""
    rest = [str(c) for c in columns[1:]]
    return bool(rest) and (any(c.endswith(("__MIN", "__MAX")) for c in rest) or all(_SEPARATOR in c for c in rest))


def split_column(column: str) -> tuple[str, str, bool]:
    """``"Group: g - actor/entropy"`` -> ``("g", "actor/entropy", True)``. Run names may contain
    ``" - "``, metric names do not: split on the last one."""
    run, _, metric = column.rpartition(_SEPARATOR)
    grouped = run.startswith(_GROUP)
    return (run[len(_GROUP) :] if grouped else run), metric, grouped


def read_wandb_csv(path: str | os.PathLike[str], strict: bool = False) -> list[Run]:
    """One :class:`Run` per run in the export, in column order."""
    text = read_csv_text(path, strict)
    raw = text.frame
    columns = [str(c) for c in raw.columns]
    if len(columns) < 2 or not any(_SEPARATOR in c for c in columns[1:]):
        raise LogReadError(path, "not a W&B chart export (expected '<run> - <metric>' columns after the x column)")
    x_column = columns[0]
    x = to_numeric_frame(raw[[x_column]])[x_column].to_numpy()
    finite = x[np.isfinite(x)]
    if len(finite) and not np.all(np.mod(finite, 1) == 0):
        raise LogReadError(path, f"x column {x_column!r} is not an integer step; export the chart with Step as x axis")
    by_run: dict[str, dict[str, str]] = {}
    grouped: dict[str, bool] = {}
    for column in columns[1:]:
        if column.endswith(("__MIN", "__MAX")) or _SEPARATOR not in column:
            continue
        run, metric, is_group = split_column(column)
        by_run.setdefault(run, {})[column] = metric
        grouped[run] = is_group
    if not by_run:
        raise LogReadError(path, "the W&B export holds only __MIN/__MAX columns; export the chart with its values")
    runs = []
    for run, metric_of in by_run.items():
        table = raw[[x_column, *metric_of]].rename(columns=metric_of)
        result = table_to_run(
            path,
            run,
            "wandb-csv",
            table,
            x_column,
            strict=strict,
            first_line=2,
            metadata={"x_axis": x_column, "group": grouped[run]},
        )
        note_malformed(result, path, text)
        runs.append(result)
    return runs

"""``entropy-dynamics analyze --table`` (automatic for ``wandb://ENTITY/PROJECT``): one row per run of a project."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from entropy_dynamics.analysis import PhaseOptions
from entropy_dynamics.analysis.project import (
    STATISTICS,
    cached_statistics,
    finite_cells,
    project_table,
    setting_effects,
    sort_table,
)
from entropy_dynamics.cli.common import emit_json, fail, out, plain
from entropy_dynamics.logs import Run, read_runs
from entropy_dynamics.logs.wandb_api import SCHEME, parse_target
from entropy_dynamics.logs.wandb_project import fetch_project
from entropy_dynamics.report.project_page import project_html

TABLE_FORMATS = ("table", "json", "csv", "html")


def is_project_target(path: str) -> bool:
    """``wandb://ENTITY/PROJECT`` (a whole project, no run id)."""
    if not path.startswith(SCHEME):
        return False
    try:
        return parse_target(path)[2] is None
    except Exception:
        return False


def load_project_runs(paths: list[str], *, reader: str | None, strict: bool, step_column: str | None,
                      jobs: int, cache: Path | None, filters: str | None) -> list[Run]:
    """The runs of every path: W&B projects pulled in parallel through the cache, anything else read locally."""
    try:
        parsed_filters = json.loads(filters) if filters else None
    except ValueError as exc:
        fail(f"--filters: invalid JSON ({exc})")
    if jobs < 1:
        fail(f"--jobs must be >= 1, got {jobs}")
    runs: list[Run] = []
    for path in paths:
        if path.startswith(SCHEME):
            runs.extend(fetch_project(path, parsed_filters, jobs=jobs, cache=cache, strict=strict))
        else:
            runs.extend(read_runs(path, format=reader, strict=strict, step_column=step_column))
    return runs


def emit_project_table(runs: list[Run], *, metric: str | None, options: PhaseOptions, format: str,
                       out_file: Path | None, sort: str | None, descending: bool, config_columns: str,
                       cache: Path | None = None) -> None:
    """Compute each run's phase statistics (W&B runs' kept under ``cache/statistics``) and write the table."""
    if format not in TABLE_FORMATS:
        fail(f"--format must be one of {', '.join(TABLE_FORMATS)} with a project table, not {format!r}")
    columns = config_columns if config_columns in ("varying", "all") else [c for c in config_columns.split(",") if c]
    try:  # a bad --sort fails before the statistics are computed
        sort_table(project_table(runs, columns, [dict.fromkeys(STATISTICS)] * len(runs)), sort)
    except KeyError as exc:
        fail(f"--sort: {exc.args[0]}")
    stats = cached_statistics(runs, metric, options, None if cache is None else Path(cache) / "statistics")
    table = project_table(runs, columns, stats)
    table = sort_table(table, sort, descending)
    effects = setting_effects(table)
    if format == "json":
        emit_json({"definitions": STATISTICS, "runs": finite_cells(table), "settings": finite_cells(effects)},
                  out_file)
    elif format == "csv":
        _write(table.to_csv(index=False), out_file)
    elif format == "html":
        title = f"{len(runs)} runs: phase statistics"
        _write(project_html(table, effects, title, STATISTICS), out_file)
    else:
        _print(table, out_file)


def _write(text: str, out_file: Path | None) -> None:
    if out_file is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(text, encoding="utf-8")


def _print(table, out_file: Path | None) -> None:
    shown = Table(title=f"{len(table)} runs", title_justify="left")
    for column in table.columns:
        shown.add_column(plain(column.removeprefix("config.")),
                         justify="left" if column in ("run", "source") else "right")
    for record in finite_cells(table):
        shown.add_row(*(plain("—" if v is None else f"{v:.4g}" if isinstance(v, float) else v)
                        for v in record.values()))
    if out_file is None:
        out.print(shown)
        return
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with open(out_file, "w", encoding="utf-8") as fh:
        Console(file=fh, width=400).print(shown)

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
from entropy_dynamics.cli.tables import Column, fitted_table
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


#: The statistics a too-narrow terminal shows first, as many as fit.
SHOWN_FIRST = ("eruptions", "final_success", "max_amplitude", "mean_entropy", "collapsed", "eruption_share",
               "last_step")
#: Most runs shown side by side (one column each) when the rows are too wide for the terminal.
MAX_SIDE_BY_SIDE = 6


def _print(table, out_file: Path | None) -> None:
    """The table on the terminal, fitted to its width: one row per run when the columns fit (words whole), else
    the runs side by side, one line per column (up to :data:`MAX_SIDE_BY_SIDE` runs), else the run and its phase
    statistics with a note naming the columns left out. ``--out``: every column, 400 characters wide."""
    headers = [column.removeprefix("config.") for column in table.columns]
    rows = [["—" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v) for v in record.values()]
            for record in finite_cells(table)]
    title = f"{len(table)} runs"
    if out_file is not None:
        shown = Table(title=title, title_justify="left")
        for column, header in zip(table.columns, headers, strict=True):
            shown.add_column(plain(header), justify="left" if column in ("run", "source") else "right")
        for row in rows:
            shown.add_row(*(plain(cell) for cell in row))
        out_file.parent.mkdir(parents=True, exist_ok=True)
        with open(out_file, "w", encoding="utf-8") as fh:
            Console(file=fh, width=400).print(shown)
        return
    width = out.width
    out.print(title, markup=False, highlight=False)
    if _fits(headers, rows, width):
        columns = [Column(h, justify="left" if c in ("run", "source") else "right", wrap=True)
                   for c, h in zip(table.columns, headers, strict=True)]
        out.print(fitted_table(columns, rows, width))
        return
    if len(rows) <= MAX_SIDE_BY_SIDE:
        fields = [[header, *(row[i] for row in rows)] for i, header in enumerate(headers) if header != "run"]
        names = [row[headers.index("run")] for row in rows] if "run" in headers else [str(i) for i in range(len(rows))]
        out.print(fitted_table([Column("", wrap=True), *(Column(n, wrap=True) for n in names)], fields, width))
        return
    # "final success", not "final_success": headings wrap between words, so the run names keep their room
    terminal = [h.replace("_", " ") if c in STATISTICS else h for c, h in zip(table.columns, headers, strict=True)]
    keep = [table.columns.get_loc("run")] if "run" in table.columns else []
    for name in SHOWN_FIRST:  # the statistics that fit, most telling first
        if name in table.columns:
            trial = [*keep, table.columns.get_loc(name)]
            if _fits([terminal[i] for i in trial], [[row[i] for i in trial] for row in rows], width):
                keep = trial
    left_out = [headers[i] for i in range(len(headers)) if i not in keep]
    columns = [Column(terminal[i], justify="left" if table.columns[i] == "run" else "right", wrap=True) for i in keep]
    out.print(fitted_table(columns, [[row[i] for i in keep] for row in rows], width,
                           caption=f"{len(left_out)} more columns ({', '.join(left_out)}) do not fit {width} "
                                   "characters: --format csv / html / json, --out FILE, or --config-columns a,b"))


def _fits(headers: list[str], rows: list[list[str]], width: int) -> bool:
    """Whether every column fits with its longest word (cells and headings wrap between words)."""
    longest = [max(len(w) for cell in [h, *(row[i] for row in rows)] for w in (cell.split() or [""]))
               for i, h in enumerate(headers)]
    return sum(longest) + 3 * len(headers) + 1 <= width

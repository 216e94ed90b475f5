"""``entropy-dynamics inspect``: what a log holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from entropy_dynamics.cli.common import StepColumnOpt, clean, emit_json, fail, out, plain, warn_reads
from entropy_dynamics.cli.tables import Column, fitted_table
from entropy_dynamics.logs import available_formats, canonical_name, read_many
from entropy_dynamics.logs.model import Run


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect)


def run_summary(run: Run) -> dict:
    """The JSON entry of one run (the contract's keys first, then the extras)."""
    return {
        "run": run.name,
        "source": run.source,
        "reader": run.reader,
        "first_step": run.first_step,
        "last_step": run.last_step,
        "metrics": run.points(),
        "source_names": {c: s for c, s in run.source_names.items() if c != s},
        "unmapped": run.unmapped,
        "competing": run.competing,
        "skipped": {
            "bad_lines": run.stats.bad_lines,
            "non_numeric": run.stats.non_numeric,
            "non_finite": run.stats.non_finite,
            "duplicate_steps": run.stats.duplicate_steps,
            "backwards_steps": run.stats.backwards_steps,
        },
    }


#: Metrics shown per run in the table (a log can hold tens of thousands; the JSON output lists all).
MAX_TABLE_ROWS = 500


def _title(entry: dict) -> Text:
    """Run name, reader and step range (names are data: never markup, control characters escaped)."""
    return Text.assemble(plain(entry["run"], style="bold"), f"  [{entry['reader']}]  ",
                         f"steps {entry['first_step']}..{entry['last_step']}")


def _table(entry: dict, width: int) -> Table:
    metrics = list(entry["metrics"].items())
    rows = []
    for name, n in metrics[:MAX_TABLE_ROWS]:
        source = entry["source_names"].get(name, "")
        if entry["competing"].get(name):
            losers = ", ".join(f"{o} ({entry['metrics'].get(o, 0)})" for o in entry["competing"][name])
            source += f"; also in the log: {losers}"
        rows.append([name + (" (unmapped)" if canonical_name(name) is None else ""), str(n), source])
    more = len(metrics) - MAX_TABLE_ROWS
    return fitted_table([Column("metric", wrap=True), Column("points", "right"), Column("name in the log", wrap=True)],
                        rows, width, caption=f"{more} more metrics not shown (--format json lists all)"
                        if more > 0 else None)


def inspect(
    paths: Annotated[list[str], typer.Argument(help="Log files or folders, or wandb://ENTITY/PROJECT\\[/RUN_ID].")],
    format: Annotated[str, typer.Option("--format", help="Output: table or json.")] = "table",
    reader: Annotated[
        str | None, typer.Option("--reader", help=f"Force a reader: {', '.join(available_formats())}.")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on the first bad line.")] = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the output to a file.")] = None,
    step_column: StepColumnOpt = None,
) -> None:
    """Per run: name, source, reader, step range, points per metric, metrics that could not be mapped."""
    if format not in ("table", "json"):
        fail(f"--format must be table or json, not {format!r}")
    runs = read_many(paths, format=reader, strict=strict, step_column=step_column)
    payload = {"runs": [run_summary(run) for run in runs]}
    warn_reads(runs)
    if format == "json":
        emit_json(payload, out_file)
        return
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        with open(out_file, "w", encoding="utf-8") as fh:
            _print_tables(Console(file=fh, width=160), payload)
        return
    _print_tables(out, payload)


def _print_tables(console: Console, payload: dict) -> None:
    for entry in payload["runs"]:
        console.print(_title(entry), soft_wrap=True)
        console.print(_table(entry, console.width))
        skipped = {k: v for k, v in entry["skipped"].items() if v}
        console.print(f"source: {clean(entry['source'], None)}", markup=False, highlight=False, soft_wrap=True)
        if skipped:
            console.print("skipped: " + ", ".join(f"{k}={v}" for k, v in skipped.items()), markup=False)

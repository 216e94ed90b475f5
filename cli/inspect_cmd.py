"""``entropy-dynamics inspect``: what a log holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.common import emit_json, out, warn
from entropy_dynamics.logs import canonical_name, read_many


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect)


def inspect(
    paths: Annotated[list[str], typer.Argument(help="Log files or folders, or wandb://ENTITY/PROJECT/RUN_ID.")],
    format: Annotated[str, typer.Option("--format", help="Output: table or json.")] = "table",
    reader: Annotated[str | None, typer.Option("--reader", help="Force a reader (see --help of formats).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on the first bad line.")] = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the output to a file.")] = None,
) -> None:
    """Per run: name, source, reader, step range, points per metric, metrics that could not be mapped."""
    runs = read_many(paths, format=reader, strict=strict)
    payload = {"runs": []}
    for run in runs:
        for w in run.stats.warnings:
            warn(w)
        payload["runs"].append({
            "run": run.name,
            "source": run.source,
            "reader": run.reader,
            "first_step": run.first_step,
            "last_step": run.last_step,
            "metrics": run.points(),
            "source_names": {c: s for c, s in run.source_names.items() if c != s},
            "unmapped": run.unmapped,
            "skipped": {
                "bad_lines": run.stats.bad_lines,
                "non_numeric": run.stats.non_numeric,
                "non_finite": run.stats.non_finite,
                "duplicate_steps": run.stats.duplicate_steps,
                "backwards_steps": run.stats.backwards_steps,
            },
        })
    if format == "json":
        emit_json(payload, out_file)
        return
    for entry in payload["runs"]:
        table = Table(title=f"{entry['run']}  [{entry['reader']}]  steps {entry['first_step']}..{entry['last_step']}",
                      title_justify="left")
        table.add_column("metric")
        table.add_column("points", justify="right")
        table.add_column("source name")
        for name, n in entry["metrics"].items():
            mapped = canonical_name(name) is not None
            table.add_row(name if mapped else f"{name} (unmapped)", str(n), entry["source_names"].get(name, ""))
        out.print(table)
        out.print(f"source: {entry['source']}", markup=False, highlight=False)

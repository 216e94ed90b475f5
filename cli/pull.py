"""``entropy-dynamics pull``: complete W&B history of one run or a project, saved as our JSONL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from entropy_dynamics.cli.common import clean, emit_json, fail, out, warn_reads
from entropy_dynamics.logs.wandb_api import pull as pull_runs


def register(app: typer.Typer) -> None:
    app.command("pull")(pull)


def pull(
    target: Annotated[str, typer.Argument(help="ENTITY/PROJECT\\[/RUN_ID] (or wandb://...).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder; each run goes to OUT/<run_id>/metrics.jsonl.")],
    filters: Annotated[
        str | None, typer.Option("--filters", help='W&B filters as JSON, e.g. \'{"config.seal.coef": 0}\'.')
    ] = None,
    page_size: Annotated[int, typer.Option("--page-size", help="History rows per API page.", min=1)] = 1000,
    format: Annotated[str, typer.Option("--format", help="Output: table or json.")] = "table",
) -> None:
    """Fetch every history row (scan_history, paged; never the sampled history) with a progress bar."""
    if format not in ("table", "json"):
        fail(f"--format must be table or json, not {format!r}")
    parsed = None
    if filters is not None:
        try:
            parsed = json.loads(filters)
        except json.JSONDecodeError as exc:
            fail(f"--filters: invalid JSON ({exc.msg} at column {exc.colno})")
        if not isinstance(parsed, dict):
            fail("--filters: expected a JSON object")
    written = pull_runs(target, out_dir, parsed, page_size=page_size)
    summary = [
        {"run": run.name, "run_id": run.metadata.get("run_id"), "path": str(path), "steps": len(run.metrics),
         "first_step": run.first_step, "last_step": run.last_step}
        for run, path in written
    ]
    warn_reads(run for run, _ in written)
    if format == "json":
        emit_json({"runs": summary})
        return
    for entry in summary:
        out.print(f"{clean(entry['run'])} ({clean(entry['run_id'])}): {entry['steps']} steps "
                  f"{entry['first_step']}..{entry['last_step']} -> {entry['path']}", markup=False, highlight=False)

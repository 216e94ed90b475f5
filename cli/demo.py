"""``entropy-dynamics demo``: SFT warm start, GRPO+SEAL with live phase detection and every instrument, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import emit_json, err, fail, out


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the SFT model, the run's log and the report.")]
    = Path("runs/demo"),
    minutes: Annotated[float | None, typer.Option("--minutes", help="Wall-time budget of the GRPO part.")] = 5.0,
    steps: Annotated[int | None, typer.Option("--steps", help="Stop after this many GRPO steps.")] = None,
    overrides: Annotated[list[str] | None, typer.Option("--set", metavar="KEY=VALUE",
                                                                     help="Override a demo setting.")] = None,
    format: Annotated[str, typer.Option("--format", help="What to print at the end: text or json.")] = "text",
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars or phase lines on stderr.")] = False,
) -> None:
    """The README's main job on this CPU: generate games, SFT-warm-start the tiny preset, train GRPO+SEAL
    with live phase detection for a few minutes, then write the log and the HTML report."""
    if format not in ("text", "json"):
        fail(f"--format must be text or json, not {format!r}")
    from entropy_dynamics.train.progress import print_above_progress
    from entropy_dynamics.workflows.demo import run_demo

    result = run_demo(out_dir, minutes=minutes, steps=steps, overrides=overrides or [], progress=not quiet,
                      echo=None if quiet else print_above_progress)
    if format == "json":
        emit_json(result.to_dict())
        return
    phases = ", ".join(f"{p['phase']} from step {p['start_step']}" for p in result.phases) or "none confirmed"
    err.print(f"{result.steps} GRPO steps in {result.minutes:.1f} min; phases: {phases}", markup=False,
              highlight=False)
    out.print(f"log:    {result.log}", markup=False, highlight=False)
    out.print(f"report: {result.report}", markup=False, highlight=False)
    out.print(f"model:  {Path(result.log).parent / 'model'}", markup=False, highlight=False)

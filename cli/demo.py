"""``entropy-dynamics demo``: games, SFT warm start, GRPO+SEAL with live phase detection, report, plain summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entropy_dynamics.cli.common import emit_json, err, fail, out

#: Default GRPO steps (entropy_dynamics.workflows.demo.DEMO_STEPS; kept here so --help imports no torch).
DEMO_STEPS = 12


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the SFT model, the run's log and the report.")]
    = Path("runs/demo"),
    steps: Annotated[int, typer.Option("--steps", min=1, help="GRPO steps.")] = DEMO_STEPS,
    minutes: Annotated[float | None, typer.Option("--minutes", help="Also stop the GRPO part after this many "
                                                  "minutes of wall time.")] = None,
    overrides: Annotated[list[str] | None, typer.Option("--set", metavar="KEY=VALUE",
                                                        help="Override a demo setting.")] = None,
    format: Annotated[str, typer.Option("--format", help="What to print at the end: text or json.")] = "text",
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars or phase lines on stderr.")] = False,
) -> None:
    """The README's main job on a CPU: generate games, SFT-warm-start the tiny preset, train GRPO+SEAL with live
    phase detection for a fixed number of steps, write the log and the HTML report, and say what happened."""
    if format not in ("text", "json"):
        fail(f"--format must be text or json, not {format!r}")
    from entropy_dynamics.train.run.progress import print_above_progress
    from entropy_dynamics.workflows.demo import run_demo

    result = run_demo(out_dir, steps=steps, minutes=minutes, overrides=overrides or [], progress=not quiet,
                      echo=None if quiet else print_above_progress)
    if format == "json":
        emit_json(result.to_dict())
        return
    took = sum(result.stage_seconds.values()) / 60.0
    err.print(f"{result.steps} GRPO steps; {took:.1f} min in all", markup=False, highlight=False)
    out.print("What happened:", markup=False, highlight=False)
    for line in result.summary:
        out.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"report: {result.report}", markup=False, highlight=False)
    out.print(f"log:    {result.log}", markup=False, highlight=False)
    out.print(f"model:  {Path(result.log).parent / 'model'}", markup=False, highlight=False)

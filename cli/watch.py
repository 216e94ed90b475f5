"""``entropy-dynamics watch``: live phase detection on a log, or a replay of a finished one."""

from __future__ import annotations

import json
import signal
import sys
from typing import Annotated

import typer

from entropy_dynamics.analysis.options import DetectorOptions, option_help
from entropy_dynamics.analysis.stream import follow_jsonl, replay
from entropy_dynamics.analysis.types import PhaseEvent
from entropy_dynamics.cli.common import StepColumnOpt, clean, fail, out, warn, warn_reads
from entropy_dynamics.logs import read_runs


def register(app: typer.Typer) -> None:
    app.command("watch")(watch)


def watch(
    path: Annotated[str, typer.Argument(help="A log file (our JSONL for --follow; any format for --replay).")],
    follow: Annotated[bool, typer.Option("--follow", help="Keep reading new lines as the log grows.")] = False,
    replay_log: Annotated[bool, typer.Option("--replay", help="Stream the finished log through the detector.")]
    = False,
    format: Annotated[str, typer.Option("--format", help="Output: text or json (one object per line).")] = "text",
    metric: Annotated[str | None, typer.Option("--metric", help="Metric to watch (default policy/entropy).")] = None,
    reader: Annotated[str | None, typer.Option("--reader", help="Force a reader (replay only).")] = None,
    poll: Annotated[float, typer.Option("--poll", min=0.05, help="Seconds between reads with --follow.")] = 1.0,
    timeout: Annotated[float | None, typer.Option("--timeout", min=0.0, help="Stop following after N seconds.")]
    = None,
    total_steps: Annotated[int | None, typer.Option("--total-steps", min=1, hidden=True, help="Ignored since "
                                                    "2026-12-06: the phase definitions do not depend on the run's "
                                                    "length (accepted so old commands keep working).")] = None,
    refit_every: Annotated[int | None, typer.Option("--refit-every", help=option_help("refit_every",
                                                    DetectorOptions))] = None,
    lookback: Annotated[int | None, typer.Option("--lookback", help=option_help("lookback", DetectorOptions))]
    = None,
    confirm: Annotated[int | None, typer.Option("--confirm", help=option_help("confirm", DetectorOptions))] = None,
    step_column: StepColumnOpt = None,
) -> None:
    """Print phase transitions as the online detector confirms them (without --follow the log as it
    is now is replayed, like --replay)."""
    if format not in ("text", "json"):
        fail(f"--format must be text or json, not {format!r}")
    if follow and replay_log:
        fail("choose one of --follow and --replay")
    options: dict = {} if total_steps is None else {"total_steps": total_steps}
    options["detector"] = DetectorOptions().updated(refit_every=refit_every, lookback=lookback, confirm=confirm)
    if follow:
        previous = signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM ends following as Ctrl-C does: exit 0
        try:
            for event in follow_jsonl(path, metric, poll=poll, timeout=timeout, on_warning=warn, **options):
                _emit(event, format)
        except KeyboardInterrupt:
            return
        finally:
            signal.signal(signal.SIGTERM, previous)
        return
    runs = read_runs(path, format=reader, step_column=step_column)
    warn_reads(runs)
    for run in runs:
        events, warnings = replay(run, metric, **options)
        for message in warnings:
            warn(f"{clean(run.name)}: {message}")
        for event in events:
            _emit(event, format)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _emit(event: PhaseEvent, format: str) -> None:
    if format == "json":
        sys.stdout.write(json.dumps(event.to_dict()) + "\n")
        sys.stdout.flush()
        return
    out.print(f"{clean(event.run)}: {event.phase} from step {event.start_step} "
              f"(confirmed at step {event.confirmed_at_step})",
              markup=False, highlight=False)

"""``entropy-dynamics report`` and ``compare``: self-contained HTML pages of runs."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from entropy_dynamics.analysis import analyze_run
from entropy_dynamics.analysis.run_analysis import DEFAULT_METRIC
from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.cli.common import StepColumnOpt, clean, emit_json, err, fail, out, plain, warn, warn_reads
from entropy_dynamics.errors import EntropyDynamicsError, MetricNotFoundError
from entropy_dynamics.logs.model import Run
from entropy_dynamics.logs.readers import read_labelled
from entropy_dynamics.report import render_comparison, render_report
from entropy_dynamics.report.analyses import analyses_for
from entropy_dynamics.report.compare_figure import LAYOUTS
from entropy_dynamics.report.labels import parse_label, run_labels
from entropy_dynamics.report.smoothing import COMPARE_SMOOTHING, DEFAULT_SMOOTHING, check_smoothing
from entropy_dynamics.report.tables import SUMMARY_COLUMNS, RunSummary, filled_columns, summarize

OptionalPathsArg = Annotated[list[str] | None, typer.Argument(
    help="Log files or folders, or wandb://ENTITY/PROJECT/RUN_ID (or give them with --label).", show_default=False)]
MetricOpt = Annotated[str | None, typer.Option("--metric", help="Metric to segment (default policy/entropy).")]
ReaderOpt = Annotated[str | None, typer.Option("--reader", help="Force a reader (see `inspect --help`).")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Fail on the first bad line of a log.")]
TitleOpt = Annotated[str | None, typer.Option("--title", help="Page title.")]
PointsOpt = Annotated[int, typer.Option("--max-points", min=100, help="Points per plotted curve (min/max envelope).")]
FormatOpt = Annotated[str, typer.Option("--format", help="What to print: text or json.")]
SmoothingOpt = Annotated[float | None, typer.Option(
    "--smoothing", help=f"EMA weight of the curves when the page opens, 0 (raw) to 0.99, as W&B's slider "
    f"(default {DEFAULT_SMOOTHING} for report, {COMPARE_SMOOTHING} for compare); the page has a slider to change it.",
    show_default=False)]
LabelOpt = Annotated[list[str] | None, typer.Option(
    "--label", help="NAME=PATH: read PATH and call its run NAME (repeat for each run; PATH may also be given "
    "as an argument). Default name: the run's name in its log.", show_default=False)]
LayoutOpt = Annotated[str, typer.Option(
    "--layout", help="multiples: one row of panels per run, shared axes; overlay: all runs in each panel, "
    "smoothed.")]


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("compare")(compare)


def labelled_paths(paths: list[str], labels: list[str]) -> list[tuple[str, str | None]]:
    """(path, label or None) for each path to read: the arguments in order, then the ``--label NAME=PATH``
    paths not among them; a bad ``--label`` is a one-line error."""
    named: dict[str, str] = {}
    for text in labels:
        name, path = parse_label(text)
        path = _same_form(path)
        if path in named:
            raise EntropyDynamicsError(f"--label: {path} is labelled twice ({named[path]!r} and {name!r})")
        named[path] = name
    ordered = list(dict.fromkeys([*map(_same_form, paths), *named]))
    return [(path, named.get(path)) for path in ordered]


def _same_form(path: str) -> str:
    """A local path normalised (``logs/a/`` and ``logs/a`` name one run); URLs as given."""
    return path if "://" in path else os.path.normpath(path)


def _run(render: Callable[..., Path], what: str, paths: list[str], out_file: Path, metric: str | None,
         reader: str | None, strict: bool, title: str | None, max_points: int, format: str,
         step_column: str | None, smoothing: float | None, labels: list[str], **options: Any) -> None:
    if format not in ("text", "json"):
        fail(f"--format must be text or json, not {format!r}")
    if smoothing is not None:
        options["smoothing"] = check_smoothing(smoothing)
    wanted = labelled_paths(paths, labels)
    if not wanted:
        fail("give at least one log path (or --label NAME=PATH)")
    with err.status(f"reading {len(wanted)} path(s)"):
        labelled = read_labelled(wanted, format=reader, strict=strict, step_column=step_column)
    runs, names = [run for run, _ in labelled], [label for _, label in labelled]
    warn_reads(runs)
    with err.status(f"analysing {len(runs)} run(s) and writing the {what}"):
        found = analyses_for(runs, [_analysis(run, metric) for run in runs], metric, {})
        path = render(runs, out_file, metric=metric, analyses=found, title=title, max_points=max_points,
                      labels=names, **options)
    size = path.stat().st_size
    summaries = [summarize(label, run, analysis)
                 for label, run, analysis in zip(run_labels(runs, names), runs, found, strict=True)]
    if format == "json":
        emit_json({"out": str(path), "bytes": size, "runs": [r.name for r in runs],
                   "labels": [s.label for s in summaries],
                   "summary": [{**s.cells(), "success_metric": s.success_metric, "degen_metric": s.degen_metric}
                               for s in summaries]})
        return
    if len(runs) > 1:
        out.print(summary_table(summaries))
    out.print(f"wrote {clean(path, None)} ({size / 1e6:.1f} MB, {len(runs)} run{'s' if len(runs) != 1 else ''})",
              markup=False, highlight=False)


def _analysis(run: Run, metric: str | None) -> PhaseAnalysis:
    """The run's phase analysis; a run with no entropy at all (and no ``--metric`` asked for) gets an empty
    one over an empty entropy column, so the page still draws every other metric, with a note."""
    try:
        return analyze_run(run, metric, cross_metrics=True)
    except MetricNotFoundError:
        if metric is not None:
            raise
    note = (f"no entropy metric ({DEFAULT_METRIC} or a name ending in 'entropy'); the other metrics are drawn "
            "without phases (--metric picks one to segment)")
    warn(f"{clean(run.name)}: {note}")
    run.metrics[DEFAULT_METRIC] = np.nan
    return PhaseAnalysis(run=run.name, source=run.source, metric=DEFAULT_METRIC, source_metric=DEFAULT_METRIC,
                         n_points=0, first_step=None, last_step=None, warnings=[note])


def summary_table(summaries: list[RunSummary]) -> Table:
    """The comparison's summary (one row per run) as a terminal table; the metric names go in the caption."""
    table = Table(title="Summary per run", title_justify="left", caption_justify="left")
    rows = [summary.cells() for summary in summaries]
    columns = filled_columns(rows, SUMMARY_COLUMNS)  # no success metric in any run: no success columns
    for _, heading in columns:
        table.add_column(heading, overflow="fold")
    for cells in rows:
        table.add_row(*(plain(cells[key]) for key, _ in columns))
    metrics = sorted({m for s in summaries for m in (s.success_metric, s.degen_metric) if m})
    table.caption = plain("final = mean of the last logged points" + (
        f"; success and degeneration: {', '.join(metrics)}" if metrics else ""), None)
    return table


def report(
    paths: OptionalPathsArg = None,
    out_file: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path("report.html"),
    metric: MetricOpt = None,
    reader: ReaderOpt = None,
    strict: StrictOpt = False,
    title: TitleOpt = None,
    max_points: PointsOpt = 2000,
    format: FormatOpt = "text",
    step_column: StepColumnOpt = None,
    smoothing: SmoothingOpt = None,
    label: LabelOpt = None,
) -> None:
    """One self-contained HTML report (works offline): phases, cycles, metric panels, samples."""
    _run(render_report, "report", paths or [], out_file, metric, reader, strict, title, max_points, format,
         step_column, smoothing, label or [])


def compare(
    paths: OptionalPathsArg = None,
    out_file: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path("compare.html"),
    metric: MetricOpt = None,
    reader: ReaderOpt = None,
    strict: StrictOpt = False,
    title: TitleOpt = None,
    max_points: PointsOpt = 2000,
    format: FormatOpt = "text",
    step_column: StepColumnOpt = None,
    smoothing: SmoothingOpt = None,
    label: LabelOpt = None,
    layout: LayoutOpt = "multiples",
) -> None:
    """Runs side by side (e.g. GRPO vs GRPO+SEAL, seeds): a summary table, then small multiples (a row per run,
    shared axes, phase bands) or smoothed overlays, and each run's cycles."""
    if layout not in LAYOUTS:
        fail(f"--layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    _run(render_comparison, "comparison", paths or [], out_file, metric, reader, strict, title, max_points, format,
         step_column, smoothing, label or [], layout=layout)

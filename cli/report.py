"""``entropy-dynamics report`` and ``compare``: self-contained HTML pages of runs."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from entropy_dynamics.analysis import analyze_run
from entropy_dynamics.analysis.run_analysis import DEFAULT_METRIC
from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.cli.common import StepColumnOpt, clean, emit_json, err, fail, out, plain, warn, warn_reads
from entropy_dynamics.errors import MetricNotFoundError
from entropy_dynamics.logs import read_many
from entropy_dynamics.logs.model import Run
from entropy_dynamics.report import render_comparison, render_report
from entropy_dynamics.report.analyses import analyses_for
from entropy_dynamics.report.tables import RunSummary, summarize, unique_labels

PathsArg = Annotated[list[str], typer.Argument(help="Log files or folders, or wandb://ENTITY/PROJECT/RUN_ID.")]
MetricOpt = Annotated[str | None, typer.Option("--metric", help="Metric to segment (default policy/entropy).")]
ReaderOpt = Annotated[str | None, typer.Option("--reader", help="Force a reader (see `inspect --help`).")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Fail on the first bad line of a log.")]
TitleOpt = Annotated[str | None, typer.Option("--title", help="Page title.")]
PointsOpt = Annotated[int, typer.Option("--max-points", min=100, help="Points per plotted curve (min/max envelope).")]
FormatOpt = Annotated[str, typer.Option("--format", help="What to print: text or json.")]


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("compare")(compare)


def _run(render: Callable[..., Path], what: str, paths: list[str], out_file: Path, metric: str | None,
         reader: str | None, strict: bool, title: str | None, max_points: int, format: str,
         step_column: str | None) -> None:
    if format not in ("text", "json"):
        fail(f"--format must be text or json, not {format!r}")
    with err.status(f"reading {len(paths)} path(s)"):
        runs = read_many(paths, format=reader, strict=strict, step_column=step_column)
    warn_reads(runs)
    with err.status(f"analysing {len(runs)} run(s) and writing the {what}"), warnings.catch_warnings():
        # scipy's note on a degenerate entropy-reward fit (e.g. constant reward); the page says R² = —.
        warnings.filterwarnings("ignore", message="Covariance of the parameters could not be estimated")
        found = analyses_for(runs, [_analysis(run, metric) for run in runs], metric, {})
        path = render(runs, out_file, metric=metric, analyses=found, title=title, max_points=max_points)
    size = path.stat().st_size
    summaries = [summarize(label, run, analysis)
                 for label, run, analysis in zip(unique_labels(runs), runs, found, strict=True)]
    if format == "json":
        emit_json({"out": str(path), "bytes": size, "runs": [r.name for r in runs],
                   "summary": [s.cells() for s in summaries]})
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


#: Columns of the printed summary: (cell key, heading), as in the page's summary table.
SUMMARY_COLUMNS = [("run", "run"), ("steps", "steps"), ("cycles", "eruption cycles"), ("largest", "largest eruption"),
                   ("share", "steps in eruption"), ("mean", "mean entropy"), ("mean_success", "mean success"),
                   ("success", "final success"), ("degen", "degeneration at the end")]


def summary_table(summaries: list[RunSummary]) -> Table:
    """The comparison's summary (one row per run) as a terminal table; the metric names go in the caption."""
    table = Table(title="Summary per run", title_justify="left", caption_justify="left")
    for _, heading in SUMMARY_COLUMNS:
        table.add_column(heading, overflow="fold")
    for summary in summaries:
        cells = summary.cells(metric_names=False)
        table.add_row(*(plain(cells[key]) for key, _ in SUMMARY_COLUMNS))
    metrics = sorted({m for s in summaries for m in (s.success_metric, s.degen_metric) if m})
    table.caption = plain("final = mean of the last logged points" + (
        f"; success and degeneration: {', '.join(metrics)}" if metrics else ""), None)
    return table


def report(
    paths: PathsArg,
    out_file: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path("report.html"),
    metric: MetricOpt = None,
    reader: ReaderOpt = None,
    strict: StrictOpt = False,
    title: TitleOpt = None,
    max_points: PointsOpt = 2000,
    format: FormatOpt = "text",
    step_column: StepColumnOpt = None,
) -> None:
    """One self-contained HTML report (works offline): phases, cycles, metric panels, samples."""
    _run(render_report, "report", paths, out_file, metric, reader, strict, title, max_points, format, step_column)


def compare(
    paths: PathsArg,
    out_file: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path("compare.html"),
    metric: MetricOpt = None,
    reader: ReaderOpt = None,
    strict: StrictOpt = False,
    title: TitleOpt = None,
    max_points: PointsOpt = 2000,
    format: FormatOpt = "text",
    step_column: StepColumnOpt = None,
) -> None:
    """Runs side by side (e.g. GRPO vs GRPO+SEAL, seeds): overlaid curves, phase bands, a summary table."""
    _run(render_comparison, "comparison", paths, out_file, metric, reader, strict, title, max_points, format,
         step_column)

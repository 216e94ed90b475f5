"""``entropy-dynamics analyze``: phases, change points and cycles of each run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import track
from rich.table import Table

from entropy_dynamics.analysis import PhaseOptions, analyze_run
from entropy_dynamics.analysis.options import option_help
from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.cli.common import StepColumnOpt, clean, emit_json, err, fail, out, plain, warn, warn_reads
from entropy_dynamics.cli.project_table import emit_project_table, is_project_target, load_project_runs
from entropy_dynamics.logs import read_many
from entropy_dynamics.logs.wandb_project import DEFAULT_CACHE


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)


def analyze(
    paths: Annotated[list[str], typer.Argument(help="Log files or folders, or wandb://ENTITY/PROJECT/RUN_ID.")],
    metric: Annotated[str | None, typer.Option("--metric", help="Metric to segment (default policy/entropy).")] = None,
    format: Annotated[str, typer.Option("--format", help="Output: table or json (--table: also csv, html).")] = "table",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the output to a file.")] = None,
    reader: Annotated[str | None, typer.Option("--reader", help="Force a reader (see `inspect --help`).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on the first bad line of a log.")] = False,
    cross_metrics: Annotated[bool, typer.Option("--cross-metrics", help="Add per-phase statistics of the other "
                                                "metrics, lead/lag, persistence and the entropy-reward fit.")] = False,
    min_ratio: Annotated[float | None, typer.Option("--min-ratio", help=option_help("min_ratio"))] = None,
    min_rise: Annotated[float | None, typer.Option("--min-rise", help=option_help("min_rise"))] = None,
    max_rise_steps: Annotated[float | None, typer.Option("--max-rise-steps",
                                                         help=option_help("max_rise_steps"))] = None,
    min_change: Annotated[float | None, typer.Option("--min-change", help=option_help("min_change"))] = None,
    penalty: Annotated[float | None, typer.Option("--penalty", help=option_help("penalty_factor"))] = None,
    step_column: StepColumnOpt = None,
    table: Annotated[bool, typer.Option("--table", help="One row per run (config columns and phase statistics) "
                                        "instead of each run's phases; automatic for wandb://ENTITY/PROJECT. "
                                        "--format table, json, csv or html (sortable page).")] = False,
    sort: Annotated[str | None, typer.Option("--sort", help="--table: sort by this column (e.g. eruptions, "
                                             "lr).")] = None,
    desc: Annotated[bool, typer.Option("--desc", help="--table: sort descending.")] = False,
    config_columns: Annotated[str, typer.Option("--config-columns", help="--table: 'varying' (config keys that "
                                                "differ between runs), 'all', or keys a,b,c.")] = "varying",
    jobs: Annotated[int, typer.Option("--jobs", help="W&B projects: runs fetched at once.")] = 16,
    cache: Annotated[Path | None, typer.Option("--cache", help="W&B projects: cache folder of the runs and their "
                                               "statistics (default ~/.cache/entropy-dynamics/wandb).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="W&B projects: fetch and analyse every run "
                                           "again.")] = False,
    filters: Annotated[str | None, typer.Option("--filters", help="W&B projects: a JSON filter, e.g. "
                                                "'{\"config.lr\": 1e-5}'.")] = None,
) -> None:
    """Segment each run's entropy into descent / eruption / subsidence / rise / plateau and list its cycles.

    An eruption: the smoothed entropy rises --min-ratio times and --min-rise nats above the low of the
    --max-rise-steps steps before it. Every row says why it got its label.
    """
    options = PhaseOptions().updated(min_ratio=min_ratio, min_rise=min_rise, max_rise_steps=max_rise_steps,
                                     min_change=min_change, penalty_factor=penalty)
    if table or any(is_project_target(p) for p in paths):
        cache = None if no_cache else cache or DEFAULT_CACHE
        runs = load_project_runs(paths, reader=reader, strict=strict, step_column=step_column, jobs=jobs,
                                 cache=cache, filters=filters)
        warn_reads(runs)
        emit_project_table(runs, metric=metric, options=options, format=format, out_file=out_file, sort=sort,
                           descending=desc, config_columns=config_columns, cache=cache)
        return
    if format not in ("table", "json"):
        fail(f"--format must be table or json, not {format!r}")
    runs = read_many(paths, format=reader, strict=strict, step_column=step_column)
    warn_reads(runs)
    items = track(runs, description="analysing", console=err, transient=True) if len(runs) > 1 else runs
    analyses = [analyze_run(run, metric, cross_metrics=cross_metrics, options=options) for run in items]
    for analysis in analyses:
        for message in analysis.warnings:
            warn(f"{clean(analysis.run)}: {message}")
    if format == "json":
        emit_json({"runs": [a.to_dict() for a in analyses]}, out_file)
        return
    for analysis in analyses:
        _print_table(analysis)


def _print_table(a: PhaseAnalysis) -> None:
    title = plain(f"{clean(a.run)}  {a.source_metric} -> {a.metric}  {a.n_points} points, "
                  f"steps {a.first_step}..{a.last_step}" if a.n_points else f"{clean(a.run)}  (no points)", None)
    table = Table(title=title, title_justify="left")
    for column, justify in (("phase", "left"), ("steps", "left"), ("from", "right"), ("to", "right"),
                            ("why", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for s in a.segments:
        table.add_row(s.phase, f"{s.start_step}..{s.end_step}", f"{s.start_value:.4g}", f"{s.end_value:.4g}",
                      s.detail)
    out.print(table)
    if a.cycles:
        cycles = Table(title=f"{len(a.cycles)} cycle(s)", title_justify="left")
        for column in ("onset", "peak", "end", "base", "peak value", "ratio", "rise", "decay", "period"):
            cycles.add_column(column, justify="right")
        for c in a.cycles:
            cycles.add_row(*(str(v) if v is not None else "-" for v in (
                c.eruption_start_step, c.peak_step, c.subsidence_end_step)),
                f"{c.base_value:.4g}", f"{c.peak_value:.4g}", f"{c.amplitude_ratio:.2f}",
                *(str(v) if v is not None else "-" for v in (c.rise_steps, c.decay_steps, c.period_steps)))
        out.print(cycles)
    else:
        out.print("no eruption", markup=False)
    out.print(f"source: {clean(a.source, None)}", markup=False, highlight=False)

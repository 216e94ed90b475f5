"""``entropy-dynamics analyze``: phases, change points and cycles of each run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import track

from entropy_dynamics.analysis import PhaseOptions, analyze_run
from entropy_dynamics.analysis.options import option_help
from entropy_dynamics.analysis.types import PHASES, PhaseAnalysis
from entropy_dynamics.cli.common import StepColumnOpt, clean, emit_json, err, fail, out, plain, warn, warn_reads
from entropy_dynamics.cli.project_table import emit_project_table, is_project_target, load_project_runs
from entropy_dynamics.cli.tables import Column, fitted_table
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
        _print_table(analysis, cross_metrics)


def _print_table(a: PhaseAnalysis, cross_metrics: bool) -> None:
    title = (f"{clean(a.run)}  {a.source_metric} -> {a.metric}  {a.n_points} points, steps {a.first_step}.."
             f"{a.last_step}" if a.n_points else f"{clean(a.run)}  (no points)")
    out.print(plain(title, None, style="bold"), soft_wrap=True)
    phases = [Column("phase"), Column("steps"), Column("from", "right"), Column("to", "right"),
              Column("why", wrap=True)]
    out.print(fitted_table(phases, [[s.phase, f"{s.start_step}..{s.end_step}", f"{s.start_value:.4g}",
                                     f"{s.end_value:.4g}", s.detail] for s in a.segments], out.width))
    if a.cycles:
        out.print(f"{len(a.cycles)} cycle(s)", markup=False, highlight=False)
        headers = ("onset", "peak", "end", "base", "peak value", "ratio", "rise", "decay", "period")
        rows = [[*(_int(v) for v in (c.eruption_start_step, c.peak_step, c.subsidence_end_step)),
                 f"{c.base_value:.4g}", f"{c.peak_value:.4g}", f"{c.amplitude_ratio:.2f}",
                 *(_int(v) for v in (c.rise_steps, c.decay_steps, c.period_steps))] for c in a.cycles]
        out.print(fitted_table([Column(h, "right") for h in headers], rows, out.width))
    else:
        out.print("no eruption", markup=False)
    if cross_metrics:
        print_cross_metrics(a.extra.get("cross_metrics") or {})
    out.print(f"source: {clean(a.source, None)}", markup=False, highlight=False, soft_wrap=True)


def _int(value: int | None) -> str:
    return "-" if value is None else str(value)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


#: Rows of a cross-metric table in the terminal (``--format json`` lists every metric).
MAX_CROSS_ROWS = 60


def print_cross_metrics(stats: dict) -> None:
    """The ``--cross-metrics`` statistics as tables: the mean of each metric per phase, lead/lag at the
    eruption onsets, the persistence of degeneration across cycles, and the entropy-reward fit."""
    per_phase = stats.get("per_phase") or {}
    if per_phase:
        shown = [p for p in PHASES if any(p in means for means in per_phase.values())]
        rows = [[name, *(_num(means.get(p)) for p in shown)] for name, means in per_phase.items()]
        out.print("mean per phase", markup=False, highlight=False)
        out.print(fitted_table([Column("metric"), *(Column(p, "right") for p in shown)], rows[:MAX_CROSS_ROWS],
                               out.width, caption=_more(len(rows))))
    lead_lag = {m: v for m, v in (stats.get("lead_lag") or {}).items() if v.get("median_lag") is not None}
    if lead_lag:
        out.print("lead/lag at the eruption onsets (steps; negative: the metric moved first)", markup=False,
                  highlight=False)
        rows = [[name, _num(v["median_lag"]), " ".join(_int(x) for x in v["lags"])] for name, v in lead_lag.items()]
        out.print(fitted_table([Column("metric"), Column("median", "right"), Column("per cycle", wrap=True)],
                               rows[:MAX_CROSS_ROWS], out.width, caption=_more(len(rows))))
    persistence = stats.get("persistence") or {}
    if persistence:
        out.print("persistence: level at each subsidence end minus the level after the first descent", markup=False,
                  highlight=False)
        rows = [[name, _num(v.get("reference_level")), " ".join(f"{x:.2g}" if x is not None else "-"
                                                                 for x in v.get("persistence") or []),
                 _num(v.get("spearman_rho")), _num(v.get("p_value")), "yes" if v.get("accumulates") else "no"]
                for name, v in persistence.items()]
        out.print(fitted_table([Column("metric"), Column("reference", "right"), Column("per cycle", wrap=True),
                                Column("rho", "right"), Column("p", "right"), Column("accumulates")],
                               rows[:MAX_CROSS_ROWS], out.width, caption=_more(len(rows))))
    fit = stats.get("entropy_reward_fit")
    if fit:
        out.print(f"entropy-reward fit R = -a exp(H) + b: a={_num(fit.get('a'))} b={_num(fit.get('b'))} "
                  f"R²={_num(fit.get('r2'))} over {fit.get('n')} steps", markup=False, highlight=False)
    if not (per_phase or lead_lag or persistence or fit):
        out.print("cross-metrics: no other metric to relate to the phases", markup=False)


def _more(rows: int) -> str | None:
    return f"{rows - MAX_CROSS_ROWS} more (--format json lists all)" if rows > MAX_CROSS_ROWS else None

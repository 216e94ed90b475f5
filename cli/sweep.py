"""``entropy-dynamics sweep``: run a grid of training runs (arms x seeds), resumable; summarise it per arm."""

from __future__ import annotations

import glob
import os
import signal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from entropy_dynamics.cli.common import emit_json, err, fail, out, warn
from entropy_dynamics.cli.tables import Column, fitted_table

SUMMARY_JSON = "summary.json"
COMPARE_HTML = "compare.html"


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _plan(spec: Path | None, configs: list[str], grid: list[str], seeds: str | None, set_: list[str],
          output: Path | None, parallel: int | None):
    from entropy_dynamics.sweep import SweepPlan, grid_arms, load_plan, parse_seeds

    if spec is not None:
        if configs or grid:
            fail("give either a sweep spec file or --config/--grid, not both")
        plan = load_plan(spec)
        if output is not None:
            plan.output_dir = output
        if seeds is not None:
            plan.seeds = parse_seeds(seeds)
        plan.common = (*plan.common, *set_)
    else:
        if output is None:
            fail("--out is required without a sweep spec file")
        values: dict[str, list[Any]] = {}
        for item in grid:
            key, sep, text = item.partition("=")
            if not sep or not text:
                fail(f"--grid takes key=v1,v2,... (got {item!r})")
            import yaml

            values[key] = [yaml.safe_load(v) for v in text.split(",")]
        plan = SweepPlan(output_dir=output, arms=grid_arms(list(configs) or [None], values),
                         seeds=parse_seeds(seeds or "0"), common=tuple(set_))
    if parallel is not None:
        plan.parallel = parallel
    plan.__post_init__()
    return plan


def _arm_logs(arms: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for item in arms:
        name, sep, pattern = item.partition("=")
        if not sep or not name or not pattern:
            fail(f"--arm takes NAME=GLOB (got {item!r})")
        paths = sorted(glob.glob(pattern, recursive=True))
        if not paths:
            fail(f"--arm {name}: no file matches {pattern!r}")
        grouped.setdefault(name, []).extend(paths)
    return {name: _once(name, paths) for name, paths in grouped.items()}


def _once(arm: str, paths: list[str]) -> list[str]:
    """Each log of an arm once: overlapping globs (or a file given twice) would count one run as several seeds."""
    seen: set[str] = set()
    # os.path.realpath, not Path.resolve: a symlink loop would raise there (it is reported when read)
    unique = [p for p in paths if not (os.path.realpath(p) in seen or seen.add(os.path.realpath(p)))]
    if len(unique) < len(paths):
        warn(f"--arm {arm}: {len(paths) - len(unique)} logs matched more than once; each counted once")
    return unique


def _plan_logs(plan, logs_root: Path | None = None) -> tuple[dict[str, list[str]], int]:
    """(the logs of the plan's FINISHED runs per arm, how many runs with a log are not finished yet): a run
    stopped half-way would otherwise enter the summary with its last step as its "final" success.

    ``logs_root``: read the runs from this folder instead of the sweep folder, laid out the same way
    (``<arm>/seed<k>/``): a finished run's ``metrics.jsonl`` beside its done marker, or a shipped
    ``metrics.jsonl.gz`` (only finished runs are shipped)."""
    from entropy_dynamics.sweep import run_status
    from entropy_dynamics.sweep.runner import DONE_FILE

    grouped: dict[str, list[str]] = {}
    unfinished = 0
    for run in plan.runs():
        folder = run.output_dir if logs_root is None else logs_root / run.output_dir.relative_to(plan.output_dir)
        shipped = folder / "metrics.jsonl.gz"
        if logs_root is not None and shipped.is_file():
            grouped.setdefault(run.arm, []).append(str(shipped))
            continue
        log = folder / "metrics.jsonl"
        if not (log.is_file() and log.stat().st_size > 0):
            continue
        done = run_status(run) == "done" if logs_root is None else (folder / DONE_FILE).is_file()
        if done:
            grouped.setdefault(run.arm, []).append(str(log))
        else:
            unfinished += 1
    return grouped, unfinished


def summary_table(rows: list[dict[str, Any]], width: int) -> Table:
    """The per-arm table, fitted to ``width`` columns (cells wrap between words, never inside one)."""
    from entropy_dynamics.sweep.summary import RUN_VALUES, format_cell

    headings = ["arm", "n", *(h for _, h in RUN_VALUES), "collapsed", "p collapse (Fisher)", "p final success (MW)",
                "p eruptions (MW)"]
    cells = [[row["arm"], str(row["n"]), *(format_cell(row[k]) for k, _ in RUN_VALUES),
              f"{row['collapsed']}/{row['collapse_n']}", _p_cell(row, "collapse_fisher_p"),
              _p_cell(row, "final_success_mannwhitney_p"), _p_cell(row, "eruptions_mannwhitney_p")] for row in rows]
    return fitted_table([Column(h, wrap=True) for h in headings], cells, width)


def _p_cell(row: dict[str, Any], key: str) -> str:
    if row["tests_vs"] is None:
        return "ref"
    value = row["tests"].get(key)
    return "—" if value is None or value != value else f"{value:.3g}"


def _pairs(items: list[str]) -> list[tuple[str, str, str]]:
    """``--pair ARM:CONTROL`` -> (name, arm, control)."""
    pairs = []
    for item in items:
        arm, sep, control = item.partition(":")
        if not sep or not arm or not control:
            fail(f"--pair takes ARM:CONTROL (got {item!r})")
        if arm == control:
            fail(f"--pair {item}: an arm compared with itself")
        pairs.append((f"{arm} vs {control}", arm, control))
    return pairs


def comparisons_table(comparisons: list[dict[str, Any]], width: int) -> Table:
    """One row per question: collapse counts with Fisher's p, the final-success and eruption-count differences
    with their 95 % intervals and Mann-Whitney p, and the seeds per arm a t test would need to show the
    final-success difference with 80 % power."""
    named = any(c["name"] != f"{c['arm']} vs {c['control']}" for c in comparisons)  # else the name says it all
    headings = ["question", *(["arm vs control"] if named else []), "collapsed", "p (Fisher)",
                "final success: difference [95% CI]", "p (MW)", "seeds to show it", "eruptions: difference [95% CI]",
                "p (MW)"]
    cells = []
    for c in comparisons:
        hit_a, n_a = c["collapsed"][c["arm"]]
        hit_c, n_c = c["collapsed"][c["control"]]
        cells.append([c["name"], *([f"{c['arm']} vs {c['control']}"] if named else []),
                      f"{hit_a}/{n_a} vs {hit_c}/{n_c}", _number(c["collapse_fisher_p"]),
                      _difference(c["final_success"]), _number(c["final_success"]["mannwhitney_p"]),
                      _count(c["final_success"]["runs_needed"]), _difference(c["eruptions"]),
                      _number(c["eruptions"]["mannwhitney_p"])])
    return fitted_table([Column(h, wrap=True) for h in headings], cells, width)


def _count(value: int | None) -> str:
    return "—" if value is None else str(value)


def _number(value: float | None) -> str:
    return "—" if value is None or value != value else f"{value:.3g}"


def _difference(value: dict[str, Any]) -> str:
    diff = value["difference"]
    if diff["low"] is None or diff["low"] != diff["low"]:
        return _number(diff["diff"])
    return f"{diff['diff']:+.3g} [{diff['low']:+.3g}, {diff['high']:+.3g}]"


def summarise(logs: dict[str, list[str]], where: Path, reference: str | None, collapse_below: float,
              format: str, html: bool, unfinished: int = 0, comparisons: list[tuple[str, str, str]] | None = None,
              ) -> None:
    """Read the logs per arm; print the table (or JSON); write summary.json and the arms' compare page.
    ``unfinished``: runs of the sweep left out because they have not finished (said in the output);
    ``comparisons``: (name, arm, control) questions answered below the table."""
    from entropy_dynamics.logs import read_runs
    from entropy_dynamics.report import render_comparison
    from entropy_dynamics.sweep.summary import arm_mean_run, run_result, summary_payload

    if not logs:
        fail(f"no finished runs to summarise in {where}" + (f" ({unfinished} not finished yet)" if unfinished else ""))
    comparisons = list(comparisons or [])
    for question in [q for q in comparisons if not set(q[1:]) <= set(logs)]:
        missing = ", ".join(a for a in question[1:] if a not in logs)
        if not unfinished:
            fail(f"comparison {question[0]!r}: no logs of arm {missing} (arms: {', '.join(logs)})")
        warn(f"comparison {question[0]!r} left out: arm {missing} has no finished run yet")
        comparisons.remove(question)
    results, means = [], []
    with err.status(f"analysing {sum(len(v) for v in logs.values())} runs of {len(logs)} arms"):
        for arm, paths in logs.items():
            runs = []
            for path in paths:
                run = read_runs(path)[0]
                runs.append(run)
                results.append(run_result(arm, f"{arm}/{Path(path).parent.name or run.name}", run, collapse_below))
            means.append(arm_mean_run(arm, runs))
        try:
            payload = summary_payload(results, reference, collapse_below, comparisons)
        except ValueError as exc:
            fail(str(exc))
    payload["unfinished_runs_left_out"] = unfinished
    where.mkdir(parents=True, exist_ok=True)
    emit_json(payload, where / SUMMARY_JSON)
    payload["files"] = {"summary": str(where / SUMMARY_JSON)}
    if html:
        path = render_comparison(means, where / COMPARE_HTML, title=f"Sweep arms ({where})")
        payload["files"]["compare"] = str(path)
    if format == "json":
        emit_json(payload)
        return
    out.print("Per arm: mean ± 95% CI over runs (n); p vs the reference arm", markup=False, highlight=False)
    out.print(summary_table(payload["arms"], out.width))
    if payload["comparisons"]:
        out.print("Comparisons: arm - control, difference of means [95% Welch interval]; two-sided tests; seeds "
                  "to show it = seeds per arm for a t test to find that success difference (p < 0.05, 80% power)",
                  markup=False, highlight=False)
        out.print(comparisons_table(payload["comparisons"], out.width))
    if unfinished:
        out.print(f"{unfinished} run(s) not finished yet are left out (start the sweep again to finish them)",
                  markup=False, highlight=False)
    out.print(f"collapsed = {payload['definitions']['collapsed']}; wrote "
              + ", ".join(payload["files"].values()), markup=False, highlight=False)


def sweep(
    spec: Annotated[Path | None, typer.Argument(help="Sweep spec YAML (output_dir, seeds, set, arms, grid).")] = None,
    config: Annotated[list[str] | None, typer.Option("--config", help="A train config (an arm per config).")] = None,
    grid: Annotated[list[str] | None, typer.Option("--grid", help="key=v1,v2: one arm per value (x configs).")] = None,
    seeds: Annotated[str | None, typer.Option("--seeds", help="Seeds: 0-5 or 0,1,2.")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override of every run: --set steps=150")] = None,
    output: Annotated[Path | None, typer.Option("--out", help="Sweep folder (default: the spec's).")] = None,
    parallel: Annotated[int | None, typer.Option("--parallel", "-P", help="Runs at a time (one thread each).")] = None,
    summary: Annotated[bool, typer.Option("--summary", help="Only summarise the logs, run nothing.")] = False,
    arm: Annotated[list[str] | None, typer.Option("--arm", help="With --summary: NAME=GLOB of logs of an arm "
                                                                "(any logs, no sweep folder needed).")] = None,
    logs: Annotated[Path | None, typer.Option("--logs", help="With --summary and a spec: read the runs from this "
                                                             "folder (<arm>/seed<k>/, e.g. the shipped "
                                                             "sample_logs/seal_question) instead of the sweep "
                                                             "folder; the summary goes to --out (default .).")] = None,
    reference: Annotated[str | None, typer.Option("--reference", help="Arm the tests compare against.")] = None,
    pair: Annotated[list[str] | None, typer.Option("--pair", help="With --summary: ARM:CONTROL, a question "
                                                                  "answered below the table (repeatable; a spec's "
                                                                  "`comparisons` are added).")] = None,
    collapse_below: Annotated[float, typer.Option("--collapse-below", help="Final success under this = collapsed.")]
    = 0.02,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the runs and their state; run nothing.")] = False,
    html: Annotated[bool, typer.Option("--html/--no-html", help="Write the arms' compare page.")] = True,
    format: Annotated[str, typer.Option("--format", help="What to print: text or json.")] = "text",
) -> None:
    """A grid of training runs (configs x --grid values x seeds), P at a time, every run resumed from its
    checkpoint and the sweep from where it stopped; then per arm: mean ± 95% CI of final success, mean
    entropy, eruption count and amplitude, the collapse rate, and tests against the reference arm."""
    from entropy_dynamics.sweep import run_status, run_sweep

    if format not in ("text", "json"):
        fail(f"--format must be text or json, not {format!r}")
    if not 0.0 <= collapse_below <= 1.0:  # NaN too: every comparison with it is false, so no run would collapse
        fail(f"--collapse-below is a success rate between 0 and 1, not {collapse_below}")
    if arm:
        if not summary:
            fail("--arm only works with --summary")
        summarise(_arm_logs(arm), output or Path("."), reference, collapse_below, format, html,
                  comparisons=_pairs(pair or []))
        return
    if logs is not None:
        if not summary or spec is None:
            fail("--logs only works with --summary and a sweep spec")
        if not logs.is_dir():
            fail(f"--logs {logs}: no such folder")
        plan = _plan(spec, config or [], grid or [], seeds, set_ or [], None, parallel)
        found, unfinished = _plan_logs(plan, logs)
        summarise(found, output or Path("."), reference, collapse_below, format, html, unfinished,
                  comparisons=[*plan.comparisons, *_pairs(pair or [])])
        return
    plan = _plan(spec, config or [], grid or [], seeds, set_ or [], output, parallel)
    if dry_run:
        for run in plan.runs():
            out.print(f"{run_status(run):6} {run.arm} seed {run.seed} -> {run.output_dir}", markup=False,
                      highlight=False)
        return
    if not summary:
        signal.signal(signal.SIGTERM, _interrupt)
        result = run_sweep(plan, echo=lambda line: err.print(line, markup=False, highlight=False))
        if result.failed:
            warn(f"{len(result.failed)} run(s) failed; start the sweep again to retry them")
    logs, unfinished = _plan_logs(plan)
    summarise(logs, plan.output_dir, reference, collapse_below, format, html, unfinished,
              comparisons=[*plan.comparisons, *_pairs(pair or [])])
    if not summary and result.failed:
        raise typer.Exit(1)

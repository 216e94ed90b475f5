"""Per-arm summary of a sweep (or of any logs grouped into arms): mean +- 95 % CI, collapse rate, tests.

Per run (the comparison row of :func:`entropy_dynamics.report.tables.summarize`, so the numbers are the
``compare`` page's): final success = mean of the success metric over the last 10 logged points; mean entropy
over the whole run; eruption count = the analyzer's cycles; amplitude = the largest cycle's peak / base ratio
(runs without a cycle have none).

**Collapse**: a run has collapsed when its final success is below ``collapse_below`` (default 0.02): at the end
it has (almost) stopped winning. Per arm: the collapsed count / n.

Tests, each arm against the reference arm (the first, unless named): Fisher's exact test on the collapse
counts; two-sided Mann-Whitney U on final success, mean entropy, eruption count and amplitude. With a few
seeds per arm these p-values are what they are: small n, no correction for the several comparisons.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from entropy_dynamics.analysis import analyze_run
from entropy_dynamics.analysis.project import COLLAPSE_BELOW
from entropy_dynamics.logs import Run, frame_to_run
from entropy_dynamics.logs.jsonl import finite_or_none
from entropy_dynamics.report.tables import summarize
from entropy_dynamics.sweep.stats import diff_ci, fisher_p, mann_whitney_p, mean_ci, rank_direction, runs_needed

#: Per-run values summarised per arm: (key, heading).
RUN_VALUES = [("final_success", "final success"), ("mean_entropy", "mean entropy"),
              ("eruptions", "eruption count"), ("amplitude", "largest eruption (x)")]


@dataclass
class RunResult:
    arm: str
    label: str
    path: str
    last_step: int | None
    final_success: float | None
    mean_entropy: float | None
    eruptions: int
    amplitude: float | None
    collapsed: bool | None  # None when the run logs no success metric


def run_result(arm: str, label: str, run: Run, collapse_below: float = COLLAPSE_BELOW) -> RunResult:
    """One run's values (see the module docstring)."""
    row = summarize(label, run, analyze_run(run))
    final = row.final_success
    return RunResult(arm=arm, label=label, path=run.source, last_step=run.last_step, final_success=final,
                     mean_entropy=row.mean_value, eruptions=row.cycles, amplitude=row.largest_ratio,
                     collapsed=None if final is None else bool(final < collapse_below))


def _values(results: Sequence[RunResult], key: str) -> list[float]:
    return [float(v) for v in (getattr(r, key) for r in results) if v is not None and math.isfinite(float(v))]


def arm_rows(results: Sequence[RunResult], reference: str | None = None) -> list[dict[str, Any]]:
    """One row per arm (in first-seen order): n, every value's mean and CI, the collapse rate, and the tests
    against ``reference`` (default: the first arm)."""
    arms: dict[str, list[RunResult]] = {}
    for r in results:
        arms.setdefault(r.arm, []).append(r)
    if not arms:
        return []
    reference = reference if reference is not None else next(iter(arms))
    if reference not in arms:
        raise ValueError(f"reference arm {reference!r} is not one of {', '.join(arms)}")
    ref = arms[reference]
    rows = []
    for name, members in arms.items():
        judged = [r for r in members if r.collapsed is not None]
        collapsed = sum(bool(r.collapsed) for r in judged)
        row: dict[str, Any] = {"arm": name, "n": len(members), "runs": [r.label for r in members],
                               "collapsed": collapsed, "collapse_n": len(judged),
                               "collapse_rate": collapsed / len(judged) if judged else math.nan}
        for key, _ in RUN_VALUES:
            row[key] = mean_ci(_values(members, key))
        tests: dict[str, float] = {}
        if name != reference:
            ref_judged = [r for r in ref if r.collapsed is not None]
            tests["collapse_fisher_p"] = fisher_p(collapsed, len(judged), sum(bool(r.collapsed) for r in ref_judged),
                                                  len(ref_judged))
            for key, _ in RUN_VALUES:
                tests[f"{key}_mannwhitney_p"] = mann_whitney_p(_values(members, key), _values(ref, key))
        row["tests_vs"] = None if name == reference else reference
        row["tests"] = tests
        rows.append(row)
    return rows


def compare_arms(results: Sequence[RunResult], arm: str, control: str, name: str | None = None) -> dict[str, Any]:
    """One question of the experiment, ``arm`` against ``control``: both arms' n and collapse counts with
    Fisher's exact p, and for every per-run value both means, the difference of means with its 95 % Welch
    interval, the two-sided Mann-Whitney p with its direction (+1: the arm ranks higher), and the runs per arm a
    t test would need to show the difference seen with 80 % power at p < 0.05
    (:func:`~entropy_dynamics.sweep.stats.runs_needed`: a planning figure)."""
    by_arm = {a: [r for r in results if r.arm == a] for a in (arm, control)}
    for a, members in by_arm.items():
        if not members:
            known = ", ".join(dict.fromkeys(r.arm for r in results))
            raise ValueError(f"comparison {arm} vs {control}: no finished run of arm {a!r} (arms: {known})")
    judged = {a: [r for r in m if r.collapsed is not None] for a, m in by_arm.items()}
    hits = {a: sum(bool(r.collapsed) for r in j) for a, j in judged.items()}
    out: dict[str, Any] = {
        "name": name or f"{arm} vs {control}", "arm": arm, "control": control,
        "n": {a: len(m) for a, m in by_arm.items()},
        "collapsed": {a: [hits[a], len(judged[a])] for a in by_arm},
        "collapse_fisher_p": fisher_p(hits[arm], len(judged[arm]), hits[control], len(judged[control])),
    }
    for key, _ in RUN_VALUES:
        a, c = _values(by_arm[arm], key), _values(by_arm[control], key)
        out[key] = {"arm": mean_ci(a), "control": mean_ci(c), "difference": diff_ci(a, c),
                    "mannwhitney_p": mann_whitney_p(a, c), "rank_direction": rank_direction(a, c),
                    "runs_needed": runs_needed(a, c)}
    return out


def summary_payload(results: Sequence[RunResult], reference: str | None = None,
                    collapse_below: float = COLLAPSE_BELOW,
                    comparisons: Sequence[tuple[str, str, str]] = ()) -> dict[str, Any]:
    """The JSON summary: definitions, per-arm rows and per-run values (NaN written as null)."""
    return finite_or_none({
        "definitions": {
            "final_success": "mean success rate over the last 10 logged steps of a run",
            "mean_entropy": "mean of the analysed entropy metric over the whole run",
            "eruptions": "eruption cycles the phase analyzer finds in the run",
            "amplitude": "peak / base ratio of the run's largest eruption (runs with none are left out)",
            "collapsed": f"final success < {collapse_below}",
            "ci": "half-width of the two-sided 95% t interval of the mean over runs",
            "tests": "vs the reference arm: Fisher exact (collapse counts), two-sided Mann-Whitney U (values)",
            "comparisons": "arm vs control: difference of means with its 95% Welch t interval, Mann-Whitney U, "
                           "Fisher exact on the collapse counts, runs_needed = runs per arm for a two-sided t test "
                           "to show the difference seen at p < 0.05 with 80% power (null: no difference or spread)",
        },
        "arms": arm_rows(results, reference),
        "comparisons": [compare_arms(results, arm, control, name) for name, arm, control in comparisons],
        "runs": [asdict(r) for r in results],
    })


def arm_mean_run(arm: str, runs: Sequence[Run]) -> Run:
    """A run whose every metric is the per-step mean over ``runs`` (the arm's curve in the compare page)."""
    frames = [r.metrics.select_dtypes("number") for r in runs]
    mean = pd.concat(frames).groupby(level=0).mean()
    mean.index.name = frames[0].index.name if frames else "step"
    return frame_to_run(f"{arm} (mean of {len(runs)})", f"sweep arm {arm}", "sweep", mean)


def format_cell(stat: Mapping[str, Any], digits: int = 3) -> str:
    """``mean ± ci (n)`` for the table."""
    if not stat["n"]:
        return "—"
    ci = "" if stat["ci"] is None or math.isnan(stat["ci"]) else f" ± {stat['ci']:.{digits}g}"
    return f"{stat['mean']:.{digits}g}{ci} (n={stat['n']})"

"""Generate docs/results-numbers.md: every number of the Results page, computed from the shipped logs.

Nothing on that page is typed by hand: per arm (``sweep --summary``'s statistics: mean +- 95 % CI, collapse
counts, Fisher / Mann-Whitney against GRPO), per run (the analyzer's cycles, success and degeneration by quarter
of the run), the representation and interference signals before every eruption onset, and SEAL's gradient
against the policy gradient by quarter. ``tests/test_docs.py`` fails when the committed page is out of date.
Run from the repository root::

    python docs/gen_results.py
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from entropy_dynamics.analysis import analyze_run
from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.logs import Run, read_runs
from entropy_dynamics.sweep.summary import RUN_VALUES, arm_rows, format_cell, run_result

REPO = Path(__file__).resolve().parents[1]
PAGE = Path(__file__).resolve().parent / "results-numbers.md"

#: (arm, run label, log folder under sample_logs/): every run of our trainer that sample_logs/ ships.
RUNS = [
    ("GRPO, epoch-15 start", "grpo seed 0", "grpo"),
    ("GRPO, epoch-15 start", "grpo seed 1", "grpo_seed1"),
    ("SEAL 0.02, epoch-15 start", "grpo_seal seed 0", "grpo_seal"),
    ("SEAL 0.02, epoch-15 start", "grpo_seal seed 1", "grpo_seal_seed1"),
    ("GRPO, epoch-12 start", "sft12_grpo", "sft12_grpo"),
    ("SEAL 0.02, epoch-12 start", "sft12_grpo_seal", "sft12_grpo_seal"),
    ("first session (2 AdamW steps per batch)", "grpo_std", "first_session/grpo_std"),
    ("first session (2 AdamW steps per batch)", "dr_grpo_penalty", "first_session/dr_grpo_penalty"),
    ("first session + SEAL", "grpo_std_seal", "first_session/grpo_std_seal"),
    ("first session + SEAL", "dr_grpo_penalty_seal", "first_session/dr_grpo_penalty_seal"),
]

#: Degeneration and behaviour metrics shown by quarter: (metric, heading).
BY_QUARTER = [("env/success_rate", "success"), ("degen/rep5_ratio", "5-gram repetition"),
              ("response/mean_length", "reply length (tokens)"), ("halluc/format_error_rate", "format errors"),
              ("env/valid_action_ratio", "valid actions"), ("policy/entropy/pos", "entropy, A >= 0 tokens"),
              ("policy/entropy/neg", "entropy, A < 0 tokens")]

#: Signals compared before each onset with their run mean: (metric, "high" or "low" = the paper's direction).
PRE_ONSET = [("repr/inter_cos", "high"), ("interference/grad_cos_pos_neg", "low")]
PRE_STEPS = 10


def fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.{digits}g}"


def quarters(series: pd.Series, how: str = "mean") -> list[float]:
    """``how`` (mean or median) of a per-step series over the four quarters of its steps. series: (n,) by step."""
    series = series.dropna()
    if series.empty:
        return [math.nan] * 4
    edges = np.linspace(series.index.min(), series.index.max() + 1, 5)
    return [float(getattr(series[(series.index >= a) & (series.index < b)], how)())
            for a, b in itertools.pairwise(edges)]


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows)])


def arms_section(results: list) -> str:
    rows = []
    for row in arm_rows(results, reference=RUNS[0][0]):
        tests = row["tests"]
        p = {key: tests.get(f"{key}_mannwhitney_p") for key, _ in RUN_VALUES}
        rows.append([row["arm"], str(row["n"]), *(format_cell(row[key]) for key, _ in RUN_VALUES),
                     f"{row['collapsed']}/{row['collapse_n']}", fmt(tests.get("collapse_fisher_p"), 2),
                     fmt(p["final_success"], 2), fmt(p["eruptions"], 2)])
    headers = ["arm", "n", *(h for _, h in RUN_VALUES), "collapsed", "p collapse (Fisher)",
               "p final success (MW)", "p eruptions (MW)"]
    return table(headers, rows)


def runs_section(runs: list[tuple[str, Run, PhaseAnalysis]]) -> str:
    rows = []
    for label, run, a in runs:
        onsets = ", ".join(str(c.eruption_start_step) for c in a.cycles) or "—"
        ratios = ", ".join(f"x{c.amplitude_ratio:.3g}" for c in a.cycles) or "—"
        peaks = ", ".join(fmt(c.peak_value) for c in a.cycles) or "—"
        entropy = run.metrics[a.source_metric] if a.source_metric in run.metrics else pd.Series(dtype=float)
        rows.append([label, f"{run.first_step}..{run.last_step}", str(len(a.cycles)), onsets, ratios, peaks,
                     fmt(float(entropy.mean()))])
    return table(["run", "steps", "cycles", "onsets", "peak / base", "peak (nats)", "mean entropy"], rows)


def quarters_section(runs: list[tuple[str, Run, PhaseAnalysis]]) -> str:
    rows = []
    for label, run, _ in runs:
        for metric, heading in BY_QUARTER:
            if metric in run.metrics:
                rows.append([label, heading, *(fmt(v) for v in quarters(run.metrics[metric]))])
    return table(["run", "metric", "1st quarter", "2nd", "3rd", "4th"], rows)


def pre_onset_section(runs: list[tuple[str, Run, PhaseAnalysis]]) -> str:
    rows = []
    for label, run, a in runs:
        for metric, direction in PRE_ONSET:
            if metric not in run.metrics:
                continue
            series = run.metrics[metric].dropna()
            mean, sd = float(series.mean()), float(series.std())
            values, agree = [], 0
            for c in a.cycles:
                before = series[(series.index >= c.eruption_start_step - PRE_STEPS)
                                & (series.index < c.eruption_start_step)]
                if len(before) < PRE_STEPS // 2:
                    continue
                value = float(before.mean())
                values.append(fmt(value))
                agree += (value > mean) if direction == "high" else (value < mean)
            if values:
                rows.append([label, metric, ", ".join(values), fmt(mean), fmt(sd),
                             f"{agree} of {len(values)} {'above' if direction == 'high' else 'below'}"])
    return table(["run", "metric", f"mean of the {PRE_STEPS} steps before each onset", "run mean", "run SD",
                  "the paper's direction"], rows)


def seal_section(runs: list[tuple[str, Run, PhaseAnalysis]]) -> str:
    rows = []
    for label, run, _ in runs:
        m = run.metrics
        if "interference/grad_norm_seal" not in m or "interference/grad_norm_pg" not in m:
            continue
        ratio = (m["interference/grad_norm_seal"] / m["interference/grad_norm_pg"]).replace([np.inf, -np.inf], np.nan)
        rows.append([label, "SEAL / policy gradient norm (median)", *(fmt(v) for v in quarters(ratio, "median"))])
        if "interference/grad_cos_pg_seal" in m:
            rows.append([label, "cosine(policy gradient, SEAL gradient) (mean)",
                         *(fmt(v) for v in quarters(m["interference/grad_cos_pg_seal"]))])
    return table(["run", "what", "1st quarter", "2nd", "3rd", "4th"], rows)


def render() -> str:
    runs = [(arm, label, read_runs(REPO / "sample_logs" / folder)[0]) for arm, label, folder in RUNS]
    results = [run_result(arm, label, run) for arm, label, run in runs]
    labelled = [(label, run, analyze_run(run)) for _, label, run in runs]
    parts = [
        "# Results: the numbers",
        "",
        "<!-- Generated by docs/gen_results.py from the logs in sample_logs/; do not edit.\n"
        "     Regenerate with: python docs/gen_results.py -->",
        "",
        "Every number of the [Results](results.md) page, computed by `docs/gen_results.py` from the shipped logs "
        "with the analyzer's current definitions. Each run is one seed; n is small everywhere, so read the "
        "confidence intervals and p-values as what they are.",
        "",
        "## Per arm",
        "",
        "Final success = mean success over the last 10 logged steps; collapsed = final success < 0.02; eruption "
        "count = the analyzer's cycles; largest eruption = its peak / base. Mean ± half-width of the 95 % t "
        "interval (n); p-values against the first arm (two-sided Mann-Whitney U; Fisher's exact test on the "
        "collapse counts), as `entropy-dynamics sweep --summary --arm NAME=GLOB ...` prints them.",
        "",
        arms_section(results),
        "",
        "## Per run: cycles",
        "",
        runs_section(labelled),
        "",
        "## Per run: behaviour by quarter of the run",
        "",
        "Means of the per-step metric (32 episodes per step) over each quarter of the run's steps.",
        "",
        quarters_section(labelled),
        "",
        "## Before each eruption onset",
        "",
        f"The mean of the {PRE_STEPS} steps before each onset that has at least {PRE_STEPS // 2} logged points "
        "before it, against the run's mean: the paper expects representation similarity (`repr/inter_cos`) "
        "above it and the cosine between the gradients of correct and incorrect trajectories "
        "(`interference/grad_cos_pos_neg`) below it.",
        "",
        pre_onset_section(labelled),
        "",
        "## SEAL's gradient against the policy gradient",
        "",
        "Per quarter of each SEAL run: the median ratio of the SEAL gradient's norm to the policy gradient's "
        "(on the parameters the instruments measure) and their mean cosine.",
        "",
        seal_section(labelled),
        "",
    ]
    return "\n".join(parts)


if __name__ == "__main__":
    PAGE.write_text(render(), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(REPO)}")

"""Generate docs/seal-question-numbers.md: the SEAL-question sweep (configs/seal_question/sweep.yaml), every
number computed from its shipped logs.

Per arm (``sweep --summary``'s statistics against GRPO), the spec's questions (arm - control with a 95 % Welch
interval, Mann-Whitney U, Fisher's exact test on the collapse counts, and a verdict derived from those p-values),
every run, and per-arm means by quarter of the run (success, entropy, degeneration, SEAL's gradient and labels).
``tests/test_docs.py`` fails when the committed page is out of date. Run from the repository root::

    python docs/gen_seal_question.py                       # from sample_logs/seal_question (the shipped logs)
    python docs/gen_seal_question.py --logs runs/seal_question --out /tmp/preview.md   # a sweep in progress
    python docs/gen_seal_question.py --ship runs/seal_question   # copy its finished logs here (gzip -9), then render
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_results import fmt, quarters, table

from entropy_dynamics.logs import Run, read_runs
from entropy_dynamics.sweep import load_plan
from entropy_dynamics.sweep.runner import DONE_FILE
from entropy_dynamics.sweep.summary import RUN_VALUES, arm_rows, compare_arms, format_cell, run_result

REPO = Path(__file__).resolve().parents[1]
PAGE = Path(__file__).resolve().parent / "seal-question-numbers.md"
SPEC = REPO / "configs" / "seal_question" / "sweep.yaml"
SHIPPED = REPO / "sample_logs" / "seal_question"
ALPHA = 0.05

#: Per-arm means by quarter: (metric, heading, how each run's quarter is reduced).
BY_QUARTER = [("env/success_rate", "success", "mean"), ("policy/entropy", "entropy (nats)", "mean"),
              ("env/valid_action_ratio", "valid actions", "mean"), ("degen/rep5_ratio", "5-gram repetition", "mean"),
              ("halluc/format_error_rate", "format errors", "mean"),
              ("seal/grad_ratio", "SEAL / policy gradient norm (median)", "median"),
              ("seal/label_all_fail_share", "SEAL labels from all-fail groups", "mean")]


def finished_logs(root: Path, arm: str) -> list[Path]:
    """The logs of an arm's finished runs: ``seed*/metrics.jsonl.gz`` as shipped, or ``seed*/metrics.jsonl``
    beside the sweep's done marker in a sweep folder."""
    shipped = sorted((root / arm).glob("seed*/metrics.jsonl.gz"), key=lambda p: int(p.parent.name[4:]))
    if shipped:
        return shipped
    done = [p.parent / "metrics.jsonl" for p in (root / arm).glob(f"seed*/{DONE_FILE}")]
    return sorted(done, key=lambda p: int(p.parent.name[4:]))


def commits_of(path: Path) -> str:
    """The git commits (first 7 characters) the run's log headers record: one per start, resumes included."""
    opener = gzip.open if path.suffix == ".gz" else open
    seen: list[str] = []
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if '"header"' in line[:40]:
                commit = str((json.loads(line).get("versions") or {}).get("git_commit") or "?")[:7]
                seen += [] if commit in seen else [commit]
    return ", ".join(seen) or "—"


def last_win(run: Run) -> str:
    success = run.metrics.get("env/success_rate", pd.Series(dtype=float)).dropna()
    won = success[success > 0]
    return str(int(won.index.max())) if len(won) else "never"


def verdict(question: dict) -> str:
    """What the p-values say, in words (two-sided, alpha 0.05, no correction for the several questions)."""
    shown = []
    if question["collapse_fisher_p"] < ALPHA:
        shown.append("collapse rate")
    for key, heading in (("final_success", "final success"), ("eruptions", "eruption count"),
                         ("amplitude", "eruption size")):
        p = question[key]["mannwhitney_p"]
        if not math.isnan(p) and p < ALPHA:
            direction = "higher" if question[key]["difference"]["diff"] > 0 else "lower"
            shown.append(f"{heading} {direction}")
    n = question["n"]
    if shown:
        return "differs at p < 0.05: " + ", ".join(shown)
    return f"no difference shown (n = {n[question['arm']]} vs {n[question['control']]})"


def difference(stat: dict) -> str:
    d = stat["difference"]
    if math.isnan(d["diff"]):
        return "—"
    interval = "" if math.isnan(d["low"]) else f" [{d['low']:+.3g}, {d['high']:+.3g}]"
    return f"{d['diff']:+.3g}{interval}"


def render(logs_root: Path = SHIPPED) -> str:
    plan = load_plan(SPEC)
    arms = [a.name for a in plan.arms]
    logs = {arm: finished_logs(logs_root, arm) for arm in arms}
    logs = {arm: paths for arm, paths in logs.items() if paths}
    runs = {arm: [read_runs(p)[0] for p in paths] for arm, paths in logs.items()}
    results = [run_result(arm, f"{arm}/{p.parent.name}", run)
               for arm in runs for p, run in zip(logs[arm], runs[arm], strict=True)]
    total = sum(len(v) for v in logs.values())
    planned = len(arms) * len(plan.seeds)

    arm_table = []
    for row in arm_rows(results, reference="grpo" if "grpo" in runs else None):
        tests = row["tests"]
        arm_table.append([row["arm"], str(row["n"]), *(format_cell(row[key]) for key, _ in RUN_VALUES),
                          f"{row['collapsed']}/{row['collapse_n']}", fmt(tests.get("collapse_fisher_p"), 2),
                          fmt(tests.get("final_success_mannwhitney_p"), 2),
                          fmt(tests.get("eruptions_mannwhitney_p"), 2)])

    question_table = []
    for name, arm, control in plan.comparisons:
        if arm not in runs or control not in runs:
            question_table.append([name, f"{arm} vs {control}", "no finished runs yet", "", "", "", "", ""])
            continue
        q = compare_arms(results, arm, control, name)
        (ha, na), (hc, nc) = q["collapsed"][arm], q["collapsed"][control]
        question_table.append([name, f"{arm} vs {control}", f"{ha}/{na} vs {hc}/{nc}", fmt(q["collapse_fisher_p"], 2),
                               difference(q["final_success"]), fmt(q["final_success"]["mannwhitney_p"], 2),
                               difference(q["eruptions"]), fmt(q["eruptions"]["mannwhitney_p"], 2), verdict(q)])

    run_table = []
    for r, (arm, path, run) in zip(results, ((a, p, x) for a in runs for p, x in zip(logs[a], runs[a], strict=True)),
                                   strict=True):
        run_table.append([arm, path.parent.name, f"{run.first_step}..{run.last_step}", fmt(r.final_success),
                          fmt(r.mean_entropy), str(r.eruptions), fmt(r.amplitude), "yes" if r.collapsed else "no",
                          last_win(run), commits_of(path)])

    quarter_table = []
    for arm, members in runs.items():
        for metric, heading, how in BY_QUARTER:
            per_run = [quarters(run.metrics[metric], how) for run in members if metric in run.metrics]
            if per_run:
                means = np.nanmean(np.asarray(per_run, dtype=float), axis=0)
                quarter_table.append([arm, heading, str(len(per_run)), *(fmt(float(v)) for v in means)])

    status = ("all planned runs" if total == planned else
              f"**{total} of the {planned} planned runs (the sweep is still running; more seeds land later)**")
    parts = [
        "# The SEAL question: the numbers",
        "",
        "<!-- Generated by docs/gen_seal_question.py from the logs in sample_logs/seal_question/; do not edit.\n"
        "     Regenerate with: python docs/gen_seal_question.py -->",
        "",
        f"The sweep `configs/seal_question/sweep.yaml` ({len(arms)} arms x seeds {plan.seeds[0]}-{plan.seeds[-1]}, "
        f"150 steps each, one SFT start): {status}. Every number below is computed by `docs/gen_seal_question.py` "
        "from the shipped logs (`sample_logs/seal_question/<arm>/seed<k>/metrics.jsonl.gz`); "
        "`entropy-dynamics sweep configs/seal_question/sweep.yaml --summary --reference grpo` prints the same "
        "per-arm and per-question statistics from a sweep folder.",
        "",
        "## Per arm",
        "",
        "Final success = mean success over the last 10 logged steps; collapsed = final success < 0.02; eruption "
        "count = the analyzer's cycles; largest eruption = its peak / base (runs without one left out). "
        "Mean ± half-width of the 95 % t interval (n); p-values against `grpo` (two-sided Mann-Whitney U; Fisher's "
        "exact test on the collapse counts).",
        "",
        table(["arm", "n", *(h for _, h in RUN_VALUES), "collapsed", "p collapse (Fisher)", "p final success (MW)",
               "p eruptions (MW)"], arm_table),
        "",
        "## The questions",
        "",
        "Each row: arm - control. Differences of means with their 95 % Welch t interval (none when an arm has one "
        "run or both are constant); two-sided Mann-Whitney U and Fisher's exact p; the verdict names what differs "
        f"at p < {ALPHA} (no correction for the {len(plan.comparisons)} questions, so one p near 0.05 among them is "
        "weak evidence).",
        "",
        table(["question", "arm vs control", "collapsed", "p (Fisher)", "final success: difference [95% CI]",
               "p (MW)", "eruptions: difference [95% CI]", "p (MW)", "verdict"], question_table),
        "",
        "## Every run",
        "",
        "Last win = the last step with a success rate above 0; commits = the code versions the run's log headers "
        "record, one per start (a resumed run can have several; the training path did not change between them).",
        "",
        table(["arm", "seed", "steps", "final success", "mean entropy", "eruptions", "largest (x)", "collapsed",
               "last win", "commits"], run_table),
        "",
        "## By quarter of the run (mean over the arm's runs)",
        "",
        "Each run's mean (median for the gradient ratio) over each quarter of its steps, then the mean over runs.",
        "",
        table(["arm", "metric", "runs", "1st quarter", "2nd", "3rd", "4th"], quarter_table),
        "",
    ]
    return "\n".join(parts)


def ship(sweep_dir: Path, dest: Path = SHIPPED) -> int:
    """Copy every finished run's log of ``sweep_dir`` to ``dest/<arm>/seed<k>/metrics.jsonl.gz`` (gzip level 9,
    no timestamp, so the same log gives the same bytes); returns how many were written or replaced."""
    written = 0
    for arm in (a.name for a in load_plan(SPEC).arms):
        for log in finished_logs(sweep_dir, arm):
            if log.suffix == ".gz":
                continue
            target = dest / arm / log.parent.name / "metrics.jsonl.gz"
            packed = gzip.compress(log.read_bytes(), compresslevel=9, mtime=0)
            if not target.is_file() or target.read_bytes() != packed:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(packed)
                written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logs", type=Path, default=SHIPPED, help="sweep folder or shipped logs")
    parser.add_argument("--out", type=Path, default=PAGE)
    parser.add_argument("--ship", type=Path, help="sweep folder whose finished logs are copied to sample_logs first")
    opts = parser.parse_args()
    if opts.ship is not None:
        print(f"shipped {ship(opts.ship)} logs to {SHIPPED.relative_to(REPO)}")
    opts.out.write_text(render(opts.logs), encoding="utf-8")
    print(f"wrote {opts.out}")


if __name__ == "__main__":
    main()

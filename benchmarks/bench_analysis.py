"""Speed and accuracy of the phase analyzer. Prints figures; run with
``OMP_NUM_THREADS=1 python benchmarks/bench_analysis.py [--quick]``.

Targets: 100k-point run < 1 s; 40 runs of ~1,500 points < 10 s in one call; online detector < 5 ms per
step amortised at 10k steps; on the labelled real curves (``benchmarks/real_runs/labels.json``, labelled by eye
before the analyzer ran on them) every required eruption found; synthetic eruption-onset F1 >= 0.95, per-step
phase accuracy >= 0.85, exact cycle count on >= 80 % of runs, <= 1 live false alarm per 2,000 steps.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from entropy_dynamics.analysis import OnlineDetector, analyze_run
from entropy_dynamics.analysis.evaluate import score_suite
from entropy_dynamics.analysis.labelled import load_labels, score_labelled
from entropy_dynamics.analysis.stream import replay
from entropy_dynamics.analysis.synthetic import make_run, shapes_suite, synthetic_series, synthetic_suite
from entropy_dynamics.cli.main import main as cli_main
from entropy_dynamics.logs import MetricLogWriter, read_runs

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "sample_logs" / "public" / "deep_grpo"
LABELS = ROOT / "benchmarks" / "real_runs" / "labels.json"


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def speed() -> None:
    big = make_run("big", n_points=100_000, n_cycles=3, seed=1, spikes=20, nan_fraction=0.02)
    print(f"analyze_run, 100,000 points, 3 cycles:       {timed(lambda: analyze_run(big)):.3f} s  (target < 1 s)")
    runs = [make_run(f"r{i}", n_points=1500, n_cycles=i % 5, seed=i) for i in range(40)]
    print(f"analyze_run x 40 runs of 1,500 points:        "
          f"{timed(lambda: [analyze_run(r) for r in runs]):.3f} s  (target < 10 s)")
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(40):
            s = synthetic_series(1500, i % 5, seed=i)
            path = Path(tmp) / f"run{i}.jsonl"
            with MetricLogWriter(path) as log:
                log.header(f"run{i}", config={}, versions={})
                for step, value in zip(s.steps.tolist(), s.values.tolist(), strict=True):
                    log.metrics(step, {"actor/entropy": value})
            paths.append(str(path))
        out = str(Path(tmp) / "out.json")
        cli = timed(lambda: cli_main(["analyze", *paths, "--format", "json", "--out", out]), repeat=1)
        print(f"CLI analyze, 40 JSONL files x 1,500 points:   {cli:.3f} s  (reading included)")
    s = synthetic_series(10_000, 4, seed=3)
    steps, values = s.steps.tolist(), s.values.tolist()

    def feed() -> None:
        detector = OnlineDetector()
        for step, value in zip(steps, values, strict=True):
            detector.update(step, value)

    print(f"OnlineDetector, 10,000 steps:                 {timed(feed, 1) / 10_000 * 1e3:.3f} ms/step (target < 5)")


def accuracy(quick: bool) -> None:
    n = 30 if quick else 80
    for label, seed, lengths, noise in (
            ("runs of 500-3,000 points", 11, (500, 1000, 1500, 3000), (0.03, 0.08)),
            ("runs of 300-10,000 points", 11, (300, 1000, 3000, 10_000), (0.03, 0.08)),
            ("short noisy runs (120-400 points, noise 0.15-0.3)", 3, (120, 200, 300, 400), (0.15, 0.3)),
            ("runs of 40-60 points (noise 0.05-0.2)", 7, (40, 50, 60), (0.05, 0.2))):
        score = score_suite(synthetic_suite(n, seed=seed, lengths=lengths, noise=noise))
        print(f"offline, {n} synthetic {label}: onset F1 {score.onsets.f1:.3f} "
              f"(P {score.onsets.precision:.3f}, R {score.onsets.recall:.3f}, {score.onsets.n_true} onsets); "
              f"phase accuracy mean {score.mean_accuracy:.3f} min {min(score.phase_accuracy):.3f}; "
              f"exact cycle count {score.exact_share:.0%}; eruptions on monotone runs {score.eruptions_on_monotone}; "
              f"against the drawn climb starts instead: onset F1 {score.climb_starts.f1:.3f} "
              f"({score.climb_starts.n_true} climbs)")
    score = score_suite(shapes_suite(n, seed=1))
    print(f"offline, {n} synthetic runs of real-run shapes (early / stays up / wavy rise / collapse / end, 40-600 "
          f"points): onset F1 {score.onsets.f1:.3f} (P {score.onsets.precision:.3f}, R {score.onsets.recall:.3f}, "
          f"{score.onsets.n_true} onsets); phase accuracy mean {score.mean_accuracy:.3f}; "
          f"exact cycle count {score.exact_share:.0%}")
    m = 12 if quick else 40
    score = score_suite(synthetic_suite(m, seed=5, lengths=(300, 800, 1500, 3000)), live=True)
    live = score.live
    print(f"live, {m} synthetic runs ({score.live_points} points): median delay "
          f"{np.median(live.delays):.1f} logged steps (p90 {np.percentile(live.delays, 90):.0f}), "
          f"missed {live.missed}/{live.missed + len(live.delays)}, false alarms {live.false_alarms} "
          f"= {score.false_alarms_per_2000:.2f} per 2,000 steps")


def labelled() -> None:
    """Scores on the real curves labelled by eye (every curve and every miss / false alarm printed)."""
    score = score_labelled(load_labels(LABELS))
    print(f"labelled real curves ({len(score.curves)}): required eruptions found {score.hits}/{score.required} "
          f"(recall {score.recall:.2f}), false alarms {score.false_alarms} (precision {score.precision:.2f}, "
          f"F1 {score.f1:.2f}); phase agreement on labelled ranges {score.phase_agreement:.3f}")
    for c in score.curves:
        print(f"  {c.name:52s} onsets {c.onsets}  missed {c.misses}  false alarms {c.false_alarms}  "
              f"phases {c.phase_agree}/{c.phase_steps}")
    slack = score_labelled(load_labels(LABELS), slack_points=1)
    print(f"  the same, an onset within one logged point of a labelled range counted as inside it (the foot of a "
          f"climb or its first rising point): found {slack.hits}/{slack.required}, false alarms "
          f"{slack.false_alarms} (F1 {slack.f1:.2f})")


def real_logs() -> None:
    alarms, points = 0, 0
    for name in ("tree_methods_training_instability_entropy", "training_dynamics_entropy", "depth_and_entropy"):
        for run in read_runs(REAL / f"{name}.csv"):
            a = analyze_run(run)
            events, _ = replay(run)
            live = [(e.start_step, e.confirmed_at_step) for e in events if e.phase == "eruption"]
            phases = " ".join(f"{s.phase}@{s.start_step}" for s in a.segments)
            print(f"real {run.name[:48]:48s} {a.n_points:5d} pts: {phases}; live eruptions (start, confirmed): {live}")
            alarms += sum(1 for start, _ in live if not (name.startswith("tree") and 770 <= start <= 810))
            points += a.n_points
    print(f"real logs, live false alarms: {alarms} in {points} points = {alarms / points * 2000:.2f} per 2,000 steps")


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    speed()
    labelled()
    accuracy(quick)
    real_logs()

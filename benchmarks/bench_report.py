"""Benchmark: HTML report of a 10k-step run with 30 metrics (targets: renders in < 5 s, file < 8 MB).

Prints: analysis time, render time (given the analysis), end-to-end time, file size and points plotted;
the same for a comparison of three such runs; with ``--browser`` also the load time in headless Chromium.
Run with ``OMP_NUM_THREADS=1 python benchmarks/bench_report.py [--steps N] [--browser]``.
"""

from __future__ import annotations

import argparse
import base64
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from entropy_dynamics.analysis import analyze_run
from entropy_dynamics.analysis.synthetic import make_run
from entropy_dynamics.logs import Run, frame_to_run
from entropy_dynamics.report import render_comparison, render_report

#: Extra metrics (beyond the synthetic run's entropy, reward, degeneration, interference, repr) up to 30.
EXTRA = ["policy/entropy/pos", "policy/entropy/neg", "policy/entropy/turn_0", "policy/entropy/turn_1",
         "policy/entropy/turn_2", "policy/entropy/turn_3", "policy/cov_logp_adv", "policy/clip_frac",
         "policy/approx_kl", "policy/kl_ref", "env/success_rate", "env/valid_action_ratio",
         "interference/displacement_neg_on_pos", "interference/grad_cos_pg_seal", "repr/intra_pos_cos",
         "repr/intra_neg_cos", "repr/sep_ratio", "seal/head_acc", "seal/head_auroc", "loss/seal",
         "degen/rep5_ratio", "degen/loop_rate", "halluc/rate", "halluc/invalid_action_rate",
         "halluc/fake_observation_rate", "optim/grad_norm"]


def long_run(steps: int, seed: int) -> Run:
    """A synthetic run with 3 eruption cycles and 30 metric columns."""
    base = make_run(f"bench-{seed}", n_points=steps, n_cycles=3, seed=seed, with_metrics=True)
    frame = base.metrics.copy()
    rng = np.random.default_rng(seed)
    h = frame["policy/entropy"].to_numpy()
    for i, name in enumerate(EXTRA[: 30 - frame.shape[1]]):
        frame[name] = h * (0.5 + 0.1 * i) + rng.normal(0, 0.02, len(h))
    return frame_to_run(base.name, base.source, base.reader, frame)


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def points_plotted(path: Path) -> int:
    """Number of plotted points, summed over the figures' base64-encoded y arrays."""
    total = 0
    for dtype, data in re.findall(r'"y":\{"dtype":"(\w+)","bdata":"([^"]*)"', path.read_text(encoding="utf-8")):
        total += len(base64.b64decode(data)) // np.dtype(dtype).itemsize
    return total


def browser_load_seconds(path: Path) -> float:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        expected = path.read_text(encoding="utf-8").count('class="plotly-graph-div"')
        start = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length >= {expected}")
        seconds = time.perf_counter() - start
        browser.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--browser", action="store_true", help="also time loading the page in Chromium")
    args = parser.parse_args()
    run = long_run(args.steps, 0)
    print(f"run: {args.steps} steps x {run.metrics.shape[1]} metrics")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.html"
        analysis, t_analyze = timed(analyze_run, run, cross_metrics=True)
        _, t_render = timed(render_report, [run], out, analyses=[analysis])
        print(f"analyze_run (cross_metrics=True): {t_analyze:.2f} s; cycles found: {len(analysis.cycles)}")
        print(f"render_report given the analysis: {t_render:.2f} s (target < 5 s)")
        _, t_total = timed(render_report, [run], out)
        size = out.stat().st_size
        print(f"render_report end to end:         {t_total:.2f} s")
        print(f"file size: {size / 1e6:.2f} MB (target < 8 MB); plotted points: {points_plotted(out):,} "
              f"of {int(run.metrics.notna().sum().sum()):,} logged")
        if args.browser:
            print(f"Chromium load until every plot is drawn: {browser_load_seconds(out):.2f} s")
        runs = [run, long_run(args.steps, 1), long_run(args.steps, 2)]
        analyses = [analysis] + [analyze_run(r, cross_metrics=True) for r in runs[1:]]
        cmp_out = Path(tmp) / "compare.html"
        _, t_cmp = timed(render_comparison, runs, cmp_out, analyses=analyses)
        print(f"render_comparison of 3 runs given the analyses: {t_cmp:.2f} s; "
              f"file size {cmp_out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()

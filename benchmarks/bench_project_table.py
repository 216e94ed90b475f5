"""The project table at 200 W&B runs through the fake API seam (no server is reachable here). Prints figures; run
with ``OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/bench_project_table.py [--latency-ms 50] [--steps 300]``.

Each fake run's ``scan_history`` sleeps ``--latency-ms`` per page of 1,000 rows (a stand-in for the network), so
the parallel pull's gain over one thread is visible. Measured: the whole ``analyze wandb://ent/sweep --format json``
command cold (no cache; jobs 1 and 16) and warm (every run from the cache). Target: < 60 s at 200 runs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from entropy_dynamics.cli.main import main as cli_main
from entropy_dynamics.logs import wandb_api
from tests.logs.fake_wandb import FakeRun, make_sweep_api


def slow_run_class(latency_s: float) -> type[FakeRun]:
    class SlowRun(FakeRun):
        def scan_history(self, page_size: int = 1000) -> Iterator[dict[str, Any]]:
            for start in range(0, max(len(self._rows), 1), page_size):
                time.sleep(latency_s)
                yield from (dict(r) for r in self._rows[start:start + page_size])

    return SlowRun


def timed(args: list[str]) -> float:
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = cli_main(args)
    if code != 0:
        raise SystemExit(f"analyze failed with code {code}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    opts = parser.parse_args()
    api = make_sweep_api(opts.runs, opts.steps, slow_run_class(opts.latency_ms / 1000))
    wandb_api.API_FACTORY = lambda: api
    print(f"{opts.runs} runs x {opts.steps} steps, {opts.latency_ms:g} ms per history page")
    for jobs in (1, 16):
        seconds = timed(["analyze", "wandb://ent/sweep", "--no-cache", "--jobs", str(jobs), "--format", "json"])
        print(f"cold, --jobs {jobs:>2}: {seconds:6.1f} s")
    with tempfile.TemporaryDirectory() as cache:
        cold = timed(["analyze", "wandb://ent/sweep", "--cache", cache, "--format", "json"])
        warm = timed(["analyze", "wandb://ent/sweep", "--cache", cache, "--format", "json"])
    print(f"cold into the cache (--jobs 16): {cold:6.1f} s; warm (all from the cache): {warm:6.1f} s")


if __name__ == "__main__":
    main()

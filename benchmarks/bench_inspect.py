"""Benchmark: `inspect` of a JSONL metric log of 100k steps x 10 metrics (target < 10 s, < 2 GB);
`inspect` and `analyze` of a 1,000,000-row CSV x 10 metrics (target: seconds, <= 600 MB peak).

Also times the TensorBoard decoding paths (our CRC-checked record reader vs tbparse vs EventFileLoader).
Prints figures; run with ``OMP_NUM_THREADS=1 python benchmarks/bench_inspect.py [--steps N] [--csv-rows N]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from entropy_dynamics.logs import MetricLogWriter, read_runs

METRICS = ["policy/entropy", "reward/mean", "reward/std", "policy/clip_frac", "policy/approx_kl",
           "optim/grad_norm", "optim/lr", "loss/pg", "env/success_rate", "response/mean_length"]


def write_log(path: Path, steps: int) -> float:
    rng = np.random.default_rng(0)
    values = rng.random((steps, len(METRICS)))
    start = time.perf_counter()
    with MetricLogWriter(path) as log:
        log.header("bench", config={"steps": steps}, versions={})
        for step in range(steps):
            log.metrics(step + 1, dict(zip(METRICS, values[step].tolist(), strict=True)), wall_time=0.0)
    return time.perf_counter() - start


def write_csv(path: Path, rows: int) -> float:
    """A CSV of ``rows`` steps x the 10 metrics (6 significant digits, as loggers write them)."""
    import pandas as pd

    frame = pd.DataFrame(np.random.default_rng(0).random((rows, len(METRICS))), columns=METRICS)
    frame.insert(0, "step", np.arange(1, rows + 1))
    start = time.perf_counter()
    frame.to_csv(path, index=False, float_format="%.6g")
    return time.perf_counter() - start


def time_cli(path: Path, command: str = "inspect") -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (GB) of `entropy-dynamics <command> --format json` in a
    fresh process (CPU time is the stable figure on a shared machine)."""
    code = ("import resource, sys; from entropy_dynamics.cli.main import main;"
            " rc = main([sys.argv[3], sys.argv[1], '--format', 'json', '--out', sys.argv[2]]);"
            " print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr);"
            " sys.exit(rc)")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(path), str(path.with_suffix(".json")), command],
                          capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, int(done.stderr.strip().splitlines()[-1]) / 1024**2


def bench_tensorboard(folder: Path, steps: int) -> None:
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(folder))
    for step in range(steps):
        values = [summary_pb2.Summary.Value(tag=f"train/m{k}", simple_value=step * 1e-3 + k) for k in range(5)]
        writer.add_event(event_pb2.Event(wall_time=0.0, step=step, summary=summary_pb2.Summary(value=values)))
    writer.close()
    points = steps * 5
    start = time.perf_counter()
    run = read_runs(folder, format="tensorboard")[0]
    ours = time.perf_counter() - start
    assert sum(run.points().values()) == points
    import tbparse

    start = time.perf_counter()
    frame = tbparse.SummaryReader(str(folder)).scalars
    tb = time.perf_counter() - start
    assert len(frame) == points
    start = time.perf_counter()
    count = sum(len(e.summary.value) for f in folder.glob("*tfevents*") for e in EventFileLoader(str(f)).Load())
    loader = time.perf_counter() - start
    assert count == points
    print(f"tensorboard {points:,} points: CRC-checked record reader {ours:.2f} s | tbparse {tb:.2f} s | "
          f"EventFileLoader {loader:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--tb-steps", type=int, default=20_000)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench" / "metrics.jsonl"
        written = write_log(path, args.steps)
        size = os.path.getsize(path) / 1024**2
        print(f"wrote {args.steps:,} steps x {len(METRICS)} metrics ({size:.1f} MB) in {written:.2f} s")
        start, cpu_start = time.perf_counter(), time.process_time()
        run = read_runs(path)[0]
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        assert run.points() == dict.fromkeys(METRICS, args.steps)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        print(f"library read_runs: {seconds:.2f} s wall, {cpu:.2f} s CPU (process peak RSS so far {rss:.2f} GB)")
        cli_seconds, cli_cpu, cli_rss = time_cli(path)
        print(f"CLI inspect --format json (fresh process, imports included): {cli_seconds:.2f} s wall, "
              f"{cli_cpu:.2f} s CPU, peak RSS {cli_rss:.2f} GB  [target < 10 s, < 2 GB]")
        csv_path = Path(tmp) / "big.csv"
        written = write_csv(csv_path, args.csv_rows)
        print(f"wrote a CSV of {args.csv_rows:,} rows x {len(METRICS)} metrics "
              f"({os.path.getsize(csv_path) / 1024**2:.1f} MB) in {written:.2f} s")
        for command in ("inspect", "analyze"):
            cli_seconds, cli_cpu, cli_rss = time_cli(csv_path, command)
            print(f"CLI {command} --format json of the CSV (fresh process): {cli_seconds:.2f} s wall, {cli_cpu:.2f} s "
                  f"CPU, peak RSS {cli_rss * 1024:.0f} MB  [target: seconds, <= 600 MB]")
        bench_tensorboard(Path(tmp) / "tb", args.tb_steps)


if __name__ == "__main__":
    main()

"""Benchmark: start-up of the ``entropy-dynamics`` command (target: ``--help`` / ``--version`` < 0.5 s and
``inspect`` of a small log < 1 s on an idle machine).

Runs each command ``--repeat`` times as a fresh process and prints the median wall time and the median CPU time
(user + sys of the child), with the load average beside them: on a busy machine the CPU time is the figure to
compare. Run with ``python benchmarks/bench_cli_startup.py [--repeat N]`` from the repository root.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SMALL_LOG = REPO / "sample_logs" / "grpo" / "metrics.jsonl"


def command_prefix() -> list[str]:
    """The installed console script when there is one next to this Python, else ``python -m entropy_dynamics``."""
    script = Path(sys.executable).parent / "entropy-dynamics"
    if script.is_file():
        return [str(script)]
    found = shutil.which("entropy-dynamics")
    return [found] if found else [sys.executable, "-m", "entropy_dynamics"]


def time_once(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, child CPU seconds: user + sys) of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    prefix = command_prefix()
    cases = {"--version": ["--version"], "--help": ["--help"], "inspect (small log)": ["inspect", str(SMALL_LOG)],
             "analyze --help": ["analyze", "--help"]}
    print(f"command: {' '.join(prefix)}; {args.repeat} runs each; load average before: {os.getloadavg()}")
    print(f"{'case':<22}{'wall median (s)':>16}{'cpu median (s)':>16}")
    for name, extra in cases.items():
        time_once([*prefix, *extra])  # warm the file cache
        runs = [time_once([*prefix, *extra]) for _ in range(args.repeat)]
        print(f"{name:<22}{statistics.median(w for w, _ in runs):>16.3f}{statistics.median(c for _, c in runs):>16.3f}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()

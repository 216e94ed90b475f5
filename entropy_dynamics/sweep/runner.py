"""Run a sweep: P training processes at a time, one thread each, every run resumable, the sweep restartable.

Each run is ``entropy-dynamics train`` in a child process (``python -m entropy_dynamics``) writing to its own folder.
A run that finished gets ``sweep_done.json``; a run with a checkpoint is continued with ``--resume``; a run
stopped before its first checkpoint starts again (its partial log is moved aside). So whatever stops the
sweep (Ctrl-C, SIGTERM, kill -9, a machine going away), starting it again continues where it stopped.
Children get SIGTERM when the sweep process dies (Linux ``PR_SET_PDEATHSIG``) and write their log to
``<run>/sweep_run.log``.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.sweep.plan import RunSpec, SweepPlan
from entropy_dynamics.train.run.checkpoint import find_checkpoint

DONE_FILE = "sweep_done.json"
PLAN_FILE = "sweep.json"
RUN_LOG = "sweep_run.log"
_PR_SET_PDEATHSIG = 1


def run_status(run: RunSpec) -> str:
    """``done``, ``resume`` (a checkpoint exists) or ``fresh``."""
    if (run.output_dir / DONE_FILE).is_file():
        return "done"
    return "resume" if find_checkpoint(run.output_dir) is not None else "fresh"


def check_plan(plan: SweepPlan) -> None:
    """Validate every run's config before anything starts (a bad key fails the sweep, not one child)."""
    from entropy_dynamics.train.config_io import load_config

    for run in plan.runs():
        try:
            load_config(run.config, list(run.overrides))
        except ConfigError as exc:  # also a binary or UTF-16 config file
            raise ConfigError(f"arm {run.arm}: {exc}") from exc


def record_plan(plan: SweepPlan) -> None:
    """Write ``sweep.json``; a sweep folder started with another plan is refused."""
    plan.output_dir.mkdir(parents=True, exist_ok=True)
    path = plan.output_dir / PLAN_FILE
    wanted = plan.to_dict()
    if path.is_file():
        before = json.loads(path.read_text(encoding="utf-8"))
        if before != wanted:
            raise ConfigError(f"{plan.output_dir} holds a sweep with another plan ({path}); "
                              "use another output_dir or restore that plan")
        return
    path.write_text(json.dumps(wanted, indent=2) + "\n", encoding="utf-8")


def _die_with_parent() -> None:
    # not Linux: children outlive a killed sweep; the next start still resumes them from their checkpoints
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    root = str(Path(__file__).resolve().parents[2])  # the checkout that holds `cli` and the package
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def start_run(run: RunSpec, python: str = sys.executable) -> subprocess.Popen:
    """Start one run (resuming it when it has a checkpoint) in a child process."""
    resume = run_status(run) == "resume"
    run.output_dir.mkdir(parents=True, exist_ok=True)
    log = run.output_dir / "metrics.jsonl"
    if not resume and log.is_file():  # stopped before its first checkpoint: start over, keep the old log aside
        log.replace(run.output_dir / f"metrics.stopped-{int(time.time())}.jsonl")
    with open(run.output_dir / RUN_LOG, "ab") as sink:
        return subprocess.Popen([python, "-m", "entropy_dynamics", *run.train_args(resume)], stdout=sink,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=_child_env(),
                                preexec_fn=_die_with_parent)


@dataclass
class SweepResult:
    done: list[RunSpec]
    failed: list[tuple[RunSpec, int]]
    skipped: int  # already done when the sweep started


def _mark_done(run: RunSpec, seconds: float, fresh: bool) -> None:
    marker = {"arm": run.arm, "seed": run.seed, "seconds": seconds, "fresh": fresh}
    (run.output_dir / DONE_FILE).write_text(json.dumps(marker) + "\n", encoding="utf-8")


def time_left(full_run_s: list[float], pending: int, active_elapsed: list[float], parallel: int) -> float | None:
    """Seconds until the sweep ends, estimated from the durations of runs that ran from start to end here
    (None before the first): each pending run takes their mean, each active run the rest of that mean, ``parallel``
    at a time."""
    if not full_run_s:
        return None
    mean = sum(full_run_s) / len(full_run_s)
    work = pending * mean + sum(max(mean - e, 0.0) for e in active_elapsed)
    return work / max(parallel, 1)


def format_duration(seconds: float) -> str:
    """``2 h 05 min``, ``12 min`` or ``40 s``."""
    minutes = round(seconds / 60)
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def run_sweep(plan: SweepPlan, echo: Callable[[str], None] = print, python: str = sys.executable,
              poll_s: float = 0.2) -> SweepResult:
    """Run every run of ``plan`` that is not done, ``plan.parallel`` at a time; returns what happened.

    Interrupted (Ctrl-C / SIGTERM), it stops its children (each keeps its last checkpoint) and re-raises."""
    check_plan(plan)
    record_plan(plan)
    runs = plan.runs()
    pending = [r for r in runs if run_status(r) != "done"]
    result = SweepResult(done=[], failed=[], skipped=len(runs) - len(pending))
    echo(f"sweep {plan.output_dir}: {len(runs)} runs ({len(plan.arms)} arms x {len(plan.seeds)} seeds), "
         f"{result.skipped} done, {len(pending)} to run, {plan.parallel} at a time")
    active: dict[subprocess.Popen, tuple[RunSpec, float, bool]] = {}
    full_run_s: list[float] = []  # durations of the runs that went from step 1 to the end here
    try:
        while pending or active:
            while pending and len(active) < plan.parallel:
                run = pending.pop(0)
                status = run_status(run)
                echo(f"start {run.arm} seed {run.seed} ({status})")
                active[start_run(run, python)] = (run, time.perf_counter(), status == "fresh")
            time.sleep(poll_s)
            for proc in [p for p in active if p.poll() is not None]:
                run, started, fresh = active.pop(proc)
                seconds = time.perf_counter() - started
                if proc.returncode == 0:
                    _mark_done(run, seconds, fresh)
                    result.done.append(run)
                    full_run_s += [seconds] if fresh else []
                    now = time.perf_counter()
                    left = time_left(full_run_s, len(pending), [now - a[1] for a in active.values()], plan.parallel)
                    eta = "" if left is None or not (pending or active) else f"; about {format_duration(left)} left"
                    echo(f"done  {run.arm} seed {run.seed} in {seconds:.0f} s "
                         f"[{result.skipped + len(result.done)}/{len(runs)}]{eta}")
                else:
                    result.failed.append((run, proc.returncode))
                    echo(f"FAILED {run.arm} seed {run.seed} (exit {proc.returncode}); see {run.output_dir / RUN_LOG}")
    except BaseException:
        for proc in active:
            proc.send_signal(signal.SIGTERM)
        for proc in active:
            proc.wait()
        raise
    return result

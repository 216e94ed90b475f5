"""Where a training step's time goes: sampling, env, prompt building, credit, update, instruments, logging.

Runs ``train`` on a config for a few steps with wall-clock timers around the parts of a step and prints
the mean seconds per step of each (the first step, with model warm-up and env creation, left out)::

    OMP_NUM_THREADS=1 python benchmarks/profile_train_step.py configs/phenomenon/cycles_e2_ep15.yaml --steps 6
    OMP_NUM_THREADS=1 python benchmarks/profile_train_step.py --set seal=on --steps 4   # the tiny preset
    ... --cprofile 25    # also the 25 functions with the most own time (cProfile, slows Python-heavy parts)

``rollout/other`` is rollout time outside sampling and the env (prompt building, tokenising, bookkeeping);
``step/other`` is step time outside every timed part.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import pstats
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import torch

from entropy_dynamics.train.config_io import load_config
from entropy_dynamics.train.run import callbacks, instruments, live_phase, loop

# the module (the package's `play` attribute is the function of that name)
rollout = importlib.import_module("entropy_dynamics.train.rollout.play")

#: name -> (end time, seconds) of every timed call
SECONDS: dict[str, list[tuple[float, float]]] = defaultdict(list)


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            end = time.perf_counter()
            SECONDS[name].append((end, end - start))
    return wrapper


class _TimedEnv:
    def __init__(self, env: Any) -> None:
        self._env = env

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._env, name)
        return timed(f"env.{name}", attr) if name in ("reset", "step") else attr


def install_timers() -> None:
    rollout.sample_replies = timed("sampling", rollout.sample_replies)
    loop.play = timed("rollout", loop.play)
    loop.assign_credit = timed("credit", loop.assign_credit)
    loop.predict_values = timed("credit", loop.predict_values)
    loop.update_policy = timed("update", loop.update_policy)
    loop.batch_metrics = timed("step metrics", loop.batch_metrics)
    loop.save_checkpoint = timed("checkpoint", loop.save_checkpoint)
    instruments.Instruments.on_step_end = timed("instruments", instruments.Instruments.on_step_end)
    live_phase.LivePhase.on_step_end = timed("live phase", live_phase.LivePhase.on_step_end)
    for hook in ("on_step_end", "on_event", "on_samples"):
        setattr(callbacks.JsonlSink, hook, timed("jsonl log", getattr(callbacks.JsonlSink, hook)))
    take = loop.EnvPool.take
    loop.EnvPool.take = lambda self, n: [_TimedEnv(e) for e in take(self, n)]


class _StepClock(callbacks.Callback):
    def __init__(self) -> None:
        self.ends: list[float] = []
        self.tokens: list[int] = []

    def on_step_end(self, state, metrics) -> None:
        self.ends.append(time.perf_counter())
        self.tokens.append(state.last_rollout.generated_tokens)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", nargs="?", help="a train config (default: the tiny preset's defaults)")
    parser.add_argument("--set", action="append", default=[], help="key=value overrides, as in `train --set`")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--cprofile", type=int, default=0, help="print this many functions by own time")
    opts = parser.parse_args()
    torch.set_num_threads(1)
    install_timers()
    clock = _StepClock()
    with tempfile.TemporaryDirectory() as scratch:
        cfg = load_config(opts.config, [*opts.set, f"steps={opts.steps}", f"output_dir={scratch}/run",
                                        "torch_threads=1"])
        profiler = cProfile.Profile() if opts.cprofile else None
        if profiler:
            profiler.enable()
        loop.train(cfg, callbacks=[clock], echo=None)
        if profiler:
            profiler.disable()
    steps = len(clock.ends) - 1
    if steps < 1:
        raise SystemExit("need --steps >= 2 (the first step is left out)")
    per_step = (clock.ends[-1] - clock.ends[0]) / steps

    def mean(name: str) -> float:  # seconds per step of the calls that ended after the first step
        return sum(s for end, s in SECONDS.get(name, []) if clock.ends[0] < end <= clock.ends[-1]) / steps

    parts = {"sampling": mean("sampling"), "env reset": mean("env.reset"), "env step": mean("env.step")}
    parts["rollout/other"] = mean("rollout") - parts["sampling"] - parts["env reset"] - parts["env step"]
    for name in ("credit", "update", "step metrics", "instruments", "live phase", "jsonl log", "checkpoint"):
        parts[name] = mean(name)
    parts["step/other"] = per_step - sum(parts.values())
    tokens = sum(clock.tokens[1:]) / steps
    print(f"config {opts.config or '(tiny defaults)'} {' '.join(opts.set)}: {steps} steps after the first, "
          f"{per_step:.2f} s/step, {tokens:.0f} sampled tokens/step")
    for name, seconds in parts.items():
        print(f"  {name:<14} {seconds:7.3f} s  {100 * seconds / per_step:5.1f} %")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(opts.cprofile)


if __name__ == "__main__":
    main()

"""The environment side of a training step, before vs after shared game states, in one process run.

Replays the env calls of real ``configs/phenomenon/cycles_e2_ep15.yaml`` training steps (recorded from
its SFT start: per step 4 games x 8 trajectories, each reset on its game and stepped with the actions
the model chose) through 32 TextWorld environment objects, turn by turn as ``play`` does, once with
``share_states=False`` (each object runs its own TextWorld game, the path before) and once with
``share_states=True`` (states shared through a fresh :class:`GameStates`), and prints seconds per step,
the commands the engines played, and whether every output (observation, reward, done, info) agreed::

    OMP_NUM_THREADS=1 python benchmarks/bench_env_step.py [--repeats 3]

Record new calls (needs the SFT start: ``entropy-dynamics sft configs/phenomenon/sft.yaml``)::

    OMP_NUM_THREADS=1 python benchmarks/bench_env_step.py --record 8 --calls my_calls.json
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from entropy_dynamics.envs.textworld_env import TextWorldEnv
from entropy_dynamics.envs.textworld_games import resolve_game_settings
from entropy_dynamics.envs.textworld_states import GameStates

CALLS = Path(__file__).parent / "data" / "cycles_e2_ep15_env_calls.json"
CONFIG = "configs/phenomenon/cycles_e2_ep15.yaml"
SETTINGS: dict[str, Any] = {"recipe": 1, "take": 1, "go": 1, "open": True, "cook": False, "cut": False}


def play_step(envs: list, episodes: list[dict[str, Any]]) -> list[Any]:
    """Reset ``envs[i]`` on episode i's seed, then step every live episode one turn at a time; every output."""
    outputs: list[Any] = [env.reset(ep["seed"]) for env, ep in zip(envs, episodes, strict=True)]
    turn = 0
    while True:
        live = [i for i, ep in enumerate(episodes) if turn < len(ep["actions"])]
        if not live:
            return outputs
        outputs.extend(envs[i].step(episodes[i]["actions"][turn]) for i in live)
        turn += 1


def replay(steps: list[list[dict[str, Any]]], share: bool, cache: Path | None) -> tuple[list[float], list, int]:
    """Seconds per step, all outputs, commands played by engines (shared path only)."""
    states = GameStates()
    game_settings = resolve_game_settings("cooking", SETTINGS, None)
    envs = [TextWorldEnv("textworld-cooking", "cooking", game_settings, cache_dir=cache, share_states=share,
                         states=states) for _ in range(len(steps[0]))]
    seconds, outputs = [], []
    try:
        for episodes in steps:
            start = time.perf_counter()
            outputs.extend(play_step(envs, episodes))
            seconds.append(time.perf_counter() - start)
    finally:
        for env in envs:
            env.close()
        states.clear()
    return seconds, outputs, states.played


def record(n_steps: int, path: Path) -> None:
    """Train ``CONFIG`` for ``n_steps`` steps and write every step's episodes (seed, actions sent) to ``path``."""
    import torch

    from entropy_dynamics.train.config_io import load_config
    from entropy_dynamics.train.run import loop

    steps: list[list[dict[str, Any]]] = []
    reset, step = TextWorldEnv.reset, TextWorldEnv.step

    def recording_reset(env: TextWorldEnv, seed: int):
        if not steps or len(steps[-1]) == 32:
            steps.append([])
        env._episode = {"seed": seed, "actions": []}
        steps[-1].append(env._episode)
        return reset(env, seed)

    def recording_step(env: TextWorldEnv, action: str):
        env._episode["actions"].append(action)
        return step(env, action)

    TextWorldEnv.reset, TextWorldEnv.step = recording_reset, recording_step
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as scratch:
        cfg = load_config(CONFIG, [f"steps={n_steps}", f"output_dir={scratch}/run", "torch_threads=1"])
        loop.train(cfg, echo=None)
    path.write_text(json.dumps(steps, indent=0))
    print(f"recorded {len(steps)} steps to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=Path, default=CALLS)
    parser.add_argument("--repeats", type=int, default=3, help="replays of every path (best per step is kept)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="game cache (default: the usual one)")
    parser.add_argument("--record", type=int, default=0, metavar="STEPS", help="record STEPS training steps")
    opts = parser.parse_args()
    if opts.record:
        record(opts.record, opts.calls)
        return
    steps = json.loads(opts.calls.read_text())
    n_calls = sum(len(ep["actions"]) for episodes in steps for ep in episodes)
    print(f"{len(steps)} recorded steps of {CONFIG}: {sum(len(s) for s in steps)} resets, {n_calls} steps")
    print(f"load before: {os.getloadavg()}")
    replay(steps[:1], share=False, cache=opts.cache_dir)  # generates missing games, warms imports
    best: dict[bool, list[float]] = {}
    outputs: dict[bool, list] = {}
    played = 0
    for _ in range(opts.repeats):
        for share in (False, True):
            seconds, outputs[share], n = replay(steps, share, opts.cache_dir)
            best[share] = [min(a, b) for a, b in zip(best.get(share, seconds), seconds, strict=True)]
            played = n if share else played
    print(f"load after: {os.getloadavg()}")
    before, after = sum(best[False]) / len(steps), sum(best[True]) / len(steps)
    print(f"share_states=False (before): {before:.3f} s/step, {sum(len(s) for s in steps) + n_calls} game calls")
    print(f"share_states=True  (after) : {after:.3f} s/step, {played} game calls (resets and commands played)")
    print(f"x{before / after:.2f} fewer seconds; outputs identical: {outputs[False] == outputs[True]}")


if __name__ == "__main__":
    main()

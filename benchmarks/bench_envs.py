"""Environment cost and expert quality: prints figures, asserts nothing.

1. Per TextWorld environment kind: game generation time, resets per second and steps per second
   (random admissible actions, reset when an episode ends), in one process on one core.
2. The expert (stored walkthrough) win rate over N freshly generated default cooking games.

Run with ``OMP_NUM_THREADS=1 python benchmarks/bench_envs.py [--games 50] [--steps 300]``.
Games go to a fresh temporary cache unless ``--cache-dir`` is given.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import warnings
from pathlib import Path

from entropy_dynamics.envs import make_env, play_expert

KINDS = [
    ("textworld-cooking", {}),
    ("textworld-cooking", {"difficulty": "easy"}),
    ("textworld-cooking", {"difficulty": "hard"}),
    ("textworld-coin", {}),
    ("textworld-treasure", {}),
    ("textworld-simple", {}),
]


def throughput(name: str, settings: dict, cache: Path, resets: int, steps: int, seeds: int = 2) -> dict:
    env = make_env(name, cache_dir=cache, **settings)
    rng = random.Random(0)
    try:
        start = time.perf_counter()
        for seed in range(seeds):
            env.reset(seed)  # generates the game (cold)
        generate_s = (time.perf_counter() - start) / seeds
        start = time.perf_counter()
        for i in range(resets):
            env.reset(i % seeds)
        reset_s = time.perf_counter() - start
        first = env.reset(0)
        admissible = first.info["admissible_actions"]
        n_admissible = [len(admissible)]
        start = time.perf_counter()
        for i in range(steps):
            result = env.step(rng.choice(admissible or ["look"]))
            admissible = result.info["admissible_actions"]
            n_admissible.append(len(admissible))
            if result.done:
                admissible = env.reset(i % seeds).info["admissible_actions"]
        step_s = time.perf_counter() - start
    finally:
        env.close()
    return {"generate_s": generate_s, "resets_per_s": resets / reset_s, "steps_per_s": steps / step_s,
            "mean_admissible": sum(n_admissible) / len(n_admissible)}


def expert_win_rate(games: int, cache: Path) -> tuple[int, float, float]:
    env = make_env("textworld-cooking", cache_dir=cache)
    won, turns = 0, 0
    start = time.perf_counter()
    try:
        for seed in range(1000, 1000 + games):
            records, episode = play_expert(env, seed)
            won += episode.won
            turns += len(records)
    finally:
        env.close()
    return won, turns / games, (time.perf_counter() - start) / games


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--games", type=int, default=50, help="fresh cooking games for the expert win rate")
    parser.add_argument("--resets", type=int, default=50)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # jericho's UnsupportedGameWarning for every TextWorld game
    cache = args.cache_dir or Path(tempfile.mkdtemp(prefix="bench-envs-"))
    print(f"cache: {cache}")
    print(f"{'environment':<40} {'generate s/game':>15} {'resets/s':>9} {'steps/s':>8} {'admissible':>10}")
    for name, settings in KINDS:
        label = name + (f" {settings}" if settings else "")
        row = throughput(name, settings, cache, args.resets, args.steps)
        print(f"{label:<40} {row['generate_s']:>15.2f} {row['resets_per_s']:>9.1f} {row['steps_per_s']:>8.1f} "
              f"{row['mean_admissible']:>10.1f}")
    won, mean_turns, per_game = expert_win_rate(args.games, cache)
    print(f"expert win rate on {args.games} fresh default cooking games (seeds 1000..): {won}/{args.games} "
          f"= {won / args.games:.1%}; {mean_turns:.1f} turns per game; {per_game:.2f} s per game incl. generation")


if __name__ == "__main__":
    main()

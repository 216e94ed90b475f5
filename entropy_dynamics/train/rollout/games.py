"""Which games a step plays, and the environment objects that play them.

Game choice is a numpy ``Generator`` over the seed pool whose state is checkpointed, so a resumed run
plays the same games as an uninterrupted one. Environment objects are created once and reset per
episode (starting a TextWorld game costs far more than resetting it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from entropy_dynamics.envs.base import TextEnv
from entropy_dynamics.envs.registry import make_env


class GameSampler:
    """Draws ``games_per_step`` distinct seeds per step from ``[start, start + size)``."""

    def __init__(self, seed: int, start: int, size: int) -> None:
        self.start, self.size = start, size
        self.rng = np.random.default_rng(seed)

    def draw(self, n: int) -> list[int]:
        picks = self.rng.choice(self.size, size=min(n, self.size), replace=False)
        return [self.start + int(p) for p in picks]

    def state_dict(self) -> dict[str, Any]:
        return {"bit_generator": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["bit_generator"]


class EnvPool:
    """A growing list of environment objects of one kind, reused across steps."""

    def __init__(self, name: str, settings: dict[str, Any]) -> None:
        self.name, self.settings = name, dict(settings)
        self.envs: list[TextEnv] = []

    def take(self, n: int) -> list[TextEnv]:
        while len(self.envs) < n:
            self.envs.append(make_env(self.name, **self.settings))
        return self.envs[:n]

    def close(self) -> None:
        for env in self.envs:
            env.close()
        self.envs.clear()


def group_layout(seeds: list[int], group_size: int) -> tuple[list[int], list[int]]:
    """(episode seeds, episode group ids): each seed repeated ``group_size`` times, group = its position."""
    episode_seeds = [s for s in seeds for _ in range(group_size)]
    groups = [g for g in range(len(seeds)) for _ in range(group_size)]
    return episode_seeds, groups

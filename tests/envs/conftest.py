"""Shared fixtures: one game cache per test session, so each game is generated once."""

from __future__ import annotations

from pathlib import Path

import pytest

from entropy_dynamics.envs import make_env
from entropy_dynamics.envs.base import TextEnv

#: Seeds of the default cooking games every test may use (generated once per session).
COOKING_SEEDS = range(8)


@pytest.fixture(scope="session")
def game_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's game cache: ``<basetemp>/games``, which is also where ENTROPY_DYNAMICS_CACHE=<basetemp>
    points (tests/cli/test_envs.py uses it that way)."""
    path = tmp_path_factory.getbasetemp() / "games"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def cooking(game_cache: Path):
    env = make_env("textworld-cooking", cache_dir=game_cache)
    yield env
    env.close()


def play(env: TextEnv, seed: int, actions: list[str] | None = None):
    """Reset on ``seed`` and play ``actions`` (default: the expert's); returns (reset, steps)."""
    first = env.reset(seed)
    steps = []
    for action in first.info["expert_actions"] if actions is None else actions:
        steps.append(env.step(action))
        if steps[-1].done:
            break
    return first, steps

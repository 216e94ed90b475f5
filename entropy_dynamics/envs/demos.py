"""Expert demonstrations in the exact prompt/reply format the trainer uses (for the SFT warm start)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from entropy_dynamics.envs.base import EnvReset, TextEnv
from entropy_dynamics.envs.episode import Episode, Policy, expert_policy, run_episode
from entropy_dynamics.envs.prompt import build_messages
from entropy_dynamics.envs.registry import make_env
from entropy_dynamics.envs.reply import ReplyFormat, render_reply
from entropy_dynamics.envs.think import expert_think
from entropy_dynamics.errors import ConfigError


def play_expert(env: TextEnv, seed: int, history_length: int = 2,
                fmt: ReplyFormat | None = None) -> tuple[list[dict[str, Any]], Episode]:
    """Play the expert on game ``seed``; one record per turn, and the played episode.

    Each record is ``{"env", "seed", "turn", "messages", "reply"}``: the messages the model would
    see on that turn and the reply that takes the expert's action (see :func:`expert_policy`).
    """
    records: list[dict[str, Any]] = []
    history: list[tuple[str, str]] = []

    def make_policy(first: EnvReset) -> Policy:
        expert = expert_policy(first)

        def act(observation: str, info: dict[str, Any]) -> str | None:
            action = expert(observation, info)
            if action is not None:
                messages = build_messages(first.info["task"], history, observation, info["admissible_actions"],
                                          history_length, fmt)
                reply = render_reply(expert_think(action), action, fmt)
                records.append({"env": env.name, "seed": seed, "turn": len(history), "messages": messages,
                                "reply": reply})
                history.append((observation, action))
            return action

        return act

    return records, run_episode(env, seed, make_policy)


def expert_demos(
    env_name: str,
    n_games: int,
    seed_start: int = 0,
    history_length: int = 2,
    fmt: ReplyFormat | None = None,
    on_game: Callable[[int, bool], None] | None = None,
    **settings: Any,
) -> list[dict[str, Any]]:
    """Per-turn demonstration records of the expert on games ``seed_start .. seed_start + n_games - 1``.

    Only games the expert wins contribute records. ``on_game(seed, won)`` is called after each game
    (for progress bars). ``settings`` go to :func:`make_env`.
    """
    if n_games < 1:
        raise ConfigError(f"n_games must be >= 1, got {n_games}")
    env = make_env(env_name, **settings)
    records: list[dict[str, Any]] = []
    try:
        for seed in range(seed_start, seed_start + n_games):
            game_records, episode = play_expert(env, seed, history_length, fmt)
            if episode.won:
                records.extend(game_records)
            if on_game is not None:
                on_game(seed, episode.won)
    finally:
        env.close()
    return records

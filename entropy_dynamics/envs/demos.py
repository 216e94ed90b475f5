"""Expert demonstrations in the exact prompt/reply format the trainer uses (for the SFT warm start)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from entropy_dynamics.envs.base import TextEnv
from entropy_dynamics.envs.prompt import build_messages
from entropy_dynamics.envs.registry import make_env
from entropy_dynamics.envs.reply import ReplyFormat, render_reply
from entropy_dynamics.envs.think import expert_think
from entropy_dynamics.errors import ConfigError


def play_expert(env: TextEnv, seed: int, history_length: int = 2,
                fmt: ReplyFormat | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Play the expert actions of game ``seed``; one record per turn, and the episode's last info.

    Each record is ``{"env", "seed", "turn", "messages", "reply"}``: the messages the model would
    see on that turn and the reply that takes the expert's action. The expert replays
    ``expert_actions`` (a stored walkthrough); when that is empty it follows ``expert_next_actions``
    (a planner re-asked every turn), up to the environment's own step limit.
    """
    first = env.reset(seed)
    task, observation = first.info["task"], first.observation
    admissible = first.info["admissible_actions"]
    plan = list(first.info.get("expert_actions") or [])
    history: list[tuple[str, str]] = []
    records: list[dict[str, Any]] = []
    info: dict[str, Any] = dict(first.info, won=False, lost=False)
    turn = 0
    while (action := _expert_action(plan, turn, info)) is not None:
        messages = build_messages(task, history, observation, admissible, history_length, fmt)
        reply = render_reply(expert_think(action), action, fmt)
        records.append({"env": env.name, "seed": seed, "turn": turn, "messages": messages, "reply": reply})
        result = env.step(action)
        history.append((observation, action))
        observation, admissible, info = result.observation, result.info["admissible_actions"], result.info
        turn += 1
        if result.done:
            break
    return records, info


def _expert_action(plan: list[str], turn: int, info: dict[str, Any]) -> str | None:
    """The stored plan's action for ``turn``; without a plan, the planner's next action; None when done."""
    if plan:
        return plan[turn] if turn < len(plan) else None
    upcoming = info.get("expert_next_actions") or []
    return upcoming[0] if upcoming else None


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
            game_records, info = play_expert(env, seed, history_length, fmt)
            if info["won"]:
                records.extend(game_records)
            if on_game is not None:
                on_game(seed, bool(info["won"]))
    finally:
        env.close()
    return records

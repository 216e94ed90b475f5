"""Play one episode with any policy (a person, the expert, a script) and summarise it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from entropy_dynamics.envs.base import EnvReset, TextEnv

#: A policy sees the current observation and info and returns an action, or None to stop.
Policy = Callable[[str, dict[str, Any]], "str | None"]


@dataclass
class Turn:
    """One turn of a transcript: the action sent and what came back."""

    action: str
    observation: str
    reward: float
    valid: bool
    blocked: bool


@dataclass
class Episode:
    """A played episode: the first observation, the turns, and the summary of the last state."""

    env: str
    seed: int
    first: EnvReset
    turns: list[Turn] = field(default_factory=list)
    won: bool = False
    lost: bool = False
    score: float = 0
    max_score: float = 0

    def summary(self) -> dict[str, Any]:
        """``{"env", "seed", "won", "lost", "steps", "score", "max_score", "invalid_actions"}``."""
        return {
            "env": self.env,
            "seed": self.seed,
            "won": self.won,
            "lost": self.lost,
            "steps": len(self.turns),
            "score": self.score,
            "max_score": self.max_score,
            "invalid_actions": sum(not t.valid for t in self.turns),
        }


def expert_policy(first: EnvReset) -> Policy:
    """Replays ``expert_actions`` of the game; without them, follows ``expert_next_actions`` each turn."""
    plan = iter(list(first.info.get("expert_actions") or []))
    closed_loop = not first.info.get("expert_actions")

    def act(observation: str, info: dict[str, Any]) -> str | None:
        if closed_loop:
            upcoming = info.get("expert_next_actions") or []
            return upcoming[0] if upcoming else None
        return next(plan, None)

    return act


def run_episode(env: TextEnv, seed: int, make_policy: Callable[[EnvReset], Policy],
                on_turn: Callable[[Turn, dict[str, Any]], None] | None = None) -> Episode:
    """Reset ``env`` on ``seed``, build the policy from the reset (e.g. :func:`expert_policy`), and ask it
    for actions until the episode ends or it returns None. ``on_turn(turn, info)`` runs after each step."""
    first = env.reset(seed)
    act = make_policy(first)
    episode = Episode(env=env.name, seed=seed, first=first, score=first.info.get("score", 0),
                      max_score=first.info.get("max_score", 0))
    observation, info = first.observation, first.info
    while (action := act(observation, info)) is not None:
        result = env.step(action)
        observation, info = result.observation, result.info
        turn = Turn(action, observation, result.reward, bool(info["action_valid"]), bool(info["blocked"]))
        episode.turns.append(turn)
        episode.won, episode.lost = bool(info["won"]), bool(info["lost"])
        episode.score, episode.max_score = info["score"], info["max_score"]
        if on_turn is not None:
            on_turn(turn, info)
        if result.done:
            break
    return episode

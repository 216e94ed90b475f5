"""The environment protocol every agent environment implements (no torch, no trainer imports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass
class EnvReset:
    """What ``reset`` returns: the first observation and the episode's info.

    ``info`` holds at least ``admissible_actions`` (list[str]), ``task`` (str), and may hold
    ``expert_actions`` (list[str], the walkthrough), ``max_score``.
    """

    observation: str
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class EnvStep:
    """What ``step`` returns.

    ``info`` holds at least ``won`` (bool), ``lost`` (bool), ``action_valid`` (bool: the game carried the action
    out; TextWorld games: their move counter advanced, see :func:`~entropy_dynamics.envs.actions.game_accepted`;
    other environments: the action was
    admissible), ``blocked`` (bool: a refused meta-command such as ``restart``), ``admissible_actions``
    (list[str], for the next turn), ``score`` (cumulative), ``max_score``.
    """

    observation: str
    reward: float
    done: bool
    info: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class TextEnv(Protocol):
    """A multi-turn text environment. One instance plays one episode at a time.

    ``observation_markers`` are phrases only the environment writes (room headers, parser
    refusals, score lines): a model reply that contains one is writing the environment's text
    itself (a fake observation).
    """

    name: str
    observation_markers: list[str]

    def reset(self, seed: int) -> EnvReset:
        """Start the game identified by ``seed`` (same seed -> same game, same first observation)."""
        ...

    def step(self, action: str) -> EnvStep:
        """Send an action (already parsed out of the model's reply)."""
        ...

    def close(self) -> None:
        ...


@dataclass(frozen=True)
class EnvSpec:
    """One entry of ``list_envs()``: the name ``make_env`` accepts, what it is, its default settings."""

    name: str
    description: str
    default_settings: dict[str, Any] = field(default_factory=dict)

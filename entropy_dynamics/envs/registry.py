"""Environment names: ``make_env(name, **settings)``, ``list_envs()`` and ``register_env(...)``."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from entropy_dynamics.envs.base import EnvSpec, TextEnv
from entropy_dynamics.envs.textworld_games import CHALLENGES, resolve_game_settings
from entropy_dynamics.errors import ConfigError

#: Settings every TextWorld environment accepts besides its challenge's generator settings.
TEXTWORLD_ENV_SETTINGS: dict[str, Any] = dict(
    difficulty=None, max_steps=50, hide_actions=None, max_observation_chars=None, compact=True,
    cache_dir=None, track_expert=False, share_states=True,
)

_DESCRIPTIONS = {
    "cooking": "TextWorld cooking (the ALFWorld stand-in): several rooms; find the cookbook, then open, "
               "take, cook and cut the ingredients, prepare and eat the meal",
    "coin": "TextWorld coin collector: walk through a chain of rooms to find the coin",
    "treasure": "TextWorld treasure hunter: find a named object among distractors, behind doors and keys",
    "simple": "TextWorld simple: one house, open a chest, put an object on a stove (dense or sparse reward)",
}


def _textworld_factory(challenge: str) -> Callable[..., TextEnv]:
    def make(**settings: Any) -> TextEnv:
        from entropy_dynamics.envs.textworld_env import TextWorldEnv

        name = f"textworld-{challenge}"
        env_settings = {k: settings.pop(k) for k in list(settings) if k in TEXTWORLD_ENV_SETTINGS}
        difficulty = env_settings.pop("difficulty", None)
        game_settings = resolve_game_settings(challenge, settings, difficulty)
        return TextWorldEnv(name, challenge, game_settings, **env_settings)

    return make


def _alfworld_factory(**settings: Any) -> TextEnv:
    from entropy_dynamics.envs.alfworld import AlfWorldEnv

    return AlfWorldEnv(**settings)


def _webshop_factory(**settings: Any) -> TextEnv:
    from entropy_dynamics.envs.webshop import WebShopEnv

    return WebShopEnv(**settings)


def _registry() -> dict[str, tuple[EnvSpec, Callable[..., TextEnv]]]:
    entries: dict[str, tuple[EnvSpec, Callable[..., TextEnv]]] = {}
    for challenge in ("cooking", "coin", "treasure", "simple"):
        name = f"textworld-{challenge}"
        defaults = {**TEXTWORLD_ENV_SETTINGS, **CHALLENGES[challenge].defaults}
        entries[name] = (EnvSpec(name, _DESCRIPTIONS[challenge], defaults), _textworld_factory(challenge))
    entries["alfworld"] = (
        EnvSpec("alfworld", "ALFWorld text games (needs `pip install alfworld`, `alfworld-download` and "
                "ALFWORLD_DATA)",
                {"split": "train", "data_dir": None, "max_steps": 50, "hide_actions": [r"^help$"],
                 "max_observation_chars": None}),
        _alfworld_factory,
    )
    entries["webshop"] = (
        EnvSpec("webshop", "WebShop (needs a running WebShop server, princeton-nlp/WebShop, with its data)",
                {"num_products": None, "human_goals": True, "max_steps": 15, "max_observation_chars": None}),
        _webshop_factory,
    )
    return entries


_REGISTRY = _registry()


def register_env(name: str, factory: Callable[..., TextEnv], description: str,
                 defaults: dict[str, Any] | None = None, *, replace: bool = False) -> EnvSpec:
    """Make ``make_env(name, **settings)`` call ``factory(**settings)`` (a :class:`TextEnv` constructor), and
    list it with ``description`` and its default ``defaults``. A name already taken raises ConfigError unless
    ``replace``."""
    if not name or not isinstance(name, str):
        raise ConfigError(f"register_env: the name must be a non-empty string (got {name!r})")
    if not callable(factory):
        raise ConfigError(f"register_env({name!r}): the factory must be callable (got {factory!r})")
    if name in _REGISTRY and not replace:
        raise ConfigError(f"register_env: {name!r} is already registered (pass replace=True to replace it)")
    spec = EnvSpec(name, description, dict(defaults or {}))
    _REGISTRY[name] = (spec, factory)
    return spec


def list_envs() -> list[EnvSpec]:
    """Every environment name ``make_env`` accepts, with its description and default settings."""
    return [spec for spec, _ in _REGISTRY.values()]


def make_env(name: str, **settings: Any) -> TextEnv:
    """A new environment object. ``settings`` override the defaults shown by :func:`list_envs`
    (TextWorld also takes ``difficulty="easy" | "medium" | "hard"``).

    Unknown names or settings raise ConfigError.
    """
    if name not in _REGISTRY:
        raise ConfigError(f"unknown environment {name!r}; known: {', '.join(_REGISTRY)}")
    return _REGISTRY[name][1](**settings)


def parse_settings(pairs: Sequence[str]) -> dict[str, Any]:
    """``["go=1", "cook=false", "difficulty=easy"]`` -> ``{"go": 1, "cook": False, "difficulty": "easy"}``.

    Values are read as JSON when they parse (numbers, true/false, null, lists), else kept as text.
    """
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"setting {pair!r} must look like key=value")
        try:
            settings[key.strip()] = json.loads(text)
        except ValueError:
            settings[key.strip()] = text
    return settings

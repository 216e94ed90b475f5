from __future__ import annotations

import pytest

from entropy_dynamics.envs import EnvSpec, list_envs, make_env
from entropy_dynamics.errors import ConfigError

NAMES = ["textworld-cooking", "textworld-coin", "textworld-treasure", "textworld-simple", "alfworld", "webshop"]


def test_list_envs_names_and_defaults() -> None:
    specs = list_envs()
    assert [s.name for s in specs] == NAMES
    assert all(isinstance(s, EnvSpec) and s.description for s in specs)
    cooking = specs[0].default_settings
    assert cooking["go"] > 1 and cooking["open"] and cooking["cook"] and cooking["cut"]
    assert cooking["max_steps"] == 50 and cooking["cache_dir"] is None


def test_make_env_applies_difficulty_then_overrides(tmp_path) -> None:
    env = make_env("textworld-cooking", difficulty="easy", go=6, cache_dir=tmp_path)
    assert env.game_settings["go"] == 6 and env.game_settings["cook"] is False
    assert env.cache_dir == tmp_path
    env.close()


def test_unknown_environment() -> None:
    with pytest.raises(ConfigError, match=r"unknown environment 'zork'.*textworld-cooking"):
        make_env("zork")


def test_parse_settings() -> None:
    from entropy_dynamics.envs.registry import parse_settings

    assert parse_settings(["go=1", "cook=false", "difficulty=easy", "hide_actions=[]", "cache_dir=null"]) == {
        "go": 1, "cook": False, "difficulty": "easy", "hide_actions": [], "cache_dir": None}
    with pytest.raises(ConfigError, match="key=value"):
        parse_settings(["go"])


def test_envs_imports_neither_torch_nor_the_trainer() -> None:
    import subprocess
    import sys

    code = ("import sys, entropy_dynamics.envs as e; e.make_env('textworld-cooking'); "
            "bad = [m for m in sys.modules if m == 'torch' or m.startswith(('torch.', 'entropy_dynamics.train'))]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


class _EchoEnv:
    """A minimal real TextEnv: echoes the action, wins on 'win'."""

    def __init__(self, greeting: str = "hello") -> None:
        self.greeting = greeting

    def reset(self, seed: int):
        from entropy_dynamics.envs.base import EnvReset

        return EnvReset(f"{self.greeting} {seed}", {"admissible_actions": ["win"]})

    def step(self, action: str):
        from entropy_dynamics.envs.base import EnvStep

        won = action == "win"
        return EnvStep(action, float(won), True, {"won": won, "action_valid": won})

    def close(self) -> None:
        pass


def test_register_env_adds_a_listed_makeable_environment(monkeypatch) -> None:
    from entropy_dynamics.envs import registry

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    spec = registry.register_env("echo", _EchoEnv, "echoes the action", {"greeting": "hello"})
    assert spec in list_envs() and spec.default_settings == {"greeting": "hello"}
    env = make_env("echo", greeting="hi")
    assert env.reset(3).observation == "hi 3" and env.step("win").info["won"]
    with pytest.raises(ConfigError, match="already registered"):
        registry.register_env("echo", _EchoEnv, "again")
    registry.register_env("echo", lambda **_: _EchoEnv("bye"), "replaced", replace=True)
    assert make_env("echo").reset(0).observation == "bye 0"
    with pytest.raises(ConfigError, match="callable"):
        registry.register_env("other", "not a factory", "x")

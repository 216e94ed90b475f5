from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from entropy_dynamics.envs.textworld_games import (
    default_cache_dir,
    derived_seed,
    ensure_game,
    game_folder,
    resolve_game_settings,
)
from entropy_dynamics.errors import EntropyDynamicsError

COIN = resolve_game_settings("coin", {}, "easy")


def test_cache_dir_follows_the_environment_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ENTROPY_DYNAMICS_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path / "games"
    monkeypatch.delenv("ENTROPY_DYNAMICS_CACHE")
    assert default_cache_dir() == Path.home() / ".cache" / "entropy-dynamics" / "games"


def test_derived_seeds_are_fixed_and_distinct() -> None:
    assert derived_seed(7, 0) == 7
    seeds = [derived_seed(7, i) for i in range(1, 20)]
    assert seeds == [derived_seed(7, i) for i in range(1, 20)]
    assert len(set(seeds)) == 19 and 7 not in seeds


def test_settings_get_their_own_folder(tmp_path: Path) -> None:
    easy = game_folder(tmp_path, "cooking", resolve_game_settings("cooking", {}, "easy"))
    hard = game_folder(tmp_path, "cooking", resolve_game_settings("cooking", {}, "hard"))
    assert easy != hard and easy.name.startswith("tw-cooking-")


def test_same_seed_same_game_and_concurrent_callers_share_one_file(tmp_path: Path) -> None:
    # Two callers at once: one generates under the file lock, the other waits and reuses the file.
    with ThreadPoolExecutor(2) as pool:
        paths = list(pool.map(lambda _: ensure_game("coin", COIN, 1, tmp_path / "a"), range(2)))
    assert paths[0] == paths[1]
    folder = paths[0].parent
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock")) == ["seed-1.json",
                                                                                      "seed-1.z8"]
    again = ensure_game("coin", COIN, 1, tmp_path / "b")  # a second cache: generated afresh
    first, second = (json.loads(p.with_suffix(".json").read_text()) for p in (paths[0], again))
    assert first["metadata"]["walkthrough"] == second["metadata"]["walkthrough"]
    assert first["metadata"]["generation_seed"] == 1
    assert paths[0].read_bytes() == again.read_bytes()


def test_generation_that_always_fails_is_a_clear_error(tmp_path: Path) -> None:
    settings = resolve_game_settings("cooking", dict(take=0, recipe_seed=1), "easy")
    with pytest.raises(EntropyDynamicsError, match=r"no game could be generated for seed 4.*2 tries.*take"):
        ensure_game("cooking", settings, 4, tmp_path, max_tries=2)
    assert not list(game_folder(tmp_path, "cooking", settings).glob("seed-4.z8"))

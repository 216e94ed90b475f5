from __future__ import annotations

import json
from pathlib import Path

import pytest

from entropy_dynamics.envs import make_env
from entropy_dynamics.envs.alfworld import alfworld_data_dir, find_alfworld_games, read_walkthrough, split_intro
from entropy_dynamics.errors import ConfigError, EntropyDynamicsError

# The first observation of an ALFWorld game, in ALFWorld's own layout.
INTRO = (
    "-= Welcome to TextWorld, ALFRED! =-\n\n"
    "You are in the middle of a room. Looking quickly around you, you see a cabinet 1, a countertop 1, "
    "a drawer 2, and a sinkbasin 1.\n\nYour task is to: put a clean mug in coffeemachine."
)


def _trial(root: Path, relative: str, walkthrough: list[str] | None = None) -> Path:
    folder = root / "json_2.1.1" / relative
    folder.mkdir(parents=True)
    (folder / "traj_data.json").write_text("{}")
    game = folder / "game.tw-pddl"
    game.write_text(json.dumps({"pddl_domain": "", "grammar": "", "pddl_problem": "", "solvable": True,
                                "walkthrough": walkthrough or []}))
    return game


def test_split_intro_separates_task_and_observation() -> None:
    task, observation = split_intro(INTRO)
    assert task == "put a clean mug in coffeemachine."
    assert observation.startswith("You are in the middle of a room.") and observation.endswith("sinkbasin 1.")
    assert split_intro("You arrive at drawer 2.") == ("", "You arrive at drawer 2.")


def test_game_discovery_skips_incomplete_and_unsupported_trials(tmp_path: Path) -> None:
    b = _trial(tmp_path, "train/pick_clean_then_place_in_recep-Mug-None-CoffeeMachine-10/trial_2")
    a = _trial(tmp_path, "train/look_at_obj_in_light-Book-None-DeskLamp-301/trial_1", ["go to desk 1"])
    _trial(tmp_path, "train/pick_and_place_with_movable_recep-Knife-Pan-CounterTop-5/trial_1")
    _trial(tmp_path, "train/pick_and_place_simple-AppleSliced-None-Fridge-5/trial_1")
    (b.parent.parent / "trial_3").mkdir()
    (b.parent.parent / "trial_3" / "game.tw-pddl").write_text("{}")  # no traj_data.json
    games = find_alfworld_games(tmp_path, "train")
    assert games == sorted([a, b])
    assert read_walkthrough(a) == ["go to desk 1"]


def test_missing_data_names_the_download_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALFWORLD_DATA", str(tmp_path / "nowhere"))
    assert alfworld_data_dir() == tmp_path / "nowhere"
    with pytest.raises(EntropyDynamicsError, match="alfworld-download") as info:
        make_env("alfworld")
    assert "\n" not in str(info.value)
    (tmp_path / "empty" / "json_2.1.1" / "train").mkdir(parents=True)
    with pytest.raises(EntropyDynamicsError, match=r"no game.tw-pddl files.*alfworld-download"):
        make_env("alfworld", data_dir=tmp_path / "empty")


def test_missing_package_is_a_one_line_error(tmp_path: Path) -> None:
    _trial(tmp_path, "train/pick_and_place_simple-Mug-None-Shelf-1/trial_1")
    with pytest.raises(EntropyDynamicsError, match="pip install alfworld"):
        make_env("alfworld", data_dir=tmp_path)


def test_unknown_split(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="split"):
        find_alfworld_games(tmp_path, "test")

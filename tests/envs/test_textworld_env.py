from __future__ import annotations

import re
from pathlib import Path

import pytest

from entropy_dynamics.envs import TextEnv, make_env
from entropy_dynamics.envs.textworld_env import BLOCKED_MESSAGE
from entropy_dynamics.errors import ConfigError, EntropyDynamicsError
from tests.envs.conftest import COOKING_SEEDS, play

_STATUS = re.compile(r"-= .* =-\s*\d+/\d+")


def test_expert_wins_fresh_cooking_games(cooking) -> None:
    won = 0
    for seed in COOKING_SEEDS:
        first, steps = play(cooking, seed)
        assert first.info["expert_actions"], "every cooking game has a walkthrough"
        won += steps[-1].info["won"]
        # reward is the per-step delta of the cumulative score
        assert sum(s.reward for s in steps) == steps[-1].info["score"]
        assert all(s.info["action_valid"] for s in steps)
    assert won / len(COOKING_SEEDS) >= 0.95


def test_reset_info_and_clean_observations(cooking) -> None:
    first, steps = play(cooking, 0)
    info = first.info
    assert isinstance(cooking, TextEnv) and cooking.name == "textworld-cooking"
    assert info["task"].startswith("You are hungry!") and info["task"] not in first.observation
    assert info["max_score"] >= 3 and info["game_id"].endswith("seed-0")
    assert set(info["admissible_actions"]) <= set(info["all_admissible_actions"])
    assert "look" not in info["admissible_actions"]
    assert not any(a.startswith("examine ") and a != "examine cookbook" for a in info["admissible_actions"])
    for text in [first.observation] + [s.observation for s in steps]:
        assert "$$" not in text and not _STATUS.search(text) and not text.rstrip().endswith(">")
        assert "RESTART" not in text
    assert any(s.observation.startswith("cookbook:") for s in steps)


def test_invalid_actions_are_flagged_and_sent_to_the_game(cooking) -> None:
    cooking.reset(1)
    result = cooking.step("dance with the fridge")
    assert result.info["action_valid"] is False and result.info["blocked"] is False
    assert result.reward == 0 and not result.done
    assert "not a verb" in result.observation
    # odd model output never hangs or breaks the interpreter
    for junk in ["", "\x00", "é 漢字 🍕", "x" * 2000, "take\nall\tthings"]:
        step = cooking.step(junk)
        assert not step.info["action_valid"] and step.observation
    assert cooking.step("inventory").info["action_valid"]


@pytest.mark.parametrize("command", ["restart", "quit", "save", "restore", "undo", "go east. restart"])
def test_meta_commands_are_blocked_and_leave_the_game_untouched(cooking, command: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # `save` would write a file here if it reached the interpreter
    first = cooking.reset(2)
    expert = first.info["expert_actions"]
    cooking.step(expert[0])
    before = cooking.step(expert[1])
    result = cooking.step(command)
    assert result.info["blocked"] and not result.info["action_valid"]
    assert result.observation == BLOCKED_MESSAGE and result.reward == 0
    assert result.info["admissible_actions"] == before.info["admissible_actions"]
    assert result.info["score"] == before.info["score"]
    for action in expert[2:]:
        last = cooking.step(action)
    assert last.info["won"]
    assert list(tmp_path.iterdir()) == []


def test_group_copies_start_identical(game_cache: Path) -> None:
    group = [make_env("textworld-cooking", cache_dir=game_cache) for _ in range(3)]
    try:
        resets = [env.reset(3) for env in group]
        assert len({r.observation for r in resets}) == 1
        assert all(r.info == resets[0].info for r in resets)
        # a different seed is a different game
        other = group[0].reset(4)
        assert (other.observation, other.info["expert_actions"]) != (resets[0].observation,
                                                                     resets[0].info["expert_actions"])
    finally:
        for env in group:
            env.close()


def test_two_environments_run_side_by_side(game_cache: Path) -> None:
    a, b = (make_env("textworld-cooking", cache_dir=game_cache) for _ in range(2))
    try:
        plan_a, plan_b = a.reset(4).info["expert_actions"], b.reset(5).info["expert_actions"]
        results_a, results_b = [], []
        for i in range(max(len(plan_a), len(plan_b))):  # interleaved turns
            if i < len(plan_a):
                results_a.append(a.step(plan_a[i]))
            if i < len(plan_b):
                results_b.append(b.step(plan_b[i]))
        assert results_a[-1].info["won"] and results_b[-1].info["won"]
        assert all(r.info["action_valid"] for r in results_a + results_b)
    finally:
        a.close()
        b.close()


def test_max_steps_truncates_and_done_episodes_stay_done(game_cache: Path) -> None:
    env = make_env("textworld-cooking", cache_dir=game_cache, max_steps=2)
    try:
        env.reset(0)
        assert not env.step("inventory").done
        last = env.step("inventory")
        assert last.done and last.info["truncated"] and not last.info["won"] and not last.info["lost"]
        again = env.step("go east")
        assert again.done and again.reward == 0 and again.observation == last.observation
    finally:
        env.close()


def test_observation_truncation_and_unfiltered_actions(game_cache: Path) -> None:
    env = make_env("textworld-cooking", cache_dir=game_cache, max_observation_chars=60, hide_actions=[])
    try:
        first = env.reset(0)
        assert len(first.observation) <= 60
        assert "look" in first.info["admissible_actions"]
    finally:
        env.close()


def test_step_before_reset_is_a_clear_error(game_cache: Path) -> None:
    env = make_env("textworld-cooking", cache_dir=game_cache)
    with pytest.raises(EntropyDynamicsError, match="before reset"):
        env.step("go east")


@pytest.mark.parametrize("name", ["textworld-coin", "textworld-treasure", "textworld-simple"])
def test_other_textworld_games_are_won_by_the_expert(game_cache: Path, name: str) -> None:
    env = make_env(name, cache_dir=game_cache, difficulty="easy")
    try:
        first, steps = play(env, 0)
        assert first.info["task"] or first.observation
        assert steps[-1].info["won"] and steps[-1].info["score"] == first.info["max_score"]
    finally:
        env.close()


@pytest.mark.parametrize(("settings", "message"), [
    (dict(recipe_count=2), "unknown setting"),
    (dict(difficulty="impossible"), "difficulty must be one of"),
    (dict(max_steps=0), "max_steps"),
    (dict(go="abc"), "setting go must be int"),
    (dict(cook=1), "setting cook must be bool"),
    (dict(go=True), "setting go must be int"),
    (dict(share_states="maybe"), "share_states must be true or false"),
    (dict(track_expert="maybe"), "track_expert must be true or false"),
    (dict(compact=1), "compact must be true or false"),
])
def test_bad_settings_are_config_errors(settings: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_env("textworld-cooking", **settings)


def test_bad_seed_is_a_config_error(cooking) -> None:
    with pytest.raises(ConfigError, match="seed"):
        cooking.reset(-1)


@pytest.mark.parametrize(("action", "valid", "says"), [
    ("take carrot", True, "You take the carrot from the fridge"),  # not the admissible text, but the game did it
    ("TAKE CARROT FROM FRIDGE.", True, "You take the carrot"),
    ("open fridge", False, "already open"),  # the game refuses: nothing happens
    ("take fridge", False, "fixed in place"),
    ("take red hot pepper", False, "can't see any such thing"),
    ("dance", False, "not a verb"),
    ("look at fridge", True, "fridge looks"),
])
def test_an_action_is_valid_when_the_game_carries_it_out(cooking, action: str, valid: bool, says: str) -> None:
    first = cooking.reset(0)
    assert first.info["expert_actions"][2:4] == ["open fridge", "take carrot from fridge"]
    opened = cooking.step("open fridge")
    assert opened.info["action_valid"] and "take carrot" not in opened.info["all_admissible_actions"]
    step = cooking.step(action)
    assert says in step.observation
    assert step.info["action_valid"] is valid

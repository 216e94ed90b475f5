"""Shared game states give exactly what a TextWorld environment running its own game gives, call by call."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from entropy_dynamics.envs.textworld_env import TextWorldEnv
from entropy_dynamics.envs.textworld_games import resolve_game_settings
from entropy_dynamics.envs.textworld_states import GameStates
from entropy_dynamics.errors import EntropyDynamicsError
from tests.envs.conftest import COOKING_SEEDS

#: Commands the game refuses, meta-commands the env blocks, and junk a model may write.
ODD_ACTIONS = ["dance with the fridge", "restart", "take milk. go north", "", "x" * 300, "é 漢字", "look"]


def _env(game_cache: Path, states: GameStates | None, **kwargs) -> TextWorldEnv:
    return TextWorldEnv("textworld-cooking", "cooking", resolve_game_settings("cooking", {}, None),
                        cache_dir=game_cache, share_states=states is not None, states=states, **kwargs)


def _play_side_by_side(game_cache: Path, states: GameStates, rounds: int, seed: int, group: int = 4,
                       turns: int = 6, **kwargs) -> int:
    """Rounds of GRPO-like play: every round resets ``group`` envs on each of two games, then steps them turn
    by turn, the group's envs agreeing on the action half the time; shared and reference envs get the same
    calls and every output must be equal. Returns the number of calls compared."""
    rng = random.Random(seed)
    shared = [_env(game_cache, states, **kwargs) for _ in range(2 * group)]
    reference = [_env(game_cache, None, **kwargs) for _ in range(2 * group)]
    compared = 0
    try:
        for _ in range(rounds):
            games = rng.sample(list(COOKING_SEEDS[:4]), 2)
            outputs = []
            for i, (fast, slow) in enumerate(zip(shared, reference, strict=True)):
                got, want = fast.reset(games[i // group]), slow.reset(games[i // group])
                assert got == want
                outputs.append(want)
                compared += 1
            done = [False] * len(shared)
            for _ in range(turns):
                for g in range(2):
                    common = rng.choice(outputs[g * group].info["all_admissible_actions"])
                    for i in range(g * group, (g + 1) * group):
                        if done[i]:
                            continue
                        roll = rng.random()
                        if roll < 0.5:
                            action = common
                        elif roll < 0.85:
                            action = rng.choice(outputs[i].info["all_admissible_actions"] or ["look"])
                        else:
                            action = rng.choice(ODD_ACTIONS)
                        got, want = shared[i].step(action), reference[i].step(action)
                        assert got == want, f"turn output differs after {action!r}"
                        outputs[i] = want
                        done[i] = want.done
                        compared += 1
    finally:
        for env in shared + reference:
            env.close()
    return compared


@pytest.mark.parametrize("seed", [0, 1])
def test_shared_states_match_fresh_environments(game_cache: Path, seed: int) -> None:
    states = GameStates()
    compared = _play_side_by_side(game_cache, states, rounds=3, seed=seed)
    assert compared > 100
    assert states.played < compared  # identical commands of a group were looked up, not played
    states.clear()


def test_tight_bounds_replay_and_still_match(game_cache: Path) -> None:
    # one engine, two snapshots: nearly every new state is reached by restoring an ancestor and replaying;
    # a tiny node budget drops whole game trees between rounds
    states = GameStates(max_engines=1, max_snapshots=2, max_nodes=30)
    _play_side_by_side(game_cache, states, rounds=3, seed=2, group=3, turns=5)
    assert len(states.engines) <= 1
    assert all(len(engine.snapshots) <= 2 for engine in states.engines.values())
    assert states.nodes <= 30 or len(states.trees) == 1
    states.clear()


def test_expert_tracking_matches(game_cache: Path) -> None:
    states = GameStates()
    _play_side_by_side(game_cache, states, rounds=2, seed=3, group=2, turns=4, track_expert=True)
    states.clear()


def test_a_group_on_the_same_actions_plays_the_game_once(game_cache: Path) -> None:
    states = GameStates()
    group = [_env(game_cache, states) for _ in range(8)]
    first = [env.reset(COOKING_SEEDS[0]) for env in group]
    expert = first[0].info["expert_actions"]
    for action in expert:
        steps = [env.step(action) for env in group]
        assert all(step == steps[0] for step in steps)
    assert steps[0].info["won"]
    assert states.played == 1 + len(expert)
    assert group[0].reset(COOKING_SEEDS[0]) == first[0]  # a second reset of a game is looked up too
    assert states.played == 1 + len(expert)
    states.clear()


def test_a_replay_that_disagrees_is_an_error(game_cache: Path) -> None:
    states = GameStates(max_snapshots=1)
    env = _env(game_cache, states)
    first = env.reset(COOKING_SEEDS[1])
    env.step("inventory")
    env.step("look")  # the only snapshot is now the state after "look"
    root = states.root(Path(first.info["game_file"]))
    root.children["inventory"].state = {**root.children["inventory"].state, "feedback": "tampered"}
    env.reset(COOKING_SEEDS[1])
    env.step("inventory")
    with pytest.raises(EntropyDynamicsError, match="not deterministic"):
        env.step("examine cookbook")  # reached by replaying "inventory" from a reset
    env.close()
    states.clear()

"""Shared game states give exactly what a TextWorld environment running its own game gives, call by call."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from entropy_dynamics.envs.textworld_env import TextWorldEnv
from entropy_dynamics.envs.textworld_games import resolve_game_settings
from entropy_dynamics.envs.textworld_states import GameStates
from entropy_dynamics.errors import EntropyDynamicsError
from tests.envs.conftest import COOKING_SEEDS

#: Commands the game refuses, meta-commands the env blocks, and junk a model may write.
ODD_ACTIONS = ["dance with the fridge", "restart", "take milk. go north", "", "x" * 300, "é 漢字", "look"]


def _env(game_cache: Path, states: GameStates | None, challenge: str = "cooking", difficulty: str | None = None,
         **kwargs) -> TextWorldEnv:
    return TextWorldEnv(f"textworld-{challenge}", challenge, resolve_game_settings(challenge, {}, difficulty),
                        cache_dir=game_cache, share_states=states is not None, states=states, **kwargs)


def _play_side_by_side(game_cache: Path, states: GameStates, rounds: int, seed: int, group: int = 4,
                       turns: int = 6, games: tuple[int, ...] = tuple(COOKING_SEEDS[:4]), **kwargs) -> int:
    """Rounds of GRPO-like play: every round resets ``group`` envs on each of two draws from ``games``, then steps
    them turn by turn, the group's envs agreeing on the action half the time; shared and reference envs get
    the same calls and every output must be equal. Returns the number of calls compared."""
    rng = random.Random(seed)
    shared = [_env(game_cache, states, **kwargs) for _ in range(2 * group)]
    reference = [_env(game_cache, None, **kwargs) for _ in range(2 * group)]
    compared = 0
    try:
        for _ in range(rounds):
            pair = [rng.choice(games) for _ in range(2)]
            outputs = []
            for i, (fast, slow) in enumerate(zip(shared, reference, strict=True)):
                got, want = fast.reset(pair[i // group]), slow.reset(pair[i // group])
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
    assert len(states.engines) <= 1 and len(states.snapshots) <= 2
    assert states.nodes <= 30 or len(states.trees) == 1
    states.clear()


@pytest.mark.parametrize("challenge", ["coin", "treasure", "simple"])
def test_other_challenges_match(game_cache: Path, challenge: str) -> None:
    states = GameStates()
    # the easy games of seed 0, which test_textworld_env.py plays too (one generation per test session)
    _play_side_by_side(game_cache, states, rounds=2, seed=4, group=2, turns=8, games=(0,), challenge=challenge,
                       difficulty="easy")
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


@pytest.mark.parametrize(("max_engines", "replays"), [(None, False), (1, True)])
def test_engines_follow_the_environments_in_use(game_cache: Path, max_engines: int | None, replays: bool) -> None:
    # four games played turn by turn: by default one engine per environment object, so no game is closed and
    # replayed; a hard cap of one engine replays every game at every turn
    states = GameStates(max_engines=max_engines, min_engines=1)
    envs = [_env(game_cache, states) for _ in COOKING_SEEDS[:4]]
    plans = [env.reset(seed).info["expert_actions"][:3] for env, seed in zip(envs, COOKING_SEEDS, strict=False)]
    assert states.users == 4
    for turn in range(3):
        for env, plan in zip(envs, plans, strict=True):
            env.step(plan[turn])
    assert (states.played > 4 * 4) is replays
    assert len(states.engines) == (1 if replays else 4)
    for env in envs:
        env.close()
    assert states.users == 0
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


def test_states_left_to_garbage_collection_close_cleanly(game_cache: Path) -> None:
    # jericho unloads its library when its interpreter is collected; an engine collected in a reference cycle
    # must not shut that library down afterwards (it crashed the process with a segmentation fault)
    script = f"""
import gc
from entropy_dynamics.envs.textworld_env import TextWorldEnv
from entropy_dynamics.envs.textworld_games import resolve_game_settings
from entropy_dynamics.envs.textworld_states import GameStates
for _ in range(3):
    states = GameStates()
    env = TextWorldEnv("textworld-cooking", "cooking", resolve_game_settings("cooking", {{}}, None),
                       cache_dir={str(game_cache)!r}, states=states)
    for seed in (0, 1):
        first = env.reset(seed)
        for action in first.info["all_admissible_actions"][:3]:
            env.step(action)
    del env, states
    gc.collect()
print("clean")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "clean", done.stderr[-2000:]

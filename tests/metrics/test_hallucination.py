"""Hallucination flags and rates: hand-built turns with known flags, and a real TextWorld episode."""

from __future__ import annotations

import math

import pytest

from entropy_dynamics.envs import make_env
from entropy_dynamics.errors import EntropyDynamicsError
from entropy_dynamics.metrics import (
    TurnRecord,
    check_format,
    hallucination_metrics,
    turn_hallucination_flags,
)


def reply(action: str, think: str = "I should act.", tail: str = "") -> str:
    return f"<think>{think}</think><action>{action}</action>{tail}"


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        (reply("open fridge"), True),
        ("<think>a</think>\n<action>look</action>\n", True),
        ("<action>look</action><think>a</think>", False),
        ("<think>a</think><think>b</think><action>look</action>", False),
        ("<think>a< /think><action>look</action>", False),
        ("<think>a</think><action>look</action> 3 < 4", False),
        ("<think>no action</think>", False),
    ],
)
def test_check_format(text, ok):
    assert check_format(text) is ok


def test_turn_flags():
    vocabulary = {"fridge", "kitchen", "apple", "table", "red"}
    clean = TurnRecord("You see a fridge.", reply("open fridge"), "open fridge", ["open fridge", "look"])
    assert turn_hallucination_flags(clean, vocabulary) == {
        "fake_observation": False,
        "invalid_action": False,
        "ungrounded_entity": False,
        "format_error": False,
    }
    invented = TurnRecord("", reply("take golden sword from table"), "take golden sword from table", None)
    flags = turn_hallucination_flags(invented, vocabulary)
    assert flags["ungrounded_entity"] and flags["invalid_action"] is None
    plural = TurnRecord("", reply("take red apples"), "take red apples", ["look"])
    flags = turn_hallucination_flags(plural, vocabulary)
    assert not flags["ungrounded_entity"] and flags["invalid_action"]
    fake = TurnRecord("", reply("look", tail="\n-= Kitchen =-\nYou see a fridge."), "look", ["look"])
    assert turn_hallucination_flags(fake, vocabulary)["fake_observation"]  # text after </action>
    marker = TurnRecord("", reply("look", think="Your score has just gone up by one point"), "look", ["look"])
    assert turn_hallucination_flags(marker, vocabulary, ["Your score has just gone up"])["fake_observation"]
    assert not turn_hallucination_flags(marker, vocabulary)["fake_observation"]
    unparsed = TurnRecord("", "rambling", None, ["look"], format_ok=True)
    flags = turn_hallucination_flags(unparsed, vocabulary)
    assert flags["invalid_action"] and not flags["format_error"]


def test_rates_group_grounding_by_episode():
    turns = [
        TurnRecord(
            "You are in a kitchen. There is a fridge.",
            reply("open fridge"),
            "open fridge",
            ["open fridge"],
            episode_id="a",
        ),
        TurnRecord("The fridge contains milk.", reply("take milk"), "take milk", ["take milk"], episode_id="a"),
        # episode b never saw milk: the same action is ungrounded (and not admissible) there
        TurnRecord("You are in a garden.", reply("take milk"), "take milk", ["look"], episode_id="b"),
        TurnRecord("You are in a garden.", "broken", None, None, episode_id="b"),
    ]
    out = hallucination_metrics(turns)
    assert out["halluc/ungrounded_entity_rate"] == pytest.approx(1 / 4)
    assert out["halluc/invalid_action_rate"] == pytest.approx(1 / 3)
    assert out["halluc/format_error_rate"] == pytest.approx(1 / 4)
    assert out["halluc/fake_observation_rate"] == 0.0
    assert out["halluc/rate"] == pytest.approx(2 / 4)
    assert all(math.isnan(v) for v in hallucination_metrics([]).values())
    with pytest.raises(EntropyDynamicsError, match="TurnRecord"):
        hallucination_metrics([{"reply": "x"}])


def test_real_textworld_episode(tmp_path_factory):
    """An expert agent on a real game is clean; invented objects and self-written observations are caught.

    The game goes to the session's game cache (``<basetemp>/games``, the one tests/envs uses), so a run
    of the whole suite generates the easy coin game of seed 0 once.
    """
    cache = tmp_path_factory.getbasetemp() / "games"
    env = make_env("textworld-coin", cache_dir=cache, difficulty="easy")
    first = env.reset(0)
    observation, info = first.observation, first.info
    turns = []
    for action in first.info["expert_actions"]:
        turns.append(TurnRecord(observation, reply(action), action, list(info["admissible_actions"])))
        step = env.step(action)
        observation, info = step.observation, step.info
        if step.done:
            break
    env.close()
    assert step.done and step.info["won"] and turns
    clean = hallucination_metrics(turns, env.observation_markers)
    assert clean["halluc/rate"] == 0.0

    last = turns[-1]
    noisy = [
        *turns,
        TurnRecord(last.observation, reply("take golden sword"), "take golden sword", last.admissible_actions),
        TurnRecord(last.observation, reply("look", think="You scored 1 out of 1"), "look", last.admissible_actions),
    ]
    out = hallucination_metrics(noisy, env.observation_markers)
    assert out["halluc/ungrounded_entity_rate"] == pytest.approx(1 / len(noisy))
    assert out["halluc/fake_observation_rate"] == pytest.approx(1 / len(noisy))
    assert out["halluc/invalid_action_rate"] >= 1 / len(noisy)

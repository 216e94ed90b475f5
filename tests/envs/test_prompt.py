from __future__ import annotations

import pytest

from entropy_dynamics.envs import ReplyFormat, build_messages
from entropy_dynamics.errors import ConfigError

HISTORY = [("obs one", "go east"), ("obs two", "open fridge"), ("obs three", "take milk from fridge")]


def test_messages_hold_task_recent_history_observation_actions_and_format() -> None:
    messages = build_messages("Cook the meal.", HISTORY, "obs now", ["prepare meal", "drop milk"])
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    assert "Your task: Cook the meal." in user
    assert "obs one" not in user and "go east" not in user          # older than the last 2 turns
    assert "[Observation 2: obs two]\n[Action 2: open fridge]" in user
    assert "[Observation 3: obs three]\n[Action 3: take milk from fridge]" in user
    assert "You have taken 3 action(s) so far" in user
    assert "Current observation (turn 4):\nobs now" in user
    assert "Admissible actions: [prepare meal, drop milk]" in user
    assert "<think> </think>" in user and "<action> </action>" in user
    # the parts come in this order
    order = [user.index(s) for s in ("Your task", "obs two", "obs now", "Admissible", "<think>")]
    assert order == sorted(order)


@pytest.mark.parametrize(("k", "shown"), [(0, []), (1, ["obs three"]), (5, ["obs one", "obs two", "obs three"])])
def test_history_length(k: int, shown: list[str]) -> None:
    user = build_messages("t", HISTORY, "now", ["a"], history_length=k)[1]["content"]
    for obs, _ in HISTORY:
        assert (obs in user) == (obs in shown)


def test_first_turn_has_no_history_block_and_custom_tags_show() -> None:
    fmt = ReplyFormat(think_tag="plan", action_tag="do", require_think=False)
    user = build_messages("t", [], "start", ["go east"], fmt=fmt)[1]["content"]
    assert "so far" not in user and "Current observation (turn 1):\nstart" in user
    assert "<do> </do>" in user and "<plan> </plan>" in user and "<action>" not in user


def test_negative_history_length_is_rejected() -> None:
    with pytest.raises(ConfigError, match="history_length must be >= 0"):
        build_messages("t", [], "o", [], history_length=-1)

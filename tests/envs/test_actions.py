from __future__ import annotations

from entropy_dynamics.envs.actions import (
    MAX_ACTION_CHARS,
    filter_admissible,
    first_command,
    is_admissible,
    is_meta_command,
    judge_action,
    normalise_action,
    sanitise_action,
)


def test_normalise_action() -> None:
    assert normalise_action("  Take   Milk from FRIDGE. ") == "take milk from fridge"


def test_is_admissible_after_normalisation() -> None:
    admissible = ["open fridge", "take milk from fridge"]
    assert is_admissible("Take milk  from fridge.", admissible)
    assert not is_admissible("take milk", admissible)
    assert not is_admissible("", admissible)


def test_meta_commands_are_found_anywhere_in_a_multi_command_input() -> None:
    for action in ("restart", "QUIT", "save game", "restore", "undo", "go east. restart", "look; quit",
                   "go east then save"):
        assert is_meta_command(action), action
    for action in ("go east", "take quilt", "open safe", "examine quitclaim"):
        assert not is_meta_command(action), action


def test_judge_action_blocks_meta_commands_even_when_admissible() -> None:
    admissible = ["go east", "restart"]
    assert judge_action("Go East.", admissible) == (False, True)
    assert judge_action("go west", admissible) == (False, False)
    assert judge_action("restart", admissible) == (True, False)


def test_first_command_keeps_one_move() -> None:
    assert first_command("take milk. go north") == "take milk"
    assert first_command("go  east then go west") == "go east"
    assert first_command("open fridge") == "open fridge"
    assert first_command("go\x00 east\x1b") == "go east"


def test_sanitise_action_neutralises_interpreter_hot_keys() -> None:
    # control characters (NUL hangs the interpreter), backslashes (crash dumb-frotz), other non-printables
    assert sanitise_action("take\x0f apple\\n \x1a now\n") == "take apple n now"
    assert sanitise_action("go\x00east\u200b\u2028north") == "go east north"
    assert sanitise_action("héllo 🍎 go") == "h llo go"  # the Z-machine parser knows no non-ASCII
    assert sanitise_action("take apple " * 40) == ("take apple " * 40)[:MAX_ACTION_CHARS].rstrip()
    assert first_command("open\\ fridge. go north") == "open fridge"


def test_an_action_with_hot_keys_is_judged_as_the_game_receives_it() -> None:
    assert judge_action("take\x0fred apple\\", ["take red apple"]) == (False, True)
    assert normalise_action(" Take\tMilk\\. ") == "take milk"


def test_filter_hides_examine_look_and_meta_but_keeps_the_cookbook() -> None:
    admissible = ["examine cookbook", "examine fridge", "go east", "inventory", "look", "restart",
                  "take knife"]
    assert filter_admissible(admissible) == ["examine cookbook", "go east", "inventory", "take knife"]
    assert filter_admissible(admissible, hidden=[]) == [a for a in admissible if a != "restart"]
    assert filter_admissible(admissible, hidden=[r"^take "]) == [
        "examine cookbook", "examine fridge", "go east", "inventory", "look"]


def test_a_real_game_plays_hot_key_actions_as_their_sanitised_text(cooking) -> None:
    start = cooking.reset(0)
    action = next(a for a in start.info["admissible_actions"] if " " in a)
    hot = "\\\\".join(action.split(" ", 1)) + "\x00\x1b\\"  # e.g. "open\\fridge<NUL><ESC>\"
    step = cooking.step(hot)
    assert step.info["action_valid"] and step.observation  # the interpreter got the clean action and answered
    again = cooking.step("\\\\\\ \x0f")
    assert not again.info["action_valid"] and isinstance(again.observation, str)
    # a long multi-byte action: jericho would cut it at 198 bytes inside a character and crash
    long = cooking.step("take " + "ĳ" * 150)  # byte 198 falls inside a character
    assert not long.info["action_valid"] and isinstance(long.observation, str)

from __future__ import annotations

from entropy_dynamics.envs.observation import clean_observation, compact_cookbook, remove_task, truncate

STATUS = " " * 120 + "-= Kitchen =-0/6"
BANNER = "\n\n   ________  ________\n  |        \\|        \\\n   \\$$$$$$$$| $$$$$$$$\n    \\$$    \\$$$$$$$$\n\n"


def test_banner_and_status_line_are_removed() -> None:
    raw = BANNER + "You are hungry!\n\n-= Kitchen =-\nYou see a fridge.\n\n>" + STATUS
    assert clean_observation(raw) == "You are hungry!\n-= Kitchen =-\nYou see a fridge."


def test_end_of_game_menu_is_removed() -> None:
    raw = ("\nYou eat the meal. Not bad.\n\n\n   *** The End ***\n\nYou scored 3 out of a possible 3, in 6 turns."
           "\n\n\nWould you like to RESTART, RESTORE a saved game, QUIT or UNDO the last command?\n>  ")
    assert clean_observation(raw) == ("You eat the meal. Not bad.\n*** The End ***\n"
                                      "You scored 3 out of a possible 3, in 6 turns.")


def test_cookbook_is_compacted_but_keeps_the_recipe() -> None:
    raw = ('\nYou open the copy of "Cooking: A Modern Approach (3rd Ed.)" and start reading:\n\nRecipe #1\n'
           '---------\nGather all following ingredients and follow the directions to prepare this tasty meal.'
           '\n\nIngredients:\nwhite onion\n\nDirections:\nchop the white onion\n  prepare meal\n\n>' + STATUS)
    text = compact_cookbook(clean_observation(raw))
    assert text == "cookbook:\nIngredients:\nwhite onion\nDirections:\nchop the white onion\nprepare meal"
    assert compact_cookbook("You see a fridge.") == "You see a fridge."


def test_remove_task_and_truncate() -> None:
    assert remove_task("Cook a meal.\n-= Kitchen =-", "Cook a meal.") == "-= Kitchen =-"
    assert remove_task("-= Kitchen =-", "Cook a meal.") == "-= Kitchen =-"
    cut = truncate("one two three four five six seven", 20)
    assert len(cut) <= 20 and cut.endswith("...") and cut.startswith("one two")
    assert truncate("short", 20) == "short" and truncate("long text", None) == "long text"

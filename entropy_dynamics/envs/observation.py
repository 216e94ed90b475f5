"""Cleaning TextWorld observations: banner, prompt/status line, end-of-game menu, cookbook boilerplate."""

from __future__ import annotations

import re

# The trailing prompt and status line: "\n>" + ~130 spaces + "-= Kitchen =-0/6" (the ">" is missing
# after a yes/no question).
_STATUS_LINE = re.compile(r"(?:\n\s*)?>?[ \t]*-= [^\n]*? =-\s*-?\d+/\d+\s*$")
_TRAILING_PROMPT = re.compile(r"\n\s*>\s*$")
_END_MENU = re.compile(r"Would you like to RESTART, RESTORE a saved game, QUIT or UNDO the last command\?")
_BLANK_RUNS = re.compile(r"\n\s*\n+")
_COOKBOOK_OPENING = re.compile(
    r'You open the copy of "Cooking: A Modern Approach \(3rd Ed\.\)" and start reading:')
_COOKBOOK_TITLE = re.compile(r"\nRecipe #\d+\n-+\n")
_COOKBOOK_GATHER = re.compile(
    r"Gather all following ingredients and follow the directions to prepare this tasty meal\.\n?")


def strip_banner(text: str) -> str:
    """Drop the ASCII-art "TextWorld" banner of a first observation (its lines are drawn with ``$$``)."""
    if "$$" not in text:
        return text
    end = text.find("\n", text.rfind("$$"))
    return text[end + 1:] if end >= 0 else ""


def clean_observation(text: str) -> str:
    """A raw TextWorld feedback -> the text a player should read.

    Removes the banner, the trailing ``>`` prompt and ``-= Room =-score/moves`` status line, the
    end-of-game RESTART/RESTORE/QUIT/UNDO menu, trailing spaces and runs of blank lines
    (paragraphs are joined by single newlines).
    """
    text = strip_banner(text)
    text = _STATUS_LINE.sub("", text)
    text = _TRAILING_PROMPT.sub("", text)
    text = _END_MENU.sub("", text)
    lines = [line.strip() for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n", "\n".join(lines)).strip()


def compact_cookbook(text: str) -> str:
    """Shorten the cookbook text: the long opening becomes ``cookbook:``, the recipe title and the
    "Gather all following ingredients..." sentence go. Ingredients and directions stay."""
    if not _COOKBOOK_OPENING.search(text):
        return text
    text = _COOKBOOK_OPENING.sub("cookbook:", text)
    text = _COOKBOOK_TITLE.sub("\n", text)
    return _COOKBOOK_GATHER.sub("", text)


def remove_task(text: str, task: str) -> str:
    """Drop the task sentence from an observation (the prompt shows the task on its own line)."""
    if not task or task not in text:
        return text
    return _BLANK_RUNS.sub("\n", text.replace(task, "", 1)).strip()


def truncate(text: str, max_chars: int | None) -> str:
    """Cut ``text`` to at most ``max_chars`` characters at a word boundary, ending with ``...``."""
    if max_chars is None or len(text) <= max_chars:
        return text
    cut = text[: max(max_chars - 3, 0)]
    space = cut.rfind(" ")
    if space > max_chars // 2:
        cut = cut[:space]
    return cut.rstrip() + "..."

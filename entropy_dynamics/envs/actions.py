"""Action strings: normalisation, admissibility, meta-commands, and the filtered list shown to a model."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

#: Interpreter meta-commands. ``restart`` desynchronises TextWorld's state tracking, ``save`` writes a
#: file into the working directory: the environments refuse them and leave the game untouched.
META_COMMANDS = frozenset({
    "restart", "quit", "q", "save", "restore", "undo", "script", "unscript", "transcript",
    "noscript", "verify", "version", "notify", "pronouns",
})

#: What an environment answers to a refused meta-command (the game is left untouched).
BLOCKED_MESSAGE = "That command is not available in this game."

#: Patterns of admissible actions hidden from the prompt by default: ``examine X`` (except the
#: cookbook, which holds the recipe) and ``look``. They stay playable; only the list shown is shorter.
DEFAULT_HIDDEN_ACTIONS: tuple[str, ...] = (r"^examine (?!cookbook$)", r"^look$")

_SPACES = re.compile(r"\s+")
# The Inform parser runs "take milk. go north" (or ";" / "then") as several commands.
_COMMAND_SEPARATOR = re.compile(r"[.;]|\bthen\b")


#: The Z-machine's input buffer: jericho cuts longer input (and crashes when the cut splits a UTF-8 character).
MAX_ACTION_CHARS = 190


def sanitise_action(action: str) -> str:
    """``action`` as an interpreter can safely receive it: control and other non-printable characters (a NUL
    byte hangs the Z-machine interpreter), backslashes (dumb-frotz reads them as hot keys and can crash) and
    non-ASCII characters (the parser knows none; a long action cut inside a multi-byte character crashes
    jericho) become spaces; whitespace collapsed; at most :data:`MAX_ACTION_CHARS` characters.
    ``"take\\x0f apple\\\\n"`` -> ``"take apple n"``."""
    kept = "".join(ch if ch.isascii() and ch.isprintable() and ch != "\\" else " " for ch in action)
    return " ".join(kept.split())[:MAX_ACTION_CHARS].rstrip()


@functools.lru_cache(maxsize=1 << 15)  # the same admissible actions are normalised at every turn
def normalise_action(action: str) -> str:
    """Sanitised (:func:`sanitise_action`), lower case, no final stop: ``" Take Milk. "`` -> ``"take milk"``."""
    return sanitise_action(action).lower().rstrip(".").strip()


def first_command(action: str) -> str:
    """The first command of ``action``, whitespace collapsed: ``"take milk. go north"`` -> ``"take milk"``.

    An environment sends only this part, so one turn is always one move; it is sanitised first
    (:func:`sanitise_action`), so every action an environment plays is safe for the interpreter.
    """
    return _SPACES.sub(" ", _COMMAND_SEPARATOR.split(sanitise_action(action), maxsplit=1)[0]).strip()


def is_meta_command(action: str) -> bool:
    """True when any command in ``action`` is an interpreter command (``restart``, ``quit``, ``save`` ...)."""
    for part in _COMMAND_SEPARATOR.split(normalise_action(action)):
        words = part.split()
        if words and words[0] in META_COMMANDS:
            return True
    return False


def is_admissible(action: str, admissible: Iterable[str]) -> bool:
    """True when ``action`` equals one of ``admissible`` after normalisation."""
    target = normalise_action(action)
    return bool(target) and any(target == normalise_action(a) for a in admissible)


def judge_action(action: str, admissible: Iterable[str]) -> tuple[bool, bool]:
    """``(blocked, valid)``: blocked = a meta-command the environment refuses; valid = admissible and not blocked.

    The TextWorld-based environments judge validity by the game instead (:func:`game_accepted`); this text
    match is their fallback when the engine does not count moves."""
    blocked = is_meta_command(action)
    return blocked, not blocked and is_admissible(action, admissible)


def game_accepted(moves_before: int | None, moves_after: int | None) -> bool | None:
    """Whether the game carried the command out: TextWorld's move counter advanced (it counts the engine's
    actions: a parser refusal such as "You can't see any such thing", a failed action such as "That's already
    open" or an unmodelled verb leaves it unchanged). None when the engine reports no moves.

    So "take carrot" is valid when the game answers "You take the carrot from the fridge", although only
    "take carrot from fridge" is in the admissible list."""
    if moves_before is None or moves_after is None:
        return None
    return moves_after > moves_before


def filter_admissible(admissible: Sequence[str], hidden: Sequence[str] | None = None) -> list[str]:
    """The admissible actions to show a model: meta-commands and ``hidden`` patterns removed, order kept.

    ``hidden`` is a list of regular expressions matched against the normalised action
    (default :data:`DEFAULT_HIDDEN_ACTIONS`; ``[]`` hides nothing but meta-commands).
    """
    patterns = DEFAULT_HIDDEN_ACTIONS if hidden is None else tuple(hidden)
    return [action for action in admissible if _shown(action, patterns)]


@functools.lru_cache(maxsize=1 << 15)
def _shown(action: str, hidden: tuple[str, ...]) -> bool:
    norm = normalise_action(action)
    return not is_meta_command(norm) and not any(re.search(pattern, norm) for pattern in hidden)

"""Hallucination of a text agent, per turn and as batch rates (pure Python, no torch).

A turn is flagged for:
- fake observation: the reply writes environment-only text (any of the environment's ``markers``,
  case-insensitive; the project's environments carry theirs as ``env.observation_markers``) or keeps
  writing after its closing ``</action>`` tag;
- invalid action: the parsed action is missing or not in the turn's admissible set (turns without a
  known admissible set are left out of this rate);
- ungrounded entity: the action names a word that neither an observation of the episode so far nor
  an admissible command so far has shown (the first word, the verb, and function words are exempt;
  a trailing plural ``s`` is tolerated);
- format error: not exactly one ``<think>...</think>`` followed by one ``<action>...</action>``,
  a spaced closing tag (``< /think>``), or unbalanced ``<``/``>``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from entropy_dynamics.metrics._checks import require

#: words an action may use without any observation having shown them
FUNCTION_WORDS = frozenset(
    {
        *("a", "an", "the", "to", "from", "in", "into", "on", "onto", "with", "at", "of", "and", "or"),
        *("up", "down", "out", "off", "for", "by", "it", "this", "that", "some"),
    }
)

_WORD = re.compile(r"[a-z0-9]+")
_SPACED_CLOSE = re.compile(r"<\s+/|</\s+")


@dataclass(frozen=True)
class TurnRecord:
    """One agent turn, as the hallucination metrics need it.

    Attributes:
        observation: the environment text shown to the agent before this reply.
        reply: the agent's full generated text.
        action: the action parsed from the reply (None if it could not be parsed).
        admissible_actions: the admissible commands at this turn (None if unknown).
        format_ok: whether the reply's format is valid; None = check it with ``check_format``.
        episode_id: turns with the same id form one episode (entity grounding is per episode);
            give each episode's turns in order.
    """

    observation: str
    reply: str
    action: str | None
    admissible_actions: Sequence[str] | None = None
    format_ok: bool | None = None
    episode_id: Hashable = 0


def check_format(reply: str, think_tag: str = "think", action_tag: str = "action") -> bool:
    """True if the reply is exactly one think block followed by one action block, tags well formed."""
    tags = [f"<{think_tag}>", f"</{think_tag}>", f"<{action_tag}>", f"</{action_tag}>"]
    if any(reply.count(tag) != 1 for tag in tags):
        return False
    positions = [reply.index(tag) for tag in tags]
    if positions != sorted(positions):
        return False
    return not _SPACED_CLOSE.search(reply) and reply.count("<") == reply.count(">")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _normalise(action: str) -> str:
    return " ".join(action.lower().split())


def _is_grounded(word: str, vocabulary: set[str]) -> bool:
    return word in vocabulary or (word.endswith("s") and word[:-1] in vocabulary) or f"{word}s" in vocabulary


def _text_after_action(reply: str, action_tag: str) -> str:
    closing = f"</{action_tag}>"
    return reply.split(closing, 1)[1] if closing in reply else ""


def turn_hallucination_flags(
    turn: TurnRecord, vocabulary: set[str], markers: Sequence[str] = (), action_tag: str = "action"
) -> dict[str, bool | None]:
    """Flags of one turn. ``vocabulary``: words the episode's observations/admissible commands have shown.

    Returns ``fake_observation``, ``invalid_action`` (None when the admissible set is unknown),
    ``ungrounded_entity``, ``format_error``.
    """
    reply_lower = turn.reply.lower()
    fake = any(marker.lower() in reply_lower for marker in markers) or bool(
        _text_after_action(turn.reply, action_tag).strip()
    )
    invalid: bool | None = None
    if turn.admissible_actions is not None:
        admissible = {_normalise(action) for action in turn.admissible_actions}
        invalid = turn.action is None or _normalise(turn.action) not in admissible
    ungrounded = False
    if turn.action:
        action_words = _WORD.findall(turn.action.lower())[1:]
        ungrounded = any(not _is_grounded(word, vocabulary) for word in action_words if word not in FUNCTION_WORDS)
    format_ok = turn.format_ok if turn.format_ok is not None else check_format(turn.reply, action_tag=action_tag)
    return {
        "fake_observation": fake,
        "invalid_action": invalid,
        "ungrounded_entity": ungrounded,
        "format_error": not format_ok,
    }


def hallucination_metrics(
    turns: Sequence[TurnRecord], markers: Sequence[str] = (), action_tag: str = "action"
) -> dict[str, float]:
    """Hallucination rates over the turns of a batch (one or many episodes, each in order).

    Args:
        turns: the turns; grounding uses, per ``episode_id``, the observations and admissible
            commands of the episode up to and including each turn.
        markers: environment-only strings (e.g. ``env.observation_markers`` of a project environment).
        action_tag: the name of the action tag in the reply format.

    Returns:
        ``halluc/fake_observation_rate``, ``halluc/invalid_action_rate`` (over turns with a known
        admissible set), ``halluc/ungrounded_entity_rate``, ``halluc/format_error_rate``,
        ``halluc/rate`` (share of turns with any flag); NaN where no turn counts.
    """
    require(all(isinstance(turn, TurnRecord) for turn in turns), "turns must be TurnRecord objects")
    vocabularies: dict[Hashable, set[str]] = {}
    counts = dict.fromkeys(("fake_observation", "invalid_action", "ungrounded_entity", "format_error", "any"), 0)
    invalid_known = 0
    for turn in turns:
        vocabulary = vocabularies.setdefault(turn.episode_id, set())
        vocabulary |= _words(turn.observation)
        for command in turn.admissible_actions or ():
            vocabulary |= _words(command)
        flags = turn_hallucination_flags(turn, vocabulary, markers, action_tag)
        invalid_known += flags["invalid_action"] is not None
        for name, flag in flags.items():
            counts[name] += bool(flag)
        counts["any"] += any(bool(flag) for flag in flags.values())
    total = len(turns)

    def rate(count: int, denominator: int) -> float:
        return count / denominator if denominator else math.nan

    return {
        "halluc/fake_observation_rate": rate(counts["fake_observation"], total),
        "halluc/invalid_action_rate": rate(counts["invalid_action"], invalid_known),
        "halluc/ungrounded_entity_rate": rate(counts["ungrounded_entity"], total),
        "halluc/format_error_rate": rate(counts["format_error"], total),
        "halluc/rate": rate(counts["any"], total),
    }

"""The chat prompt of one agent turn (our own words, in the style of verl-agent's ALFWorld template)."""

from __future__ import annotations

from collections.abc import Sequence

from entropy_dynamics.envs.reply import DEFAULT_FORMAT, ReplyFormat
from entropy_dynamics.errors import ConfigError

SYSTEM_PROMPT = (
    "You are an agent in a text-based world. Each turn you read what you observe, "
    "then pick exactly one of the admissible actions."
)


def format_instruction(fmt: ReplyFormat | None = None) -> str:
    """The sentence that tells the model how to write its reply."""
    fmt = fmt or DEFAULT_FORMAT
    think, action = fmt.think_tag, fmt.action_tag
    act = f"write the action you choose inside <{action}> </{action}>"
    if fmt.require_think:
        return f"First reason briefly about the situation inside <{think}> </{think}>, then {act}."
    return f"You may reason briefly inside <{think}> </{think}>; then {act}."


def build_messages(
    task: str,
    history: Sequence[tuple[str, str]],
    observation: str,
    admissible: Sequence[str],
    history_length: int = 2,
    fmt: ReplyFormat | None = None,
) -> list[dict[str, str]]:
    """The system and user messages of one turn.

    ``history`` holds every earlier (observation, action) pair of the episode, oldest first; the
    prompt shows the last ``history_length`` of them (0 shows none), numbered by their turn.
    The user message holds: the task, the recent history, the current observation, the admissible
    actions, and the required reply format.
    """
    if history_length < 0:
        raise ConfigError(f"history_length must be >= 0, got {history_length}")
    turn = len(history)
    recent = list(history)[max(turn - history_length, 0):] if history_length else []
    parts = [f"Your task: {task}"]
    if recent:
        first = turn - len(recent) + 1
        lines = [f"You have taken {turn} action(s) so far. The last {len(recent)}:"]
        for i, (obs, act) in enumerate(recent, start=first):
            lines.append(f"[Observation {i}: {obs}]\n[Action {i}: {act}]")
        parts.append("\n".join(lines))
    parts.append(f"Current observation (turn {turn + 1}):\n{observation}")
    parts.append("Admissible actions: [" + ", ".join(admissible) + "]")
    parts.append(format_instruction(fmt))
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "\n\n".join(parts)},
    ]

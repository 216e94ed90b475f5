"""The model's reply format: ``<think>...</think><action>...</action>`` (configurable) — parse and render."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from entropy_dynamics.errors import ConfigError

_TAG_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class ReplyFormat:
    """Tags of a reply. ``require_think=False`` makes the think block optional (an absent one is fine)."""

    think_tag: str = "think"
    action_tag: str = "action"
    require_think: bool = True

    def __post_init__(self) -> None:
        for tag in (self.think_tag, self.action_tag):
            if not _TAG_NAME.match(tag):
                raise ConfigError(f"reply format: tag {tag!r} must be a name such as 'think' or 'action'")
        if self.think_tag == self.action_tag:
            raise ConfigError("reply format: the think and action tags must differ")


DEFAULT_FORMAT = ReplyFormat()


@dataclass(frozen=True)
class ParsedReply:
    """What a reply says.

    ``action``: the text inside the first action block, whitespace collapsed (None when there is no
    non-empty action block). ``think``: the first think block, stripped (None when absent).
    ``format_ok``: exactly one think block (when required; at most one otherwise) followed by exactly
    one action block, nothing before the first tag and nothing after ``</action>``.
    ``extra_text``: whatever follows the first ``</action>``, stripped ("" when nothing does).
    """

    action: str | None
    think: str | None
    format_ok: bool
    extra_text: str


@lru_cache(maxsize=16)
def _patterns(fmt: ReplyFormat) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    think = re.compile(rf"<{fmt.think_tag}>(.*?)</{fmt.think_tag}>", re.S)
    action = re.compile(rf"<{fmt.action_tag}>(.*?)</{fmt.action_tag}>", re.S)
    any_tag = re.compile(rf"<\s*/?\s*(?:{fmt.think_tag}|{fmt.action_tag})\s*>")
    return think, action, any_tag


def parse_reply(text: str, fmt: ReplyFormat | None = None) -> ParsedReply:
    """Parse a model reply into its action and think text, and check its format (see :class:`ParsedReply`)."""
    fmt = fmt or DEFAULT_FORMAT
    think_re, action_re, tag_re = _patterns(fmt)
    actions = list(action_re.finditer(text))
    thinks = list(think_re.finditer(text))
    action_match = actions[0] if actions else None
    action = _SPACES.sub(" ", action_match.group(1)).strip() if action_match else ""
    think = thinks[0].group(1).strip() if thinks else None
    extra = text[action_match.end():].strip() if action_match else ""

    ok = action_match is not None and bool(action) and len(actions) == 1 and not extra
    if ok:
        n_think = len(thinks)
        ok = n_think == 1 if fmt.require_think else n_think <= 1
    if ok:
        first = thinks[0] if thinks else action_match
        ok = (not thinks or thinks[0].end() <= action_match.start()) and not text[: first.start()].strip()
        # Anything between the blocks other than whitespace, and stray or spaced tags (``< /think>``),
        # break the format.
        between = text[thinks[0].end(): action_match.start()] if thinks else ""
        ok = ok and not between.strip() and len(tag_re.findall(text)) == 2 * (len(thinks) + 1)
    return ParsedReply(action=action or None, think=think, format_ok=ok, extra_text=extra)


def render_reply(think: str, action: str, fmt: ReplyFormat | None = None) -> str:
    """A well-formed reply: ``<think>think</think>\\n<action>action</action>`` (think left out when empty
    and the format does not require it)."""
    fmt = fmt or DEFAULT_FORMAT
    action_block = f"<{fmt.action_tag}>{action.strip()}</{fmt.action_tag}>"
    if not think.strip() and not fmt.require_think:
        return action_block
    return f"<{fmt.think_tag}>{think.strip()}</{fmt.think_tag}>\n{action_block}"

from __future__ import annotations

import pytest

from entropy_dynamics.envs import ParsedReply, ReplyFormat, parse_reply, render_reply
from entropy_dynamics.errors import ConfigError


def test_well_formed_reply() -> None:
    parsed = parse_reply("<think>The fridge is closed.</think>\n<action>open fridge</action>")
    assert parsed == ParsedReply(action="open fridge", think="The fridge is closed.", format_ok=True,
                                 extra_text="")


def test_action_whitespace_is_collapsed() -> None:
    assert parse_reply("<think>x</think><action>  take \n milk  </action>").action == "take milk"


@pytest.mark.parametrize("text", [
    "",
    "open fridge",
    "<think>only thinking</think>",
    "<think>x</think><action>   </action>",
    "<think>x</think><action>open fridge",
])
def test_unparseable_replies_have_no_action(text: str) -> None:
    parsed = parse_reply(text)
    assert parsed.action is None
    assert parsed.format_ok is False


@pytest.mark.parametrize("text", [
    "<action>open fridge</action>",                                   # think required
    "<action>open fridge</action><think>late</think>",                # wrong order
    "<think>a</think><think>b</think><action>open fridge</action>",   # two thinks
    "<think>a</think><action>open fridge</action><action>go east</action>",
    "Sure! <think>a</think><action>open fridge</action>",             # text before
    "<think>a</think> so <action>open fridge</action>",               # text between
    "<think>a< /think><action>open fridge</action>",                   # spaced closing tag
])
def test_malformed_replies_keep_the_action_but_fail_the_format(text: str) -> None:
    parsed = parse_reply(text)
    assert parsed.action == "open fridge"
    assert parsed.format_ok is False


def test_text_after_the_action_is_extra_text() -> None:
    parsed = parse_reply("<think>a</think><action>go east</action>\nYou arrive in a kitchen.")
    assert parsed.action == "go east"
    assert parsed.extra_text == "You arrive in a kitchen."
    assert parsed.format_ok is False


def test_optional_think_and_custom_tags() -> None:
    fmt = ReplyFormat(think_tag="reason", action_tag="act", require_think=False)
    assert parse_reply("<act>go east</act>", fmt).format_ok
    assert parse_reply("<reason>r</reason><act>go east</act>", fmt) == ParsedReply("go east", "r", True, "")
    assert parse_reply("<think>r</think><action>go east</action>", fmt).action is None


def test_render_then_parse_round_trips() -> None:
    for fmt in (None, ReplyFormat(require_think=False), ReplyFormat("plan", "do")):
        reply = render_reply("I need the milk.", "take milk from fridge", fmt)
        parsed = parse_reply(reply, fmt)
        assert (parsed.action, parsed.format_ok) == ("take milk from fridge", True)
    assert render_reply("", "go east", ReplyFormat(require_think=False)) == "<action>go east</action>"


@pytest.mark.parametrize("kwargs", [dict(think_tag="a b"), dict(think_tag="x", action_tag="x"),
                                    dict(action_tag="")])
def test_bad_formats_are_config_errors(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        ReplyFormat(**kwargs)

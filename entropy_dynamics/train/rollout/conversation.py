"""Conversation prompts (``trajectory_prompts: true``): each turn's prompt is the last turn's prompt, the
reply sampled to it, and one new user message, as token ids.

The first turn is the usual chat-templated system + user message (task, observation, admissible actions,
reply format; no history). Later user messages hold the observation, the admissible actions and the reply
format. Because every prompt extends the previous one token for token, a whole trajectory is one sequence
whose reply tokens are the actions and whose other tokens (prompts, observations) get no loss; the update
can then encode it once (:func:`entropy_dynamics.train.models.prompt_cache.forward_contained`).
"""

from __future__ import annotations

from dataclasses import dataclass

from entropy_dynamics.errors import ConfigError

_REPLY, _USER = "\x01reply\x01", "\x02user\x02"


@dataclass
class TurnTemplate:
    """The chat template's text around a new user message: ``between`` follows the end of the assistant's
    reply (its end-of-turn token included), ``after`` follows the user content (the generation prompt)."""

    between: str
    after: str


def turn_template(tokenizer) -> TurnTemplate:
    """Read :class:`TurnTemplate` off the tokenizer's chat template with marker messages."""
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
                {"role": "assistant", "content": _REPLY}, {"role": "user", "content": _USER}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    end = _REPLY + (tokenizer.eos_token or "")
    if end not in text or _USER not in text:
        raise ConfigError("trajectory_prompts: the chat template does not end assistant turns with the eos token")
    between_start = text.index(end) + len(end)
    user_at = text.index(_USER)
    return TurnTemplate(between=text[between_start:user_at], after=text[user_at + len(_USER):])


def next_turn_ids(tokenizer, template: TurnTemplate, previous_prompt: list[int], reply: list[int],
                  user_content: str) -> list[int]:
    """The next prompt: previous prompt + reply (its end-of-turn token added when it was cut) + the new user
    message and the generation prompt."""
    eos = tokenizer.eos_token_id
    closed = reply if reply and reply[-1] == eos else [*reply, eos]
    tail = tokenizer(template.between + user_content + template.after, add_special_tokens=False)["input_ids"]
    return [*previous_prompt, *closed, *tail]


def later_user_content(first_turn_content: str) -> str:
    """A later turn's user message: the first-turn layout without its leading task paragraph."""
    return first_turn_content.split("\n\n", 1)[-1]

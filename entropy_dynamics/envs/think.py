"""Short templated reasoning for expert actions (the ``<think>`` text of demonstration replies)."""

from __future__ import annotations

import re

# (pattern on the normalised action, template); the first match wins. Groups are named.
_TEMPLATES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), t) for p, t in (
    (r"^inventory$", "First I check what I am carrying."),
    (r"^examine cookbook$", "The recipe is in the cookbook, so I read it."),
    (r"^examine (?P<x>.+)$", "I look closely at the {x}."),
    (r"^look$", "I look around the room again."),
    (r"^go (?P<x>\w+)$", "My goal is not in this room, so I go {x}."),
    (r"^open (?P<x>.+)$", "The {x} is closed; I open it to see what is inside."),
    (r"^unlock (?P<x>.+) with (?P<y>.+)$", "The {x} is locked and I have the {y}, so I unlock it."),
    (r"^take (?P<x>.+) from (?P<y>.+)$", "I need the {x}, and it is in the {y}, so I take it."),
    (r"^take (?P<x>.+)$", "I need the {x}, so I take it."),
    (r"^(?:cook|roast|fry|grill) (?P<x>.+) with (?P<y>.+)$",
     "The recipe wants the {x} cooked; I use the {y}."),
    (r"^(?P<v>chop|slice|dice) (?P<x>.+) with (?P<y>.+)$", "The recipe says to {v} the {x}; I use the {y}."),
    (r"^drop (?P<x>.+)$", "I do not need the {x} now, so I drop it."),
    (r"^prepare meal$", "I have every ingredient ready, so I prepare the meal."),
    (r"^eat meal$", "The meal is ready; eating it completes the task."),
    (r"^(?:put|insert) (?P<x>.+) (?:on|into|in) (?P<y>.+)$", "The task needs the {x} on the {y}."),
    (r"^close (?P<x>.+)$", "I close the {x}."),
))


def expert_think(action: str) -> str:
    """A one-sentence reason for ``action``, from a fixed template per verb (no model involved)."""
    norm = " ".join(action.lower().split())
    for pattern, template in _TEMPLATES:
        match = pattern.match(norm)
        if match:
            return template.format(**match.groupdict())
    return f"The next step towards the goal is to {norm}."

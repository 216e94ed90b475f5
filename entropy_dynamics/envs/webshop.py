"""WebShop (text mode) for users who have installed it with its product data.

Setup: clone https://github.com/princeton-nlp/WebShop, run its ``setup.sh`` (it downloads the product
data and builds the search index), and put the clone on ``PYTHONPATH`` so ``web_agent_site`` imports.
The environment runs WebShop's own in-process text simulator (``WebAgentTextEnv``), as verl-agent does.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from typing import Any

from entropy_dynamics.envs.base import EnvReset, EnvStep
from entropy_dynamics.envs.observation import truncate
from entropy_dynamics.errors import ConfigError, EntropyDynamicsError

INSTALL_HINT = ("clone https://github.com/princeton-nlp/WebShop, run its setup.sh (downloads the product "
                "data) and put the clone on PYTHONPATH")
SEARCH_ACTION = "search[<your query>]"
SEP = " [SEP] "

WEBSHOP_MARKERS = ["[SEP]", "Total results:", "Back to Search", "< Prev", "Next >", "Buy Now",
                   "Instruction:", "Observation:"]

_ACTION = re.compile(r"^\s*(search|click)\[(.*)\]\s*$", re.S | re.I)
_HEADER = ("WebShop", "Instruction:")


def parse_webshop_action(action: str) -> tuple[str, str] | None:
    """``"click[Buy Now]"`` -> ``("click", "buy now")``; ``search[...]`` keeps its query; else None."""
    match = _ACTION.match(action)
    if match is None:
        return None
    kind, argument = match.group(1).lower(), " ".join(match.group(2).split())
    return kind, argument.lower() if kind == "click" else argument


def webshop_admissible(available: Mapping[str, Any]) -> list[str]:
    """WebShop's ``get_available_actions()`` dict -> action strings (``search[<your query>]`` when the
    page has a search bar, ``click[x]`` per clickable; the search button itself is not clickable)."""
    actions = [SEARCH_ACTION] if available.get("has_search_bar") else []
    actions += [f"click[{c}]" for c in available.get("clickables", []) if c != "search"]
    return actions


def webshop_action_valid(action: str, available: Mapping[str, Any]) -> bool:
    """True when WebShop would act on ``action``: a non-empty search on a page with a search bar, or a
    click on one of the page's clickables."""
    parsed = parse_webshop_action(action)
    if parsed is None:
        return False
    kind, argument = parsed
    if kind == "search":
        return bool(available.get("has_search_bar")) and bool(argument)
    clickables = [str(c).lower() for c in available.get("clickables", [])]
    return argument != "search" and argument in clickables


def clean_webshop_observation(text: str, task: str) -> str:
    """Drop the ``WebShop [SEP] Instruction: [SEP] <task>`` header of a text-mode page (the prompt shows
    the task on its own); the rest stays ``[SEP]``-joined."""
    parts = [p.strip() for p in text.split("[SEP]")]
    kept = [p for p in parts if p and p not in _HEADER and p != task.strip()]
    return SEP.join(kept)


class WebShopEnv:
    """WebShop behind the :class:`~entropy_dynamics.envs.base.TextEnv` protocol.

    ``reset(seed)`` opens session ``seed`` (WebShop's goal index). Reward is WebShop's purchase score
    in [0, 1] at the end; ``won`` means a score of 1. No expert demonstrations (``expert_actions`` is []).
    """

    def __init__(self, num_products: int | None = None, human_goals: bool = True, max_steps: int = 15,
                 max_observation_chars: int | None = None):
        if max_steps < 1:
            raise ConfigError(f"webshop: max_steps must be >= 1, got {max_steps}")
        self.name = "webshop"
        self.observation_markers = list(WEBSHOP_MARKERS)
        if importlib.util.find_spec("web_agent_site") is None:
            raise EntropyDynamicsError(f"webshop: the WebShop package `web_agent_site` is not importable; "
                                       f"{INSTALL_HINT}")
        try:
            from web_agent_site.envs.web_agent_text_env import WebAgentTextEnv

            self._web = WebAgentTextEnv(observation_mode="text", num_products=num_products,
                                        human_goals=human_goals)
        except (OSError, FileNotFoundError) as exc:
            raise EntropyDynamicsError(f"webshop: the product data could not be loaded ({exc}); "
                                       f"{INSTALL_HINT}") from None
        self.max_steps = max_steps
        self.max_observation_chars = max_observation_chars
        self._task = ""
        self._score = 0.0
        self._turns = 0
        self._done = True
        self._last_obs = ""
        self._available: dict[str, Any] = {}

    def reset(self, seed: int) -> EnvReset:
        text, _ = self._web.reset(session=seed)
        self._task = self._web.get_instruction_text().removeprefix("Instruction:").strip()
        self._available = self._web.get_available_actions()
        self._score, self._turns, self._done = 0.0, 0, False
        self._last_obs = truncate(clean_webshop_observation(text, self._task), self.max_observation_chars)
        info = {
            "task": self._task,
            "admissible_actions": webshop_admissible(self._available),
            "expert_actions": [],
            "max_score": 1.0,
            "score": 0.0,
            "game_id": f"webshop/{seed}",
            "seed": seed,
        }
        return EnvReset(observation=self._last_obs, info=info)

    def step(self, action: str) -> EnvStep:
        if self._done:
            return EnvStep(self._last_obs, 0.0, True, self._info(False))
        self._turns += 1
        valid = webshop_action_valid(action, self._available)
        text, reward, done, _ = self._web.step(action.strip())
        self._score += float(reward)
        self._available = self._web.get_available_actions()
        truncated = not done and self._turns >= self.max_steps
        self._done = bool(done) or truncated
        self._last_obs = truncate(clean_webshop_observation(text, self._task), self.max_observation_chars)
        info = self._info(valid)
        info["truncated"] = truncated
        return EnvStep(observation=self._last_obs, reward=float(reward), done=self._done, info=info)

    def close(self) -> None:
        self._done = True

    def _info(self, valid: bool) -> dict[str, Any]:
        return {
            "won": self._score >= 1.0,
            "lost": False,
            "action_valid": valid,
            "blocked": False,
            "admissible_actions": webshop_admissible(self._available),
            "score": self._score,
            "max_score": 1.0,
            "turn": self._turns,
        }

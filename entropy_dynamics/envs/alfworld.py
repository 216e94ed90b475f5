"""ALFWorld (text mode) for users who have the ``alfworld`` package and its game data.

Setup: ``pip install alfworld``, then ``alfworld-download`` (fetches the games into ``~/.cache/alfworld``
or ``$ALFWORLD_DATA``). Games are ``game.tw-pddl`` files under ``json_2.1.1/<split>/<task>/<trial>/``,
played through TextWorld's PDDL engine with ALFWorld's name demangler, as ALFWorld itself does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from entropy_dynamics.envs.actions import (
    BLOCKED_MESSAGE,
    filter_admissible,
    first_command,
    game_accepted,
    judge_action,
)
from entropy_dynamics.envs.base import EnvReset, EnvStep
from entropy_dynamics.envs.observation import truncate
from entropy_dynamics.errors import ConfigError, EntropyDynamicsError

SPLITS = {"train": "train", "valid_seen": "valid_seen", "valid_unseen": "valid_unseen"}
DOWNLOAD_HINT = "run `alfworld-download` (from `pip install alfworld`) and set ALFWORLD_DATA to its folder"

ALFWORLD_MARKERS = [
    "You arrive at",
    "Nothing happens.",
    "Your task is to:",
    "Looking quickly around you, you see",
    "you see a",
    "You pick up the",
    "You put the",
    "You open the",
    "You close the",
    "You heat the",
    "You cool the",
    "You clean the",
    "-= Welcome to TextWorld, ALFRED! =-",
]

_WELCOME = re.compile(r"^\s*-= Welcome to TextWorld, ALFRED! =-\s*")
_TASK = re.compile(r"\n*\s*Your task is to:\s*(.+?)\s*$", re.S)


def alfworld_data_dir(data_dir: str | Path | None = None) -> Path:
    """``data_dir``, else ``$ALFWORLD_DATA``, else ALFWorld's default ``~/.cache/alfworld``."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get("ALFWORLD_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "alfworld"


def find_alfworld_games(data_dir: Path, split: str = "train") -> list[Path]:
    """Sorted ``game.tw-pddl`` files of ``split`` (trials with ``traj_data.json``; movable/sliced skipped,
    as ALFWorld does). A missing or empty folder raises a one-line error naming the download step."""
    if split not in SPLITS:
        raise ConfigError(f"alfworld: split must be one of {', '.join(SPLITS)}, not {split!r}")
    root = data_dir / "json_2.1.1" / SPLITS[split]
    if not root.is_dir():
        raise EntropyDynamicsError(f"alfworld: no game data at {root}; {DOWNLOAD_HINT}")
    games = sorted(
        path for path in root.rglob("game.tw-pddl")
        if (path.parent / "traj_data.json").exists()
        and "movable" not in str(path.parent) and "Sliced" not in str(path.parent)
    )
    if not games:
        raise EntropyDynamicsError(f"alfworld: {root} holds no game.tw-pddl files; {DOWNLOAD_HINT}")
    return games


def split_intro(text: str) -> tuple[str, str]:
    """ALFWorld's first observation -> (task, observation): the welcome header and the
    ``Your task is to: ...`` line go; the task is returned on its own."""
    text = _WELCOME.sub("", text)
    match = _TASK.search(text)
    if match is None:
        return "", text.strip()
    return match.group(1).strip(), text[: match.start()].strip()


def read_walkthrough(game_file: Path) -> list[str]:
    """The expert command list stored in a ``game.tw-pddl`` file (``walkthrough`` key), or []."""
    try:
        data = json.loads(game_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EntropyDynamicsError(f"alfworld: cannot read {game_file}: {exc}") from None
    return list(data.get("walkthrough") or [])


class AlfWorldEnv:
    """ALFWorld text games behind the :class:`~entropy_dynamics.envs.base.TextEnv` protocol.

    ``reset(seed)`` plays game ``seed % n_games`` of the split (sorted paths, so fixed). Reward is
    1 on success (ALFWorld's score), else 0. ``expert_next_actions`` carries ALFWorld's handcoded
    expert plan at each turn (``alfworld`` >= 0.4's ``AlfredExpert`` wrapper). Written against
    alfworld 0.4's API; without the data here, only discovery, parsing and the error paths are tested.
    """

    def __init__(self, split: str = "train", data_dir: str | Path | None = None, max_steps: int = 50,
                 hide_actions: Sequence[str] | None = (r"^help$",), max_observation_chars: int | None = None):
        if max_steps < 1:
            raise ConfigError(f"alfworld: max_steps must be >= 1, got {max_steps}")
        self.name = "alfworld"
        self.observation_markers = list(ALFWORLD_MARKERS)
        self.games = find_alfworld_games(alfworld_data_dir(data_dir), split)
        if importlib.util.find_spec("alfworld") is None:
            raise EntropyDynamicsError("alfworld: the `alfworld` package is not installed; "
                                       "`pip install alfworld` (it also needs textworld[pddl])")
        self.max_steps = max_steps
        self.hide_actions = None if hide_actions is None else list(hide_actions)
        self.max_observation_chars = max_observation_chars
        self._tw: Any = None
        self._state: Any = None
        self._turns = 0
        self._done = True
        self._last_obs = ""

    def reset(self, seed: int) -> EnvReset:
        import textworld
        from alfworld.agents.environment.alfred_tw_env import AlfredDemangler, AlfredExpert, AlfredExpertType

        game = self.games[seed % len(self.games)]
        self.close()
        infos = textworld.EnvInfos(won=True, admissible_commands=True, score=True, max_score=True, moves=True,
                                   extras=["walkthrough", "expert_plan"])
        wrappers = [AlfredDemangler(shuffle=False), AlfredExpert(expert_type=AlfredExpertType.HANDCODED)]
        self._tw = textworld.start(str(game), request_infos=infos, wrappers=wrappers)
        state = self._tw.reset()
        task, observation = split_intro(state["feedback"])
        self._state, self._turns, self._done = state, 0, False
        self._last_obs = truncate(observation, self.max_observation_chars)
        info = {
            "task": task,
            "admissible_actions": filter_admissible(state["admissible_commands"] or [], self.hide_actions),
            "all_admissible_actions": list(state["admissible_commands"] or []),
            "expert_actions": list(state.get("extra.walkthrough") or []) or read_walkthrough(game),
            "expert_next_actions": list(state.get("extra.expert_plan") or []),
            "max_score": 1,
            "score": 0,
            "game_id": str(game.parent.relative_to(game.parents[2])),
            "game_file": str(game),
            "seed": seed,
        }
        return EnvReset(observation=self._last_obs, info=info)

    def step(self, action: str) -> EnvStep:
        if self._state is None:
            raise EntropyDynamicsError("alfworld: step() called before reset()")
        before = self._state
        if self._done:
            return EnvStep(self._last_obs, 0.0, True, self._info(before, False, False))
        self._turns += 1
        blocked, valid = judge_action(action, before["admissible_commands"] or [])
        if blocked:
            state, observation = before, BLOCKED_MESSAGE
        else:
            state, _, _ = self._tw.step(first_command(action))
            observation = truncate(state["feedback"].strip(), self.max_observation_chars)
            self._state = state
            accepted = game_accepted(before.get("moves"), state.get("moves"))
            valid = valid if accepted is None else accepted  # the game's verdict, not a text match
        won = bool(state["won"])
        reward = float(won and not before["won"])
        truncated = not won and self._turns >= self.max_steps
        self._done = won or truncated
        self._last_obs = observation
        info = self._info(state, valid, blocked)
        info["truncated"] = truncated
        return EnvStep(observation=observation, reward=reward, done=self._done, info=info)

    def close(self) -> None:
        if self._tw is not None:
            self._tw.close()
        self._tw, self._state, self._done = None, None, True

    def _info(self, state: Any, valid: bool, blocked: bool) -> dict[str, Any]:
        won = bool(state["won"])
        return {
            "won": won,
            "lost": False,
            "action_valid": valid,
            "blocked": blocked,
            "admissible_actions": filter_admissible(state["admissible_commands"] or [], self.hide_actions),
            "all_admissible_actions": list(state["admissible_commands"] or []),
            "expert_next_actions": list(state.get("extra.expert_plan") or []),
            "score": int(won),
            "max_score": 1,
            "turn": self._turns,
        }

"""A TextWorld game behind the :class:`~entropy_dynamics.envs.base.TextEnv` protocol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from entropy_dynamics.envs.observation import clean_observation, compact_cookbook, remove_task, truncate
from entropy_dynamics.envs.textworld_games import default_cache_dir, ensure_game
from entropy_dynamics.envs.textworld_states import GameNode, GameStates, start_textworld
from entropy_dynamics.errors import ConfigError, EntropyDynamicsError

#: Phrases only the TextWorld engine writes.
TEXTWORLD_MARKERS = [
    "-= ",
    " =-",
    "Your score has just gone up",
    "Your score has just gone down",
    "You can't see any such thing",
    "That's not a verb I recognise",
    "You can't go that way",
    "*** The End ***",
    "*** You lost! ***",
    "You scored ",
    "I beg your pardon?",
    "You are carrying:",
    "You are carrying nothing",
    "You open the copy of",
    "Adding the meal to your inventory",
]


class TextWorldEnv:
    """One TextWorld challenge: ``reset(seed)`` plays the game generated for that seed.

    Settings: ``game_settings`` (challenge generator settings, already resolved), ``max_steps``
    (turns before the episode is cut: done with won and lost both False, ``truncated`` True),
    ``hide_actions`` (regex patterns left out of the shown admissible list; None -> default),
    ``max_observation_chars`` (None -> no cut), ``compact`` (shorten cookbook boilerplate),
    ``cache_dir`` (None -> :func:`default_cache_dir`), ``track_expert`` (also give
    ``expert_next_actions`` from TextWorld's planner at each step; slower), ``share_states`` (True: look up
    game states already reached by any TextWorld environment of the process, in ``states`` or the process-wide
    :data:`SHARED_STATES`, and play only new ones, see :mod:`~entropy_dynamics.envs.textworld_states`; False:
    this object runs its own TextWorld game, started anew for every new game; the outputs are the same).
    """

    def __init__(
        self,
        name: str,
        challenge: str,
        game_settings: dict[str, Any],
        *,
        max_steps: int = 50,
        hide_actions: Sequence[str] | None = None,
        max_observation_chars: int | None = None,
        compact: bool = True,
        cache_dir: str | Path | None = None,
        track_expert: bool = False,
        share_states: bool = True,
        states: GameStates | None = None,
    ) -> None:
        if max_steps < 1:
            raise ConfigError(f"{name}: max_steps must be >= 1, got {max_steps}")
        if max_observation_chars is not None and max_observation_chars < 20:
            raise ConfigError(f"{name}: max_observation_chars must be >= 20 or None, "
                              f"got {max_observation_chars}")
        for flag, value in (("compact", compact), ("track_expert", track_expert), ("share_states", share_states)):
            if not isinstance(value, bool):  # "maybe" or 0 would be taken as true or false without a word
                raise ConfigError(f"{name}: {flag} must be true or false, got {value!r}")
        self.name = name
        self.challenge = challenge
        self.game_settings = dict(game_settings)
        self.max_steps = max_steps
        self.hide_actions = None if hide_actions is None else list(hide_actions)
        self.max_observation_chars = max_observation_chars
        self.compact = compact
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.track_expert = track_expert
        self.states = (states or SHARED_STATES) if share_states else None
        self.observation_markers = list(TEXTWORLD_MARKERS)
        self._tw: Any = None
        self._loaded: Path | None = None
        self._state: Mapping[str, Any] | None = None
        self._node: GameNode | None = None
        self._attached = False  # counted in self.states.users
        self._task = ""
        self._turns = 0
        self._done = True
        self._last_obs = ""

    # -- protocol -------------------------------------------------------------------------------

    def reset(self, seed: int) -> EnvReset:
        gamefile = ensure_game(self.challenge, self.game_settings, seed, self.cache_dir)
        state = self._start(gamefile)
        self._state = state
        self._task = (state["objective"] or "").strip()
        self._turns = 0
        self._done = False
        self._last_obs = self._observation(state["feedback"], first=True)
        walkthrough = state.get("extra.walkthrough") or []
        expert = list(walkthrough) or list(state.get("policy_commands") or []) or _quest_commands(gamefile)
        info = {
            "task": self._task,
            "admissible_actions": self._shown(state),
            "all_admissible_actions": list(state["admissible_commands"] or []),
            "expert_actions": expert,
            "max_score": state["max_score"],
            "score": 0,
            "game_id": f"{gamefile.parent.name}/{gamefile.stem}",
            "game_file": str(gamefile),
            "seed": seed,
        }
        if self.track_expert:
            info["expert_next_actions"] = list(state.get("policy_commands") or [])
        return EnvReset(observation=self._last_obs, info=info)

    def step(self, action: str) -> EnvStep:
        if self._state is None:
            raise EntropyDynamicsError(f"{self.name}: step() called before reset()")
        before = self._state
        if self._done:
            return EnvStep(self._last_obs, 0.0, True, self._info(before, valid=False, blocked=False))
        self._turns += 1
        blocked, valid = judge_action(action, before["admissible_commands"] or [])
        if blocked:
            state, reward, observation = before, 0.0, BLOCKED_MESSAGE
        else:
            state = self._play(first_command(action))
            reward = float(state["score"] - before["score"])
            observation = self._observation(state["feedback"], first=False)
            self._state = state
            accepted = game_accepted(before.get("moves"), state.get("moves"))
            valid = valid if accepted is None else accepted  # the game's verdict, not a text match
        finished = bool(state["won"] or state["lost"])
        truncated = not finished and self._turns >= self.max_steps
        self._done = finished or truncated
        self._last_obs = observation
        info = self._info(state, valid=valid, blocked=blocked)
        info["truncated"] = truncated
        return EnvStep(observation=observation, reward=reward, done=self._done, info=info)

    def close(self) -> None:
        if self._tw is not None:
            self._tw.close()
        if self._attached and self.states is not None:
            self.states.detach()
            self._attached = False
        self._tw, self._loaded, self._state, self._node, self._done = None, None, None, None, True

    # -- helpers --------------------------------------------------------------------------------

    def _start(self, gamefile: Path) -> Mapping[str, Any]:
        """The game's state after a reset."""
        if self.states is not None:
            if not self._attached:
                self.states.attach()
                self._attached = True
            self._node = self.states.root(gamefile, self.track_expert)
            return self._node.state
        self._open(gamefile)
        return self._tw.reset()

    def _play(self, command: str) -> Mapping[str, Any]:
        """The game's state after ``command``."""
        if self.states is not None and self._node is not None:
            self._node = self.states.step(self._node, command)
            return self._node.state
        state, _, _ = self._tw.step(command)
        return state

    def _open(self, gamefile: Path) -> None:
        if self._loaded == gamefile:
            return
        self.close()
        self._tw = start_textworld(gamefile, self.track_expert)
        self._loaded = gamefile

    def _observation(self, feedback: str, first: bool) -> str:
        text = clean_observation(feedback or "")
        if first:
            text = remove_task(text, self._task)
        if self.compact:
            text = compact_cookbook(text)
        return truncate(text, self.max_observation_chars)

    def _shown(self, state: Any) -> list[str]:
        return filter_admissible(state["admissible_commands"] or [], self.hide_actions)

    def _info(self, state: Any, valid: bool, blocked: bool) -> dict[str, Any]:
        info = {
            "won": bool(state["won"]),
            "lost": bool(state["lost"]),
            "action_valid": valid,
            "blocked": blocked,
            "admissible_actions": self._shown(state),
            "all_admissible_actions": list(state["admissible_commands"] or []),
            "score": state["score"],
            "max_score": state["max_score"],
            "turn": self._turns,
        }
        if self.track_expert:
            info["expert_next_actions"] = list(state.get("policy_commands") or [])
        return info


#: The game states shared by every TextWorld environment of this process that does not name its own.
SHARED_STATES = GameStates()


def _quest_commands(gamefile: Path) -> list[str]:
    """The winning command sequence stored in the game's ``.json`` (fallback when no walkthrough)."""
    from textworld.generator.game import Game

    game = Game.load(str(gamefile.with_suffix(".json")))
    return list(game.main_quest.commands) if game.main_quest is not None else []

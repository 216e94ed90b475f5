"""TextWorld game states shared by the TextWorld environments of a process: each (game, commands) is played once.

A training step resets several environments on each of its games (a GRPO group), and their trajectories
often send the same commands for several turns; TextWorld spends its time loading games and recomputing the
admissible commands after every command. Here each game is a tree of states: the root is the state after a
reset, a child the state after one more command sent to the game. A state reached before is looked up, not
played. A new one is played on the game's *engine* (one TextWorld environment per game, shared by every
environment object), first brought to the parent state: from the parent's snapshot (the Z-machine's memory,
stack and random generator through jericho's ``get_state``/``set_state``, and the attributes of TextWorld's
wrappers, its game progression copied), else by restoring the nearest ancestor that has one and replaying
the rest of the commands. A replayed state is checked against the stored one (a mismatch means the game is
not deterministic and raises).

Memory is bounded. Engines (~2-3 MB each): at most ``max_engines``; by default ``min_engines`` (8) or as
many as the environment objects using the states, whichever is more (so no more than the old path's one
game per object, and never fewer than the games in play, which would close and replay engines every
turn); the least recently used one is closed and its snapshots dropped. Snapshots (~80 KB each): at most
``max_snapshots`` in all, the least recently used dropped. States (< 8 KB each): at most ``max_nodes`` in
all, the least recently used games' trees dropped whole. With the defaults, besides the engines: at most
~40 MB of snapshots and ~80 MB of states. After the 8 recorded ``cycles_e2_ep15`` steps of
``benchmarks/bench_env_step.py``, 32 environment objects: RSS +120 MB, against +106 MB for the old path.

Not thread-safe: one thread of a process drives its TextWorld environments (as the trainer does).
"""

from __future__ import annotations

import copy
import os
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from entropy_dynamics.errors import EntropyDynamicsError

#: The fields of a TextWorld state that :class:`~entropy_dynamics.envs.textworld_env.TextWorldEnv` reads
#: (lists are kept as tuples, so a stored state cannot be changed by its readers).
STATE_FIELDS = ("feedback", "objective", "score", "max_score", "moves", "won", "lost", "admissible_commands",
                "policy_commands", "extra.walkthrough")


def textworld_infos(track_expert: bool) -> Any:
    """The ``textworld.EnvInfos`` a TextWorld environment asks for (``policy_commands`` with ``track_expert``)."""
    import textworld

    return textworld.EnvInfos(
        admissible_commands=True, won=True, lost=True, score=True, max_score=True, objective=True,
        moves=True, policy_commands=track_expert, extras=["walkthrough"],
    )


def start_textworld(gamefile: Path, track_expert: bool) -> Any:
    """``textworld.start`` on ``gamefile`` with :func:`textworld_infos`, without jericho's support warning."""
    import textworld

    with warnings.catch_warnings():
        # jericho warns that every TextWorld game is "not fully supported" (it means its own score/move
        # detection, which TextWorld replaces): noise on every start.
        warnings.filterwarnings("ignore", message=".*not fully supported.*")
        return textworld.start(str(gamefile), textworld_infos(track_expert))


def light_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`STATE_FIELDS` of a TextWorld state (lists as tuples)."""
    kept = {}
    for key in STATE_FIELDS:
        value = state.get(key)
        kept[key] = tuple(value) if isinstance(value, list) else value
    return kept


@dataclass(eq=False)
class GameNode:
    """One state of one game: the light state after ``path`` (the commands sent since the reset)."""

    tree: GameTree
    state: dict[str, Any]
    path: tuple[str, ...]
    parent: GameNode | None = None
    children: dict[str, GameNode] = field(default_factory=dict)
    snapshot: _Snapshot | None = None


@dataclass(eq=False)
class GameTree:
    """Every state of one game reached so far, and the engine that plays it (None until needed)."""

    key: tuple[Any, ...]
    gamefile: Path
    track_expert: bool
    root: GameNode | None = None
    engine: _Engine | None = None
    nodes: int = 0


@dataclass(eq=False)
class _Snapshot:
    engine: _Engine
    layers: list[dict[str, Any]]


class _Engine:
    """One running TextWorld environment (``textworld.start``'s wrapper chain over jericho) for one game."""

    def __init__(self, tree: GameTree) -> None:
        self.tree = tree
        self.env = start_textworld(tree.gamefile, tree.track_expert)
        # Closed when closed explicitly, collected or at exit, whichever comes first. Never left to garbage
        # collection: jericho's FrotzEnv unloads its library when collected, and a TextWorld JerichoEnv
        # collected after it in the same cycle shuts that library down again: a segmentation fault.
        self._close_env = weakref.finalize(self, self.env.close)
        self.layers: list[Any] = []
        layer = self.env
        while layer is not None:
            self.layers.append(layer)
            layer = vars(layer).get("_wrapped_env")
        self.at: GameNode | None = None  # the node whose state the game is in (None: unknown)

    def reset(self) -> dict[str, Any]:
        self.at = None
        return light_state(self.env.reset())

    def step(self, command: str) -> dict[str, Any]:
        self.at = None
        state, _, _ = self.env.step(command)
        return light_state(state)

    def snapshot(self) -> _Snapshot:
        """The game's current state."""
        return _Snapshot(self, [{k: _frozen(v) for k, v in vars(layer).items() if k != "_wrapped_env"}
                                for layer in self.layers])

    def restore(self, node: GameNode) -> None:
        """Put the game back in ``node``'s state (``node.snapshot`` must be this engine's)."""
        assert node.snapshot is not None and node.snapshot.engine is self
        for layer, saved in zip(self.layers, node.snapshot.layers, strict=True):
            attributes = vars(layer)
            for key, value in saved.items():
                if isinstance(value, _FrotzState):
                    attributes[key].set_state(value.state)  # the engine's own interpreter
                elif isinstance(value, _Progression):
                    attributes[key] = _copy_progression(value.progression)
                else:
                    attributes[key] = value
        self.at = node

    def close(self) -> None:
        self.at = None
        self._close_env()


@dataclass(frozen=True)
class _FrotzState:
    state: tuple[Any, ...]  # jericho.FrotzEnv.get_state()


@dataclass(frozen=True)
class _Progression:
    progression: Any  # textworld GameProgression, never played on


def _copy_progression(progression: Any) -> Any:
    """A GameProgression copy to play on: TextWorld's ``copy()`` recomputes the initial state's valid actions
    (~2 ms) before replacing them; this copies what ``copy()`` copies, without that."""
    fresh = copy.copy(progression)
    fresh.state = progression.state.copy()
    fresh.quest_progressions = [quest.copy() for quest in progression.quest_progressions]
    return fresh


def _frozen(value: Any) -> Any:
    import jericho
    from textworld.generator.game import GameProgression

    if isinstance(value, jericho.FrotzEnv):
        return _FrotzState(value.get_state())
    if isinstance(value, GameProgression):
        return _Progression(_copy_progression(value))
    return value  # the rest is replaced, never changed in place, by TextWorld's step


class GameStates:
    """The state trees of the games played in this process (see the module docstring)."""

    def __init__(self, max_engines: int | None = None, max_snapshots: int = 512, max_nodes: int = 10000,
                 min_engines: int = 8) -> None:
        self.max_engines = max_engines  # None: max(min_engines, self.users)
        self.min_engines = min_engines
        self.max_snapshots = max_snapshots
        self.max_nodes = max_nodes
        self.trees: OrderedDict[tuple[Any, ...], GameTree] = OrderedDict()  # least recently used first
        self.engines: OrderedDict[int, _Engine] = OrderedDict()
        self.snapshots: OrderedDict[int, GameNode] = OrderedDict()  # nodes holding a snapshot
        self.nodes = 0
        self.users = 0  # environment objects using these states (attach / detach)
        self.played = 0  # commands and resets sent to an engine (for tests and benchmarks)

    def root(self, gamefile: Path, track_expert: bool = False) -> GameNode:
        """The state right after a reset of ``gamefile``'s game."""
        stat = os.stat(gamefile)
        key = (str(Path(gamefile).resolve()), stat.st_mtime_ns, stat.st_size, track_expert)
        tree = self.trees.get(key)
        if tree is None:
            tree = self.trees[key] = GameTree(key, Path(gamefile), track_expert)
        self.trees.move_to_end(key)
        if tree.root is None:
            engine = self._engine(tree)
            tree.root = self._add(tree, engine.reset(), (), None)
            self.played += 1
            engine.at = tree.root
            self._snapshot(engine, tree.root)
            self._trim()
        return tree.root

    def step(self, node: GameNode, command: str) -> GameNode:
        """The state after sending ``command`` in ``node``'s state."""
        tree = node.tree
        if tree.key in self.trees:
            self.trees.move_to_end(tree.key)
        child = node.children.get(command)
        if child is not None:
            return child
        engine = self._engine_at(node)
        try:
            state = engine.step(command)
        except BaseException:
            self._close(engine)
            raise
        self.played += 1
        child = self._add(tree, state, (*node.path, command), node)
        engine.at = child
        self._snapshot(engine, child)
        self._trim()
        return child

    def attach(self) -> None:
        """An environment object starts using these states (it may need an engine of its own)."""
        self.users += 1

    def detach(self) -> None:
        """An environment object stopped using these states."""
        self.users = max(self.users - 1, 0)

    def clear(self) -> None:
        """Close every engine and forget every state."""
        for engine in list(self.engines.values()):
            self._close(engine)
        self.trees.clear()
        self.nodes = 0

    # -- helpers --------------------------------------------------------------------------------

    def _add(self, tree: GameTree, state: dict[str, Any], path: tuple[str, ...], parent: GameNode | None) -> GameNode:
        node = GameNode(tree, state, path, parent)
        if parent is not None:
            parent.children[path[-1]] = node
        tree.nodes += 1
        if tree.key in self.trees:
            self.nodes += 1
        return node

    def _engine(self, tree: GameTree) -> _Engine:
        if tree.engine is None:
            tree.engine = _Engine(tree)
            self.engines[id(tree.engine)] = tree.engine
            limit = self.max_engines if self.max_engines is not None else max(self.min_engines, self.users)
            while len(self.engines) > limit:
                self._close(next(iter(self.engines.values())))
        self.engines.move_to_end(id(tree.engine))
        return tree.engine

    def _engine_at(self, node: GameNode) -> _Engine:
        """The game's engine, in ``node``'s state."""
        engine = self._engine(node.tree)
        if engine.at is node:
            return engine
        start = node
        while start is not None and (start.snapshot is None or start.snapshot.engine is not engine):
            start = start.parent
        try:
            if start is None:
                self._replayed(node.tree.root, engine.reset())
                start = node.tree.root
            else:
                engine.restore(start)
                self.snapshots.move_to_end(id(start))
            for command in node.path[len(start.path):]:
                start = start.children[command]
                self._replayed(start, engine.step(command))
        except BaseException:
            self._close(engine)
            raise
        engine.at = node
        return engine

    def _replayed(self, node: GameNode | None, state: dict[str, Any]) -> None:
        self.played += 1
        if node is None or state != node.state:
            raise EntropyDynamicsError(
                f"{node.tree.gamefile if node else 'a TextWorld game'}: replaying the commands "
                f"{list(node.path) if node else []} gave another state than the first time; the game is not "
                "deterministic, so its states cannot be shared (set share_states: false)")

    def _snapshot(self, engine: _Engine, node: GameNode) -> None:
        node.snapshot = engine.snapshot()
        self.snapshots[id(node)] = node
        while len(self.snapshots) > self.max_snapshots:
            _, old = self.snapshots.popitem(last=False)
            old.snapshot = None

    def _close(self, engine: _Engine) -> None:
        for key in [key for key, node in self.snapshots.items() if node.snapshot.engine is engine]:
            self.snapshots.pop(key).snapshot = None
        self.engines.pop(id(engine), None)
        if engine.tree.engine is engine:
            engine.tree.engine = None
        engine.close()

    def _trim(self) -> None:
        while self.nodes > self.max_nodes and len(self.trees) > 1:
            _, tree = self.trees.popitem(last=False)
            self.nodes -= tree.nodes
            if tree.engine is not None:
                self._close(tree.engine)

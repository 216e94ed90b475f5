"""Old import paths of modules that moved, kept working as aliases of the new modules.

``import entropy_dynamics.train.loop`` gives the very module object of ``entropy_dynamics.train.run.loop``
(so patching an attribute through either name patches both). The table is the list of moves; a new move adds
one line here, never a stub file at the old path (which would also hide the move from git's rename detection).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from types import ModuleType

#: old module path -> new module path.
MOVED_MODULES: dict[str, str] = {
    "entropy_dynamics.synthetic": "entropy_dynamics.analysis.synthetic",
    "entropy_dynamics.train.advantages": "entropy_dynamics.train.algorithms.advantages",
    "entropy_dynamics.train.credit": "entropy_dynamics.train.algorithms.credit",
    "entropy_dynamics.train.losses": "entropy_dynamics.train.algorithms.losses",
    "entropy_dynamics.train.seal": "entropy_dynamics.train.algorithms.seal",
    "entropy_dynamics.train.sampling": "entropy_dynamics.train.rollout.sampling",
    "entropy_dynamics.train.games": "entropy_dynamics.train.rollout.games",
    "entropy_dynamics.train.conversation": "entropy_dynamics.train.rollout.conversation",
    "entropy_dynamics.train.loop": "entropy_dynamics.train.run.loop",
    "entropy_dynamics.train.update": "entropy_dynamics.train.run.update",
    "entropy_dynamics.train.batching": "entropy_dynamics.train.run.batching",
    "entropy_dynamics.train.checkpoint": "entropy_dynamics.train.run.checkpoint",
    "entropy_dynamics.train.distributed": "entropy_dynamics.train.run.distributed",
    "entropy_dynamics.train.callbacks": "entropy_dynamics.train.run.callbacks",
    "entropy_dynamics.train.default_callbacks": "entropy_dynamics.train.run.default_callbacks",
    "entropy_dynamics.train.progress": "entropy_dynamics.train.run.progress",
    "entropy_dynamics.train.live_phase": "entropy_dynamics.train.run.live_phase",
    "entropy_dynamics.train.instruments": "entropy_dynamics.train.run.instruments",
    "entropy_dynamics.train.step_metrics": "entropy_dynamics.train.run.step_metrics",
    "entropy_dynamics.train.builder": "entropy_dynamics.train.models.builder",
    "entropy_dynamics.train.tokenizer": "entropy_dynamics.train.models.tokenizer",
    "entropy_dynamics.train.prompt_cache": "entropy_dynamics.train.models.prompt_cache",
    "entropy_dynamics.train.trl_callback": "entropy_dynamics.integrations.trl_callback",
}
"""``entropy_dynamics.train.rollout`` and ``entropy_dynamics.train.models`` are packages now; their
``__init__`` re-exports the names of the old modules (``rollout.play``, ``models.policy``)."""


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves an old path of :data:`MOVED_MODULES` to the module at its new path."""

    def __init__(self) -> None:
        self._specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname not in MOVED_MODULES:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec) -> ModuleType:
        module = importlib.import_module(MOVED_MODULES[spec.name])
        self._specs[module.__name__] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # the import system stamped the alias spec on the shared module: give it back its own
        module.__spec__ = self._specs.pop(module.__name__, module.__spec__)


def install() -> None:
    """Add the finder to ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())

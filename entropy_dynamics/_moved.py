"""Import paths that name a module living elsewhere, kept working as aliases of the real modules.

- Old paths of modules that moved: ``import entropy_dynamics.train.loop`` gives the very module object of
  ``entropy_dynamics.train.run.loop`` (so patching an attribute through either name patches both). The table
  is the list of moves; a new move adds one line here, never a stub file at the old path (which would also hide
  the move from git's rename detection).
- ``entropy_dynamics.cli`` in a source checkout: the CLI's code is the repository's top-level ``cli/`` folder,
  which the wheel installs as ``entropy_dynamics/cli`` (nothing named plain ``cli`` is installed). In a
  checkout without that folder (``PYTHONPATH=.``), the package ``entropy_dynamics.cli`` is loaded from the
  checkout's ``cli/``, so its modules have the same names (``entropy_dynamics.cli.main``) either way. An
  installed package finds its real ``entropy_dynamics/cli`` first: this finder is consulted last.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from pathlib import Path
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
    "entropy_dynamics.train.demo": "entropy_dynamics.workflows.demo",
    "entropy_dynamics.train.tensorboard_sink": "entropy_dynamics.train.run.tensorboard_sink",
    "entropy_dynamics.train.run_phase": "entropy_dynamics.train.run.run_phase",
}
"""``entropy_dynamics.train.rollout`` and ``entropy_dynamics.train.models`` are packages now; their
``__init__`` re-exports the names of the old modules (``rollout.play``, ``models.policy``)."""

#: Packages of the installed layout that a source checkout keeps in a top-level folder: name -> folder.
CHECKOUT_PACKAGES: dict[str, str] = {"entropy_dynamics.cli": "cli"}
CHECKOUT_ROOT = Path(__file__).resolve().parents[1]


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves an old path of :data:`MOVED_MODULES` to the moved module, and finds the checkout's folder of a
    :data:`CHECKOUT_PACKAGES` package."""

    def __init__(self) -> None:
        self._specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname in CHECKOUT_PACKAGES:
            folder = CHECKOUT_ROOT / CHECKOUT_PACKAGES[fullname]
            if not (folder / "__init__.py").is_file():
                return None
            return importlib.util.spec_from_file_location(fullname, folder / "__init__.py",
                                                          submodule_search_locations=[str(folder)])
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

"""Hatchling build hook: the wheel installs the repository's top-level ``cli/`` folder as ``entropy_dynamics/cli``.

Only in a regular wheel: an editable install (``pip install -e .``) puts the checkout on ``sys.path`` and
``entropy_dynamics`` loads its ``cli`` package from ``cli/`` itself (``entropy_dynamics/_moved.py``), so no copy
goes stale. Nothing named plain ``cli`` is installed either way.
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CliAsSubpackage(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name == "wheel" and version == "standard":
            build_data["force_include"]["cli"] = "entropy_dynamics/cli"

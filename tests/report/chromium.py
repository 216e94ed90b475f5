"""Where the browser tests find headless Chromium, and the one line they fail with when there is none."""

from __future__ import annotations

import os
import shutil

#: The set-up step that provides it (README, Quick start; `.ci/run` runs it).
INSTALL = "sudo apt-get install -y chromium"
#: Looked up in this order: $CHROMIUM, then these names on PATH.
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium(environ: dict[str, str] | None = None, path: str | None = None) -> str | None:
    """The first executable Chromium: ``$CHROMIUM`` when set, else the first of :data:`NAMES` on ``path``."""
    environ = os.environ if environ is None else environ
    explicit = environ.get("CHROMIUM")
    if explicit:
        return explicit if os.path.isfile(explicit) and os.access(explicit, os.X_OK) else None
    for name in NAMES:
        found = shutil.which(name, path=path)
        if found:
            return found
    return None


def missing_message() -> str:
    return f"no executable Chromium for the browser tests: install it with `{INSTALL}` (or set CHROMIUM=/path/to/it)"

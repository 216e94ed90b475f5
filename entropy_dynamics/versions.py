"""What produced a log: the versions the header of every log we write records (torch-free)."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import entropy_dynamics

#: Packages whose versions a log header records (None when not installed).
RECORDED_PACKAGES = ("torch", "transformers", "trl")


def run_versions(packages: tuple[str, ...] = RECORDED_PACKAGES) -> dict[str, Any]:
    """``{"python", "entropy_dynamics", <each package>, "git_commit"}``: the commit is this package's
    checkout's HEAD, None when it is not a git checkout (an installed wheel)."""
    versions: dict[str, Any] = {"python": platform.python_version(), "entropy_dynamics": entropy_dynamics.__version__}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    versions["git_commit"] = package_commit()
    return versions


def package_commit() -> str | None:
    """The git commit of the checkout this package is imported from, or None."""
    root = Path(entropy_dynamics.__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None

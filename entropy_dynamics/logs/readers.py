"""Reader registry: pick a reader for a path (auto-detected, or forced with ``format``)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs.model import Run

#: format name -> "module:function"; every function has the signature ``(path, strict) -> list[Run]``.
READERS: dict[str, str] = {
    "jsonl": "entropy_dynamics.logs.jsonl:read_jsonl",
}


def available_formats() -> list[str]:
    return sorted(READERS)


def _load(fmt: str) -> Callable[..., list[Run]]:
    module, func = READERS[fmt].split(":")
    return getattr(importlib.import_module(module), func)


def detect_format(path: str | os.PathLike[str]) -> str:
    """The reader for ``path``, judged from its name and first bytes."""
    p = Path(path)
    if not p.exists():
        raise LogReadError(p, "no such file or folder")
    if p.is_file() and p.stat().st_size == 0:
        raise LogReadError(p, "file is empty")
    if p.suffix == ".jsonl" or p.suffix == ".json" and p.name != "trainer_state.json":
        return "jsonl"
    raise LogReadError(p, f"unknown log format (use --format, one of: {', '.join(available_formats())})")


def read_runs(path: str | os.PathLike[str], format: str | None = None, strict: bool = False) -> list[Run]:
    """Read every run a path holds. ``format`` forces a reader (see :data:`READERS`)."""
    fmt = format or detect_format(path)
    if fmt not in READERS:
        raise LogReadError(path, f"unknown format {fmt!r} (one of: {', '.join(available_formats())})")
    if not str(path).startswith("wandb://") and not Path(path).exists():
        raise LogReadError(path, "no such file or folder")
    try:
        return _load(fmt)(path, strict=strict)
    except LogReadError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise LogReadError(path, f"cannot read: {exc}") from None


def read_many(paths: Iterable[str | os.PathLike[str]], format: str | None = None, strict: bool = False) -> list[Run]:
    """All runs of several paths, in order."""
    runs: list[Run] = []
    for p in paths:
        runs.extend(read_runs(p, format=format, strict=strict))
    return runs

"""Shared CLI plumbing: consoles, JSON output, the one-line error contract."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

#: Human output goes to stdout; progress bars, warnings and errors to stderr.
out = Console()
err = Console(stderr=True)

STATE = {"debug": False}


def fail(message: str, code: int = 2) -> None:
    """Print one error line on stderr and exit (code 2 for bad input)."""
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    err.print(f"warning: {message}", markup=False, highlight=False, soft_wrap=True)


def emit_json(payload: Any, out_file: Path | None = None) -> None:
    """Write ``payload`` as JSON to ``out_file`` or stdout."""
    text = json.dumps(payload, indent=2, default=_default, allow_nan=False)
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def _default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")

"""Shared CLI plumbing: consoles, JSON output, the one-line error contract, safe display of log data."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

#: Human output goes to stdout; progress bars, warnings and errors to stderr.
out = Console()
err = Console(stderr=True)

STATE = {"debug": False}

StepColumnOpt = Annotated[str | None, typer.Option("--step-column", help="The step column of a CSV or Parquet "
                                                   "table (default: step, global_step, ...; e.g. time/iterations).")]

#: Longest run or metric name shown in a terminal table (the JSON output keeps the whole name).
NAME_LIMIT = 120
#: Longest warning or error line (a log's names can be megabytes long).
LINE_LIMIT = 1000

#: C0/C1 control characters, the Unicode bidi overrides and lone surrogates (which no terminal encoding
#: can write): shown escaped, never sent to the terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def clean(text: object, limit: int | None = NAME_LIMIT) -> str:
    """``text`` made safe for a terminal: control characters as ``\\xNN`` escapes, cut to ``limit``
    characters (the middle replaced by ``…``). Markup is not touched: print the result with
    ``markup=False`` or wrap it with :func:`plain`."""
    value = str(text)
    if limit is not None and len(value) > limit:
        keep = limit - 1
        value = value[: keep - keep // 3] + "…" + value[len(value) - keep // 3 :]
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}",
                        value)


def plain(text: object, limit: int | None = NAME_LIMIT, style: str = "") -> Text:
    """Data for a rich table cell or title: never read as markup, control characters escaped."""
    return Text(clean(text, limit), style=style)


def fail(message: str, code: int = 2) -> None:
    """Print one error line on stderr and exit (code 2 for bad input)."""
    err.print(f"error: {clean(message, LINE_LIMIT)}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    err.print(f"warning: {clean(message, LINE_LIMIT)}", markup=False, highlight=False, soft_wrap=True)


def warn_reads(runs: Iterable[Any]) -> None:
    """Print every warning the readers recorded for ``runs`` (what they skipped, where)."""
    for run in runs:
        for message in run.stats.warnings:
            warn(message)


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

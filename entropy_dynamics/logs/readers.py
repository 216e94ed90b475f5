"""Reader registry: pick a reader for a path (auto-detected, or forced with ``format``).

A file's reader is judged from its name and first bytes; a folder is searched for what it holds
(a trainer output dir with ``metrics.jsonl`` or ``trainer_state.json``, a ``wandb/`` dir or W&B
run folder, a TensorBoard log dir), also one or two levels down, so a folder of many runs (e.g.
what ``pull`` writes) gives one run each.
"""

from __future__ import annotations

import csv
import importlib
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs.compressed import gunzipped, is_gzip, named_as
from entropy_dynamics.logs.hf_stdout import SIGNATURE as _HF_LINE
from entropy_dynamics.logs.model import Run
from entropy_dynamics.logs.text import as_utf8, sniff_encoding
from entropy_dynamics.logs.verl_console import SIGNATURE as _VERL_LINE
from entropy_dynamics.logs.wandb_csv import is_wandb_export_header

#: format name -> "module:function"; every function has the signature ``(path, strict) -> list[Run]``.
READERS: dict[str, str] = {
    "jsonl": "entropy_dynamics.logs.jsonl:read_jsonl",
    "verl-console": "entropy_dynamics.logs.verl_console:read_verl_console",
    "wandb-csv": "entropy_dynamics.logs.wandb_csv:read_wandb_csv",
    "csv": "entropy_dynamics.logs.csv_tables:read_csv",
    "parquet": "entropy_dynamics.logs.csv_tables:read_parquet",
    "wandb-offline": "entropy_dynamics.logs.wandb_offline:read_wandb_offline",
    "wandb-api": "entropy_dynamics.logs.wandb_api:read_wandb_api",
    "tensorboard": "entropy_dynamics.logs.tensorboard:read_tensorboard",
    "trainer-state": "entropy_dynamics.logs.trainer_state:read_trainer_state",
    "hf-stdout": "entropy_dynamics.logs.hf_stdout:read_hf_stdout",
}

_PROBE_BYTES = 65536
_FOLDER_DEPTH = 2
_NOTHING_FOUND = f"folder holds no log this tool reads ({_FOLDER_DEPTH} levels down searched)"


def available_formats() -> list[str]:
    return sorted(READERS)


def _load(fmt: str) -> Callable[..., list[Run]]:
    module, func = READERS[fmt].split(":")
    return getattr(importlib.import_module(module), func)


def _unknown(path: Path, why: str) -> LogReadError:
    return LogReadError(path, f"{why} (force a reader with --reader, one of: {', '.join(available_formats())})")


def detect_file_format(p: Path) -> str:
    """The reader for one file, from its name and its first bytes."""
    name, suffix = p.name.lower(), p.suffix.lower()
    if p.stat().st_size == 0:
        raise LogReadError(p, "file is empty")
    if is_gzip(p):
        with gunzipped(p) as inner, named_as(inner, p):
            return detect_file_format(inner)
    with open(p, "rb") as fh:
        head = fh.read(_PROBE_BYTES)
    if head.startswith(b":W&B") or suffix == ".wandb":
        return "wandb-offline"
    if "tfevents" in name:
        return "tensorboard"
    if head.startswith(b"PAR1") or suffix in (".parquet", ".pq"):
        return "parquet"
    if name == "trainer_state.json" or (suffix == ".json" and b'"log_history"' in head):
        return "trainer-state"
    if suffix in (".csv", ".tsv"):
        return _csv_kind(p)
    head = as_utf8(head)[0]  # UTF-16/32 text logs are judged by their text
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if suffix not in (".jsonl", ".json", ".ndjson") and text.startswith(b"{'"):
        return "hf-stdout"  # a Python dict repr, not JSON
    if suffix in (".jsonl", ".json", ".ndjson") or text.startswith(b"{"):
        return "jsonl"
    console = suffix in (".log", ".out", ".txt")
    if _VERL_LINE.search(head) or (console and _has_line(p, _VERL_LINE)):
        return "verl-console"
    if _HF_LINE.search(head) or (console and _has_line(p, _HF_LINE)):
        return "hf-stdout"
    raise _unknown(p, "unknown log format")


def _has_line(p: Path, signature: re.Pattern[bytes]) -> bool:
    """A record line anywhere in a console log (config dumps can fill the first 64 KiB)."""
    with open(p, "rb") as fh:
        if sniff_encoding(fh.read(4096)) != "utf-8-sig":  # UTF-16/32: decode the whole text
            fh.seek(0)
            return signature.search(as_utf8(fh.read())[0]) is not None
        fh.seek(0)
        return any(signature.search(line) for line in fh)


def _csv_kind(p: Path) -> str:
    with open(p, "rb") as fh:
        encoding = sniff_encoding(fh.read(4096))
    with open(p, encoding=encoding, errors="replace") as fh:
        header = fh.readline()
    columns = next(csv.reader([header], delimiter="\t" if p.suffix.lower() == ".tsv" else ","), [])
    return "wandb-csv" if is_wandb_export_header(columns) else "csv"


def _any_file(paths: Iterable[Path]) -> bool:
    """Whether any of ``paths`` is a regular file (a FIFO or socket named like a log would block the read)."""
    return any(p.is_file() for p in paths)


#: Loose files in a folder read as logs of their own: tables and JSON lines always (a broken one is an error naming
#: it); console logs (``.log``, ``.out``, ``.txt``) only when they hold training records (other output is common).
_TABLE_OR_JSONL = (".jsonl", ".ndjson", ".csv", ".tsv", ".parquet", ".pq")
_CONSOLE = (".log", ".out", ".txt")
_SUFFIX_READERS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "csv", ".parquet": "parquet",
                   ".pq": "parquet"}
_RUN_LOGS = ("metrics.jsonl", "metrics.jsonl.gz")


def _loose_logs(folder: Path) -> list[tuple[str, Path]]:
    """``(format, path)`` of the log files lying directly in ``folder`` (not in a run folder)."""
    found: list[tuple[str, Path]] = []
    for f in sorted(folder.iterdir()):
        name = f.name.lower()
        plain = name[:-3] if name.endswith(".gz") else name
        suffix = Path(plain).suffix
        if name.startswith(".") or suffix not in _TABLE_OR_JSONL + _CONSOLE + (".json",) or not f.is_file():
            continue
        try:
            fmt = detect_file_format(f)
        except LogReadError:
            if suffix in _TABLE_OR_JSONL:  # read anyway: the reader's error becomes the warning that skips it
                found.append((_SUFFIX_READERS[suffix], f))
            continue
        if suffix in _TABLE_OR_JSONL:
            found.append((fmt, f))
            continue
        if fmt in ("verl-console", "hf-stdout", "trainer-state"):
            found.append((fmt, f))
    return found


def folder_sources(folder: Path, depth: int = _FOLDER_DEPTH) -> list[tuple[str, Path]]:
    """``(format, path)`` of every log a folder holds; a folder that is one run gives one entry. Run folders are
    searched ``depth`` levels down; the log files lying loose in each folder searched are read too (one run each)."""
    for name in _RUN_LOGS:
        if (folder / name).is_file():
            return [("jsonl", folder / name)]
    if (folder / "trainer_state.json").is_file() or _any_file(folder.glob("checkpoint-*/trainer_state.json")):
        return [("trainer-state", folder)]
    if _any_file(folder.glob("run-*.wandb")) or _any_file(folder.glob("*run-*/run-*.wandb")):
        return [("wandb-offline", folder)]
    if _any_file(folder.glob("*tfevents*")):
        return [("tensorboard", folder)]
    sources: list[tuple[str, Path]] = []
    if depth > 0:
        for child in sorted(c for c in folder.iterdir() if c.is_dir() and not c.name.startswith(".")):
            sources.extend(folder_sources(child, depth - 1))
    if depth == 0 and _any_file(folder.rglob("*tfevents*")):
        return [("tensorboard", folder)]
    return sorted(_loose_logs(folder) + sources, key=lambda source: str(source[1]))


def detect_format(path: str | os.PathLike[str]) -> str:
    """The reader for ``path``, judged from its name and first bytes (a folder: from what it holds)."""
    if str(path).startswith("wandb://"):
        return "wandb-api"
    p = Path(path)
    if not p.exists():
        raise LogReadError(p, "no such file or folder")
    if p.is_dir():
        sources = folder_sources(p)
        if not sources:
            raise _unknown(p, _NOTHING_FOUND)
        return sources[0][0]
    return detect_file_format(p)


#: Readers of tables, which take ``step_column`` (``--step-column``).
TABLE_READERS = ("csv", "parquet")


def read_runs(path: str | os.PathLike[str], format: str | None = None, strict: bool = False,
              step_column: str | None = None) -> list[Run]:
    """Read every run a path holds. ``format`` forces a reader (see :data:`READERS`); ``step_column``
    names the step column of a CSV or Parquet table."""
    try:
        return _read_runs(path, format, strict, step_column)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise LogReadError(getattr(exc, "filename", None) or path, f"cannot read: {reason}") from None


def _read_runs(path: str | os.PathLike[str], format: str | None, strict: bool, step_column: str | None) -> list[Run]:
    if format is not None and format not in READERS:
        raise LogReadError(path, f"unknown format {format!r} (one of: {', '.join(available_formats())})")
    is_uri = str(path).startswith("wandb://")
    if not str(path).strip():  # Path("") is the current folder: an unset shell variable would read all of it
        raise LogReadError("''", "empty path (an unset shell variable?)")
    if not is_uri and not Path(path).exists():
        if Path(path).is_symlink():
            raise LogReadError(path, "a symlink that leads to nothing (its target is missing, or a loop)")
        raise LogReadError(path, "no such file or folder")
    if not is_uri and not Path(path).is_file() and not Path(path).is_dir():
        raise LogReadError(path, "not a regular file or folder (a pipe or a device?); save the log to a file first")
    if is_uri or Path(path).is_file():
        # a gzip file's format is judged inside _read_source, from the one decompressed copy it reads
        deferred = format is None and not is_uri and is_gzip(Path(path))
        sources = [(format or (None if deferred else detect_format(path)), path)]
    elif format is not None and format != "jsonl":
        sources = [(format, path)]
    else:
        sources = folder_sources(Path(path))
        if format is not None:
            sources = [s for s in sources if s[0] == format]
        if not sources:
            raise _unknown(Path(path), _NOTHING_FOUND)
    _check_step_column(path, [fmt for fmt, _ in sources if fmt is not None], step_column)
    if is_uri or Path(path).is_file():
        return _read_source(sources[0][0], sources[0][1], strict, step_column)
    return _read_folder_sources(sources, strict, step_column)


def _check_step_column(path: str | os.PathLike[str], formats: list[str], step_column: str | None) -> None:
    others = sorted(set(formats) - set(TABLE_READERS)) if step_column is not None else []
    if others:
        raise LogReadError(path, f"--step-column applies to CSV and Parquet tables, not {', '.join(others)} logs")


def _read_folder_sources(sources: list[tuple[str, Path]], strict: bool, step_column: str | None) -> list[Run]:
    """The runs of a folder's logs. A loose file that cannot be read (an empty ``notes.jsonl`` beside the run
    folders) is skipped with a warning, unless nothing else reads or ``strict``; run folders always count."""
    runs: list[Run] = []
    skipped: list[LogReadError] = []
    for fmt, source in sources:
        try:
            runs.extend(_read_source(fmt, source, strict, step_column))
        except LogReadError as exc:
            if strict or not Path(source).is_file() or Path(source).name in _RUN_LOGS:
                raise
            skipped.append(exc)
    if skipped and not runs:
        raise skipped[0]
    if skipped:
        runs[0].stats.warnings.extend(f"{exc}; this file skipped" for exc in skipped)
    return runs


def _read_source(fmt: str | None, source: str | os.PathLike[str], strict: bool, step_column: str | None) -> list[Run]:
    """One source through its reader; a gzip file is read as the file it holds (its runs keep the ``.gz`` path
    as their source), decompressed once; ``fmt`` None: judged from that file."""
    path = Path(source)
    if not str(source).startswith("wandb://") and path.is_file() and is_gzip(path):
        notes: list[str] = []
        with gunzipped(path, notes) as inner, named_as(inner, path):
            if strict and notes:
                raise LogReadError(path, "bytes after the compressed data (not gzip)")
            runs = _read_source(fmt, inner, strict, step_column)
        for run in runs:
            run.source = str(source)
            run.stats.warnings = notes + [message.replace(str(inner), str(source)) for message in run.stats.warnings]
        return runs
    if fmt is None:
        fmt = detect_file_format(path)
        _check_step_column(source, [fmt], step_column)
    extra = {"step_column": step_column} if step_column is not None else {}
    return _load(fmt)(source, strict=strict, **extra)


def read_many(paths: Iterable[str | os.PathLike[str]], format: str | None = None, strict: bool = False,
              step_column: str | None = None) -> list[Run]:
    """All runs of several paths, in order; a run reached twice (the same file given twice, or as a file and as
    its folder) is kept once, with a warning on the kept run (``run.stats.warnings``)."""
    return [run for run, _ in read_labelled(((p, None) for p in paths), format, strict, step_column)]


def read_labelled(items: Iterable[tuple[str | os.PathLike[str], Any]], format: str | None = None,
                  strict: bool = False, step_column: str | None = None) -> list[tuple[Run, Any]]:
    """:func:`read_many` for (path, label) pairs: each run with the label of the path it came from."""
    out: list[tuple[Run, Any]] = []
    seen: dict[tuple, Run] = {}
    for p, label in items:
        for run in read_runs(p, format=format, strict=strict, step_column=step_column):
            key = run_identity(run)
            if key in seen:
                seen[key].stats.warnings.append(f"{p}: run {run.name} ({run.source}) was given more than once; "
                                                "it is counted once")
                continue
            seen[key] = run
            out.append((run, label))
    return out


def run_identity(run: Run) -> tuple:
    """What makes two read runs the same run: the source (a local path resolved: symlinks, ``..``) and a hash of
    the metric table (a file holding several runs tells them apart; the name, taken from the path, may differ)."""
    import pandas as pd  # a read run holds a DataFrame already; the import is only deferred for CLI start-up

    where = os.path.realpath(run.source) if os.path.exists(run.source) else run.source
    return where, tuple(run.metrics.columns), int(pd.util.hash_pandas_object(run.metrics).sum())

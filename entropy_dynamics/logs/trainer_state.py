"""HF Trainer ``trainer_state.json`` (TRL and any other ``transformers.Trainer`` run).

Metrics come from ``log_history``: a list of dicts with ``step``. Training and evaluation entries
logged at the same step are merged into one row; the final summary entry (``train_runtime``...)
goes to metadata. Config: the file's other fields, plus a sibling ``config.json`` (the model) and
``training_args.json`` when present (``training_args.bin`` is a pickle and is not read).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs.checks import RecordChecker, reject_record, warn_counts
from entropy_dynamics.logs.jsonl import parse_int as _parse_int
from entropy_dynamics.logs.model import ReadStats, Run, as_step, build_run
from entropy_dynamics.logs.text import as_utf8

FILE_NAME = "trainer_state.json"
_SUMMARY_KEYS = ("train_runtime", "train_samples_per_second", "total_flos")
_NOT_METRICS = {"step", "epoch"}


def find_trainer_state(path: Path) -> Path:
    """``trainer_state.json`` itself, in a folder, or in its last ``checkpoint-N`` subfolder."""
    if path.is_file():
        return path
    if (path / FILE_NAME).is_file():
        return path / FILE_NAME
    checkpoints = [c for c in path.glob(f"checkpoint-*/{FILE_NAME}") if re.fullmatch(r"checkpoint-\d+", c.parent.name)]
    if checkpoints:
        return max(checkpoints, key=lambda c: int(c.parent.name.split("-")[1]))
    raise LogReadError(path, f"no {FILE_NAME} found")


def _read_json(path: Path) -> Any:
    """The file's JSON (UTF-8, or UTF-16/32 with or without a byte-order mark); one-line errors."""
    text = as_utf8(path.read_bytes())[0]
    try:
        return json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise LogReadError(path, f"invalid JSON ({exc.msg})", exc.lineno) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise LogReadError(path, f"invalid JSON ({type(exc).__name__})") from None
    except RecursionError:
        raise LogReadError(path, "invalid JSON (nested too deeply)") from None


_HISTORY_START = re.compile(r'"log_history"\s*:\s*\[')


def _entries_before_the_cut(path: Path) -> list[Any]:
    """The complete ``log_history`` entries of a ``trainer_state.json`` cut short (the Trainer rewrites it in place
    at every save: a crash or a full disk mid-write leaves half a file); empty when there is no such list."""
    text = as_utf8(path.read_bytes())[0].decode("utf-8", errors="replace")
    start = _HISTORY_START.search(text)
    if start is None:
        return []
    decoder = json.JSONDecoder(parse_int=_parse_int)
    entries: list[Any] = []
    position = start.end()
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text) or text[position] == "]":
            return entries
        try:
            entry, position = decoder.raw_decode(text, position)
        except (ValueError, RecursionError):
            return entries
        entries.append(entry)


def _read_state(state_file: Path, stats: ReadStats, strict: bool) -> Any:
    """The state's JSON; a file cut short gives its complete ``log_history`` entries, warned (strict: the error)."""
    try:
        return _read_json(state_file)
    except LogReadError:
        entries = [] if strict else _entries_before_the_cut(state_file)
        if not entries:
            raise
    stats.warn_once("cut", f"{state_file}: not complete JSON (cut short while being written?): the "
                           f"{len(entries)} complete log_history entries before the cut are read, the rest is lost")
    return {"log_history": entries}


def _run_name(state_file: Path) -> str:
    folder = state_file.parent
    if re.fullmatch(r"checkpoint-\d+", folder.name):
        folder = folder.parent
    return folder.name or state_file.stem


def read_trainer_state(path: str | os.PathLike[str], strict: bool = False) -> list[Run]:
    """One run from ``trainer_state.json`` (a file, its folder, or a trainer output dir)."""
    state_file = find_trainer_state(Path(path))
    stats = ReadStats()
    state = _read_state(state_file, stats, strict)
    if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
        raise LogReadError(state_file, "not a trainer_state.json (no 'log_history' list)")
    merged: dict[int, dict[str, Any]] = {}
    order: list[tuple[int, dict[str, Any]]] = []
    summary: dict[str, Any] = {}
    for index, entry in enumerate(state["log_history"]):
        step = as_step(entry.get("step")) if isinstance(entry, dict) else None
        if step is None:
            reject_record(state_file, stats, strict, f"log_history[{index}] has no integer 'step'")
            continue
        if any(k in entry for k in _SUMMARY_KEYS):
            summary = {k: v for k, v in entry.items() if k != "step"}
            continue
        values = {k: v for k, v in entry.items() if k not in _NOT_METRICS}
        row = merged.get(step)
        if row is not None and not (row.keys() & values.keys()) and order and order[-1][0] == step:
            row.update(values)  # eval entry logged right after the train entry of the same step
            continue
        merged[step] = dict(values)
        order.append((step, merged[step]))
    config = {k: v for k, v in state.items() if k not in ("log_history", "best_model_checkpoint")}
    for sibling, key in (("config.json", "model_config"), ("training_args.json", "training_args")):
        candidate = state_file.parent / sibling
        if candidate.is_file():
            try:
                config[key] = _read_json(candidate)
            except LogReadError:
                stats.warn_once("config", f"{candidate}: not valid JSON; ignored")
    if not order:
        raise LogReadError(state_file, "log_history holds no entries with a step")
    checker = RecordChecker(state_file, stats, strict)
    for step, values in order:
        checker.check(step, values, None, where=f"log_history entry of step {step}")
    run = build_run(
        _run_name(state_file),
        str(state_file),
        "trainer-state",
        order,
        stats=stats,
        config=config,
        metadata={"summary": summary},
    )
    warn_counts(run, state_file)
    return [run]

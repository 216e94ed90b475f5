"""W&B run files (``run-<id>.wandb``) read locally, with no server and no wandb private API.

The file is a LevelDB-style record log (wandb 0.31, pinned): a 7-byte header ``:W&B`` + magic
``0xBEE1`` + version, then 32 KiB blocks of chunks, each ``crc32 u32, length u16, type u8`` and
a payload; FULL=1, FIRST=2, MIDDLE=3, LAST=4 chunks assemble one ``wandb_internal_pb2.Record``.
Fewer than 7 bytes left in a block are padding. A run still being written ends in a partial
chunk: reading stops there quietly.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wandb.proto import wandb_internal_pb2

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs.checks import (
    RecordChecker,
    history_values,
    note_corruption,
    reject_record,
    warn_counts,
)
from entropy_dynamics.logs.jsonl import parse_int
from entropy_dynamics.logs.model import ReadStats, Run, as_step, build_run

MAGIC = b":W&B"
_HEADER = 7
_BLOCK = 32768
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def iter_wandb_records(path: Path, stats: ReadStats, strict: bool) -> Iterator[tuple[int, Any]]:
    """``(record_number, Record)`` for every complete record (numbered from 1). A corrupt chunk (bad
    CRC, unknown type, a length that leaves its block) skips to the next 32 KiB block, where chunks
    start afresh; the stretch is reported (``--strict``: an error)."""
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise LogReadError(path, "not a W&B run file (no ':W&B' header)")
    pos, number, pending, orphan = _HEADER, 0, None, False
    while pos + _HEADER <= len(data):
        left_in_block = _BLOCK - pos % _BLOCK
        if left_in_block < _HEADER:
            pos += left_in_block
            continue
        crc, length, kind = struct.unpack_from("<IHB", data, pos)
        if kind == 0 and length == 0 and not data[pos : pos + left_in_block].strip(b"\0"):
            pos += left_in_block  # zero padding up to the end of the block
            continue
        chunk = data[pos + _HEADER : pos + _HEADER + length]
        fits = _HEADER + length <= left_in_block and kind in (_FULL, _FIRST, _MIDDLE, _LAST)
        if fits and len(chunk) < length:
            stats.warn_once("partial", f"{path}: last record incomplete (still being written?); skipped")
            break
        if not fits or zlib.crc32(chunk, zlib.crc32(bytes([kind]))) != crc:
            skip = min(left_in_block, len(data) - pos)
            note_corruption(path, stats, strict, f"corrupt data after record {number} (byte {pos}): {skip} bytes "
                                                 "skipped to the next 32 KiB block")
            pos, pending, orphan = pos + left_in_block, None, True
            continue
        pos += _HEADER + length
        if kind == _FULL:
            payload, orphan = chunk, False
        elif kind == _FIRST:
            pending, orphan = chunk, False
            continue
        elif pending is None:  # MIDDLE/LAST whose FIRST was lost in a corrupt stretch (already reported)
            if not orphan:
                note_corruption(path, stats, strict, f"record continuation without a start at byte {pos}")
            continue
        elif kind == _MIDDLE:
            pending += chunk
            continue
        else:
            payload, pending = pending + chunk, None
        number += 1
        record = wandb_internal_pb2.Record()
        try:
            record.ParseFromString(payload)
        except Exception:
            reject_record(path, stats, strict, f"record {number} does not decode")
            continue
        yield number, record
    if data[pos:].strip(b"\0"):
        stats.warn_once("partial", f"{path}: last record incomplete (still being written?); skipped")


def _items(items: Any) -> dict[str, Any]:
    """``{key: value}`` of a repeated ``HistoryItem`` / ``ConfigItem`` (nested keys joined by "/")."""
    out = {}
    for item in items:
        key = item.key or "/".join(item.nested_key)
        try:
            out[key] = json.loads(item.value_json, parse_int=parse_int)
        except (ValueError, RecursionError):
            out[key] = item.value_json
    return out


def read_wandb_file(path: Path, strict: bool = False) -> Run:
    """One run from its ``.wandb`` file: history rows, config, run name and id."""
    stats = ReadStats()
    checker = RecordChecker(path, stats, strict)
    config: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    records: list[tuple[int, dict[str, Any]]] = []
    finished = False
    for number, record in iter_wandb_records(path, stats, strict):
        kind = record.WhichOneof("record_type")
        if kind == "history":
            row = _items(record.history.item)
            step = as_step(row.get("_step", record.history.step.num))
            if step is None:
                reject_record(path, stats, strict, f"record {number}: history row has no integer _step")
                continue
            values = history_values(row)
            checker.check(step, values, None, where=f"record {number}")
            records.append((step, values))
        elif kind == "run":
            run = record.run
            meta.update(
                run_id=run.run_id,
                display_name=run.display_name,
                project=run.project,
                entity=run.entity,
                group=run.run_group,
                tags=list(run.tags),
            )
            config.update(_items(run.config.update))
        elif kind == "config":
            config.update(_items(record.config.update))
        elif kind == "summary":
            summary.update(_items(record.summary.update))
        elif kind == "exit":
            finished = True
    config.pop("_wandb", None)
    if not records and not meta:
        raise LogReadError(path, "no W&B run or history records found")
    meta["finished"] = finished
    meta["summary"] = {
        k: v for k, v in summary.items() if not k.startswith("_") and isinstance(v, (int, float)) and math.isfinite(v)
    }
    name = meta.get("display_name") or meta.get("run_id") or path.stem
    run = build_run(str(name), str(path), "wandb-offline", records, stats=stats, config=config, metadata=meta)
    warn_counts(run, path)
    return run


def find_run_files(path: Path) -> list[Path]:
    """The ``.wandb`` files under a file, a run folder, a ``wandb/`` folder or a folder holding one."""
    if path.is_file():
        return [path]
    direct = sorted(f for f in path.glob("run-*.wandb") if f.is_file())  # not a FIFO: reading one would block
    if direct:
        return direct[-1:]  # one run folder = one run; several files only if wandb was restarted in it
    files = sorted(f for f in path.glob("*run-*/run-*.wandb") if f.is_file())
    if not files and (path / "wandb").is_dir():
        files = sorted(f for f in (path / "wandb").glob("*run-*/run-*.wandb") if f.is_file())
    return [f for f in files if f.parent.name != "latest-run"]


def read_wandb_offline(path: str | os.PathLike[str], strict: bool = False) -> list[Run]:
    """Every run under ``path`` (see :func:`find_run_files`), one :class:`Run` each."""
    path = Path(path)
    files = find_run_files(path)
    if not files:
        raise LogReadError(path, "no W&B run files (run-*.wandb) found")
    runs = [read_wandb_file(f, strict) for f in files]
    if path.is_dir():
        others = [f for f in path.glob("run-*.wandb") if f.is_file() and f != files[0]]
        if others:  # one run folder is one run: say which file was read and that others were left
            runs[0].stats.warn_once("other-run-files", f"{path}: read {files[0].name}, the newest of "
                                    f"{len(others) + 1} run files; pass a file to read another")
    return runs

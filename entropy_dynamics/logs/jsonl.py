"""Our JSONL metric log: the writer the trainer uses, and the reader for it and verl's JSONL.

Format (``docs/log-format.md``): one JSON object per line with a ``type`` of ``header``,
``metrics``, ``event`` or ``samples``. The reader also accepts flat lines ``{"step": N, name: value}``
and verl's file logger lines ``{"step": N, "data": {...}}``.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs.checks import RecordChecker, reject_record, warn_counts
from entropy_dynamics.logs.csv_tables import STEP_COLUMNS
from entropy_dynamics.logs.model import ReadStats, Run, as_step, build_run, step_problem
from entropy_dynamics.logs.text import as_utf8

_RESERVED = {"type", "step", "time", "_step", "_timestamp", "_runtime", "elapsed_seconds", "timestamp"}


def finite_or_none(value: Any) -> Any:
    """Replace NaN/inf by None (JSON has neither), recursively through dicts, lists and tuples."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    """Serialise numpy/torch scalars and paths."""
    if hasattr(value, "item"):
        return finite_or_none(value.item())
    if isinstance(value, Path):
        return str(value)
    return str(value)


class MetricLogWriter:
    """Appends records to a JSONL metric log, flushing after every line.

    A crash loses at most the line being written; a trailing partial line left by an earlier crash
    is cut off when the writer opens the file, so appended records always start on a new line.

    Example::

        with MetricLogWriter("runs/a/metrics.jsonl") as log:
            log.header("a", config={"lr": 1e-4}, versions={"python": "3.11"})
            log.metrics(1, {"policy/entropy": 0.4})
    """

    def __init__(self, path: str | os.PathLike[str], fsync: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        _cut_partial_tail(self.path)
        self._fh: IO[str] = open(self.path, "a", encoding="utf-8")  # noqa: SIM115

    def write(self, record: Mapping[str, Any]) -> None:
        """Write one record as a line and flush it."""
        line = json.dumps(finite_or_none(dict(record)), default=_json_default, ensure_ascii=False, allow_nan=False)
        self._fh.write(line + "\n")
        self._fh.flush()
        if self.fsync:
            os.fsync(self._fh.fileno())

    def header(
        self,
        run: str,
        config: Mapping[str, Any],
        versions: Mapping[str, Any],
        resumed_from_step: int | None = None,
        **extra: Any,
    ) -> None:
        """The header record; ``extra`` fields (e.g. ``source``, ``metadata`` of a pulled run) follow the contract's."""
        self.write({
            "type": "header", "run": run, "config": dict(config), "versions": dict(versions),
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "resumed_from_step": resumed_from_step, **extra,
        })

    def metrics(self, step: int, metrics: Mapping[str, Any], wall_time: float | None = None) -> None:
        self.write({"type": "metrics", "step": int(step), "time": time.time() if wall_time is None else wall_time,
                    "metrics": dict(metrics)})

    def event(self, step: int, event: str, **fields: Any) -> None:
        self.write({"type": "event", "step": int(step), "event": event, **fields})

    def samples(self, step: int, trajectories: list[dict[str, Any]]) -> None:
        self.write({"type": "samples", "step": int(step), "trajectories": trajectories})

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> MetricLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _cut_partial_tail(path: Path) -> None:
    """Remove a trailing line that has no newline (a write interrupted by a crash)."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 1))
        if fh.read(1) == b"\n":
            return
        # Scan backwards for the last newline.
        pos, chunk = size, 65536
        while pos > 0:
            start = max(0, pos - chunk)
            fh.seek(start)
            block = fh.read(pos - start)
            idx = block.rfind(b"\n")
            if idx >= 0:
                fh.truncate(start + idx + 1)
                return
            pos = start
        fh.truncate(0)


def truncate_after_step(path: str | os.PathLike[str], step: int) -> int:
    """Drop every record whose ``step`` is greater than ``step`` (used when resuming from a
    checkpoint older than the log's end). Returns the number of lines removed."""
    path = Path(path)
    if not path.exists():
        return 0
    _cut_partial_tail(path)
    kept, removed = [], 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                rec_step = json.loads(line).get("step")
            except (json.JSONDecodeError, AttributeError):
                rec_step = None
            if isinstance(rec_step, int) and rec_step > step:
                removed += 1
            else:
                kept.append(line)
    if removed:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text("".join(kept), encoding="utf-8")
        os.replace(tmp, path)
    return removed


def _flatten(values: dict[str, Any]) -> dict[str, Any]:
    """Nested dicts become ``outer/inner`` keys; a flat dict is returned as is (the common case).
    Iterative, so a hostile nesting depth cannot exhaust the stack."""
    if not any(isinstance(v, dict) for v in values.values()):
        return values
    out: dict[str, Any] = {}
    stack = [("", iter(values.items()))]
    while stack:
        prefix, items = stack[-1]
        for key, value in items:
            if isinstance(value, dict):
                stack.append((f"{prefix}{key}/", iter(value.items())))
                break
            out[f"{prefix}{key}"] = value
        else:
            stack.pop()
    return out


def iter_jsonl_records(path: Path, strict: bool, stats: ReadStats) -> Iterator[tuple[int, dict[str, Any]]]:
    """Parsed JSON objects with their 1-based line numbers. A final line without a newline that
    does not parse is a write in progress: skipped silently. Bad lines elsewhere are counted (or
    raise in strict mode). Lines may end in ``\\n``, ``\\r\\n`` or ``\\r``; UTF-16/32 files are decoded."""
    with open(path, "rb") as fh:
        data = as_utf8(fh.read())[0]
    numbered = [(i, raw) for i, raw in enumerate(data.splitlines(), start=1) if raw.strip()]
    if numbered and not data.endswith((b"\n", b"\r")):
        tail_number, tail = numbered[-1]
        if _decode(tail)[1] is not None:
            stats.warn_once("partial", f"{path}:{tail_number}: trailing partial line skipped (still being written?)")
            numbered.pop()
    for i, obj in _parse_lines(path, numbered, strict, stats):
        if not isinstance(obj, dict):
            reject_record(path, stats, strict, "line is not a JSON object", i)
            continue
        yield i, obj


#: Integers longer than this are read as floats (Python refuses to parse ints over 4300 digits).
_INT_DIGITS = 300


def parse_int(text: str) -> int | float:
    """``json.loads``'s ``parse_int``: an integer, or a float (inf when out of range) when too long."""
    return int(text) if len(text) <= _INT_DIGITS else float(text)


def _decode(raw: bytes) -> tuple[Any, str | None]:
    """One line's JSON value and ``None``, or ``None`` and why it does not parse. Huge integers become
    floats (inf beyond float range); nesting too deep for the parser is an error, not a crash."""
    try:
        return json.loads(raw, parse_int=parse_int), None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        return None, getattr(exc, "msg", None) or type(exc).__name__
    except RecursionError:
        return None, "nested too deeply"


def _parse_lines(
    path: Path, numbered: list[tuple[int, bytes]], strict: bool, stats: ReadStats
) -> Iterator[tuple[int, Any]]:
    """Decode all lines in one ``json.loads`` call (fast); when some line is corrupt, line by line."""
    try:
        parsed = json.loads(b"[" + b",".join(raw for _, raw in numbered) + b"]")
    except (ValueError, RecursionError, UnicodeDecodeError):
        parsed = None
    if parsed is not None and len(parsed) == len(numbered):
        yield from zip((i for i, _ in numbered), parsed, strict=True)
        return
    for i, raw in numbered:
        obj, problem = _decode(raw)
        if problem is not None:
            reject_record(path, stats, strict, f"corrupt JSON line ({problem})", i)
            continue
        yield i, obj


def _other_step_key(obj: dict[str, Any]) -> str | None:
    """The step key of a flat line without ``step``/``_step``: the first name a CSV's step column may have
    (``global_step``, ``iteration``, ... any case), as in a table."""
    lowered = {str(k).lower(): k for k in obj}
    return next((lowered[name] for name in STEP_COLUMNS if name in lowered), None)


def read_jsonl(path: str | os.PathLike[str], strict: bool = False) -> list[Run]:
    """Read our JSONL metric log, or a verl / flat JSONL log, into one :class:`Run`."""
    path = Path(path)
    stats = ReadStats()
    header: dict[str, Any] = {}
    resumes: list[int | None] = []
    events: list[dict[str, Any]] = []
    samples: list[dict[str, Any]] = []
    records: list[tuple[int, dict[str, Any]]] = []
    kinds: set[str] = set()
    checker = RecordChecker(path, stats, strict, allow_null=True)
    for lineno, obj in iter_jsonl_records(path, strict, stats):
        kind = obj.get("type")
        if kind == "header":
            if not header:
                header = obj
            resumes.append(obj.get("resumed_from_step"))
            kinds.add("ours")
            continue
        raw_step = obj.get("step", obj.get("_step"))
        step_key = _other_step_key(obj) if raw_step is None and kind is None and "data" not in obj else None
        if step_key is not None:
            raw_step = obj[step_key]
        step = as_step(raw_step)
        if step is None:
            reject_record(path, stats, strict, step_problem(raw_step), lineno, "nostep")
            continue
        if kind == "event":
            events.append(obj)
            continue
        if kind == "samples":
            samples.append(obj)
            continue
        if kind == "metrics":
            kinds.add("ours")
            values = obj.get("metrics") or {}
        elif isinstance(obj.get("data"), dict):
            kinds.add("verl")
            values = obj["data"]
        else:
            kinds.add("flat")
            values = {k: v for k, v in obj.items() if k not in _RESERVED and k != step_key}
        if not isinstance(values, dict):
            reject_record(path, stats, strict, f"'metrics' is not a JSON object (got {type(values).__name__})", lineno)
            continue
        flat = _flatten(values)
        checker.check(step, flat, lineno)
        records.append((step, flat))
    if not records and not header and not events:
        why = f"{stats.bad_lines} unusable lines; --strict names the first" if stats.bad_lines else "empty file?"
        raise LogReadError(path, f"no metric records found ({why})")
    reader = "jsonl" if "ours" in kinds else ("verl-jsonl" if "verl" in kinds else "flat-jsonl")
    name = header.get("run") or (path.parent.name if path.name == "metrics.jsonl" else path.stem)
    metadata = {k: header[k] for k in ("versions", "created", "source") if k in header}
    config = header.get("config") or {}
    if not isinstance(config, dict):
        stats.warn_once("config", f"{path}: the header's 'config' is a {type(config).__name__}, not an object; ignored")
        config = {}
    run = build_run(
        str(name), str(path), reader, records, stats=stats,
        config=config,
        metadata=metadata | {"resumed_from_step": resumes[1:]},
        events=events, samples=samples,
    )
    warn_counts(run, path)
    return [run]

"""W&B runs through the public API (``wandb.Api``): complete history, and ``pull`` to our JSONL.

History comes from ``run.scan_history(page_size=...)``, which pages through every row; the
sampled ``run.history()`` (500 rows) is never used. The API object is created by
:data:`API_FACTORY` -- the one seam where tests put a fake API (no W&B server is reachable in CI).
The few methods used: ``api.run(path)``, ``api.runs(path, filters=, per_page=)``, and on a run
``id``, ``name``, ``config``, ``lastHistoryStep``, ``scan_history(page_size=)``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs.checks import RecordChecker, history_values, reject_record, warn_counts
from entropy_dynamics.logs.jsonl import MetricLogWriter
from entropy_dynamics.logs.model import ReadStats, Run, as_step, build_run

SCHEME = "wandb://"
_URL = re.compile(r"^https?://[^/]+/(?P<entity>[^/]+)/(?P<project>[^/]+)(?:/runs/(?P<run>[^/?#]+))?")


def _wandb_api() -> Any:
    import wandb

    return wandb.Api(timeout=60)


#: Creates the W&B API object. The single test seam: tests replace it with a fake API factory.
API_FACTORY: Callable[[], Any] = _wandb_api


def parse_target(target: str) -> tuple[str, str, str | None]:
    """``wandb://entity/project[/run_id]``, ``entity/project[/run_id]`` or a wandb.ai run URL ->
    ``(entity, project, run_id or None)``."""
    url = _URL.match(target)
    if url:
        return url["entity"], url["project"], url["run"]
    parts = [p for p in target.removeprefix(SCHEME).strip("/").split("/") if p]
    if len(parts) == 4 and parts[2] == "runs":
        parts = [parts[0], parts[1], parts[3]]
    if len(parts) not in (2, 3):
        raise LogReadError(target, "expected wandb://ENTITY/PROJECT or wandb://ENTITY/PROJECT/RUN_ID")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


def _call(target: str, what: str, func: Callable[[], Any]) -> Any:
    """Run one API call; any failure (network, auth, unknown run) becomes a one-line error."""
    try:
        return func()
    except LogReadError:
        raise
    except Exception as exc:
        message = " ".join(str(exc).split())[:200]
        raise LogReadError(target, f"W&B API: {what} failed: {type(exc).__name__}: {message}") from None


def list_api_runs(target: str, filters: dict[str, Any] | None = None, api: Any = None) -> list[Any]:
    """The API run objects a target names: one run, or every run of a project matching ``filters``."""
    entity, project, run_id = parse_target(target)
    api = api if api is not None else _call(target, "connecting", API_FACTORY)
    if run_id is not None:
        return [_call(target, "fetching the run", lambda: api.run(f"{entity}/{project}/{run_id}"))]
    runs = _call(
        target, "listing runs", lambda: list(api.runs(f"{entity}/{project}", filters=filters or {}, per_page=100))
    )
    if not runs:
        raise LogReadError(target, f"no runs match (filters: {filters or {}})")
    return runs


def fetch_history(api_run: Any, target: str, page_size: int, strict: bool, progress: Progress) -> Run:
    """One run's complete history (``scan_history``) as a :class:`Run` with its config."""
    run_id = str(getattr(api_run, "id", "run"))
    entity, project, _ = parse_target(target)
    source = f"{SCHEME}{entity}/{project}/{run_id}"
    stats = ReadStats()
    checker = RecordChecker(source, stats, strict)
    last = getattr(api_run, "lastHistoryStep", None)
    task = progress.add_task(f"W&B {run_id}", total=(last + 1) if isinstance(last, int) and last >= 0 else None)
    records: list[tuple[int, dict[str, Any]]] = []

    def scan() -> None:
        for index, row in enumerate(api_run.scan_history(page_size=page_size), start=1):
            step = as_step(row.get("_step"))
            if step is None:
                reject_record(source, stats, strict, f"history row {index} has no integer _step")
                continue
            values = history_values(row)
            checker.check(step, values, None, where=f"history row {index}")
            records.append((step, values))
            progress.update(task, completed=index)

    _call(source, "scanning history", scan)
    config = {k: v for k, v in dict(getattr(api_run, "config", {}) or {}).items() if not k.startswith("_")}
    meta = {"run_id": run_id, "state": getattr(api_run, "state", None), "url": getattr(api_run, "url", None)}
    run = build_run(
        str(getattr(api_run, "name", None) or run_id),
        source,
        "wandb-api",
        records,
        stats=stats,
        config=config,
        metadata=meta,
    )
    warn_counts(run, source)
    return run


def fetch_runs(
    target: str,
    filters: dict[str, Any] | None = None,
    *,
    api: Any = None,
    page_size: int = 1000,
    strict: bool = False,
    show_progress: bool = True,
) -> list[Run]:
    """Complete history of every run a target names, with a progress bar on stderr."""
    api_runs = list_api_runs(target, filters, api)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    console = Console(stderr=True)  # no bar off a terminal: rich would end it with a blank line
    with Progress(*columns, console=console, transient=True,
                  disable=not show_progress or not console.is_terminal) as progress:
        return [fetch_history(r, target, page_size, strict, progress) for r in api_runs]


def read_wandb_api(path: str | os.PathLike[str], strict: bool = False) -> list[Run]:
    """Reader-registry entry for ``wandb://ENTITY/PROJECT[/RUN_ID]``."""
    return fetch_runs(str(path), strict=strict)


def write_run_jsonl(run: Run, path: Path) -> int:
    """Save a run as our JSONL metric log (header with config, one ``metrics`` line per step,
    metrics under their names in the source). Overwrites ``path``. Returns the lines written."""
    if path.exists():
        path.unlink()
    source_of = {col: run.source_names.get(col, col) for col in run.metrics.columns}
    frame = run.metrics.rename(columns=source_of)
    names = list(frame.columns)
    with MetricLogWriter(path) as log:
        log.header(run.name, config=run.config, versions={}, source=run.source, metadata=run.metadata)
        for step, row in zip(frame.index.tolist(), frame.to_numpy().tolist(), strict=True):
            log.write(
                {
                    "type": "metrics",
                    "step": int(step),
                    "time": None,
                    "metrics": {n: v for n, v in zip(names, row, strict=True) if not math.isnan(v)},
                }
            )
    return len(frame) + 1


def pull(
    target: str,
    out_dir: str | os.PathLike[str],
    filters: dict[str, Any] | None = None,
    *,
    api: Any = None,
    page_size: int = 1000,
    show_progress: bool = True,
) -> list[tuple[Run, Path]]:
    """Fetch runs and save each as ``out_dir/<folder>/metrics.jsonl``, one folder per run (see
    :func:`run_folder`). Output path problems are :class:`LogReadError` (one line), checked before fetching."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise LogReadError(out, "--out must be a folder, and this is a file")
    runs = fetch_runs(target, filters, api=api, page_size=page_size, show_progress=show_progress)
    written: list[tuple[Run, Path]] = []
    taken: set[str] = set()
    for run in runs:
        folder = out / run_folder(str(run.metadata.get("run_id") or run.name), taken)
        taken.add(folder.name.casefold())
        if folder.exists() and not (folder / "metrics.jsonl").exists() and any(folder.iterdir()):
            raise LogReadError(folder, "exists and is not a pulled run folder; choose another --out")
        if (folder / "metrics.jsonl").is_file() and _pulled_source(folder / "metrics.jsonl") not in (None, run.source):
            raise LogReadError(folder, f"holds another pulled run ({_pulled_source(folder / 'metrics.jsonl')}); "
                                       "choose another --out")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_run_jsonl(run, folder / "metrics.jsonl")
        except OSError as exc:
            raise LogReadError(exc.filename or folder, f"cannot write: {exc.strerror or type(exc).__name__}") from None
        written.append((run, folder / "metrics.jsonl"))
    return written


def run_folder(run_id: str, taken: set[str]) -> str:
    """A folder name for a run id that no other run of the pull shares: the id itself when it is a safe
    file name, else its safe form plus 8 hex digits of its hash (``a/b`` -> ``a_b-<hash>``, never ``a_b``).
    ``taken`` holds the case-folded names already used (case-insensitive file systems)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", run_id).strip("._")[:100] or "run"
    if safe == run_id and safe.casefold() not in taken:
        return safe
    return f"{safe}-{hashlib.sha1(run_id.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def _pulled_source(path: Path) -> str | None:
    """The ``source`` in the header of a log ``pull`` wrote (None when it has none)."""
    try:
        with open(path, encoding="utf-8") as fh:
            header = json.loads(fh.readline() or "{}")
    except (OSError, ValueError):
        return None
    return header.get("source") if isinstance(header, dict) else None

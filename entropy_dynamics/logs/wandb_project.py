"""Every run of a W&B project, pulled in parallel into a local cache.

One ``api.runs`` call lists the project; each run's complete history (``scan_history``, see
:mod:`entropy_dynamics.logs.wandb_api`) is then fetched by a pool of threads (the work is network-bound), with one
progress bar over the runs. Each fetched run is cached as our JSONL log, ``<cache>/<entity>/<project>/<id>.jsonl``,
beside ``<id>.json`` holding the run's W&B source, ``lastHistoryStep`` and ``state``: a later call reads a run from
the cache when both are unchanged (a finished run is never fetched twice) and fetches it again otherwise.
"""

from __future__ import annotations

import dataclasses
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from entropy_dynamics.logs.model import Run
from entropy_dynamics.logs.readers import read_runs
from entropy_dynamics.logs.wandb_api import (
    SCHEME,
    fetch_history,
    list_api_runs,
    parse_target,
    run_folder,
    write_run_jsonl,
)

#: Where pulled runs are cached unless told otherwise.
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "entropy-dynamics" / "wandb"


def _cache_key(api_run: Any) -> dict[str, Any]:
    return {"last_history_step": getattr(api_run, "lastHistoryStep", None), "state": getattr(api_run, "state", None)}


class RunCache:
    """Pulled runs of one project under ``root/<entity>/<project>``; ``root=None`` caches nothing."""

    def __init__(self, root: str | os.PathLike[str] | None, entity: str, project: str) -> None:
        self.folder = None if root is None else Path(root) / run_folder(entity, set()) / run_folder(project, set())

    def _paths(self, run_id: str) -> tuple[Path, Path]:
        assert self.folder is not None
        stem = run_folder(run_id, set())
        return self.folder / f"{stem}.jsonl", self.folder / f"{stem}.json"

    def get(self, api_run: Any) -> Run | None:
        """The cached run when its W&B ``lastHistoryStep`` and ``state`` are the cached ones, else None."""
        if self.folder is None:
            return None
        log, meta_path = self._paths(str(api_run.id))
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            return None
        if meta.get("key") != _cache_key(api_run) or not log.is_file():
            return None
        run = read_runs(log, format="jsonl")[0]
        return dataclasses.replace(run, source=meta["source"], reader="wandb-api",
                                   metadata={**run.metadata, **meta["metadata"], "cached": str(log)})

    def put(self, api_run: Any, run: Run) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        log, meta_path = self._paths(str(api_run.id))
        write_run_jsonl(run, log)
        meta = {"source": run.source, "key": _cache_key(api_run), "metadata": run.metadata}
        meta_path.write_text(json.dumps(meta, default=str))


def fetch_project(
    target: str,
    filters: dict[str, Any] | None = None,
    *,
    api: Any = None,
    jobs: int = 16,
    cache: str | os.PathLike[str] | None = DEFAULT_CACHE,
    page_size: int = 1000,
    strict: bool = False,
    show_progress: bool = True,
) -> list[Run]:
    """Every run ``target`` (``wandb://ENTITY/PROJECT`` or one run) names, in the API's order.

    Args:
        jobs: threads fetching histories at once.
        cache: the cache root (None = no cache).
    """
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    entity, project, _ = parse_target(target)
    api_runs = list_api_runs(target, filters, api)
    store = RunCache(cache, entity, project)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    console = Console(stderr=True)
    with Progress(*columns, console=console, transient=True,
                  disable=not show_progress or not console.is_terminal) as progress, \
            Progress(disable=True) as per_run:
        task = progress.add_task(f"W&B {entity}/{project}", total=len(api_runs))

        def one(api_run: Any) -> Run:
            run = store.get(api_run)
            if run is None:
                run = fetch_history(api_run, f"{SCHEME}{entity}/{project}", page_size, strict, per_run)
                store.put(api_run, run)
            progress.advance(task)
            return run

        with ThreadPoolExecutor(max_workers=min(jobs, max(1, len(api_runs)))) as pool:
            return list(pool.map(one, api_runs))

"""A fake W&B public API: the few methods our reader calls, over in-memory runs.

This is the one faked part (no W&B server is reachable in tests); it is injected through
``entropy_dynamics.logs.wandb_api.API_FACTORY`` or the ``api=`` argument.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class FakeRun:
    def __init__(self, run_id: str, name: str, config: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        self.id = run_id
        self.name = name
        self.config = config
        self.state = "finished"
        self.url = f"https://wandb.ai/ent/proj/runs/{run_id}"
        self._rows = rows
        self.lastHistoryStep = max((r["_step"] for r in rows), default=-1)
        self.page_sizes: list[int] = []
        self.pages_served = 0

    def scan_history(self, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        self.page_sizes.append(page_size)
        for start in range(0, len(self._rows), page_size):
            self.pages_served += 1
            yield from (dict(r) for r in self._rows[start:start + page_size])

    def history(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the sampled history() must never be used")


class FakeApi:
    def __init__(self, runs: dict[str, list[FakeRun]]) -> None:
        self._projects = runs  # "entity/project" -> runs
        self.runs_calls: list[tuple[str, dict[str, Any]]] = []

    def run(self, path: str) -> FakeRun:
        entity, project, run_id = path.split("/")
        for run in self._projects.get(f"{entity}/{project}", []):
            if run.id == run_id:
                return run
        raise ValueError(f"Could not find run {path}")

    def runs(self, path: str, filters: dict[str, Any] | None = None, per_page: int = 50) -> list[FakeRun]:
        self.runs_calls.append((path, filters or {}))
        if path not in self._projects:
            raise ValueError(f"Could not find project {path}")
        selected = []
        for run in self._projects[path]:
            ok = all(k.startswith("config.") and run.config.get(k.removeprefix("config.")) == v
                     for k, v in (filters or {}).items())
            if ok:
                selected.append(run)
        return selected


def make_api(n_steps: int = 2500) -> FakeApi:
    """Two runs of project ent/proj: "base" (n_steps rows, sparse validation) and "seal" (a string value)."""
    base_rows = []
    for step in range(n_steps):
        row = {"_step": step, "_runtime": step * 2.0, "actor/entropy": 1.0 / (step + 1), "critic/score/mean": step}
        if step % 100 == 0:
            row["val/acc"] = step / n_steps
        base_rows.append(row)
    seal_rows = [{"_step": s, "train/entropy": 0.5 - s * 0.01, "media": {"_type": "table"}, "status": "ok"}
                 for s in range(10)]
    return FakeApi({"ent/proj": [FakeRun("r1", "base", {"lr": 1e-5, "seal_coef": 0.0}, base_rows),
                                 FakeRun("r2", "seal", {"lr": 1e-5, "seal_coef": 0.02, "_wandb": {}}, seal_rows)]})

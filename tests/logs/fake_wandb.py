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


def sweep_rows(n_steps: int, erupts: bool, seed: int) -> list[dict[str, Any]]:
    """History rows of one sweep run: entropy descending slowly (and erupting x4 at 60 % of the run when
    ``erupts``), success rising (falling to 0 after an eruption), a little deterministic noise."""
    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.arange(n_steps)
    entropy = 0.8 - 0.5 * t / n_steps
    success = np.clip(t / n_steps, 0, 0.9)
    if erupts:
        onset = int(0.6 * n_steps)
        rise = np.clip((t - onset) / 10, 0, 1)
        entropy = entropy + 1.2 * rise * np.exp(-np.clip(t - onset - 10, 0, None) / (0.2 * n_steps))
        success = np.where(t > onset, 0.0, success)
    entropy = entropy + rng.normal(0, 0.003, n_steps)
    return [{"_step": int(s), "actor/entropy": float(e), "env/success_rate": float(r)}
            for s, e, r in zip(t, entropy, success, strict=True)]


def make_sweep_api(n_runs: int = 200, n_steps: int = 300, run_class: type[FakeRun] = FakeRun) -> FakeApi:
    """Project ent/sweep: ``n_runs`` runs over lr x seal_coef x seed; runs with ``seal_coef == 0`` erupt."""
    runs = []
    for i in range(n_runs):
        config = {"lr": [1e-6, 1e-5][i % 2], "seal_coef": [0.0, 0.02][(i // 2) % 2], "seed": i // 4,
                  "model": {"name": "tiny", "layers": 2}}
        runs.append(run_class(f"s{i:03d}", f"sweep-{i:03d}", config,
                              sweep_rows(n_steps, erupts=config["seal_coef"] == 0.0, seed=i)))
    return FakeApi({"ent/sweep": runs})

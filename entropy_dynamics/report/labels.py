"""Display names of runs: the user's ``--label``, else the run's own name, made unique; a generic output-folder
name (``train``, ``rl``...) is replaced by a name that says which run it is."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import PurePath

from entropy_dynamics.errors import EntropyDynamicsError
from entropy_dynamics.logs import Run

#: Names that say where a run was written, not which run it is (the demo writes to ``<out>/train``).
GENERIC_NAMES = frozenset({"train", "training", "rl", "sft", "run", "runs", "output", "outputs", "out", "logs",
                           "log", "metrics", "results", "default", "latest", "checkpoints", "wandb", "files"})


def describe_config(config: dict) -> str:
    """A short algorithm tag from a trainer config: ``grpo``, ``grpo+SEAL`` ('' when the config says nothing)."""
    algorithm = str(config.get("algorithm") or "")
    seal = config.get("seal")
    coef = seal.get("coef") if isinstance(seal, dict) else None
    if algorithm and isinstance(coef, (int, float)) and coef > 0:
        return f"{algorithm}+SEAL"
    return algorithm


def default_label(run: Run) -> str:
    """The run's name; a generic one (``train``) becomes the nearest non-generic folder of its output or log
    path, with the algorithm tag: ``demo (grpo+SEAL)``."""
    if run.name.strip().lower() not in GENERIC_NAMES:
        return run.name
    where = str(run.config.get("output_dir") or run.source)
    parts = [p for p in PurePath(where).parts if p.strip("/") and p.lower() not in GENERIC_NAMES
             and not p.endswith((".jsonl", ".csv", ".parquet", ".json"))]
    tag = describe_config(run.config)
    place = parts[-1] if parts else run.name
    return f"{place} ({tag})" if tag and tag != place else place


def unique(names: Sequence[str]) -> list[str]:
    """``names`` with `` #k`` appended where several are equal."""
    counts, seen = Counter(names), Counter()
    out = []
    for name in names:
        seen[name] += 1
        out.append(name if counts[name] == 1 else f"{name} #{seen[name]}")
    return out


def run_labels(runs: Sequence[Run], labels: Sequence[str | None] | None = None) -> list[str]:
    """One unique display name per run: ``labels[i]`` where given (not None), else :func:`default_label`."""
    if labels is not None and len(labels) != len(runs):
        raise EntropyDynamicsError(f"got {len(labels)} labels for {len(runs)} runs")
    chosen = [label if labels is not None and label else default_label(run)
              for run, label in zip(runs, labels or [None] * len(runs), strict=True)]
    return unique(chosen)


def parse_label(text: str) -> tuple[str, str]:
    """``NAME=PATH`` -> (NAME, PATH), split at the first ``=``; a one-line EntropyDynamicsError otherwise."""
    name, sep, path = text.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise EntropyDynamicsError(f"--label wants NAME=PATH (e.g. --label 'GRPO+SEAL=runs/seal'), not {text!r}")
    return name.strip(), path.strip()

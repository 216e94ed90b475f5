"""What a sweep runs: arms (a train config plus ``--set`` overrides) x seeds, each in its own folder.

A sweep spec is a YAML file::

    output_dir: runs/seal_question      # every run goes to <output_dir>/<arm>/seed<k>
    parallel: 2                         # runs at a time (each on one thread)
    seeds: [0, 1, 2, 3, 4, 5]           # or "0-5"
    set: [steps=150]                    # overrides of every run
    arms:                               # named arms ...
      grpo: {config: configs/a.yaml}
      seal: {config: configs/a.yaml, set: [seal.coef=0.02]}
    grid:                               # ... and/or a grid: configs x every combination of values
      configs: [configs/a.yaml]
      set: {seal.coef: [0, 0.02], credit: [trajectory, turn]}
    comparisons:                        # optional: the questions --summary answers, "name": [arm, control]
      "SEAL vs GRPO": [seal, grpo]

Config paths are read relative to the working directory. Grid arms are named
``<config stem>[,key=value...]``.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from entropy_dynamics.errors import ConfigError

_SEED_RANGE = re.compile(r"^\s*(-?\d+)\s*-\s*(-?\d+)\s*$")
_ARM_NAME = re.compile(r"^[A-Za-z0-9_.,=+-]+$")


@dataclass(frozen=True)
class Arm:
    """One condition of the experiment."""

    name: str
    config: str | None = None
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunSpec:
    """One run: an arm with one seed, in ``output_dir``."""

    arm: str
    seed: int
    output_dir: Path
    config: str | None
    overrides: tuple[str, ...]

    def train_args(self, resume: bool) -> list[str]:
        """The ``entropy-dynamics train`` arguments of this run."""
        args = ["train"] + ([self.config] if self.config else [])
        for item in self.overrides:
            args += ["--set", item]
        return args + (["--resume"] if resume else [])


@dataclass
class SweepPlan:
    """Arms x seeds with the overrides every run shares."""

    output_dir: Path
    arms: list[Arm]
    seeds: list[int]
    parallel: int = 1
    common: tuple[str, ...] = field(default_factory=tuple)
    #: (name, arm, control): the questions the summary answers; they change no run (not in :meth:`to_dict`)
    comparisons: tuple[tuple[str, str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.arms:
            raise ConfigError("a sweep needs at least one arm (`arms`, `grid`, or --config)")
        if not self.seeds:
            raise ConfigError("a sweep needs at least one seed")
        if self.parallel < 1:
            raise ConfigError(f"parallel must be >= 1 (got {self.parallel})")
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ConfigError(f"arm names must be unique, got {names}")
        for name in names:
            if not _ARM_NAME.match(name):
                raise ConfigError(f"arm name {name!r}: use letters, digits and _.,=+- only (it names a folder)")
        for question, *pair in self.comparisons:
            if pair[0] == pair[1]:
                raise ConfigError(f"comparison {question!r}: arm {pair[0]!r} compared with itself")
            missing = [a for a in pair if a not in names]
            if missing:
                raise ConfigError(f"comparison {question!r}: no arm named {', '.join(map(repr, missing))} "
                                  f"(arms: {', '.join(names)})")

    def runs(self) -> list[RunSpec]:
        """Every run, seed-major (all arms of seed 0 first), so a stopped sweep has balanced arms."""
        out = []
        for seed in self.seeds:
            for arm in self.arms:
                folder = self.output_dir / arm.name / f"seed{seed}"
                overrides = (*self.common, *arm.overrides, f"seed={seed}", f"output_dir={folder}",
                             f"run_name={arm.name}_seed{seed}", "torch_threads=1")
                out.append(RunSpec(arm.name, seed, folder, arm.config, overrides))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"output_dir": str(self.output_dir), "seeds": self.seeds, "common": list(self.common),
                "arms": [{**asdict(a), "overrides": list(a.overrides)} for a in self.arms]}


#: Most seeds of one sweep: ``0-100000000`` (a typo) would otherwise build and print a hundred million runs.
MAX_SEEDS = 10_000


def parse_seeds(value: Any) -> list[int]:
    """``[0, 1, 2]``, ``"0-5"`` (inclusive) or ``"0,2,4"`` -> a list of ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return list(value)
    if isinstance(value, str):
        match = _SEED_RANGE.match(value)
        if match:
            first, last = int(match.group(1)), int(match.group(2))
            if last < first:
                raise ConfigError(f"seeds {value!r}: the range is empty")
            if last - first >= MAX_SEEDS:
                raise ConfigError(f"seeds {value!r}: {last - first + 1} seeds, more than the {MAX_SEEDS} a sweep takes")
            return list(range(first, last + 1))
        try:
            return [int(v) for v in value.split(",") if v.strip()]
        except ValueError:
            pass
    raise ConfigError(f"seeds must be a list of integers, 'A-B' or 'A,B,C' (got {value!r})")


def _overrides(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and "=" in v for v in value):
        raise ConfigError(f"{where}: `set` must be a list of 'key=value' strings (got {value!r})")
    return tuple(value)


def _format_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)  # JSON is YAML: --set reads it back


def grid_arms(configs: list[str | None], grid: dict[str, list[Any]]) -> list[Arm]:
    """One arm per config and combination of the grid's values (keys in the given order)."""
    keys = list(grid)
    for key in keys:
        if not isinstance(grid[key], list) or not grid[key]:
            raise ConfigError(f"grid: {key} needs a non-empty list of values (got {grid[key]!r})")
    arms = []
    for config in configs:
        stem = Path(config).stem if config else "defaults"
        for combo in itertools.product(*(grid[k] for k in keys)):
            overrides = tuple(f"{k}={_format_value(v)}" for k, v in zip(keys, combo, strict=True))
            arms.append(Arm(",".join([stem, *overrides]), config, overrides))
    return arms


def plan_from_dict(spec: dict[str, Any], where: str = "sweep spec") -> SweepPlan:
    """A :class:`SweepPlan` from a parsed spec (see the module docstring)."""
    known = {"output_dir", "parallel", "seeds", "set", "arms", "grid", "comparisons"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    if "output_dir" not in spec:
        raise ConfigError(f"{where}: `output_dir` is required")
    arms = []
    for name, body in (spec.get("arms") or {}).items():
        body = body or {}
        if not isinstance(body, dict) or set(body) - {"config", "set"}:
            raise ConfigError(f"{where}: arm {name!r} takes `config` and `set` only (got {body!r})")
        arms.append(Arm(str(name), body.get("config"), _overrides(body.get("set"), f"arm {name}")))
    grid = spec.get("grid")
    if grid:
        if not isinstance(grid, dict) or set(grid) - {"configs", "set"}:
            raise ConfigError(f"{where}: `grid` takes `configs` and `set` only")
        arms += grid_arms(list(grid.get("configs") or [None]), dict(grid.get("set") or {}))
    return SweepPlan(output_dir=Path(spec["output_dir"]), arms=arms, seeds=parse_seeds(spec.get("seeds", [0])),
                     parallel=int(spec.get("parallel", 1)), common=_overrides(spec.get("set"), where),
                     comparisons=_comparisons(spec.get("comparisons"), where))


def _comparisons(value: Any, where: str) -> tuple[tuple[str, str, str], ...]:
    """``{"name": [arm, control], ...}`` -> ((name, arm, control), ...)."""
    if value is None:
        return ()
    pairs = value.items() if isinstance(value, dict) else None
    if pairs is None or not all(isinstance(p, list) and len(p) == 2 and all(isinstance(a, str) for a in p)
                                for _, p in pairs):
        raise ConfigError(f"{where}: `comparisons` maps a name to [arm, control] (got {value!r})")
    return tuple((str(name), arm, control) for name, (arm, control) in pairs)


def load_plan(path: str | Path) -> SweepPlan:
    """Read a sweep spec YAML file."""
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:  # UnicodeDecodeError: a binary or UTF-16 file
        raise ConfigError(f"cannot read sweep spec {path}: {' '.join(str(exc).split())}") from exc
    if not isinstance(spec, dict):
        raise ConfigError(f"{path}: a sweep spec is a mapping (output_dir, seeds, arms, ...)")
    return plan_from_dict(spec, str(path))

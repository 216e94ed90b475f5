"""The run-log model: every reader turns its source into a list of :class:`Run`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from entropy_dynamics.errors import MetricNotFoundError
from entropy_dynamics.logs.names import canonical_name, map_names


@dataclass
class ReadStats:
    """What a reader skipped or repaired while reading one run (reported by ``inspect``)."""

    bad_lines: int = 0
    """Lines or rows that could not be parsed and were skipped (lenient mode)."""
    non_numeric: int = 0
    """Values that were not numbers (kept out of the series)."""
    non_finite: int = 0
    """NaN / inf / null values (kept out of the series)."""
    duplicate_steps: int = 0
    """Steps logged more than once; the later value wins (a resumed run)."""
    backwards_steps: int = 0
    """Records whose step is lower than an earlier one."""
    warnings: list[str] = field(default_factory=list)
    """Human-readable notes, one per kind of problem (the first occurrence names file and line)."""

    def warn_once(self, key: str, message: str) -> None:
        """Record ``message`` unless a warning with the same ``key`` prefix was already recorded."""
        if not any(w.startswith(key) for w in self.warnings):
            self.warnings.append(f"{key}: {message}")


@dataclass
class Run:
    """One training run: its metric series by step, plus whatever else the log held.

    ``metrics`` is a float DataFrame indexed by integer ``step`` (sorted, unique), one column per
    metric, NaN where a metric has no point at a step. Columns carry canonical names where an alias
    mapped (see :mod:`entropy_dynamics.logs.names`); ``source_names`` maps each column back to the
    name in the log.
    """

    name: str
    source: str
    reader: str
    metrics: pd.DataFrame
    config: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    source_names: dict[str, str] = field(default_factory=dict)
    stats: ReadStats = field(default_factory=ReadStats)

    @property
    def steps(self) -> np.ndarray:
        """All logged steps, ascending."""
        return self.metrics.index.to_numpy()

    @property
    def first_step(self) -> int | None:
        return int(self.metrics.index[0]) if len(self.metrics.index) else None

    @property
    def last_step(self) -> int | None:
        return int(self.metrics.index[-1]) if len(self.metrics.index) else None

    @property
    def unmapped(self) -> list[str]:
        """Source metric names that no alias maps onto a canonical name."""
        return sorted(c for c in self.metrics.columns if canonical_name(c) is None)

    def points(self) -> dict[str, int]:
        """Number of finite points per metric column."""
        return {c: int(n) for c, n in self.metrics.notna().sum().items()}

    def series(self, name: str) -> pd.Series:
        """Finite points of one metric (canonical, alias or source name), indexed by step."""
        column = self.resolve(name)
        return self.metrics[column].dropna()

    def resolve(self, name: str, fallback_suffix: str | None = None) -> str:
        """The column holding metric ``name``.

        Tries the exact column, then the canonical form of ``name``, then a source name, then
        (when ``fallback_suffix`` is given) the column with most points whose name ends with it.
        Raises :class:`MetricNotFoundError` listing the available metrics.
        """
        cols = list(self.metrics.columns)
        if name in cols:
            return name
        canon = canonical_name(name)
        if canon is not None and canon in cols:
            return canon
        for col, src in self.source_names.items():
            if src == name and col in cols:
                return col
        if fallback_suffix:
            matches = [c for c in cols if c.lower().endswith(fallback_suffix)]
            if matches:
                counts = self.points()
                return max(matches, key=lambda c: (counts[c], -len(c)))
        shown = ", ".join(cols[:30]) + (" ..." if len(cols) > 30 else "")
        raise MetricNotFoundError(
            f"run {self.name!r} ({self.source}) has no metric {name!r}; available: {shown or 'none'}"
        )


def build_run(
    name: str,
    source: str,
    reader: str,
    records: Iterable[tuple[int, Mapping[str, Any]]],
    *,
    stats: ReadStats | None = None,
    config: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    samples: list[dict[str, Any]] | None = None,
) -> Run:
    """Build a :class:`Run` from ``(step, {metric: value})`` records in log order.

    Values are coerced to float; non-numeric and non-finite values are counted in ``stats`` and
    left out. A step seen again overwrites earlier values of the same metrics (the later value wins)
    and is counted as a duplicate; a step lower than one seen before is also counted as backwards.
    """
    stats = stats or ReadStats()
    columns: dict[str, dict[int, float]] = {}
    seen: set[int] = set()
    max_step: int | None = None
    for step, values in records:
        if step in seen:
            stats.duplicate_steps += 1
        if max_step is not None and step < max_step:
            stats.backwards_steps += 1
        seen.add(step)
        max_step = step if max_step is None else max(max_step, step)
        for key, raw in values.items():
            value = to_float(raw)
            if value is None:
                stats.non_numeric += 1
                continue
            if not math.isfinite(value):
                stats.non_finite += 1
                continue
            columns.setdefault(key, {})[step] = value
    frame = pd.DataFrame(columns, dtype="float64")
    frame = frame.reindex(sorted(seen)) if seen else frame
    frame.index = pd.Index(frame.index.astype("int64"), name="step")
    return frame_to_run(name, source, reader, frame, stats=stats, config=config, metadata=metadata,
                        events=events, samples=samples)


def frame_to_run(
    name: str,
    source: str,
    reader: str,
    frame: pd.DataFrame,
    *,
    stats: ReadStats | None = None,
    config: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    samples: list[dict[str, Any]] | None = None,
) -> Run:
    """Wrap a step-indexed float frame with source column names into a :class:`Run` (renames to
    canonical names, drops all-empty columns, sorts by step)."""
    mapping = map_names(frame.columns)
    frame = frame.rename(columns=mapping).sort_index()
    frame = frame.loc[:, frame.notna().any(axis=0)] if len(frame.columns) else frame
    return Run(
        name=name,
        source=source,
        reader=reader,
        metrics=frame,
        config=config or {},
        metadata=metadata or {},
        events=events or [],
        samples=samples or [],
        source_names={col: src for src, col in mapping.items() if col in frame.columns},
        stats=stats or ReadStats(),
    )


def to_float(value: Any) -> float | None:
    """A float for numbers, bools and numeric strings (``"nan"`` and ``"inf"`` included);
    ``None`` (JSON null) becomes NaN; anything else gives ``None``."""
    if value is None:
        return math.nan
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None

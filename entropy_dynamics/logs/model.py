"""The run-log model: every reader turns its source into a list of :class:`Run`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from entropy_dynamics.errors import MetricNotFoundError
from entropy_dynamics.logs.names import canonical_name, competing_names, map_names
from entropy_dynamics.logs.sign_flips import add_sign_flipped


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
    _warned: set[str] = field(default_factory=set, init=False, repr=False, compare=False)
    corrupt_stretches: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Corrupt stretches skipped per file (binary formats that re-sync)."""

    def warn_once(self, key: str, message: str) -> None:
        """Record ``message`` unless a warning of the same kind ``key`` was already recorded."""
        if key not in self._warned:
            self._warned.add(key)
            self.warnings.append(message)


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
    competing: dict[str, list[str]] = field(default_factory=dict)
    """Source names that map to the same canonical name as a column but have fewer points (they keep
    their own names as columns): ``{canonical: [source names]}``."""
    empty: list[str] = field(default_factory=list)
    """Metrics the log names but whose every value was left out (null, NaN, inf, not a number): no column, but
    asking for one says so instead of "no metric"."""

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
        if name in self.empty or canon in self.empty:
            raise MetricNotFoundError(f"run {self.name!r} ({self.source}) has no metric {canon or name!r} with a "
                                      "usable value: every one is null, NaN, inf or not a number")
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
    records = list(records)
    steps = np.fromiter((step for step, _ in records), dtype=np.int64, count=len(records))
    rows = [values for _, values in records]
    if steps.size:
        stats.duplicate_steps += int(steps.size - np.unique(steps).size)
        stats.backwards_steps += int((steps[1:] < np.maximum.accumulate(steps)[:-1]).sum())
    raw = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    frame = pd.DataFrame({key: _numeric_column(raw[key], key, rows, stats) for key in raw.columns},
                         index=pd.Index(steps, name="step"), dtype="float64")
    if frame.index.has_duplicates:
        frame = frame.groupby(level=0, sort=False).last()
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
    frame, derived = add_sign_flipped(frame)
    mapping = map_names(frame.columns, {str(c): int(n) for c, n in frame.notna().sum().items()})
    frame = frame.rename(columns=mapping).sort_index()
    has_points = frame.notna().any(axis=0)
    empty = [str(c) for c in frame.columns[~has_points.to_numpy(dtype=bool)]] if len(frame.columns) else []
    frame = frame.loc[:, has_points] if len(frame.columns) else frame
    source_names = {col: derived.get(src, src) for src, col in mapping.items() if col in frame.columns}
    return Run(
        name=name,
        source=source,
        reader=reader,
        metrics=frame,
        config=config or {},
        metadata=metadata or {},
        events=events or [],
        samples=samples or [],
        source_names=source_names,
        stats=stats or ReadStats(),
        competing={c: losers for c, losers in competing_names(mapping).items() if c in frame.columns},
        empty=empty,
    )


def _numeric_column(column: pd.Series, key: str, rows: list[Mapping[str, Any]], stats: ReadStats) -> np.ndarray:
    """(n,) float64 values of one metric over the records: NaN where a record lacks it or its
    value is not a finite number. Counts non-numeric and non-finite (null/NaN/inf) values."""
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy(dtype="float64")
        not_number = np.zeros(len(values), dtype=bool)
    else:
        converted = [to_float(v) for v in column.tolist()]
        not_number = np.fromiter((c is None for c in converted), dtype=bool, count=len(converted))
        values = np.array([math.nan if c is None else c for c in converted], dtype="float64")
        stats.non_numeric += int(not_number.sum())
    not_finite = ~np.isfinite(values) & ~not_number
    if not_finite.any():  # NaN is also "no value at this step": count only values the records hold
        present = np.fromiter((key in row for row in rows), dtype=bool, count=len(rows))
        stats.non_finite += int((not_finite & present).sum())
        values = np.where(np.isfinite(values), values, np.nan)
    return values


#: A logged step must lie in (-STEP_LIMIT, STEP_LIMIT): 2^53, the largest range in which every integer is exact as a
#: float64 (the analysis works on float steps; above it neighbouring steps merge, e.g. 2^62 + 1 == 2^62 + 2). A step
#: that large is a nanosecond timestamp or a corrupted value, never a training step.
STEP_LIMIT = 2**53


def as_step(value: Any) -> int | None:
    """``value`` as a step: an int or integral float of magnitude below :data:`STEP_LIMIT`; ``None`` for anything
    else (bools, text, fractions, NaN/inf, out-of-range numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (int, np.integer)) and -STEP_LIMIT < value < STEP_LIMIT:
        return int(value)
    return None


def step_problem(value: Any) -> str:
    """Why ``value`` is not a step (:func:`as_step` gave ``None``): too large, or not an integer at all."""
    whole = isinstance(value, (int, np.integer)) or (isinstance(value, float) and value.is_integer())
    if whole and not isinstance(value, bool):
        number = int(value)
        digits = str(number) if number.bit_length() < 14_000 else "of over 4000 digits"  # str() stops at 4300 digits
        shown = digits if len(digits) <= 30 else f"{digits[:20]}... ({len(digits)} digits)"
        return f"step {shown} does not fit (|step| >= 2^53: not a training step)"
    return f"record has no integer 'step' (got {value!r})"


def to_float(value: Any) -> float | None:
    """A float for numbers, bools and numeric strings (``"nan"`` and ``"inf"`` included);
    ``None`` (JSON null) becomes NaN; anything else gives ``None``."""
    if value is None:
        return math.nan
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        try:
            return float(value)
        except OverflowError:  # an integer beyond float range (hundreds of digits)
            return math.inf if value > 0 else -math.inf
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None

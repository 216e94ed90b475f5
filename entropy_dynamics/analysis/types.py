"""Result types of the phase analyzer (their ``to_dict`` is the JSON of ``docs/analysis.md``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from entropy_dynamics.logs.jsonl import finite_or_none

Phase = Literal["descent", "eruption", "subsidence", "plateau", "rise"]
PHASES: tuple[Phase, ...] = ("descent", "eruption", "subsidence", "plateau", "rise")


@dataclass
class Segment:
    """A run of logged steps in one phase. ``start_step``/``end_step`` are logged steps (inclusive).

    Every number is read from the smoothed series (the running median the labels are decided on), so
    ``end_value / start_value`` is the ``ratio`` the label rests on.
    """

    start_step: int
    end_step: int
    phase: Phase
    slope: float
    """(end_value - start_value) / steps: change of the smoothed metric per step (in the metric's own units)."""
    start_value: float
    end_value: float
    ratio: float | None = None
    """end_value / start_value (null on the linear scale, when the metric has values <= 0)."""
    change: float = 0.0
    """end_value - start_value, in the metric's units."""
    steps: int = 0
    """end_step - start_step."""
    detail: str = ""
    """Why this label, in words (for eruptions: the rise over the low before it that qualified)."""


@dataclass
class Cycle:
    """One eruption with its subsidence."""

    eruption_start_step: int
    peak_step: int
    subsidence_end_step: int | None
    """Null while the run is still subsiding at its end."""
    base_value: float
    peak_value: float
    amplitude_ratio: float
    """peak_value / base_value: base = the eruption's start value, peak = the highest smoothed value from
    the onset to the end of the subsidence (both from the same smoothed series as the segments)."""
    amplitude: float | None = None
    """peak_value - base_value, in the metric's units (nats for entropy)."""
    rise_steps: int | None = None
    decay_steps: int | None = None
    period_steps: int | None = None
    """Steps from the previous cycle's eruption start (null for the first)."""


@dataclass
class PhaseAnalysis:
    """Phases of one metric of one run."""

    run: str
    source: str
    metric: str
    source_metric: str
    n_points: int
    first_step: int | None
    last_step: int | None
    change_points: list[int] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    cycles: list[Cycle] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    """Cross-metric statistics and anything else beyond the contract (omitted when empty)."""

    def phase_at(self, step: int) -> Phase | None:
        for seg in self.segments:
            if seg.start_step <= step <= seg.end_step:
                return seg.phase
        return None

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``docs/analysis.md`` (non-finite numbers, e.g. the amplitude ratio of a
        cycle whose base is <= 0, become null)."""
        d = finite_or_none(asdict(self))
        if not d["extra"]:
            d.pop("extra")
        return d


@dataclass
class PhaseEvent:
    """A confirmed phase transition from the online detector (``watch --replay`` JSON line)."""

    run: str
    phase: Phase
    start_step: int
    confirmed_at_step: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

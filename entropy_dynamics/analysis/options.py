"""The definitions of the phases, as one typed option object shared by the offline analyzer and the live detector.

Every threshold is a field with its default and the reason for it; the CLI's ``--help`` and the docs read
them from here. The definitions (docs/analysis.md, "What the phases mean"):

* **smoothed entropy**: the running median of ``smooth_points`` logged points of log(entropy) (fewer at the
  ends of the run; with logging sparser than every step, as many points as cover ``smooth_points`` steps, at
  least 3); every number the analyzer prints is a smoothed value.
* **eruption**: the smoothed entropy rises to at least ``min_ratio`` times, *and* at least ``min_rise`` (in the
  metric's units, nats for entropy) above, the lowest smoothed value of the ``max_rise_steps`` steps before.
  It starts at its *onset*, where the climb from that low begins (the last point still in the lower half, in log,
  of the smoothed climb to the first point that stands that high),
  and ends at its *peak*, the first point within ``peak_band`` of the highest value it reaches within
  ``max_rise_steps`` of the onset.
* **subsidence**: the first decline after an eruption's peak, until the decline ends.
* **descent** / **rise**: any other stretch whose smoothed entropy falls / grows by at least ``min_change``
  (slow increases are ``rise``, never ``plateau``), and that hides no larger move against its label (else it is
  cut there: :func:`~.labels.hidden_trends`); **plateau**: everything else.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any

from entropy_dynamics.errors import ConfigError


@dataclass(frozen=True)
class PhaseOptions:
    """Phase definitions and segmentation settings (defaults chosen on labelled real runs; see docs/analysis.md)."""

    min_ratio: float = field(default=1.8, metadata={"help": (
        "An eruption multiplies the smoothed entropy by at least this (peak / the low before it)."
    )})
    min_rise: float = field(default=0.3, metadata={"help": (
        "...and raises it by at least this much in the metric's units (nats for entropy). The absolute floor "
        "keeps bursts inside a run collapsed near 0 (0.05 -> 0.25 nats is x5) from counting as eruptions; 0 "
        "makes the definition scale-free. Runs whose entropy lives at 0.01-0.1 nats need a smaller value."
    )})
    max_rise_steps: float = field(default=30.0, metadata={"help": (
        "...within at most this many training steps (not points, not a fraction of the run): slower increases "
        "are ``rise``. The eruptions of the labelled runs take 2-25 steps."
    )})
    noise_z: float = field(default=3.0, metadata={"help": (
        "...and by at least this many noise units (robust per-point noise of the log values), so the wander of a "
        "noisy plateau is never an eruption."
    )})
    min_change: float = field(default=1.2, metadata={"help": (
        "A descent, rise or subsidence changes the smoothed entropy by at least this factor (1.2 = 20 %)."
    )})
    smooth_points: int = field(default=5, metadata={"help": (
        "Logged points in the running median (odd) when every step is logged; with sparser logging the "
        "window covers as many steps (at least 3 points). A burst of fewer than half of them is a spike, not a "
        "phase."
    )})
    peak_band: float = field(default=0.1, metadata={"help": (
        "The peak is the first point within this share of the (log) rise of the highest value the rise "
        "reaches."
    )})
    penalty_factor: float = field(default=2.0, metadata={"help": (
        "Change points between eruptions: c in Pelt's penalty c * sigma^2 * log(n) * 3 on the "
        "piecewise-linear trend of the log values; higher gives fewer, longer descents / rises / plateaus."
    )})
    max_points: int = field(default=500, metadata={"help": (
        "Stretches between eruptions longer than this are averaged into this many bins for Pelt (then refined "
        "at full resolution); eruptions are always found at full resolution."
    )})
    min_segment: int = field(default=4, metadata={"help": (
        "Smallest piece Pelt may cut between eruptions, in (binned) points."
    )})
    log_scale: bool = field(default=True, metadata={"help": (
        "Work on log values (ratios); falls back to the linear scale (``min_rise`` only) when a value is <= "
        "0."
    )})

    def __post_init__(self) -> None:
        problems = []
        if not self.min_ratio >= 1.0:
            problems.append(f"min_ratio must be >= 1, got {self.min_ratio}")
        if not self.min_change >= 1.0:
            problems.append(f"min_change must be >= 1, got {self.min_change}")
        if not self.min_rise >= 0.0:
            problems.append(f"min_rise must be >= 0, got {self.min_rise}")
        if not self.noise_z >= 0.0:
            problems.append(f"noise_z must be >= 0, got {self.noise_z}")
        if not self.max_rise_steps > 0:
            problems.append(f"max_rise_steps must be > 0, got {self.max_rise_steps}")
        if self.smooth_points < 1 or self.smooth_points % 2 == 0:
            problems.append(f"smooth_points must be an odd number >= 1, got {self.smooth_points}")
        if not 0.0 <= self.peak_band < 1.0:
            problems.append(f"peak_band must be in [0, 1), got {self.peak_band}")
        if not self.penalty_factor > 0 or self.max_points < 10 or self.min_segment < 3:
            problems.append("need penalty_factor > 0, max_points >= 10, min_segment >= 3")
        if problems:
            raise ConfigError("; ".join(problems))

    @property
    def log_min_ratio(self) -> float:
        return math.log(self.min_ratio)

    @property
    def log_min_change(self) -> float:
        return math.log(self.min_change)

    def updated(self, **overrides: Any) -> PhaseOptions:
        """A copy with ``overrides`` (unknown names raise :class:`ConfigError`; ``None`` values are ignored)."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ConfigError(f"unknown analysis option(s): {', '.join(sorted(unknown))}; "
                              f"known: {', '.join(sorted(known))}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


@dataclass(frozen=True)
class DetectorOptions:
    """How the live detector (:class:`~entropy_dynamics.analysis.online.OnlineDetector`) confirms descents,
    rises, plateaus and subsidences (eruptions need none of these: they are confirmed as offline)."""

    refit_every: int = field(default=10, metadata={"help": (
        "The live detector re-segments the recent points every this many points."
    )})
    lookback: int = field(default=200, metadata={"help": (
        "...over this many most recent points (>= 20)."
    )})
    confirm: int = field(default=2, metadata={"help": (
        "A descent, rise, plateau or subsidence is reported once this many refits in a row agree on it."
    )})

    def __post_init__(self) -> None:
        if self.refit_every < 1 or self.lookback < 20 or self.confirm < 1:
            raise ConfigError(f"need refit_every >= 1, lookback >= 20, confirm >= 1 (got {self.refit_every}, "
                              f"{self.lookback}, {self.confirm})")

    def updated(self, **overrides: Any) -> DetectorOptions:
        """A copy with ``overrides`` (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def option_help(name: str, options: type = PhaseOptions) -> str:
    """The documented meaning of one option of ``options`` (:class:`PhaseOptions` or :class:`DetectorOptions`)
    with its default (for CLI help texts and the docs)."""
    spec = next(f for f in fields(options) if f.name == name)
    default = spec.default if spec.default is not MISSING else None
    return f"{spec.metadata['help']} (default {default})"

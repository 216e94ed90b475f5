"""Watching a training run's phases live: one core for our trainer's loop and for other trainers' callbacks.

:class:`PhaseWatch` runs the analyzer's :class:`~entropy_dynamics.analysis.OnlineDetector` on one metric,
replays the log's earlier values on resume (so a resumed run's detector is the uninterrupted run's), writes a
``phase`` event and a console line per confirmed transition, and says which reactions an eruption asks for.
What a reaction does is the trainer's business: :class:`~entropy_dynamics.train.run.live_phase.LivePhase` (our
loop) and :class:`~entropy_dynamics.integrations.trl_callback.EntropyDynamicsCallback` (TRL / transformers) use
this core. Torch-free.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from entropy_dynamics.analysis import OnlineDetector, PhaseEvent
from entropy_dynamics.errors import ConfigError
from entropy_dynamics.logs import read_runs

#: What live phase detection may do when it confirms an eruption (``phase.on_eruption``):
#: ``checkpoint`` (save one now), ``samples`` (log sample trajectories), ``raise_seal`` (multiply the SEAL
#: coefficient), ``stop`` (end training). A trainer may support a subset (TRL: checkpoint, stop).
ERUPTION_REACTIONS = ("checkpoint", "samples", "raise_seal", "stop")
#: Old reaction names, still accepted: the TRL callback's ``save`` (= checkpoint) and ``none`` (no reaction).
REACTION_ALIASES: dict[str, str | None] = {"save": "checkpoint", "none": None}


def parse_reactions(on_eruption: str | Iterable[str] | None,
                    supported: tuple[str, ...] = ERUPTION_REACTIONS) -> tuple[str, ...]:
    """The reactions asked for, as canonical names: a name or a list of names, old aliases mapped
    (:data:`REACTION_ALIASES`); None or ``"none"`` = none. Unknown or unsupported names raise a one-line
    :class:`ConfigError`."""
    given = [on_eruption] if isinstance(on_eruption, str) else list(on_eruption or ())
    out: list[str] = []
    for name in given:
        canonical = REACTION_ALIASES.get(name, name)
        if canonical is None:
            continue
        if canonical not in ERUPTION_REACTIONS:
            raise ConfigError(f"on_eruption: unknown reaction {name!r}; choose from {', '.join(ERUPTION_REACTIONS)}")
        if canonical not in supported:
            raise ConfigError(f"on_eruption: {canonical!r} is not available here; choose from {', '.join(supported)}")
        if canonical not in out:
            out.append(canonical)
    return tuple(out)


def replay_log(detector: OnlineDetector, log_path: Path, metric: str, upto_step: int) -> list[dict[str, Any]]:
    """Feed ``detector`` the values of ``metric`` logged at steps <= ``upto_step`` (the events it confirms
    were logged by the earlier run and are not returned); returns the log's event records up to that step."""
    if not log_path.is_file() or log_path.stat().st_size == 0:
        return []
    run = read_runs(log_path, format="jsonl")[0]
    if metric in run.metrics.columns:
        series = run.series(metric).dropna()
        for step, value in series[series.index <= upto_step].items():
            detector.update(int(step), float(value))
    return [e for e in run.events if int(e.get("step", 0)) <= upto_step]


class PhaseWatch:
    """The online detector on ``metric``, its phase events and console lines, and the eruption reactions.

    Args:
        metric: the canonical metric watched.
        reactions: canonical reaction names (see :func:`parse_reactions`).
        detector_options: options of :class:`OnlineDetector` (refit_every, lookback, confirm and any
            :class:`~entropy_dynamics.analysis.PhaseOptions` field).
        echo: where transitions are printed; None = silent.
    """

    def __init__(self, metric: str, reactions: Iterable[str] = (), detector_options: Mapping[str, Any] | None = None,
                 echo: Callable[[str], None] | None = None) -> None:
        if not metric:
            raise ConfigError("the watched metric must be named, e.g. 'policy/entropy'")
        self.metric = metric
        self.reactions = tuple(reactions)
        self.detector_options = {k: v for k, v in (detector_options or {}).items() if k != "total_steps"}
        self.echo = echo
        self.detector: OnlineDetector | None = None
        self.events: list[PhaseEvent] = []

    @property
    def current_phase(self) -> str | None:
        """The last confirmed phase (None before the first one, or before :meth:`start`)."""
        return None if self.detector is None else self.detector.current_phase

    def start(self, run: str, log_path: Path | None = None, resumed_from_step: int | None = None) -> list[dict]:
        """A fresh detector; on resume (``resumed_from_step``) it replays ``log_path``'s values up to that step.
        Returns the log's event records up to that step (none for a new run)."""
        self.detector = OnlineDetector(run=run, **self.detector_options)
        self.events = []
        if resumed_from_step and log_path is not None:
            return replay_log(self.detector, Path(log_path), self.metric, resumed_from_step)
        return []

    def observe(self, step: int, value: float | None, emit: Callable[..., None]) -> list[PhaseEvent]:
        """Feed the metric's value at ``step``; each confirmed transition is written with
        ``emit("phase", phase=..., start_step=..., confirmed_at_step=..., metric=...)`` and printed.
        Returns the transitions confirmed at this step."""
        if self.detector is None:
            raise RuntimeError("PhaseWatch.start was not called")
        if value is None or not math.isfinite(value):
            return []
        events = self.detector.update(step, float(value))
        for event in events:
            self.events.append(event)
            emit("phase", phase=event.phase, start_step=event.start_step, confirmed_at_step=event.confirmed_at_step,
                 metric=self.metric)
            self.say(f"[entropy-dynamics] {event.phase} of {self.metric} from step {event.start_step} "
                     f"(confirmed at step {event.confirmed_at_step})")
        return events

    def reactions_to(self, events: Iterable[PhaseEvent]) -> set[str]:
        """The reactions asked for when ``events`` hold an eruption (else none)."""
        return set(self.reactions) if any(e.phase == "eruption" for e in events) else set()

    def say(self, line: str) -> None:
        if self.echo is not None:
            self.echo(line)

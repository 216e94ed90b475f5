"""Live phase detection inside our training loop, and the reactions to an eruption.

:class:`LivePhase` feeds the analyzer's :class:`~entropy_dynamics.analysis.OnlineDetector` the watched metric
(``policy/entropy``) every step. Each confirmed transition becomes a ``phase`` event in the log (``phase``,
``start_step``, ``confirmed_at_step``, ``metric``) and a line on the console; the current phase is kept in
``state.extra["phase"]`` for the progress bar. On an eruption it can:

- ``checkpoint``: save a checkpoint now (loop action ``checkpoint``);
- ``samples``: log sample trajectories of this step (loop action ``samples``);
- ``raise_seal``: multiply the SEAL coefficient by ``seal_factor``, capped at ``seal_max`` (a ``seal_coef``
  event records it; needs SEAL on, since the head must exist);
- ``stop``: end training after this step (loop action ``stop``).

On resume the log's earlier values are replayed into the detector, so its state (and the phase shown) is the
one the uninterrupted run would have, and the last ``seal_coef`` event's coefficient is restored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from entropy_dynamics.analysis import OnlineDetector, PhaseEvent
from entropy_dynamics.errors import ConfigError
from entropy_dynamics.logs import read_runs
from entropy_dynamics.train.config import ERUPTION_REACTIONS
from entropy_dynamics.train.run.callbacks import Callback, TrainState
from entropy_dynamics.train.run.progress import print_above_progress

LOG_NAME = "metrics.jsonl"


def replay_log(detector: OnlineDetector, log_path: Path, metric: str, upto_step: int) -> list[dict[str, Any]]:
    """Feed ``detector`` the values of ``metric`` logged at steps <= ``upto_step`` (the events it confirms
    were logged by the earlier run and are not returned); returns the log's event records up to that step.
    Used on resume by :class:`LivePhase` and by the TRL adapter."""
    if not log_path.is_file() or log_path.stat().st_size == 0:
        return []
    run = read_runs(log_path, format="jsonl")[0]
    if metric in run.metrics.columns:
        series = run.series(metric).dropna()
        for step, value in series[series.index <= upto_step].items():
            detector.update(int(step), float(value))
    return [e for e in run.events if int(e.get("step", 0)) <= upto_step]


class LivePhase(Callback):
    """Runs the online phase detector on ``metric`` every step and reacts to eruptions.

    Args:
        metric: the canonical metric watched.
        on_eruption: reactions from :data:`ERUPTION_REACTIONS`.
        seal_factor: ``raise_seal`` multiplies the SEAL coefficient by this (> 1) ...
        seal_max: ... up to this cap.
        total_steps: the run length a rise's sharpness is judged against: ``"auto"`` = the loop's
            ``total_steps``; None = the steps seen so far (for time-bounded runs).
        detector_options: keyword options of :class:`OnlineDetector` (window, refit_every, confirm, ...).
        echo: where transitions are printed (default: stderr above the progress bar); None = silent.
    """

    def __init__(
        self,
        metric: str = "policy/entropy",
        on_eruption: Iterable[str] = ("checkpoint", "samples"),
        seal_factor: float = 2.0,
        seal_max: float = 0.1,
        total_steps: int | str | None = "auto",
        detector_options: Mapping[str, Any] | None = None,
        echo: Callable[[str], None] | None = print_above_progress,
    ) -> None:
        self.reactions = tuple(on_eruption)
        unknown = [r for r in self.reactions if r not in ERUPTION_REACTIONS]
        if unknown:
            choices = ", ".join(ERUPTION_REACTIONS)
            raise ConfigError(f"on_eruption: unknown reaction {unknown[0]!r}; choose from {choices}")
        if not seal_factor > 1 or not seal_max > 0:
            raise ConfigError(f"seal_factor must be > 1 and seal_max > 0 (got {seal_factor}, {seal_max})")
        self.metric = metric
        self.seal_factor, self.seal_max = seal_factor, seal_max
        self.total_steps = total_steps
        self.detector_options = dict(detector_options or {})
        self.echo = echo
        self.detector: OnlineDetector | None = None
        self.events: list[PhaseEvent] = []

    @property
    def current_phase(self) -> str | None:
        return None if self.detector is None else self.detector.current_phase

    def on_train_start(self, state: TrainState, header: Mapping[str, Any]) -> None:
        cfg = state.config
        if "raise_seal" in self.reactions and not cfg.seal_on:
            raise ConfigError("on_eruption 'raise_seal' needs SEAL on (seal.coef > 0): there is no head to weight")
        total = state.total_steps if self.total_steps == "auto" else self.total_steps
        self.detector = OnlineDetector(run=state.run_name, total_steps=total or None, **self.detector_options)
        if state.resumed_from_step:
            logged = replay_log(self.detector, Path(state.output_dir) / LOG_NAME, self.metric, state.resumed_from_step)
            raised = [e for e in logged if e.get("event") == "seal_coef"]
            if raised:
                cfg.seal.coef = float(raised[-1]["new"])
        state.extra["phase"] = self.current_phase

    def on_step_end(self, state: TrainState, metrics: dict[str, float]) -> set[str]:
        assert self.detector is not None, "on_train_start was not called"
        value = metrics.get(self.metric)
        actions: set[str] = set()
        if value is None or not math.isfinite(value):
            return actions
        for event in self.detector.update(state.step, float(value)):
            self.events.append(event)
            state.emit("phase", phase=event.phase, start_step=event.start_step,
                       confirmed_at_step=event.confirmed_at_step, metric=self.metric)
            self._say(f"[entropy-dynamics] {event.phase} of {self.metric} from step {event.start_step} "
                      f"(confirmed at step {event.confirmed_at_step})")
            if event.phase == "eruption":
                actions |= self._react(state)
        state.extra["phase"] = self.current_phase
        return actions

    def _react(self, state: TrainState) -> set[str]:
        actions = {r for r in self.reactions if r in ("checkpoint", "samples", "stop")}
        if "raise_seal" in self.reactions:
            seal = state.config.seal
            old, seal.coef = seal.coef, min(seal.coef * self.seal_factor, self.seal_max)
            state.emit("seal_coef", old=old, new=seal.coef, reason="eruption")
            self._say(f"[entropy-dynamics] SEAL coefficient {old:g} -> {seal.coef:g}")
        if "stop" in actions:
            self._say(f"[entropy-dynamics] stopping at step {state.step} (eruption)")
        return actions

    def _say(self, line: str) -> None:
        if self.echo is not None:
            self.echo(line)

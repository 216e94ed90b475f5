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
one the uninterrupted run would have, and the last ``seal_coef`` event's coefficient is restored. Detection,
replay, events and console lines are :class:`~entropy_dynamics.phase_watch.PhaseWatch`'s (shared with the TRL
callback); this module adds what our loop does about an eruption.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.phase_watch import ERUPTION_REACTIONS, PhaseWatch, parse_reactions, replay_log
from entropy_dynamics.train.run.callbacks import Callback, TrainState
from entropy_dynamics.train.run.progress import print_above_progress

LOG_NAME = "metrics.jsonl"
#: Reactions the loop carries out itself (raise_seal is done here).
LOOP_ACTIONS = ("checkpoint", "samples", "stop")

__all__ = ["ERUPTION_REACTIONS", "LivePhase", "replay_log"]


class LivePhase(Callback):
    """Runs the online phase detector on ``metric`` every step and reacts to eruptions.

    Args:
        metric: the canonical metric watched.
        on_eruption: reactions from :data:`~entropy_dynamics.phase_watch.ERUPTION_REACTIONS`.
        seal_factor: ``raise_seal`` multiplies the SEAL coefficient by this (> 1) ...
        seal_max: ... up to this cap.
        total_steps: ignored (accepted so older callers keep working): the phase definitions do not depend
            on the run's length.
        detector_options: keyword options of :class:`OnlineDetector` (refit_every, lookback, confirm, ...).
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
        self.reactions = parse_reactions(on_eruption)
        if not seal_factor > 1 or not seal_max > 0:
            raise ConfigError(f"seal_factor must be > 1 and seal_max > 0 (got {seal_factor}, {seal_max})")
        del total_steps
        self.watch = PhaseWatch(metric, self.reactions, detector_options, echo)
        self.seal_factor, self.seal_max = seal_factor, seal_max

    @property
    def metric(self) -> str:
        return self.watch.metric

    @property
    def events(self):
        return self.watch.events

    @property
    def detector(self):
        return self.watch.detector

    @property
    def current_phase(self) -> str | None:
        return self.watch.current_phase

    def on_train_start(self, state: TrainState, header: Mapping[str, Any]) -> None:
        cfg = state.config
        if "raise_seal" in self.reactions and not cfg.seal_on:
            raise ConfigError("on_eruption 'raise_seal' needs SEAL on (seal.coef > 0): there is no head to weight")
        logged = self.watch.start(state.run_name, Path(state.output_dir) / LOG_NAME, state.resumed_from_step)
        raised = [e for e in logged if e.get("event") == "seal_coef"]
        if raised:
            cfg.seal.coef = float(raised[-1]["new"])
        state.extra["phase"] = self.current_phase

    def on_step_end(self, state: TrainState, metrics: dict[str, float]) -> set[str]:
        events = self.watch.observe(state.step, metrics.get(self.metric), state.emit)
        state.extra["phase"] = self.current_phase
        return self._react(state) if self.watch.reactions_to(events) else set()

    def _react(self, state: TrainState) -> set[str]:
        actions = {r for r in self.reactions if r in LOOP_ACTIONS}
        if "raise_seal" in self.reactions:
            seal = state.config.seal
            old, seal.coef = seal.coef, min(seal.coef * self.seal_factor, self.seal_max)
            state.emit("seal_coef", old=old, new=seal.coef, reason="eruption")
            self.watch.say(f"[entropy-dynamics] SEAL coefficient {old:g} -> {seal.coef:g}")
        if "stop" in actions:
            self.watch.say(f"[entropy-dynamics] stopping at step {state.step} (eruption)")
        return actions

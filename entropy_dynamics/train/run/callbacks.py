"""The loop's hook points and its sinks.

A :class:`Callback` sees the run start, every step's metrics, every event and sample record, and the
end. ``on_step_end`` may return actions for the loop (:data:`ACTIONS`): this is where live phase
detection and instruments (issue 8) plug in without touching the loop. Sinks are callbacks too: the
JSONL log (:class:`JsonlSink`) and W&B (:class:`WandbSink`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from entropy_dynamics.logs import MetricLogWriter
from entropy_dynamics.train.run.run_phase import cycle_summary, phase_metric

#: What ``on_step_end`` may ask of the loop.
ACTIONS = ("stop", "checkpoint", "samples")


@dataclass
class TrainState:
    """What callbacks can read (and, for ``extra``, write) during a run."""

    config: Any
    run_name: str
    output_dir: Path
    step: int = 0
    total_steps: int = 0
    resumed_from_step: int | None = None
    policy: Any = None
    tokenizer: Any = None
    last_rollout: Any = None  # RolloutBatch of the latest step
    last_credit: Any = None  # Credit of the latest step
    extra: dict[str, Any] = field(default_factory=dict)
    pending_events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def emit(self, event: str, **fields: Any) -> None:
        """Queue an event (e.g. a phase transition found in ``on_step_end``); the loop logs it after the step."""
        self.pending_events.append((event, fields))


class Callback:
    """Base class with no-op hooks; override what you need."""

    def on_train_start(self, state: TrainState, header: Mapping[str, Any]) -> None:
        """After setup (and after a resume): ``header`` = run, config, versions, resumed_from_step."""

    def on_step_end(self, state: TrainState, metrics: dict[str, float]) -> Iterable[str] | None:
        """After each step; ``metrics`` may be extended in place. Return actions from :data:`ACTIONS`."""
        return None

    def on_event(self, state: TrainState, event: str, fields: Mapping[str, Any]) -> None:
        """An event (``checkpoint``, ``nan_skip``, ``phase``, ...) at ``state.step``."""

    def on_samples(self, state: TrainState, trajectories: list[dict[str, Any]]) -> None:
        """A few rollout transcripts of ``state.step``."""

    def on_train_end(self, state: TrainState) -> None:
        """Once, when the loop stops (also after an error)."""


class JsonlSink(Callback):
    """Our JSONL metric log (``output_dir/metrics.jsonl``), flushed after every record."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.writer: MetricLogWriter | None = None

    def on_train_start(self, state: TrainState, header: Mapping[str, Any]) -> None:
        self.writer = MetricLogWriter(self.path)
        self.writer.header(header["run"], header["config"], header["versions"], header["resumed_from_step"])

    def on_step_end(self, state: TrainState, metrics: dict[str, float]) -> None:
        self.writer.metrics(state.step, metrics)

    def on_event(self, state: TrainState, event: str, fields: Mapping[str, Any]) -> None:
        self.writer.event(state.step, event, **fields)

    def on_samples(self, state: TrainState, trajectories: list[dict[str, Any]]) -> None:
        self.writer.samples(state.step, trajectories)

    def on_train_end(self, state: TrainState) -> None:
        if self.writer is not None:
            self.writer.close()


class WandbSink(Callback):
    """Weights & Biases as a second sink (``mode`` online or offline); resumes the same W&B run id.

    Besides the metrics it logs ``phase`` every step (the live detector's phase as a number, see
    :data:`~entropy_dynamics.train.run.run_phase.PHASE_CODES`), sends each ``phase`` event as a W&B alert when
    ``alerts`` is on, and at the end puts the run's cycle statistics (``cycles/eruptions``, ``cycles/max_amplitude``,
    ... of :func:`~entropy_dynamics.analysis.project.phase_statistics` on the JSONL log) in the run summary.
    Hooks after the end are ignored (nothing is written to a finished run).
    """

    def __init__(self, mode: str, project: str, alerts: bool = False) -> None:
        self.mode, self.project, self.alerts = mode, project, alerts
        self.run = None

    def on_train_start(self, state: TrainState, header: Mapping[str, Any]) -> None:
        import wandb

        id_file = state.output_dir / "wandb_run_id.txt"
        run_id = id_file.read_text().strip() if id_file.is_file() else secrets.token_hex(4)
        id_file.write_text(run_id)
        self.run = wandb.init(project=self.project, name=header["run"], id=run_id, resume="allow",
                              mode=self.mode, dir=str(state.output_dir), config=header["config"])

    def on_step_end(self, state: TrainState, metrics: dict[str, float]) -> None:
        if self.run is not None:
            self.run.log({**metrics, **phase_metric(state.extra)}, step=state.step)

    def on_event(self, state: TrainState, event: str, fields: Mapping[str, Any]) -> None:
        if self.run is None:
            return
        self.run.log({f"event/{event}": 1}, step=state.step)
        if self.alerts and event == "phase":
            self.run.alert(title=f"{state.run_name}: {fields.get('phase')} at step {fields.get('start_step')}",
                           text=", ".join(f"{k}={v}" for k, v in fields.items()), level="WARN")

    def on_train_end(self, state: TrainState) -> None:
        if self.run is not None:
            self.run.summary.update(cycle_summary(state.output_dir / "metrics.jsonl"))
            self.run.finish()
            self.run = None


class CallbackList:
    """Fans each hook out to every callback; collects the actions they return."""

    def __init__(self, callbacks: Iterable[Callback]) -> None:
        self.callbacks = list(callbacks)

    def train_start(self, state: TrainState, header: Mapping[str, Any]) -> None:
        for cb in self.callbacks:
            cb.on_train_start(state, header)

    def step_end(self, state: TrainState, metrics: dict[str, float]) -> set[str]:
        actions: set[str] = set()
        for cb in self.callbacks:
            actions.update(cb.on_step_end(state, metrics) or ())
        return actions

    def event(self, state: TrainState, event: str, **fields: Any) -> None:
        for cb in self.callbacks:
            cb.on_event(state, event, fields)

    def samples(self, state: TrainState, trajectories: list[dict[str, Any]]) -> None:
        for cb in self.callbacks:
            cb.on_samples(state, trajectories)

    def train_end(self, state: TrainState) -> None:
        for cb in self.callbacks:
            cb.on_train_end(state)

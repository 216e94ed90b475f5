"""TensorBoard as a sink of our trainer (``tensorboard: true``), beside JSONL and W&B.

:class:`TensorBoardSink` writes ``output_dir/tensorboard/events.out.tfevents.*`` with ``torch.utils.tensorboard``:
every finite metric as a scalar under its canonical name, the live detector's phase as the scalar ``phase``
(:data:`~entropy_dynamics.train.run.run_phase.PHASE_CODES`), each event as ``event/<name>`` = 1 and as a line of the
``events`` text. Open it with ``tensorboard --logdir <output_dir>/tensorboard``;
``entropy-dynamics analyze <output_dir>/tensorboard`` reads it back. On resume the writer purges the points
after the checkpoint's step, as the JSONL log is truncated there.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from entropy_dynamics.train.run.callbacks import Callback, TrainState
from entropy_dynamics.train.run.run_phase import phase_metric


class TensorBoardSink(Callback):
    """Our metrics, phase and events as TensorBoard event files in ``log_dir``."""

    def __init__(self, log_dir: str | os.PathLike[str]) -> None:
        self.log_dir = Path(log_dir)
        self.writer = None

    def on_train_start(self, state: TrainState, header: Mapping[str, Any]) -> None:
        from torch.utils.tensorboard import SummaryWriter

        resumed = header.get("resumed_from_step")
        self.writer = SummaryWriter(str(self.log_dir), purge_step=resumed + 1 if resumed else None)
        if not resumed:
            self.writer.add_text("config", f"```\n{json.dumps(header['config'], indent=1, default=str)}\n```", 0)

    def on_step_end(self, state: TrainState, metrics: dict[str, float]) -> None:
        if self.writer is None:
            return
        for name, value in metrics.items():
            if isinstance(value, (int, float)) and math.isfinite(value):
                self.writer.add_scalar(name, value, state.step)
        for name, code in phase_metric(state.extra).items():
            self.writer.add_scalar(name, code, state.step)
        self.writer.flush()

    def on_event(self, state: TrainState, event: str, fields: Mapping[str, Any]) -> None:
        if self.writer is None:
            return
        self.writer.add_scalar(f"event/{event}", 1, state.step)
        details = ", ".join(f"{k}={v}" for k, v in fields.items())
        self.writer.add_text("events", f"step {state.step}: {event} {details}".rstrip(), state.step)

    def on_train_end(self, state: TrainState) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

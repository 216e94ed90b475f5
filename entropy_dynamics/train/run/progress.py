"""The console side of a run: one progress bar (step, headline figures, live phase) and lines printed above it."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from entropy_dynamics.train.run.callbacks import Callback, TrainState


def print_above_progress(line: str) -> None:
    """Print a line on stderr above a running tqdm progress bar without breaking it."""
    from tqdm.auto import tqdm

    tqdm.write(line, file=sys.stderr)


class ProgressBar(Callback):
    """A tqdm bar on stderr with the step's headline figures (those present: reward, success, entropy, SFT
    loss, evaluation success) and the live phase (``state.extra["phase"]``, when a LivePhase runs).

    Args:
        desc: the bar's label.
        total: the bar's length; ``"auto"`` = the loop's ``total_steps``; None = unknown (time-bounded runs).
        unit: what one step is (``"epoch"`` for SFT, whose steps are epochs).
    """

    FIELDS = (("reward", "reward/mean", ".3f"), ("success", "env/success_rate", ".2f"),
              ("entropy", "policy/entropy", ".3f"), ("loss", "loss/sft", ".3f"),
              ("eval success", "eval/success_rate", ".2f"))

    def __init__(self, desc: str = "train", total: int | str | None = "auto", unit: str = "step") -> None:
        self.desc, self.total, self.unit = desc, total, unit
        self.bar = None
        self.figures = ""

    def on_train_start(self, state: TrainState, header: Mapping[str, Any]) -> None:
        from tqdm.auto import tqdm

        total = state.total_steps if self.total == "auto" else self.total
        self.bar = tqdm(total=total, initial=state.step, desc=self.desc, unit=self.unit, dynamic_ncols=True,
                        file=sys.stderr)

    def on_step_end(self, state: TrainState, metrics: dict[str, float]) -> None:
        self.figures = " ".join(f"{label} {metrics[key]:{fmt}}" for label, key, fmt in self.FIELDS if key in metrics)
        self.bar.set_postfix_str(self._postfix(state), refresh=False)
        self.bar.update(1)

    def on_event(self, state: TrainState, event: str, fields: Mapping[str, Any]) -> None:
        if event == "phase":  # detection may run after this bar in the step: show the new phase now
            self.bar.set_postfix_str(self._postfix(state))

    def _postfix(self, state: TrainState) -> str:
        if "phase" not in state.extra:
            return self.figures
        return f"{self.figures} phase {state.extra['phase'] or '-'}".strip()

    def on_train_end(self, state: TrainState) -> None:
        if self.bar is not None:
            self.bar.close()

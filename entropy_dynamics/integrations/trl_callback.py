"""A ``transformers.TrainerCallback`` that gives TRL ``GRPOTrainer`` (or any ``Trainer``) users our log.

It writes the JSONL log of ``docs/log-format.md`` (header, one ``metrics`` record per logged step under
canonical names, ``event`` records), runs the analyzer's online phase detector on the entropy while training
runs, prints each confirmed phase transition and can react to an eruption (save a checkpoint or stop).

Example::

    from entropy_dynamics.integrations.trl_callback import EntropyDynamicsCallback

    trainer = GRPOTrainer(..., callbacks=[EntropyDynamicsCallback("runs/grpo", on_eruption="save")])
    trainer.train()   # then: entropy-dynamics analyze runs/grpo/metrics.jsonl

Logging never stops training: an error inside the callback is counted (``errors``), warned about once,
and the run goes on.
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from entropy_dynamics.analysis import PhaseEvent
from entropy_dynamics.errors import ConfigError
from entropy_dynamics.logs import MetricLogWriter, canonical_name, map_names, truncate_after_step
from entropy_dynamics.phase_watch import PhaseWatch, parse_reactions
from entropy_dynamics.train.run.progress import print_above_progress
from entropy_dynamics.versions import run_versions

#: The eruption reactions a ``transformers`` trainer can carry out (names as in ``phase.on_eruption``).
TRL_REACTIONS: tuple[str, ...] = ("checkpoint", "stop")

#: TRL names that the shared alias table leaves alone but that mean a canonical metric here.
_TRL_NAMES = {"step_time": "perf/step_s"}


def log_path_for(path: str | os.PathLike[str] | None, output_dir: str | None) -> Path:
    """The JSONL file to write: ``path`` itself when it names a ``.jsonl`` file, else ``<dir>/metrics.jsonl``
    with ``dir`` = ``path`` or, when ``path`` is None, the trainer's ``output_dir``."""
    if path is not None and str(path).endswith(".jsonl"):
        return Path(path)
    folder = path if path is not None else output_dir
    if folder is None:
        raise ConfigError("EntropyDynamicsCallback: give a log path or set the trainer's output_dir")
    return Path(folder) / "metrics.jsonl"


def as_number(value: Any) -> float | None:
    """``value`` as a float when it is a real number (Python, numpy or a one-element tensor), else None.
    Booleans are not metrics and give None; NaN and inf are kept (the writer stores them as null)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    size = getattr(value, "size", None)
    numel = size if isinstance(size, int) else getattr(value, "numel", lambda: None)()
    if numel == 1 and hasattr(value, "item"):
        return as_number(value.item())
    return None


def numeric_values(logs: Mapping[str, Any]) -> dict[str, float]:
    """The numeric entries of a log dict (see :func:`as_number`), under their own names."""
    return {k: v for k, v in ((str(k), as_number(v)) for k, v in logs.items()) if v is not None}


def trl_to_canonical(logs: Mapping[str, Any]) -> dict[str, float]:
    """Convert one ``on_log`` dict to ``{name: value}``: numeric values only, canonical names where a TRL
    name maps onto one (``entropy`` -> ``policy/entropy``, ``reward`` -> ``reward/mean``, ...), other names
    kept as they are."""
    numeric = numeric_values(logs)
    columns = map_names(numeric)
    taken = set(columns.values())
    out: dict[str, float] = {}
    for source, value in numeric.items():
        column = columns[source]
        extra = _TRL_NAMES.get(column)
        if extra is not None and extra not in taken:
            column = extra
            taken.add(extra)
        out[column] = value
    return out


def trained_tokens_per_s(metrics: Mapping[str, float], args: TrainingArguments) -> float | None:
    """Completion (trained) tokens per second of the logged steps: mean completion length x completions
    per optimizer step / TRL's step time. None when either is missing."""
    length, seconds = metrics.get("response/mean_length"), metrics.get("perf/step_s")
    if length is None or not seconds or not math.isfinite(length) or not math.isfinite(seconds):
        return None
    per_device = args.per_device_train_batch_size * args.gradient_accumulation_steps
    completions = per_device * max(1, args.world_size)
    return length * completions / seconds


class EntropyDynamicsCallback(TrainerCallback):
    """Writes our metric log from a ``transformers``/TRL trainer, with live phase detection.

    Args:
        path: a ``.jsonl`` file, or a folder that gets ``metrics.jsonl``; None = the trainer's ``output_dir``.
        run_name: the run's name in the header; None = ``args.run_name`` or the output folder's name.
        detect: run the online phase detector on ``metric``.
        metric: the metric to watch, canonical (``policy/entropy``) or as TRL names it (``entropy``).
        on_eruption: what a confirmed eruption does: ``"checkpoint"`` (save now), ``"stop"`` (end training),
            both as a list, or None (nothing). The names before 2026-12-06, ``"save"`` and ``"none"``, still work.
        on_phase: optional ``f(event, args, state, control)`` called for every confirmed phase transition.
        detector_options: keyword options of :class:`entropy_dynamics.analysis.OnlineDetector`.
        echo: where phase transitions are printed (default: stderr, above the progress bar); None = silent.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        run_name: str | None = None,
        *,
        detect: bool = True,
        metric: str = "policy/entropy",
        on_eruption: str | Iterable[str] | None = None,
        on_phase: Callable[[PhaseEvent, TrainingArguments, TrainerState, TrainerControl], None] | None = None,
        detector_options: Mapping[str, Any] | None = None,
        echo: Callable[[str], None] | None = print_above_progress,
    ) -> None:
        if not metric:
            raise ConfigError("metric must name the metric to watch, e.g. 'policy/entropy'")
        self.path = path
        self.run_name = run_name
        self.detect = detect
        self.on_eruption = parse_reactions(on_eruption, TRL_REACTIONS)
        self.on_phase = on_phase
        self.watch = PhaseWatch(canonical_name(metric) or metric, self.on_eruption, detector_options, echo)
        self.errors = 0
        self.log_path: Path | None = None
        self._writer: MetricLogWriter | None = None
        self._last_step: int | None = None
        self._save_reason: str | None = None

    @property
    def metric(self) -> str:
        return self.watch.metric

    @property
    def events(self) -> list[PhaseEvent]:
        return self.watch.events

    @property
    def current_phase(self) -> str | None:
        """The detector's current phase (None before it has decided, or with ``detect=False``)."""
        return self.watch.current_phase if self.detect else None

    # ---- trainer hooks -------------------------------------------------------------------------------

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                       **kwargs: Any) -> TrainerControl:
        if not state.is_world_process_zero:
            return control
        with self._guard("on_train_begin"):
            self._open(args, state, kwargs.get("model"))
        return control

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
               logs: Mapping[str, Any] | None = None, **kwargs: Any) -> TrainerControl:
        if not state.is_world_process_zero or not logs:
            return control
        with self._guard("on_log"):
            if self._writer is None:
                self._open(args, state, kwargs.get("model"))
            self._record(int(state.global_step), logs, args, state, control)
        return control

    def on_save(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                **kwargs: Any) -> TrainerControl:
        if not state.is_world_process_zero or self._writer is None:
            return control
        with self._guard("on_save"):
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            self._writer.event(state.global_step, "checkpoint", path=str(folder),
                               reason=self._save_reason or "schedule")
            self._save_reason = None
        return control

    def on_train_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                     **kwargs: Any) -> TrainerControl:
        with self._guard("on_train_end"):
            self.close()
        return control

    def close(self) -> None:
        """Close the log file (training calls this at its end; a later ``train()`` reopens it)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    # ---- internals -----------------------------------------------------------------------------------

    def _open(self, args: TrainingArguments, state: TrainerState, model: Any) -> None:
        self.close()
        self.log_path = log_path_for(self.path, args.output_dir)
        resumed_from = int(state.global_step) if state.global_step else None
        if resumed_from is not None:
            truncate_after_step(self.log_path, resumed_from)
        self._writer = MetricLogWriter(self.log_path)
        folder = Path(args.output_dir or self.log_path.parent)
        name = self.run_name or getattr(args, "run_name", None) or folder.name
        config = args.to_dict()
        name_or_path = getattr(getattr(model, "config", None), "_name_or_path", None)
        if name_or_path:
            config["model"] = name_or_path
        self._writer.header(str(name), config=config, versions=run_versions(), resumed_from_step=resumed_from)
        self._last_step = resumed_from
        if self.detect:  # on resume the watched metric already in the log is replayed
            self.watch.start(str(name), self.log_path, resumed_from)

    def _record(self, step: int, logs: Mapping[str, Any], args: TrainingArguments, state: TrainerState,
                control: TrainerControl) -> None:
        assert self._writer is not None
        if any(key.startswith("eval_") for key in logs) or "train_runtime" in logs:
            # Evaluation and end-of-training summaries: events under TRL's own names.
            kind = "train_summary" if "train_runtime" in logs else "eval"
            self._writer.event(step, kind, metrics=numeric_values(logs))
            return
        metrics = trl_to_canonical(logs)
        if not metrics:
            return
        if self._last_step is not None and step <= self._last_step:
            # A second log call for a step already written (steps in the log strictly increase).
            self._writer.event(step, "extra_metrics", metrics=metrics)
            return
        tokens_per_s = trained_tokens_per_s(metrics, args)
        if tokens_per_s is not None and "perf/tokens_per_s" not in metrics:
            metrics["perf/tokens_per_s"] = tokens_per_s
        self._writer.metrics(step, metrics)
        self._last_step = step
        if not self.detect:
            return
        writer = self._writer

        def emit(kind: str, **fields: Any) -> None:
            writer.event(step, kind, **fields)

        events = self.watch.observe(step, metrics.get(self.metric), emit)
        reactions = self.watch.reactions_to(events)
        if "checkpoint" in reactions:
            control.should_save = True
            self._save_reason = "eruption"
        if "stop" in reactions:
            control.should_training_stop = True
            eruption = next(e for e in events if e.phase == "eruption")
            writer.event(step, "stop", reason="eruption", start_step=eruption.start_step)
            self.watch.say(f"[entropy-dynamics] stopping training at step {step} (eruption)")
        if self.on_phase is not None:
            for event in events:
                self.on_phase(event, args, state, control)

    @contextmanager
    def _guard(self, where: str) -> Iterator[None]:
        """Count and warn (once) about any error instead of letting it stop training."""
        try:
            yield
        except Exception as exc:  # logging must never crash training
            self.errors += 1
            if self.errors == 1:
                warnings.warn(
                    f"entropy-dynamics callback failed in {where}: {type(exc).__name__}: {exc} "
                    "(training goes on; later errors are only counted in callback.errors)",
                    RuntimeWarning, stacklevel=3,
                )
